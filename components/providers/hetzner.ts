// Hetzner Cloud (the default provider): its server types, locations, image and credential, how its firewall and
// server are read back by the policy pack and faked by the mock engine, and the build of its SSH key, SSH-only
// firewall and server. Everything Hetzner-specific lives here.
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import { InboundRule, ProviderSpec, ServerSize } from "./types";

const GB = 1024;

const SERVER_TYPES: Record<string, ServerSize> = {
    // Shared x86 (Intel/AMD), current generation.
    cx23: { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
    cx33: { vcpus: 4, memoryMb: 8 * GB, arch: "x64" },
    cx43: { vcpus: 8, memoryMb: 16 * GB, arch: "x64" },
    cx53: { vcpus: 16, memoryMb: 32 * GB, arch: "x64" },
    // Shared AMD, current generation.
    cpx12: { vcpus: 1, memoryMb: 2 * GB, arch: "x64" },
    cpx22: { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
    cpx32: { vcpus: 4, memoryMb: 8 * GB, arch: "x64" },
    cpx42: { vcpus: 8, memoryMb: 16 * GB, arch: "x64" },
    // Shared Arm (Ampere).
    cax11: { vcpus: 2, memoryMb: 4 * GB, arch: "arm64" },
    cax21: { vcpus: 4, memoryMb: 8 * GB, arch: "arm64" },
    cax31: { vcpus: 8, memoryMb: 16 * GB, arch: "arm64" },
    // Dedicated vCPU.
    ccx13: { vcpus: 2, memoryMb: 8 * GB, arch: "x64" },
    ccx23: { vcpus: 4, memoryMb: 16 * GB, arch: "x64" },
    // Retired in 2025: still in old guides, no longer orderable.
    cx11: { vcpus: 1, memoryMb: 2 * GB, arch: "x64", retired: true },
    cx22: { vcpus: 2, memoryMb: 4 * GB, arch: "x64", retired: true },
    cpx11: { vcpus: 2, memoryMb: 2 * GB, arch: "x64", retired: true },
    cpx21: { vcpus: 3, memoryMb: 4 * GB, arch: "x64", retired: true },
};

const TYPES = {
    server: "hcloud:index/server:Server",
    firewall: "hcloud:index/firewall:Firewall",
    sshKey: "hcloud:index/sshKey:SshKey",
} as const;

interface HcloudRule {
    direction?: string;
    protocol?: string;
    port?: string;
    sourceIps?: string[];
}

export const hetzner: ProviderSpec = {
    id: "hetzner",
    title: "Hetzner Cloud",
    pulumiPackage: "@pulumi/hcloud",
    image: "ubuntu-24.04",
    defaultRegion: "fsn1",
    regions: ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"],
    // No current Hetzner type has 2 vCPU / 2 GB (cx22 and cpx11 were retired in 2025); cx23 is the cheapest 2-vCPU
    // x86 type and comes with 4 GB.
    defaultServerType: "cx23",
    serverTypes: SERVER_TYPES,
    defaultPrice: "about €3.5–4.5 a month (+VAT), IPv4 included",
    existingSshKeyIs: "the key's name in the Hetzner project",
    credential: {
        configKey: "hcloud:token",
        env: "HCLOUD_TOKEN",
        what: "Hetzner Cloud API token of the project (Security > API tokens: Read & Write)",
    },
    userDataLimitBytes: 32 * 1024,
    metadataUserDataPath: "/hetzner/v1/userdata",
    resourceTypes: TYPES,
    numericIds: true,
    mockOutputs: (type) => (type === TYPES.server ? { ipv4Address: "203.0.113.10", ipv6Address: "2001:db8::10" } : {}),
    inboundRules: (props) =>
        ((props.rules ?? []) as HcloudRule[])
            .filter((r) => r.direction === "in")
            .map((r): InboundRule => ({ protocol: String(r.protocol ?? ""), port: r.port, sources: r.sourceIps ?? [] })),
    isFirewalled: (server) => Array.isArray(server.props.firewallIds) && server.props.firewallIds.length > 0,
    serverImage: (props) => props.image,
    serverUserData: (props) => props.userData,
    createServer(name, args, parent) {
        // Names at the provider are unique, so a replacement must delete the old resource before creating the new one.
        const fixedName = { parent, deleteBeforeReplace: true };
        // The provider refuses a public key it already has; then name the existing key instead.
        const keyRef = args.existingSshKey
            ? pulumi.output(args.existingSshKey)
            : new hcloud.SshKey(
                  `${name}-ssh-key`,
                  { name: `${args.serverName}-admin`, publicKey: args.sshPublicKey, labels: args.labels },
                  fixedName,
              ).id;
        const ingress = args.sshIngress;
        const firewall = new hcloud.Firewall(
            `${name}-firewall`,
            {
                name: `${args.serverName}-ssh-only`,
                labels: args.labels,
                // Hetzner allows all outbound traffic while a firewall has no outbound rule.
                rules: [
                    {
                        direction: "in",
                        protocol: ingress.protocol,
                        port: String(ingress.port),
                        sourceIps: ingress.sources,
                        description: "SSH from the admin networks only",
                    },
                ],
            },
            fixedName,
        );
        const server = new hcloud.Server(
            `${name}-server`,
            {
                name: args.serverName,
                serverType: args.serverType,
                image: hetzner.image,
                location: args.region,
                // Without a key Hetzner e-mails a root password; root login is disabled by the hardening anyway.
                sshKeys: [keyRef],
                userData: args.userData,
                firewallIds: [firewall.id.apply((id) => Number(id))],
                publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
                labels: args.labels,
            },
            fixedName,
        );
        return { serverId: server.id, ipv4Address: server.ipv4Address, ipv6Address: server.ipv6Address };
    },
};
