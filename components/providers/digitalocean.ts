// DigitalOcean: its droplet sizes, regions, image and credential, how its firewall and droplet are read back by the
// policy pack and faked by the mock engine, and the build of its SSH key, droplet and SSH-only firewall (which, unlike
// Hetzner's, also has to allow outbound traffic). Everything DigitalOcean-specific lives here.
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { InboundRule, ProviderSpec, ServerSize } from "./types";

const GB = 1024;

const SERVER_TYPES: Record<string, ServerSize> = {
    "s-1vcpu-512mb-10gb": { vcpus: 1, memoryMb: 512, arch: "x64" },
    "s-1vcpu-1gb": { vcpus: 1, memoryMb: 1 * GB, arch: "x64" },
    "s-1vcpu-2gb": { vcpus: 1, memoryMb: 2 * GB, arch: "x64" },
    "s-2vcpu-2gb": { vcpus: 2, memoryMb: 2 * GB, arch: "x64" },
    "s-2vcpu-4gb": { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
    "s-4vcpu-8gb": { vcpus: 4, memoryMb: 8 * GB, arch: "x64" },
    "s-2vcpu-2gb-intel": { vcpus: 2, memoryMb: 2 * GB, arch: "x64" },
    "s-2vcpu-2gb-amd": { vcpus: 2, memoryMb: 2 * GB, arch: "x64" },
    "s-2vcpu-4gb-intel": { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
    "s-2vcpu-4gb-amd": { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
};

const TYPES = {
    server: "digitalocean:index/droplet:Droplet",
    firewall: "digitalocean:index/firewall:Firewall",
    sshKey: "digitalocean:index/sshKey:SshKey",
} as const;

interface DoInboundRule {
    protocol?: string;
    portRange?: string;
    sourceAddresses?: string[];
}

export const digitaloceanProvider: ProviderSpec = {
    id: "digitalocean",
    title: "DigitalOcean",
    pulumiPackage: "@pulumi/digitalocean",
    image: "ubuntu-24-04-x64",
    defaultRegion: "fra1",
    regions: ["nyc1", "nyc3", "sfo2", "sfo3", "tor1", "atl1", "lon1", "ams3", "fra1", "blr1", "sgp1", "syd1"],
    defaultServerType: "s-2vcpu-2gb",
    serverTypes: SERVER_TYPES,
    defaultPrice: "about $18 a month",
    existingSshKeyIs: "the key's fingerprint in the DigitalOcean account",
    credential: {
        configKey: "digitalocean:token",
        env: "DIGITALOCEAN_TOKEN",
        what: "DigitalOcean API token (API > Tokens, custom scopes: droplet, ssh_key, firewall, tag: create/read/update/delete)",
    },
    userDataLimitBytes: 64 * 1024,
    metadataUserDataPath: "/metadata/v1/user-data",
    resourceTypes: TYPES,
    numericIds: true,
    mockOutputs: (type, digest) => {
        if (type === TYPES.server) return { ipv4Address: "203.0.113.10", ipv6Address: "2001:db8::10" };
        if (type === TYPES.sshKey) return { fingerprint: digest.slice(0, 32).replace(/(..)(?!$)/g, "$1:") };
        return {};
    },
    inboundRules: (props) =>
        ((props.inboundRules ?? []) as DoInboundRule[]).map((r): InboundRule => ({
            protocol: String(r.protocol ?? ""),
            port: r.portRange,
            sources: r.sourceAddresses ?? [],
        })),
    // A DigitalOcean firewall names its droplets (dropletIds), so the droplet is covered when a firewall points at it.
    isFirewalled: (server, stack) =>
        stack
            .filter((r) => r.type === TYPES.firewall)
            .some(
                (f) =>
                    (f.propertyDependencies?.dropletIds ?? []).some((d) => d.urn === server.urn) ||
                    f.dependencies.some((d) => d.urn === server.urn) ||
                    (Array.isArray(f.props.dropletIds) && f.props.dropletIds.length > 0),
            ),
    serverImage: (props) => props.image,
    serverUserData: (props) => props.userData,
    createServer(name, args, parent) {
        const fixedName = { parent, deleteBeforeReplace: true };
        const tags = Object.entries(args.labels).map(([k, v]) => `${k}-${v}`.replace(/[^A-Za-z0-9:_-]/g, "-"));
        const keyRef = args.existingSshKey
            ? pulumi.output(args.existingSshKey)
            : new digitalocean.SshKey(`${name}-ssh-key`, { name: `${args.serverName}-admin`, publicKey: args.sshPublicKey }, { parent })
                  .fingerprint;
        const droplet = new digitalocean.Droplet(
            `${name}-server`,
            {
                name: args.serverName,
                size: args.serverType,
                image: digitaloceanProvider.image,
                region: args.region,
                sshKeys: [keyRef],
                userData: args.userData,
                ipv6: true,
                // The DO agent would be another root daemon phoning home; the gateway host does without it.
                dropletAgent: false,
                tags,
            },
            fixedName,
        );
        const ingress = args.sshIngress;
        new digitalocean.Firewall(
            `${name}-firewall`,
            {
                name: `${args.serverName}-ssh-only`,
                dropletIds: [droplet.id.apply((id) => Number(id))],
                inboundRules: [{ protocol: ingress.protocol, portRange: String(ingress.port), sourceAddresses: ingress.sources }],
                // A DigitalOcean firewall drops whatever it does not allow, outbound included: cloudflared, apt, npm and
                // the LLM APIs need these.
                outboundRules: [
                    { protocol: "tcp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
                    { protocol: "udp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
                    { protocol: "icmp", destinationAddresses: ["0.0.0.0/0", "::/0"] },
                ],
                tags,
            },
            fixedName,
        );
        return { serverId: droplet.id, ipv4Address: droplet.ipv4Address, ipv6Address: droplet.ipv6Address };
    },
};
