// The provider registry: the one list of cloud providers. Settings (the `provider` choices, type and region checks),
// the server component, the mock engine, the guided setup, the deploy, verify, the policy pack and the generated
// parts of Pulumi.yaml, the README and the CI workflows all read providers from here, never by name.
// To add a provider: write ./<name>.ts (a ProviderSpec) and add it to BUILT_IN below.
import { USER_DATA_BUDGET_BYTES } from "../core/host-contract";
import { digitaloceanProvider } from "./digitalocean";
import { hetzner } from "./hetzner";
import { ProviderSpec, ServerSize } from "./types";

export type {
    BuiltServer,
    InboundRule,
    PolicyResourceView,
    PreflightCheck,
    PreflightContext,
    ProviderCredential,
    ProviderSpec,
    ServerBuildArgs,
    ServerSize,
} from "./types";

/** The first one is the default. */
const BUILT_IN: readonly ProviderSpec[] = [hetzner, digitaloceanProvider];

const registry = new Map<string, ProviderSpec>(BUILT_IN.map((p) => [p.id, p]));

/** The smallest host the gateway, a headless browser and the memory index fit on (the guide's 2 vCPU / 2 GB). */
export const MINIMUM_SIZE = { vcpus: 2, memoryMb: 2048 } as const;

export const DEFAULT_PROVIDER = BUILT_IN[0].id;

/** Every provider id, the default first. */
export function providerIds(): string[] {
    return [...registry.keys()];
}

export function allProviders(): ProviderSpec[] {
    return [...registry.values()];
}

export function findProvider(id: string): ProviderSpec | undefined {
    return registry.get(id);
}

/** The spec of a provider the settings already validated; throws (naming the known ones) for any other id. */
export function providerSpec(id: string): ProviderSpec {
    const spec = registry.get(id);
    if (!spec) throw new Error(`unknown provider ${JSON.stringify(id)}: known providers are ${providerIds().join(", ")}`);
    return spec;
}

/**
 * Adds a provider at run time (a provider module kept outside this folder, and the tests' throwaway provider).
 * Returns a function that removes it again.
 */
export function registerProvider(spec: ProviderSpec): () => void {
    if (registry.has(spec.id)) throw new Error(`provider ${spec.id} is already registered`);
    const problems = checkProviderSpec(spec);
    if (problems.length) throw new Error(`provider ${spec.id} is not a valid ProviderSpec:\n  - ${problems.join("\n  - ")}`);
    registry.set(spec.id, spec);
    return () => {
        registry.delete(spec.id);
    };
}

/** What every spec must satisfy (also checked for the built-in ones by a unit test). */
export function checkProviderSpec(spec: ProviderSpec): string[] {
    const problems: string[] = [];
    if (!/^[a-z][a-z0-9-]{1,30}$/.test(spec.id)) problems.push(`id ${JSON.stringify(spec.id)} must be a lowercase slug`);
    const defaultSize = spec.serverTypes[spec.defaultServerType];
    if (!defaultSize) problems.push(`defaultServerType ${spec.defaultServerType} is not among its serverTypes`);
    else if (!isLargeEnough(defaultSize) || defaultSize.retired)
        problems.push(`defaultServerType ${spec.defaultServerType} is below ${MINIMUM_SIZE.vcpus} vCPU / 2 GB or retired`);
    if (!spec.regions.includes(spec.defaultRegion)) problems.push(`defaultRegion ${spec.defaultRegion} is not among its regions`);
    if (!/^[a-z0-9_-]+:[a-zA-Z]+$/.test(spec.credential.configKey))
        problems.push(`credential.configKey ${spec.credential.configKey} is not a <package>:<key> config key`);
    if (!/^[A-Z][A-Z0-9_]*$/.test(spec.credential.env))
        problems.push(`credential.env ${spec.credential.env} is not an environment variable name`);
    if (spec.userDataLimitBytes < USER_DATA_BUDGET_BYTES)
        problems.push(`userDataLimitBytes ${spec.userDataLimitBytes} is below the project's user data budget of ${USER_DATA_BUDGET_BYTES}`);
    if (!spec.metadataUserDataPath.startsWith("/")) problems.push("metadataUserDataPath must be an absolute path on the metadata service");
    if (!/^https:\/\/[a-z0-9.-]+(\/[A-Za-z0-9._/-]*)?$/.test(spec.apiBaseUrl))
        problems.push(`apiBaseUrl ${spec.apiBaseUrl} is not an https URL`);
    if (typeof spec.preflight !== "function") problems.push("preflight must be a function (the account checks of npm run preflight)");
    for (const [role, type] of Object.entries(spec.resourceTypes)) {
        if (!/^[a-z0-9-]+:[A-Za-z0-9/]+:[A-Za-z0-9]+$/.test(type))
            problems.push(`resourceTypes.${role} ${type} is not a Pulumi type token`);
    }
    for (const other of registry.values()) {
        if (other.id === spec.id) continue;
        const shared = Object.values(spec.resourceTypes).filter((t) => Object.values(other.resourceTypes).includes(t));
        if (shared.length) problems.push(`resource types ${shared.join(", ")} are already ${other.id}'s`);
    }
    return problems;
}

export function isLargeEnough(size: ServerSize): boolean {
    return size.vcpus >= MINIMUM_SIZE.vcpus && size.memoryMb >= MINIMUM_SIZE.memoryMb;
}

/** Which provider, and which role, a cloud resource type belongs to. */
export function providerOfResourceType(type: string): { provider: ProviderSpec; role: "server" | "firewall" | "sshKey" } | undefined {
    for (const provider of registry.values()) {
        for (const [role, t] of Object.entries(provider.resourceTypes) as ["server" | "firewall" | "sshKey", string][]) {
            if (t === type) return { provider, role };
        }
    }
    return undefined;
}

/** Every provider's resource type with `role` (e.g. every server type, for the deploy's rebuild). */
export function resourceTypesWithRole(role: "server" | "firewall" | "sshKey"): string[] {
    return allProviders().map((p) => p.resourceTypes[role]);
}

/** Providers other than `id` that know `serverType` (or `region`): a type of the wrong provider is refused. */
export function otherProvidersWith(id: string, what: "serverType" | "region", value: string): ProviderSpec[] {
    return allProviders().filter((p) => p.id !== id && (what === "serverType" ? value in p.serverTypes : p.regions.includes(value)));
}
