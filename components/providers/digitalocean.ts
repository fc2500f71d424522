// DigitalOcean: its droplet sizes, regions, image and credential, how its firewall and droplet are read back by the
// policy pack and faked by the mock engine, and the build of its SSH key, droplet and SSH-only firewall (which, unlike
// Hetzner's, also has to allow outbound traffic). Everything DigitalOcean-specific lives here.
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { sshKeyMd5Fingerprint } from "../core/validators";
import { failed, guarded, passed, providerApi, skipped } from "./preflight";
import { InboundRule, PreflightCheck, PreflightContext, ProviderSpec, ServerSize } from "./types";

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

const TOKEN_FIX =
    "DigitalOcean control panel > API > Tokens > Generate New Token, custom scopes: droplet, ssh_key, firewall, tag (create, read, update, delete); then DIGITALOCEAN_TOKEN or `pulumi config set --secret digitalocean:token`";

/** The account checks of `npm run preflight` for DigitalOcean: read-only calls plus invalid POSTs that create nothing. */
async function digitaloceanPreflight(ctx: PreflightContext): Promise<PreflightCheck[]> {
    const api = providerApi(ctx);
    const tokenTitle = "DigitalOcean token works, with the create scopes the deploy needs";
    const sizeTitle = `droplet size ${ctx.serverType} offered in ${ctx.region}`;
    const keyTitle = "SSH key not already in the account under another name";
    const token = !ctx.token
        ? failed(
              "digitalocean-token",
              tokenTitle,
              "no DigitalOcean token: DIGITALOCEAN_TOKEN is not set and neither is digitalocean:token",
              TOKEN_FIX,
          )
        : await guarded("digitalocean-token", tokenTitle, TOKEN_FIX, async () => {
              const account = await api("GET", "/account");
              if (account.status === 401)
                  return failed(
                      "digitalocean-token",
                      tokenTitle,
                      "DigitalOcean refuses the token (401 Unable to authenticate you)",
                      TOKEN_FIX,
                  );
              if (account.status === 403)
                  return failed("digitalocean-token", tokenTitle, "the token may not read the account (scope account:read)", TOKEN_FIX);
              const details = (account.body as { account?: { status?: string; status_message?: string } })?.account;
              if (account.status !== 200 || !details)
                  return failed("digitalocean-token", tokenTitle, `GET /account answered ${account.status}`, TOKEN_FIX);
              if (details.status !== "active") {
                  return failed(
                      "digitalocean-token",
                      tokenTitle,
                      `the account is ${details.status}${details.status_message ? `: ${details.status_message}` : ""}`,
                      "DigitalOcean control panel > Settings / Billing: resolve what the account status names",
                  );
              }
              // Create scopes without creating: an empty body is invalid (422) for a token that holds the scope, and refused
              // (403) for one that does not, before it is read.
              const probes: [string, string][] = [
                  ["droplet:create", "/droplets"],
                  ["firewall:create", "/firewalls"],
                  ["tag:create", "/tags"],
                  ...(ctx.existingSshKey ? [] : ([["ssh_key:create", "/account/keys"]] as [string, string][])),
              ];
              const missing: string[] = [];
              for (const [scope, path] of probes) {
                  const answer = await api("POST", path, {});
                  if (answer.status === 401 || answer.status === 403) missing.push(scope);
                  else if (answer.status !== 400 && answer.status !== 422) {
                      return failed(
                          "digitalocean-token",
                          tokenTitle,
                          `an empty POST ${path} answered ${answer.status}: cannot tell whether the token holds ${scope}`,
                          TOKEN_FIX,
                      );
                  }
              }
              if (missing.length) {
                  return failed(
                      "digitalocean-token",
                      tokenTitle,
                      `the token lacks the scope(s) ${missing.join(", ")}`,
                      `DigitalOcean control panel > API > Tokens > the token's scopes: add ${missing.join(", ")}`,
                  );
              }
              return passed(
                  "digitalocean-token",
                  tokenTitle,
                  `account active; the token holds ${probes.map(([scope]) => scope).join(", ")} (empty requests were refused as invalid; nothing was created)`,
              );
          });
    if (token.status !== "pass") {
        return [
            token,
            skipped("digitalocean-size", sizeTitle, "needs a working token"),
            skipped("digitalocean-ssh-key", keyTitle, "needs a working token"),
        ];
    }
    const sizeFix = "choose another serverType or region (DigitalOcean control panel > Create > Droplets shows what each region offers)";
    const size = await guarded("digitalocean-size", sizeTitle, sizeFix, async () => {
        const sizes = await api("GET", "/sizes?per_page=200");
        const found = ((sizes.body as { sizes?: { slug: string; available: boolean; regions: string[] }[] })?.sizes ?? []).find(
            (s) => s.slug === ctx.serverType,
        );
        if (!found) return failed("digitalocean-size", sizeTitle, `DigitalOcean has no droplet size ${ctx.serverType}`, sizeFix);
        if (found.available && found.regions.includes(ctx.region))
            return passed("digitalocean-size", sizeTitle, `${ctx.serverType} can be created in ${ctx.region}`);
        return failed(
            "digitalocean-size",
            sizeTitle,
            `${ctx.serverType} is not available in ${ctx.region}${found.available && found.regions.length ? ` (it is in ${found.regions.join(", ")})` : ""}`,
            sizeFix,
        );
    });
    const key = await guarded("digitalocean-ssh-key", keyTitle, "DigitalOcean control panel > Settings > Security > SSH keys", async () => {
        const fingerprint = sshKeyMd5Fingerprint(ctx.sshPublicKey);
        if (ctx.existingSshKey) {
            const named = await api("GET", `/account/keys/${encodeURIComponent(ctx.existingSshKey)}`);
            if (named.status !== 200) {
                return failed(
                    "digitalocean-ssh-key",
                    keyTitle,
                    `providerSshKey is ${ctx.existingSshKey}, but the account has no SSH key with that fingerprint`,
                    "set providerSshKey to a key's fingerprint from DigitalOcean control panel > Settings > Security > SSH keys",
                );
            }
            return passed("digitalocean-ssh-key", keyTitle, `providerSshKey ${ctx.existingSshKey} exists in the account`);
        }
        const found = await api("GET", `/account/keys/${encodeURIComponent(fingerprint)}`);
        if (found.status === 404) return passed("digitalocean-ssh-key", keyTitle, "the key is not in the account yet: the deploy adds it");
        const name = (found.body as { ssh_key?: { name?: string } })?.ssh_key?.name ?? "";
        if (found.status === 200 && name !== ctx.ownSshKeyName) {
            return failed(
                "digitalocean-ssh-key",
                keyTitle,
                `your public key is already in the account as "${name}": DigitalOcean refuses the same key twice`,
                `set providerSshKey to its fingerprint (\`pulumi config set providerSshKey ${fingerprint}\`), or delete it in DigitalOcean control panel > Settings > Security > SSH keys`,
            );
        }
        if (found.status === 200)
            return passed("digitalocean-ssh-key", keyTitle, `the key is this agent's own (${name}, from an earlier deploy)`);
        return failed(
            "digitalocean-ssh-key",
            keyTitle,
            `GET /account/keys answered ${found.status}`,
            "DigitalOcean control panel > Settings > Security > SSH keys",
        );
    });
    return [token, size, key];
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
    apiBaseUrl: "https://api.digitalocean.com/v2",
    preflight: digitaloceanPreflight,
};
