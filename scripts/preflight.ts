// `npm run preflight -- [--stack NAME] [--json]`: the account checks (components/preflight) for a stack, before
// anything is created: read-only calls to Cloudflare, the cloud provider and the plugin registries. Settings come from
// Pulumi.<stack>.yaml, checked as `pulumi up` checks them; the tokens from the environment (CLOUDFLARE_API_TOKEN and the
// provider's, e.g. HCLOUD_TOKEN) or, with PULUMI_CONFIG_PASSPHRASE set, from the stack's secrets. Exit 0: every check
// passed; 1: a check failed (each says where to fix it); 2: the stack's settings are invalid. `npm run deploy` runs the
// same checks first.
import { parseArgs } from "node:util";
import { formatPreflight, runPreflight, type PreflightReport } from "../components/preflight";
import { providerSpec } from "../components/providers";
import { ConfigError, NAMESPACE, parseSettings } from "../components/settings";
import type { PulumiRunner } from "./lib/setup";
import { pulumiRunner } from "./lib/pulumi-cli";
import { readStackConfig } from "./lib/stack-config";

const USAGE = "usage: npm run preflight -- [--stack NAME] [--json]";

/** A token from the environment, else the stack's (secret) config through the Pulumi CLI; undefined when neither has it. */
async function tokenFrom(env: NodeJS.ProcessEnv, variable: string, configKey: string, pulumi?: PulumiRunner): Promise<string | undefined> {
    if (env[variable]) return env[variable];
    if (!pulumi) return undefined;
    const got = await pulumi.run(["config", "get", configKey]);
    return got.code === 0 && got.stdout.trim() ? got.stdout.trim() : undefined;
}

/** Checks the stack's accounts; prints the report (or its JSON) and returns it. */
export async function preflightStack(
    stack: string,
    env: NodeJS.ProcessEnv,
    options: { pulumi?: PulumiRunner; say?: (line: string) => void; json?: boolean } = {},
): Promise<PreflightReport> {
    const config = readStackConfig(stack);
    const { settings } = parseSettings(config.config, { secretKeys: new Set(config.secretKeys), allowPlainSecrets: true });
    const provider = providerSpec(settings.provider);
    const tokens = {
        cloudflare: await tokenFrom(env, "CLOUDFLARE_API_TOKEN", "cloudflare:apiToken", options.pulumi),
        provider: await tokenFrom(env, provider.credential.env, provider.credential.configKey, options.pulumi),
    };
    const hasEmbeddingKey = config.config[`${NAMESPACE}:embeddingApiKey`] !== undefined;
    const report = await runPreflight({ settings, hasEmbeddingKey, tokens });
    const say = options.say ?? ((line: string) => console.log(line));
    say(options.json ? JSON.stringify(report, null, 2) : formatPreflight(report));
    return report;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "prod" },
            json: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const env = process.env;
    // The stack's secrets can be read only with its passphrase; without it the tokens must be in the environment.
    const pulumi = env.PULUMI_CONFIG_PASSPHRASE || env.PULUMI_CONFIG_PASSPHRASE_FILE ? pulumiRunner(env) : undefined;
    if (pulumi) await pulumi.run(["stack", "select", values.stack!]);
    try {
        const report = await preflightStack(values.stack!, env, { pulumi, json: values.json });
        process.exit(report.ok ? 0 : 1);
    } catch (err) {
        if (err instanceof ConfigError) {
            console.error(err.message);
            process.exit(2);
        }
        throw err;
    }
}

if (require.main === module) {
    main().catch((err) => {
        console.error(`preflight failed: ${err instanceof Error ? err.message : err}`);
        console.error(USAGE);
        process.exit(1);
    });
}
