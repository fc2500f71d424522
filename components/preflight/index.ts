// `npm run preflight` (and the first step of `npm run deploy`): read-only calls to the real Cloudflare and cloud
// provider APIs, and to the plugin registries, that check before anything is created what a first `pulumi up`
// otherwise finds out halfway: the Cloudflare token and its permissions, the zone and the hostname, a DNS record in the
// way, the Zero Trust organization, R2, the provider token's write scope, the server type in the region, an SSH key
// registered under another name, and every plugin's install route. Provider checks live in the provider modules
// (ProviderSpec.preflight). The API base URLs are the real ones; only the tests pass others (`endpoints`).
import { buildHostBundle } from "../render/host-bundle";
import { hostBundleInput, PLACEHOLDER_SECRETS } from "../host";
import { providerSpec, type PreflightCheck } from "../providers";
import type { Settings } from "../settings";
import { cloudflareChecks } from "./cloudflare";
import { pluginChecks } from "./plugins";

export { neededPermissions } from "./cloudflare";

export interface PreflightInput {
    settings: Settings;
    /** Whether an embedding key is set: which plugins the config needs depends on it. */
    hasEmbeddingKey: boolean;
    tokens: { cloudflare?: string; provider?: string };
}

/** Where each API is. The defaults are the public services; tests point them at local stand-ins. */
export interface PreflightEndpoints {
    cloudflare: string;
    /** With `{team}`: the Zero Trust team domain. */
    accessTeam: string;
    npm: string;
    clawhub: string;
    /** The cloud provider's API; default: its module's apiBaseUrl. */
    provider?: string;
}

export const PUBLIC_ENDPOINTS: PreflightEndpoints = {
    cloudflare: "https://api.cloudflare.com/client/v4",
    accessTeam: "https://{team}.cloudflareaccess.com",
    npm: "https://registry.npmjs.org",
    clawhub: "https://clawhub.ai",
};

export interface PreflightReport {
    checks: PreflightCheck[];
    failed: number;
    ok: boolean;
}

/** The plugin packages (NAME@VERSION) the rendered config needs, as the push installs them. */
export function neededPlugins(settings: Settings, hasEmbeddingKey: boolean): string[] {
    const secrets = { ...PLACEHOLDER_SECRETS, embeddingApiKey: hasEmbeddingKey ? PLACEHOLDER_SECRETS.embeddingApiKey : undefined };
    return buildHostBundle(hostBundleInput(settings, secrets)).plugins;
}

export async function runPreflight(input: PreflightInput, endpoints: Partial<PreflightEndpoints> = {}): Promise<PreflightReport> {
    const where = { ...PUBLIC_ENDPOINTS, ...endpoints };
    const s = input.settings;
    const provider = providerSpec(s.provider);
    const [cloudflare, server, plugins] = await Promise.all([
        cloudflareChecks(
            {
                token: input.tokens.cloudflare,
                accountId: s.accountId,
                zoneId: s.zoneId,
                hostname: s.hostname,
                accessTeamName: s.accessTeamName,
                tunnelName: `${s.agentName}-gateway`,
                accessServiceToken: s.accessServiceToken,
            },
            { api: where.cloudflare, accessTeam: where.accessTeam },
        ),
        provider.preflight({
            token: input.tokens.provider,
            region: s.region,
            serverType: s.serverType,
            sshPublicKey: s.sshPublicKey,
            existingSshKey: s.providerSshKey || undefined,
            ownSshKeyName: `${s.agentName}-admin`,
            apiBase: where.provider ?? provider.apiBaseUrl,
        }),
        pluginChecks(neededPlugins(s, input.hasEmbeddingKey), { npm: where.npm, clawhub: where.clawhub }),
    ]);
    const checks = [...cloudflare, ...server, ...plugins];
    const failedCount = checks.filter((c) => c.status === "fail").length;
    return { checks, failed: failedCount, ok: failedCount === 0 };
}

/** One line per check (✓ ✗ –), each failure followed by where to fix it. */
export function formatPreflight(report: PreflightReport): string {
    const lines: string[] = [];
    for (const c of report.checks) {
        const mark = c.status === "pass" ? "✓" : c.status === "fail" ? "✗" : "–";
        lines.push(`${mark} ${c.title}: ${c.summary}`);
        if (c.status === "fail") lines.push(`    fix: ${c.fix}`);
    }
    lines.push(
        report.ok
            ? `preflight: all ${report.checks.length} checks passed; nothing was created`
            : `preflight: ${report.failed} of ${report.checks.length} checks failed; nothing was created`,
    );
    return lines.join("\n");
}
