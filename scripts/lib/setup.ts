// The guided first-time setup behind `npm run deploy`: finds which settings a stack still lacks (or still holds the
// example's placeholders: example.com names, documentation IP ranges, the example key), asks for them with the
// schema's own descriptions and checks, and stores them with `pulumi config set`. Secret values reach Pulumi on
// stdin, never on a command line; lists are stored with `--path key[i]`.
import * as net from "node:net";
import { generateIdentity } from "../../components/core/age";
import { DEFAULT_PROVIDER, ProviderCredential, providerSpec } from "../../components/providers";
import { isPlanPlaceholder } from "../../components/core/rules";
import { NAMESPACE, settingSpecs, SettingSpec } from "../../components/settings";

export interface Prompter {
    /** Ask a question; `secret` hides the answer when on a terminal. Resolves with the trimmed answer. */
    ask(question: string, opts?: { secret?: boolean; defaultValue?: string }): Promise<string>;
    say(line: string): void;
}

export interface PulumiRunner {
    /** Run `pulumi ARGS` with optional stdin; resolves with exit code and output. */
    run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** The example stack's values are all from ranges reserved for documentation; none of them can be real. */
const DOC_V4 = ["192.0.2.", "198.51.100.", "203.0.113."];
const EXAMPLE_IDS = new Set(["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"]);
const EXAMPLE_DOMAIN = /(^|\.)example\.(com|org|net)$/i;
/** The example stack's age recipient (its identity was thrown away). */
export const EXAMPLE_BACKUP_RECIPIENT = "age180rmhsmjdvezkvjdjfs9gmdrfz798gts6etk56ac7lypm6uqe5fsvute2z";

export function isPlaceholderValue(key: string, value: unknown): boolean {
    // Lists arrive either as arrays (stack file) or as JSON strings (config as the program sees it).
    if (typeof value === "string" && value.startsWith("[")) {
        try {
            value = JSON.parse(value);
        } catch {
            // not a JSON list: judge the string itself
        }
    }
    const values = Array.isArray(value) ? value.map(String) : [String(value ?? "")];
    return values.some((v) => {
        if (isPlanPlaceholder(v)) return true;
        switch (key) {
            case "hostname":
                return EXAMPLE_DOMAIN.test(v);
            case "accessEmails":
                return EXAMPLE_DOMAIN.test(v.split("@")[1] ?? "");
            case "zoneId":
            case "accountId":
                return EXAMPLE_IDS.has(v);
            case "accessTeamName":
                return v === "example";
            case "sshPublicKey":
                return / you@example\.com$/.test(v.trim());
            case "backupRecipient":
                return v === EXAMPLE_BACKUP_RECIPIENT;
            case "adminCidrs": {
                const ip = v.split("/")[0];
                return net.isIPv4(ip) ? DOC_V4.some((p) => ip.startsWith(p)) : ip.toLowerCase().startsWith("2001:db8:");
            }
            default:
                return false;
        }
    });
}

/** Settings the setup always asks for when missing or placeholders (the rest have good defaults). */
export const SETUP_KEYS = [
    "provider",
    "hostname",
    "zoneId",
    "accountId",
    "accessTeamName",
    "accessEmails",
    "sshPublicKey",
    "adminCidrs",
    "timezone",
    "llmProvider",
    "llmApiKey",
    "memorySearchProvider",
    "embeddingApiKey",
] as const;

/**
 * Keys (without namespace) the setup asks for. Nothing when every required setting has a real value; otherwise
 * every setup key that is unset or a placeholder (those with defaults are offered with the default filled in).
 */
export function keysNeedingAnswers(stackConfig: Record<string, unknown>, secretKeysSet: ReadonlySet<string>): string[] {
    const schema = settingSpecs();
    const isSet = (key: string) => {
        const full = `${NAMESPACE}:${key}`;
        if (secretKeysSet.has(full)) return true; // an encrypted value is a real one
        const value = stackConfig[full];
        return value !== undefined && value !== "" && !isPlaceholderValue(key, value);
    };
    const required = SETUP_KEYS.filter((key) => schema[key].default === undefined && !schema[key].optional);
    if (required.every(isSet)) return [];
    return SETUP_KEYS.filter((key) => !isSet(key));
}

function parseAnswer(spec: SettingSpec, answer: string): { value?: unknown; problem?: string } {
    switch (spec.kind) {
        case "array": {
            const items = answer
                .split(/[,\s]+/)
                .map((s) => s.trim())
                .filter(Boolean);
            return { value: items };
        }
        case "integer":
            return /^\d+$/.test(answer) ? { value: Number(answer) } : { problem: "a whole number" };
        case "boolean":
            return answer === "true" || answer === "false" ? { value: answer === "true" } : { problem: "true or false" };
        default:
            return { value: answer };
    }
}

/** Ask until the answer passes the schema's own check. Empty answer for an optional key = skip. */
export async function askSetting(
    key: string,
    prompter: Prompter,
    answered: Record<string, unknown>,
    defaults: Record<string, string> = {},
): Promise<unknown> {
    const spec = settingSpecs()[key];
    for (let attempt = 0; attempt < 5; attempt++) {
        const suffix = spec.enum ? ` (${spec.enum.join(" | ")})` : spec.kind === "array" ? " (comma-separated)" : "";
        const answer = await prompter.ask(`${key}${suffix}: ${spec.description}`, {
            secret: spec.secret,
            defaultValue: defaults[key] ?? (spec.default !== undefined && !Array.isArray(spec.default) ? String(spec.default) : undefined),
        });
        if (!answer && spec.optional) return undefined;
        const parsed = parseAnswer(spec, answer);
        let problem = parsed.problem;
        if (!problem && spec.enum && !spec.enum.includes(String(parsed.value))) problem = `one of ${spec.enum.join(", ")}`;
        if (!problem && !answer) problem = "a value (this setting is required)";
        if (!problem) problem = spec.check?.(parsed.value as never, answered as never);
        if (!problem && isPlaceholderValue(key, parsed.value)) problem = "your real value, not the example's placeholder";
        if (!problem) return parsed.value;
        prompter.say(`  ✗ ${key}: expected ${problem}. Try again.`);
    }
    throw new Error(`no valid answer for ${key} after 5 attempts`);
}

/** Store one answer with `pulumi config set`; secrets and every value go on stdin, lists element by element. */
export async function storeSetting(pulumi: PulumiRunner, key: string, value: unknown, secret: boolean): Promise<void> {
    const full = `${NAMESPACE}:${key}`;
    const setOne = async (args: string[], v: string) => {
        const res = await pulumi.run(["config", "set", ...(secret ? ["--secret"] : ["--plaintext"]), ...args], v);
        if (res.code !== 0) throw new Error(`pulumi config set ${args.join(" ")} failed: ${res.stderr.trim()}`);
    };
    if (Array.isArray(value)) {
        await pulumi.run(["config", "rm", full]);
        for (const [i, item] of value.entries()) await setOne(["--path", `${full}[${i}]`], String(item));
    } else {
        await setOne([full], String(value));
    }
}

/** The cloud provider's token (from its module in components/providers/) and Cloudflare's; README "Cloud tokens". */
export function credentialsFor(provider: string): ProviderCredential[] {
    return [
        providerSpec(provider).credential,
        {
            configKey: "cloudflare:apiToken",
            env: "CLOUDFLARE_API_TOKEN",
            what: "Cloudflare API token (see README: Tunnel, Access, DNS, R2 and API-token permissions)",
        },
    ];
}

/**
 * The whole guided setup. `stackConfig` is the stack file's config (plain values; encrypted ones listed in
 * `secretKeys`). Returns the keys it stored.
 */
export async function guidedSetup(opts: {
    stackConfig: Record<string, unknown>;
    secretKeys: ReadonlySet<string>;
    prompter: Prompter;
    pulumi: PulumiRunner;
    env: NodeJS.ProcessEnv;
    defaults?: Record<string, string>;
}): Promise<string[]> {
    const { prompter, pulumi } = opts;
    const needed = keysNeedingAnswers(opts.stackConfig, opts.secretKeys);
    const stored: string[] = [];
    const answered: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(opts.stackConfig)) if (k.startsWith(`${NAMESPACE}:`)) answered[k.slice(NAMESPACE.length + 1)] = v;
    if (needed.length)
        prompter.say(`First-time setup: ${needed.length} setting(s) to fill in (Ctrl-C to stop; nothing is created until the end).`);
    for (const key of needed) {
        const spec = settingSpecs()[key];
        const value = await askSetting(key, prompter, answered, opts.defaults);
        if (value === undefined) continue;
        answered[key] = value;
        await storeSetting(pulumi, key, value, !!spec.secret);
        stored.push(key);
    }
    const provider = String(answered.provider ?? DEFAULT_PROVIDER);
    for (const cred of credentialsFor(provider)) {
        const full = cred.configKey;
        if (opts.env[cred.env] || opts.secretKeys.has(full) || opts.stackConfig[full] !== undefined) continue;
        const value = await prompter.ask(`${cred.configKey}: ${cred.what} (or export ${cred.env} instead)`, { secret: true });
        if (!value) throw new Error(`${cred.configKey} is needed (or the ${cred.env} environment variable)`);
        const res = await pulumi.run(["config", "set", "--secret", full], value);
        if (res.code !== 0) throw new Error(`pulumi config set ${full} failed: ${res.stderr.trim()}`);
        stored.push(full);
    }
    stored.push(...(await ensureBackupKeys(opts)));
    return stored;
}

/**
 * The backups' age key pair: generated here when the stack has no identity yet (the recipient goes to the host, the
 * identity stays a stack secret and never reaches a server). A recipient without its identity is an error: the
 * operator's side could never read what the host writes.
 */
export async function ensureBackupKeys(opts: {
    stackConfig: Record<string, unknown>;
    secretKeys: ReadonlySet<string>;
    prompter: Prompter;
    pulumi: PulumiRunner;
}): Promise<string[]> {
    const identityKey = `${NAMESPACE}:backupIdentity`;
    if (opts.secretKeys.has(identityKey)) return [];
    const recipient = opts.stackConfig[`${NAMESPACE}:backupRecipient`];
    if (typeof recipient === "string" && recipient !== "" && !isPlaceholderValue("backupRecipient", recipient))
        throw new Error(
            `${NAMESPACE}:backupRecipient is set but ${identityKey} is not: set the identity that belongs to it ` +
                "(pulumi config set --secret backupIdentity AGE-SECRET-KEY-1...), or remove backupRecipient to generate a new pair",
        );
    const keys = generateIdentity();
    await storeSetting(opts.pulumi, "backupIdentity", keys.identity, true);
    await storeSetting(opts.pulumi, "backupRecipient", keys.recipient, false);
    opts.prompter.say(
        `Generated the backups' age key pair: recipient ${keys.recipient} (the host encrypts to it). The identity is a ` +
            "stack secret that never reaches a server; without it no snapshot can ever be read. Keep a copy offline: " +
            "`pulumi config get backupIdentity`.",
    );
    return ["backupIdentity", "backupRecipient"];
}
