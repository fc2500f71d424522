// What a cloud provider module must declare: everything the rest of the program needs to know about one provider
// (server types and regions, the Ubuntu 24.04 image, its credential, its metadata service, the resource types it
// creates and how to read them back for the policy pack, the mock engine's computed outputs) and the one function
// that builds its server and firewall. Adding a provider means writing one such module (see ./index.ts).
import type * as pulumi from "@pulumi/pulumi";

/** Size of a server type: refuses hosts too small for the gateway and sizes memory limits and swap. */
export interface ServerSize {
    vcpus: number;
    memoryMb: number;
    arch: "x64" | "arm64";
    /** A type the provider no longer sells: creating it fails, so it is refused before anything is created. */
    retired?: boolean;
}

/** The token the provider's Pulumi package reads: its stack config key, its environment variable, what to create. */
export interface ProviderCredential {
    /** e.g. "hcloud:token". */
    configKey: string;
    /** e.g. "HCLOUD_TOKEN". */
    env: string;
    /** Where to create it and the least privilege it needs (shown by the guided setup and the README). */
    what: string;
}

/** One inbound firewall rule, in the provider-neutral shape the policy pack judges. */
export interface InboundRule {
    protocol: string;
    /** "22", "1-65535", "any", or undefined (all ports). */
    port: unknown;
    sources: string[];
}

/** A resource as the policy pack sees it (the subset of @pulumi/policy's PolicyResource that provider code reads). */
export interface PolicyResourceView {
    type: string;
    urn: string;
    name: string;
    props: Record<string, unknown>;
    dependencies: { urn: string }[];
    propertyDependencies?: Record<string, { urn: string }[]>;
}

/** What every provider's server build receives (validated settings, already provider-checked). */
export interface ServerBuildArgs {
    /** Provider location, e.g. fsn1 or fra1. */
    region: string;
    /** Provider size slug, e.g. cx23 or s-2vcpu-2gb. */
    serverType: string;
    /** The server's name at the provider (fixed, so a replacement deletes the old server first). */
    serverName: string;
    /** The admin's OpenSSH public key line. */
    sshPublicKey: string;
    /** A key already in the provider account to use instead of creating one. */
    existingSshKey?: string;
    /** Inbound TCP 22 from these networks only; nothing else is ever allowed in. */
    sshIngress: InboundRule;
    /** Rendered #cloud-config. Never contains a secret: any process on the host can read it back. */
    userData: pulumi.Input<string>;
    /** Labels (or tags) naming the agent. */
    labels: Record<string, string>;
}

/** One finding of `npm run preflight`: what was checked, whether it holds, and, when it does not, where to fix it. */
export interface PreflightCheck {
    /** Stable id, e.g. "hetzner-token". */
    id: string;
    /** What is checked, e.g. "Hetzner token works, with Read & Write". */
    title: string;
    /** `skip`: could not be checked (an earlier check failed, or nothing to check). */
    status: "pass" | "fail" | "skip";
    /** What was found (never a secret). */
    summary: string;
    /** Where to fix it: a dashboard path or the exact permission or scope name. Empty when it passed. */
    fix: string;
}

/** What a provider's preflight gets: the stack's choices for it, its token, and its API. */
export interface PreflightContext {
    /** The provider's API token (its credential), or undefined when none is set. */
    token: string | undefined;
    region: string;
    serverType: string;
    /** The admin's OpenSSH public key line. */
    sshPublicKey: string;
    /** providerSshKey, when the stack names a key already in the account. */
    existingSshKey?: string;
    /** The name the program gives the SSH key it creates (`<serverName>-admin`): a key by that name is this agent's. */
    ownSshKeyName: string;
    /** The provider API's base URL: the module's `apiBaseUrl`, or a local stand-in in the tests (never a setting). */
    apiBase: string;
}

/** The one server shape the rest of the program sees. */
export interface BuiltServer {
    serverId: pulumi.Output<string>;
    ipv4Address: pulumi.Output<string>;
    ipv6Address: pulumi.Output<string>;
}

export interface ProviderSpec {
    /** The `provider` setting's value, e.g. "hetzner". */
    readonly id: string;
    /** Human name, e.g. "Hetzner Cloud". */
    readonly title: string;
    /** The npm package of its Pulumi provider, e.g. "@pulumi/hcloud" (pinned in package.json). */
    readonly pulumiPackage: string;
    /** The Ubuntu 24.04 image slug. */
    readonly image: string;
    readonly defaultRegion: string;
    /** Locations we know; another provider's location is refused, an unknown one is used with a warning. */
    readonly regions: readonly string[];
    readonly defaultServerType: string;
    /** Types we know with their sizes; another provider's type is refused, an unknown one is used with a warning. */
    readonly serverTypes: Readonly<Record<string, ServerSize>>;
    /** List price of the default type (README; check the provider). */
    readonly defaultPrice: string;
    /** What `providerSshKey` names for this provider (its existing-key reference), e.g. "the key's name". */
    readonly existingSshKeyIs: string;
    readonly credential: ProviderCredential;
    /** Largest user data the provider accepts. */
    readonly userDataLimitBytes: number;
    /** Path under http://169.254.169.254 where the host reads its own user data back (verify checks it for secrets). */
    readonly metadataUserDataPath: string;
    /** The cloud resource types this provider's build creates, by role. */
    readonly resourceTypes: { readonly server: string; readonly firewall: string; readonly sshKey: string };
    /** The mock engine: are this provider's resource ids numbers? */
    readonly numericIds: boolean;
    /** The mock engine: computed outputs of one of its resources (addresses, fingerprints), shaped like the real ones. */
    mockOutputs(type: string, digest: string): Record<string, unknown>;
    /** The policy pack: the inbound rules of a firewall resource of this provider. */
    inboundRules(firewallProps: Record<string, unknown>): InboundRule[];
    /** The policy pack: is this server resource behind one of the stack's firewalls? */
    isFirewalled(server: PolicyResourceView, stack: readonly PolicyResourceView[]): boolean;
    /** The server resource's image and user data inputs (the policy pack checks both). */
    serverImage(props: Record<string, unknown>): unknown;
    serverUserData(props: Record<string, unknown>): unknown;
    /** Builds the SSH key (unless an existing one is named), the SSH-only firewall and the server, as children of `parent`. */
    createServer(name: string, args: ServerBuildArgs, parent: pulumi.Resource): BuiltServer;
    /** Base URL of the provider's API (what its preflight calls). */
    readonly apiBaseUrl: string;
    /**
     * `npm run preflight` (and the first step of `npm run deploy`): checks, before anything is created and without
     * creating anything, that the token works with write scope, that the server type is offered in the region and that
     * the SSH key is not already in the account under another name. Each failure says where to fix it.
     */
    preflight(ctx: PreflightContext): Promise<PreflightCheck[]>;
}
