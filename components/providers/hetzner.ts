// Hetzner Cloud (the default provider): its server types, locations, image and credential, how its firewall and
// server are read back by the policy pack and faked by the mock engine, and the build of its SSH key, SSH-only
// firewall and server. Everything Hetzner-specific lives here.
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import { sshKeyMd5Fingerprint } from "../core/validators";
import { failed, guarded, passed, providerApi, skipped } from "./preflight";
import { InboundRule, PreflightCheck, PreflightContext, ProviderSpec, ServerSize } from "./types";

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

const TOKEN_FIX =
    "Hetzner Console > your project > Security > API tokens > Generate API token, permission Read & Write; then HCLOUD_TOKEN or `pulumi config set --secret hcloud:token`";

/** Hetzner's error object ({"error": {"code", "message"}}), as its API documents it. */
function hcloudError(body: unknown): { code: string; message: string } {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    return { code: String(error?.code ?? ""), message: String(error?.message ?? "") };
}

/** The account checks of `npm run preflight` for Hetzner Cloud: read-only calls plus one invalid POST that creates nothing. */
async function hetznerPreflight(ctx: PreflightContext): Promise<PreflightCheck[]> {
    const api = providerApi(ctx);
    const tokenTitle = "Hetzner token works, with Read & Write";
    const typeTitle = `server type ${ctx.serverType} offered in ${ctx.region}`;
    const keyTitle = "SSH key not already in the project under another name";
    const token = !ctx.token
        ? failed("hetzner-token", tokenTitle, "no Hetzner token: HCLOUD_TOKEN is not set and neither is hcloud:token", TOKEN_FIX)
        : await guarded("hetzner-token", tokenTitle, TOKEN_FIX, async () => {
              const read = await api("GET", "/locations");
              if (read.status === 401)
                  return failed(
                      "hetzner-token",
                      tokenTitle,
                      `Hetzner refuses the token (${hcloudError(read.body).message || "401"})`,
                      TOKEN_FIX,
                  );
              if (read.status !== 200) return failed("hetzner-token", tokenTitle, `GET /locations answered ${read.status}`, TOKEN_FIX);
              // Write scope without writing: an SSH key with no name and no key is invalid input to a Read & Write token,
              // and refused as token_readonly (or forbidden) to a read-only one. Nothing is ever created.
              const write = await api("POST", "/ssh_keys", {});
              const { code } = hcloudError(write.body);
              if (code === "token_readonly" || code === "forbidden" || write.status === 403) {
                  return failed(
                      "hetzner-token",
                      tokenTitle,
                      "the token is read-only: it may only GET, and the deploy creates a key, a firewall and a server",
                      TOKEN_FIX,
                  );
              }
              if (code === "invalid_input" || write.status === 400 || write.status === 422) {
                  return passed(
                      "hetzner-token",
                      tokenTitle,
                      "the token reads the project and may write (an empty SSH key was refused as invalid input; nothing was created)",
                  );
              }
              return failed(
                  "hetzner-token",
                  tokenTitle,
                  `an invalid POST /ssh_keys answered ${write.status} ${code}: cannot tell whether the token may write`,
                  TOKEN_FIX,
              );
          });
    if (token.status !== "pass") {
        return [
            token,
            skipped("hetzner-server-type", typeTitle, "needs a working token"),
            skipped("hetzner-ssh-key", keyTitle, "needs a working token"),
        ];
    }
    const typeFix = "choose another serverType or region (Hetzner Console > Servers > Add Server shows what each location offers now)";
    const serverType = await guarded("hetzner-server-type", typeTitle, typeFix, async () => {
        const types = await api("GET", `/server_types?name=${encodeURIComponent(ctx.serverType)}`);
        const type = ((types.body as { server_types?: { id: number; name: string; deprecation?: unknown }[] })?.server_types ?? []).find(
            (t) => t.name === ctx.serverType,
        );
        if (!type) return failed("hetzner-server-type", typeTitle, `Hetzner has no server type ${ctx.serverType}`, typeFix);
        if (type.deprecation)
            return failed("hetzner-server-type", typeTitle, `${ctx.serverType} is deprecated and can no longer be ordered`, typeFix);
        const centers = await api("GET", "/datacenters?per_page=50");
        const list =
            (centers.body as { datacenters?: { location?: { name?: string }; server_types?: { available?: number[] } }[] })?.datacenters ??
            [];
        const here = list.filter((d) => d.location?.name === ctx.region);
        if (!here.length) return failed("hetzner-server-type", typeTitle, `Hetzner has no location ${ctx.region}`, typeFix);
        if (here.some((d) => d.server_types?.available?.includes(type.id))) {
            return passed("hetzner-server-type", typeTitle, `${ctx.serverType} can be created in ${ctx.region} now`);
        }
        const elsewhere = [...new Set(list.filter((d) => d.server_types?.available?.includes(type.id)).map((d) => d.location?.name))];
        return failed(
            "hetzner-server-type",
            typeTitle,
            `${ctx.serverType} is not available in ${ctx.region} now${elsewhere.length ? ` (it is in ${elsewhere.join(", ")})` : ""}`,
            typeFix,
        );
    });
    const keyFix =
        "set providerSshKey to that key's name (`pulumi config set providerSshKey NAME`), or delete the key in Hetzner Console > your project > Security > SSH keys";
    const sshKey = await guarded("hetzner-ssh-key", keyTitle, keyFix, async () => {
        const fingerprint = sshKeyMd5Fingerprint(ctx.sshPublicKey);
        const found = await api("GET", `/ssh_keys?fingerprint=${encodeURIComponent(fingerprint)}`);
        const keys = (found.body as { ssh_keys?: { name: string; fingerprint: string }[] })?.ssh_keys ?? [];
        if (ctx.existingSshKey) {
            const named = await api("GET", `/ssh_keys?name=${encodeURIComponent(ctx.existingSshKey)}`);
            const key = ((named.body as { ssh_keys?: { name: string; fingerprint: string }[] })?.ssh_keys ?? [])[0];
            if (!key) {
                return failed(
                    "hetzner-ssh-key",
                    keyTitle,
                    `providerSshKey is ${ctx.existingSshKey}, but the project has no SSH key by that name`,
                    keyFix,
                );
            }
            return passed("hetzner-ssh-key", keyTitle, `providerSshKey ${ctx.existingSshKey} exists in the project`);
        }
        const other = keys.find((k) => k.name !== ctx.ownSshKeyName);
        if (other) {
            return failed(
                "hetzner-ssh-key",
                keyTitle,
                `your public key (${fingerprint}) is already in the project as "${other.name}": Hetzner refuses the same key twice`,
                `set providerSshKey to "${other.name}" (\`pulumi config set providerSshKey ${other.name}\`), or delete that key in Hetzner Console > your project > Security > SSH keys`,
            );
        }
        return passed(
            "hetzner-ssh-key",
            keyTitle,
            keys.length
                ? `the key is this agent's own (${ctx.ownSshKeyName}, from an earlier deploy)`
                : "the key is not in the project yet: the deploy adds it",
        );
    });
    return [token, serverType, sshKey];
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
    apiBaseUrl: "https://api.hetzner.cloud/v1",
    preflight: hetznerPreflight,
};
