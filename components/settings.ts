// The stack configuration schema: every `openclaw-vps:*` key with its type, default and description (Pulumi.yaml's
// `config:` block is checked against this table by a test), and `parseSettings`, which turns raw config strings into
// typed Settings or reports *every* problem at once (key, value given, what is expected) before anything is created.
// No Pulumi imports: the offline plan, the guided setup and the tests all call it directly.
import * as semver from "semver";
import {
    GATEWAY_AUTH_MODES,
    GatewayAuthMode,
    LLM_PROVIDER_SPECS,
    LLM_PROVIDERS,
    LlmProvider,
    MEMORY_SEARCH_PROVIDERS,
    MemorySearchProvider,
} from "./render/openclaw-config";
import { validateBackupSchedule } from "./render/backup-units";
import { SNAPSHOT_ID } from "./render/rclone";
import { HHMM, isCidr, isFqdn, isIanaTimezone, SSH_PUBLIC_KEY } from "./validators";
import { MINIMUM_SAFE_OPENCLAW, CONFIG_SCHEMA_SINCE, readOpenclawPin, OpenclawPin } from "./pins";
import {
    DEFAULT_REGION,
    DEFAULT_SERVER_TYPE,
    KNOWN_REGIONS,
    MINIMUM_SIZE,
    Provider,
    serverSize,
} from "./server-types";

export const NAMESPACE = "openclaw-vps";

export const PROVIDERS = ["hetzner", "digitalocean"] as const;
export const TUNNEL_PROTOCOLS = ["auto", "http2", "quic"] as const;
export const R2_LOCATIONS = ["auto", "apac", "eeur", "enam", "weur", "wnam", "oc"] as const;
// LLM and memory-search providers, auth modes and default models are the OpenClaw renderer's: it knows which env
// var each provider reads and which plugin package it needs.
export { GATEWAY_AUTH_MODES, LLM_PROVIDERS, MEMORY_SEARCH_PROVIDERS };
export type { GatewayAuthMode, LlmProvider, MemorySearchProvider };
export type TunnelProtocol = (typeof TUNNEL_PROTOCOLS)[number];

/** The default model of each LLM provider, in OpenClaw's `provider/model` form. */
export const DEFAULT_MODEL = Object.fromEntries(
    Object.entries(LLM_PROVIDER_SPECS).map(([id, spec]) => [id, spec.defaultModel]),
) as Record<LlmProvider, string>;

/** Everything the program needs, typed and validated. Secrets are kept apart in `SettingsSecrets`. */
export interface Settings {
    agentName: string;
    provider: Provider;
    region: string;
    serverType: string;
    /** Memory of the server type in MB, when known (sizes memory limits and swap). */
    serverMemoryMb: number | undefined;
    serverArch: "x64" | "arm64";
    hostname: string;
    zoneId: string;
    accountId: string;
    accessTeamName: string;
    accessEmails: string[];
    accessEmailDomains: string[];
    accessIdentityProviderIds: string[];
    accessSessionDuration: string;
    accessServiceToken: boolean;
    sshPublicKey: string;
    providerSshKey: string;
    adminCidrs: string[];
    adminUser: string;
    openclawVersion: string;
    nodeMajor: number;
    timezone: string;
    gatewayPort: number;
    gatewayAuth: GatewayAuthMode;
    tunnelProtocol: TunnelProtocol;
    llmProvider: LlmProvider;
    model: string;
    memorySearchProvider: MemorySearchProvider;
    heartbeatEvery: string;
    activeHoursStart: string;
    activeHoursEnd: string;
    swapMb: number;
    backupBucketName: string;
    backupBucketAdopt: boolean;
    backupLocation: (typeof R2_LOCATIONS)[number];
    backupSchedule: string;
    backupLockDays: number;
    backupRetentionDays: number;
    restoreFrom: string;
}

export interface SettingsSecrets {
    llmApiKey: string;
    /** Absent: memory search falls back to keyword-only (with a loud warning). */
    embeddingApiKey?: string;
}

type Kind = "string" | "integer" | "boolean" | "array";
type Value = string | number | boolean | string[];

/** One config key. `check` returns what is expected when the value is wrong, or undefined when it is fine. */
export interface SettingSpec {
    kind: Kind;
    description: string;
    /** Default when unset; absent means the key is required (unless `optional`). */
    default?: Value;
    /** A default that depends on other settings (documented in `description`; not expressible in Pulumi.yaml). */
    derivedDefault?: (s: Partial<Record<string, Value>>) => Value;
    optional?: boolean;
    secret?: boolean;
    enum?: readonly string[];
    check?: (value: never, all: Partial<Record<string, Value>>) => string | undefined;
}

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const DURATION = /^(\d+(ms|s|m|h))+$/;

export { isCidr, isFqdn, isIanaTimezone };

function checkList(items: string[], ok: (s: string) => boolean, what: string): string | undefined {
    const bad = items.filter((i) => !ok(i));
    return bad.length ? `${what} (not valid: ${bad.map((b) => JSON.stringify(b)).join(", ")})` : undefined;
}

/** Does some release of Node `major` satisfy the engines range? */
export function nodeMajorSatisfies(major: number, engines: string): boolean {
    return semver.intersects(engines, `${major}.x`);
}

/**
 * The schema. Order = the order of Pulumi.yaml and of the guided setup. `pin` is read once, from the installed
 * `openclaw` package, so the Node range and the default version are never hard-coded.
 */
export function settingsSchema(pin: OpenclawPin = readOpenclawPin()): Record<string, SettingSpec> {
    return {
        agentName: {
            kind: "string",
            default: "openclaw",
            description: "Name of this agent: prefixes every resource (server, tunnel, bucket) so several agents fit in one account.",
            check: (v: string) => (/^[a-z][a-z0-9-]{0,29}$/.test(v) && !v.endsWith("-") ? undefined : "a lowercase DNS label of at most 30 characters, e.g. openclaw"),
        },
        provider: {
            kind: "string",
            default: "hetzner",
            enum: PROVIDERS,
            description: "Where the VPS runs: hetzner (default) or digitalocean.",
        },
        region: {
            kind: "string",
            optional: true,
            derivedDefault: (s) => DEFAULT_REGION[(s.provider as Provider) ?? "hetzner"],
            description: "Provider location. Default: fsn1 on hetzner, fra1 on digitalocean.",
            check: (v: string) => (/^[a-z0-9-]{2,20}$/.test(v) ? undefined : "a provider location slug such as fsn1 or fra1"),
        },
        serverType: {
            kind: "string",
            optional: true,
            derivedDefault: (s) => DEFAULT_SERVER_TYPE[(s.provider as Provider) ?? "hetzner"],
            description: "Server size. Default: cx23 (2 vCPU / 4 GB) on hetzner, s-2vcpu-2gb on digitalocean. At least 2 vCPU / 2 GB.",
            check: (v: string, all) => {
                const provider = all.provider as Provider;
                if (!PROVIDERS.includes(provider)) return undefined;
                const size = serverSize(provider, v);
                if (!size) return undefined; // unknown types are allowed, with a warning
                if (size.retired) return `a type ${provider} still sells (${v} was retired), e.g. ${DEFAULT_SERVER_TYPE[provider]}`;
                if (size.vcpus < MINIMUM_SIZE.vcpus || size.memoryMb < MINIMUM_SIZE.memoryMb) {
                    return `at least ${MINIMUM_SIZE.vcpus} vCPU / ${MINIMUM_SIZE.memoryMb / 1024} GB (${v} has ${size.vcpus} vCPU / ${size.memoryMb / 1024} GB), e.g. ${DEFAULT_SERVER_TYPE[provider]}`;
                }
                return undefined;
            },
        },
        hostname: {
            kind: "string",
            description: "Public hostname of the agent, e.g. agent.example.com (a name in the Cloudflare zone `zoneId`).",
            check: (v: string) => (isFqdn(v) ? undefined : "a fully qualified domain name such as agent.example.com"),
        },
        zoneId: {
            kind: "string",
            description: "Cloudflare zone id of the hostname's domain (32 hex characters, dashboard > domain > Overview).",
            check: (v: string) => (HEX32.test(v) ? undefined : "a Cloudflare zone id: 32 lowercase hex characters"),
        },
        accountId: {
            kind: "string",
            description: "Cloudflare account id (32 hex characters): owns the tunnel, Access and the R2 bucket.",
            check: (v: string) => (HEX32.test(v) ? undefined : "a Cloudflare account id: 32 lowercase hex characters"),
        },
        accessTeamName: {
            kind: "string",
            description: "Zero Trust team name: the <team> of <team>.cloudflareaccess.com (Zero Trust > Settings > Custom Pages).",
            check: (v: string) => (/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v) ? undefined : "the team name only (e.g. example for example.cloudflareaccess.com)"),
        },
        accessEmails: {
            kind: "array",
            description: "E-mail addresses allowed through Cloudflare Access (one-time PIN or your IdP). At least one.",
            check: (v: string[]) =>
                v.length === 0 ? "at least one e-mail address" : checkList(v, (e) => EMAIL.test(e), "e-mail addresses such as you@example.com"),
        },
        accessEmailDomains: {
            kind: "array",
            default: [],
            description: "Whole e-mail domains allowed through Access (e.g. your company's). Empty by default.",
            check: (v: string[]) => checkList(v, isFqdn, "domains such as example.com"),
        },
        accessIdentityProviderIds: {
            kind: "array",
            default: [],
            description: "Access identity provider ids the login page offers (empty: all of the account's, incl. one-time PIN).",
            check: (v: string[]) => checkList(v, (s) => /^[0-9a-f-]{36}$/.test(s), "identity provider UUIDs"),
        },
        accessSessionDuration: {
            kind: "string",
            default: "24h",
            description: "How long an Access login lasts before Cloudflare asks again (e.g. 30m, 24h, 168h).",
            check: (v: string) => (DURATION.test(v) ? undefined : "a duration such as 30m, 24h or 168h"),
        },
        accessServiceToken: {
            kind: "boolean",
            default: false,
            description: "Create an Access service token (and a Service Auth policy) for machine clients such as the OpenClaw CLI.",
        },
        sshPublicKey: {
            kind: "string",
            description: "Your SSH public key (one line, e.g. the content of ~/.ssh/id_ed25519.pub): the only way into the server.",
            check: (v: string) => (SSH_PUBLIC_KEY.test(v.trim()) ? undefined : "one OpenSSH public key line such as `ssh-ed25519 AAAA... you@laptop`"),
        },
        providerSshKey: {
            kind: "string",
            default: "",
            description: "An SSH key already in the provider account to use instead of creating one (Hetzner: its name; DigitalOcean: its fingerprint). Providers refuse the same public key twice.",
            check: (v: string) => (v === "" || /^[\x21-\x7e][\x20-\x7e]{0,127}$/.test(v) ? undefined : "the key's name (Hetzner) or fingerprint (DigitalOcean), or empty"),
        },
        adminCidrs: {
            kind: "array",
            description: "Networks allowed to reach SSH (port 22), IPv4 and/or IPv6 CIDRs such as 203.0.113.7/32. Nothing else is ever open.",
            check: (v: string[]) => (v.length === 0 ? "at least one CIDR (your IP address with /32)" : checkList(v, isCidr, "CIDRs such as 203.0.113.7/32 or 2001:db8::/64")),
        },
        adminUser: {
            kind: "string",
            default: "ops",
            description: "Login of the admin account that SSH and the deploy use (root login is disabled).",
            check: (v: string) =>
                /^[a-z_][a-z0-9_-]{0,31}$/.test(v) && !["root", "openclaw"].includes(v) ? undefined : "a Linux user name other than root and openclaw",
        },
        openclawVersion: {
            kind: "string",
            default: pin.version,
            description: `OpenClaw release the host runs. Defaults to the version pinned in package.json (${pin.version}), the one the config is validated against.`,
            check: (v: string) => {
                if (!semver.valid(v)) return `a release version such as ${pin.version}`;
                if (semver.lt(v, MINIMUM_SAFE_OPENCLAW)) return `${MINIMUM_SAFE_OPENCLAW} or newer (older releases leak the gateway token: CVE-2026-25253)`;
                if (semver.lt(v, CONFIG_SCHEMA_SINCE)) return `${CONFIG_SCHEMA_SINCE} or newer (the config schema we render was introduced then); better: the pinned ${pin.version}`;
                return undefined;
            },
        },
        nodeMajor: {
            kind: "integer",
            default: semver.minVersion(pin.nodeEngines)?.major ?? 24,
            description: `Major version of Node.js on the host; must satisfy the pinned OpenClaw's engines (${pin.nodeEngines}).`,
            check: (v: number) => (nodeMajorSatisfies(v, pin.nodeEngines) ? undefined : `a Node major that satisfies openclaw ${pin.version}'s engines "${pin.nodeEngines}"`),
        },
        timezone: {
            kind: "string",
            default: "UTC",
            description: "The operator's IANA time zone (e.g. America/New_York): host clock, agent and heartbeat active hours.",
            check: (v: string) => (isIanaTimezone(v) ? undefined : "an IANA time zone such as America/New_York or Europe/Berlin"),
        },
        gatewayPort: {
            kind: "integer",
            default: 18789,
            description: "Loopback port of the OpenClaw gateway (never opened to the network; the tunnel reaches it locally).",
            check: (v: number) => (v >= 1024 && v <= 65535 && v !== 22 ? undefined : "a port between 1024 and 65535"),
        },
        gatewayAuth: {
            kind: "string",
            default: "token",
            enum: GATEWAY_AUTH_MODES,
            description: "Gateway authentication behind Access: token (a random gateway token; default) or access (trusted Cloudflare Access identity headers).",
        },
        tunnelProtocol: {
            kind: "string",
            default: "auto",
            enum: TUNNEL_PROTOCOLS,
            description: "Transport cloudflared uses to reach Cloudflare: auto, http2 (TCP 443 only) or quic (UDP 7844).",
        },
        llmProvider: {
            kind: "string",
            default: "anthropic",
            enum: LLM_PROVIDERS,
            description: "The LLM provider the agent calls; its API key is `llmApiKey`.",
        },
        model: {
            kind: "string",
            optional: true,
            derivedDefault: (s) => DEFAULT_MODEL[(s.llmProvider as LlmProvider) ?? "anthropic"] ?? DEFAULT_MODEL.anthropic,
            description: `Model in OpenClaw's provider/model form. Default: the provider's default in the pinned OpenClaw (anthropic: ${DEFAULT_MODEL.anthropic}).`,
            check: (v: string, all) =>
                /^[a-z0-9-]+\/\S+$/.test(v) && (!all.llmProvider || v.startsWith(`${all.llmProvider}/`))
                    ? undefined
                    : `a model of llmProvider ${JSON.stringify(all.llmProvider)} in provider/model form, e.g. ${DEFAULT_MODEL[(all.llmProvider as LlmProvider) ?? "anthropic"] ?? DEFAULT_MODEL.anthropic}`,
        },
        llmApiKey: {
            kind: "string",
            secret: true,
            description: "API key of llmProvider. Secret: set it with `pulumi config set --secret llmApiKey`.",
            check: (v: string) => (v.trim().length >= 8 && !/\s/.test(v.trim()) ? undefined : "an API key (at least 8 characters, no spaces)"),
        },
        memorySearchProvider: {
            kind: "string",
            default: "voyage",
            enum: MEMORY_SEARCH_PROVIDERS,
            description: "Embedding provider of hybrid memory search (vectors + BM25); none = keyword search only.",
        },
        embeddingApiKey: {
            kind: "string",
            secret: true,
            optional: true,
            description: "API key of memorySearchProvider (secret). Without it memory search falls back to keyword-only, with a warning.",
            check: (v: string) => (v.trim().length >= 8 && !/\s/.test(v.trim()) ? undefined : "an API key (at least 8 characters, no spaces)"),
        },
        heartbeatEvery: {
            kind: "string",
            default: "30m",
            description: "How often the heartbeat turn runs (its checklist is workspace/HEARTBEAT.md; empty file = no heartbeat).",
            check: (v: string) => (DURATION.test(v) ? undefined : "a duration such as 30m or 1h"),
        },
        activeHoursStart: {
            kind: "string",
            default: "08:00",
            description: "Start of the heartbeat's active hours (HH:MM, in `timezone`).",
            check: (v: string) => (HHMM.test(v) ? undefined : "a time HH:MM such as 08:00"),
        },
        activeHoursEnd: {
            kind: "string",
            default: "22:00",
            description: "End of the heartbeat's active hours (HH:MM, in `timezone`).",
            check: (v: string, all) =>
                !HHMM.test(v) ? "a time HH:MM such as 22:00" : typeof all.activeHoursStart === "string" && v === all.activeHoursStart ? "a time different from activeHoursStart" : undefined,
        },
        swapMb: {
            kind: "integer",
            default: 2048,
            description: "Swap file size in MB (0 = none). The gateway alone uses about 1 GB, so a 2 GB host needs swap.",
            check: (v: number) => (v >= 0 && v <= 65536 ? undefined : "a size in MB between 0 and 65536"),
        },
        backupBucketName: {
            kind: "string",
            optional: true,
            derivedDefault: (s) => `${s.agentName ?? "openclaw"}-memory`,
            description: "R2 bucket for memory snapshots. Default: <agentName>-memory. Kept when the stack is destroyed.",
            check: (v: string) => (/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(v) ? undefined : "an R2 bucket name: 3-63 lowercase letters, digits and hyphens"),
        },
        backupBucketAdopt: {
            kind: "boolean",
            default: false,
            description: "Adopt an existing bucket named backupBucketName (kept by an earlier `pulumi destroy`) instead of creating it. `npm run deploy` sets it when it finds one.",
        },
        backupLocation: {
            kind: "string",
            default: "auto",
            enum: R2_LOCATIONS,
            description: "R2 location hint: auto (Cloudflare picks), apac, eeur, enam, weur, wnam or oc.",
        },
        backupSchedule: {
            kind: "string",
            default: "hourly",
            description: "When the host takes a snapshot: a systemd OnCalendar expression (default hourly; the guide used every 6 h).",
            // The renderer's own rule (one line, not every minute); systemd's grammar is checked by the tools test.
            check: (v: string) => (validateBackupSchedule(v) ? "a systemd calendar expression, hourly or less often, such as hourly, daily or *-*-* 00/6:00:00" : undefined),
        },
        backupLockDays: {
            kind: "integer",
            default: 7,
            description: "Days a snapshot is locked in R2 (cannot be deleted or overwritten, even with the host's credentials).",
            check: (v: number, all) =>
                v < 1 ? "at least 1 day" : typeof all.backupRetentionDays === "number" && v >= all.backupRetentionDays ? `fewer days than backupRetentionDays (${all.backupRetentionDays})` : undefined,
        },
        backupRetentionDays: {
            kind: "integer",
            default: 30,
            description: "Days after which R2 deletes a snapshot (lifecycle rule). Must exceed backupLockDays.",
            check: (v: number) => (v >= 2 && v <= 3650 ? undefined : "between 2 and 3650 days"),
        },
        restoreFrom: {
            kind: "string",
            default: "latest",
            description: "What a new server restores before the agent starts: latest, a snapshot timestamp (YYYYMMDDTHHMMSSZ, from `npm run snapshots`), or none.",
            check: (v: string) => (v === "latest" || v === "none" || SNAPSHOT_ID.test(v) ? undefined : "latest, none, or a snapshot timestamp such as 20261126T050000Z"),
        },
    };
}

export interface ConfigProblem {
    key: string;
    given: string;
    expected: string;
}

export class ConfigError extends Error {
    constructor(readonly problems: ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

export function formatProblems(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => `  - ${NAMESPACE}:${p.key}: got ${p.given}; expected ${p.expected}`);
    return `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n${lines.join("\n")}`;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}

export function suggestKey(unknown: string, known: string[]): string | undefined {
    const lower = unknown.toLowerCase();
    let best: { key: string; d: number } | undefined;
    for (const k of known) {
        const d = k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase());
        if (!best || d < best.d) best = { key: k, d };
    }
    return best && best.d <= Math.max(2, Math.floor(unknown.length / 4)) ? best.key : undefined;
}

function show(raw: string, secret: boolean): string {
    return secret ? "[secret]" : JSON.stringify(raw);
}

/** Parse one raw config string into the key's kind, or return what was expected. */
function parseValue(spec: SettingSpec, raw: string): { value?: Value; expected?: string } {
    switch (spec.kind) {
        case "string":
            return { value: raw };
        case "integer":
            return /^-?\d+$/.test(raw.trim()) ? { value: Number(raw.trim()) } : { expected: "a whole number" };
        case "boolean":
            return raw === "true" || raw === "false" ? { value: raw === "true" } : { expected: "true or false" };
        case "array": {
            try {
                const parsed: unknown = JSON.parse(raw);
                if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return { value: parsed.map((x) => x.trim()) };
            } catch {
                // fall through: a single bare value is accepted as a one-element list
            }
            if (raw.trim() && !raw.trim().startsWith("[")) return { value: raw.split(",").map((s) => s.trim()).filter(Boolean) };
            return { expected: 'a list of strings, e.g. ["a", "b"] (pulumi config set --path "key[0]" a)' };
        }
    }
}

export interface ParsedSettings {
    settings: Settings;
    secrets: SettingsSecrets;
    warnings: string[];
}

export interface ParseOptions {
    pin?: OpenclawPin;
    /** Full keys (`openclaw-vps:llmApiKey`) that were stored as secrets; a secret key stored in plaintext is an error. */
    secretKeys?: ReadonlySet<string>;
    /** Skip the "must be stored as a secret" rule (offline plan with --secret / placeholders). */
    allowPlainSecrets?: boolean;
}

/**
 * Validate raw stack config (`{"openclaw-vps:hostname": "agent.example.com", "hcloud:token": ...}`, values as Pulumi
 * stores them: strings, JSON for lists) and return typed settings. Throws ConfigError listing every problem.
 */
export function parseSettings(raw: Record<string, string>, options: ParseOptions = {}): ParsedSettings {
    const pin = options.pin ?? readOpenclawPin();
    const schema = settingsSchema(pin);
    const keys = Object.keys(schema);
    const problems: ConfigProblem[] = [];
    const warnings: string[] = [];
    const values: Partial<Record<string, Value>> = {};

    for (const fullKey of Object.keys(raw)) {
        const [ns, ...rest] = fullKey.split(":");
        if (ns !== NAMESPACE || rest.length === 0) continue; // other namespaces (hcloud:token, ...) are providers'
        const key = rest.join(":");
        if (!schema[key]) {
            const hint = suggestKey(key, keys);
            problems.push({
                key,
                given: "an unknown key",
                expected: hint ? `a known key: did you mean ${NAMESPACE}:${hint}?` : `one of the known keys (see Pulumi.yaml): ${keys.join(", ")}`,
            });
        }
    }

    for (const key of keys) {
        const spec = schema[key];
        const fullKey = `${NAMESPACE}:${key}`;
        const rawValue = raw[fullKey];
        if (rawValue === undefined || rawValue === "") continue;
        if (spec.secret && options.secretKeys && !options.allowPlainSecrets && !options.secretKeys.has(fullKey)) {
            problems.push({ key, given: "a plaintext value", expected: `a secret: pulumi config set --secret ${key} (and rotate the key: it is now in Pulumi.<stack>.yaml)` });
            continue;
        }
        const parsed = parseValue(spec, rawValue);
        if (parsed.expected) {
            problems.push({ key, given: show(rawValue, !!spec.secret), expected: parsed.expected });
            continue;
        }
        if (spec.enum && !spec.enum.includes(parsed.value as string)) {
            const hint = suggestKey(String(parsed.value), [...spec.enum]);
            problems.push({ key, given: show(rawValue, !!spec.secret), expected: `one of ${spec.enum.join(", ")}${hint ? ` (did you mean ${hint}?)` : ""}` });
            continue;
        }
        values[key] = parsed.value;
    }

    // Defaults: plain ones first, then those derived from other settings.
    for (const key of keys) {
        const spec = schema[key];
        if (values[key] === undefined && spec.default !== undefined) values[key] = spec.default;
    }
    for (const key of keys) {
        const spec = schema[key];
        if (values[key] === undefined && spec.derivedDefault) values[key] = spec.derivedDefault(values);
    }

    for (const key of keys) {
        const spec = schema[key];
        const value = values[key];
        if (value === undefined) {
            if (!spec.optional && !problems.some((p) => p.key === key)) {
                problems.push({
                    key,
                    given: "nothing (the key is not set)",
                    expected: `${spec.description} Set it with: pulumi config set ${spec.secret ? "--secret " : ""}${key} <value>`,
                });
            }
            continue;
        }
        const expected = spec.check?.(value as never, values);
        if (expected) {
            const given = Array.isArray(value) ? JSON.stringify(value) : show(String(value), !!spec.secret);
            problems.push({ key, given, expected });
        }
    }

    if (problems.length) throw new ConfigError(problems);

    const provider = values.provider as Provider;
    const size = serverSize(provider, values.serverType as string);
    if (!size) {
        warnings.push(
            `${NAMESPACE}:serverType ${JSON.stringify(values.serverType)} is not a ${provider} type we know; it is used as given. ` +
                `Make sure it has at least ${MINIMUM_SIZE.vcpus} vCPU / ${MINIMUM_SIZE.memoryMb / 1024} GB.`,
        );
    }
    if (!KNOWN_REGIONS[provider].includes(values.region as string)) {
        warnings.push(`${NAMESPACE}:region ${JSON.stringify(values.region)} is not a ${provider} location we know (${KNOWN_REGIONS[provider].join(", ")}); it is used as given.`);
    }
    const openCidrs = (values.adminCidrs as string[]).filter((c) => /\/0$/.test(c));
    if (openCidrs.length) {
        warnings.push(`${NAMESPACE}:adminCidrs includes ${openCidrs.join(", ")}: SSH is reachable from the whole Internet (key-only, rate-limited, fail2ban). Prefer your own address.`);
    }
    if (values.openclawVersion !== pin.version) {
        warnings.push(`${NAMESPACE}:openclawVersion ${values.openclawVersion} differs from the pinned ${pin.version}: the rendered config was validated against ${pin.version} only. Bump the pin in package.json instead.`);
    }
    const embeddingApiKey = values.embeddingApiKey as string | undefined;
    if (values.memorySearchProvider !== "none" && !embeddingApiKey) {
        warnings.push(
            `${NAMESPACE}:embeddingApiKey is not set: memory search falls back to KEYWORD-ONLY (BM25) search, without ${values.memorySearchProvider} embeddings. ` +
                `Set it with: pulumi config set --secret embeddingApiKey <key>`,
        );
    }

    const settings: Settings = {
        agentName: values.agentName as string,
        provider,
        region: values.region as string,
        serverType: values.serverType as string,
        serverMemoryMb: size?.memoryMb,
        serverArch: size?.arch ?? ((values.serverType as string).startsWith("cax") ? "arm64" : "x64"),
        hostname: (values.hostname as string).toLowerCase(),
        zoneId: values.zoneId as string,
        accountId: values.accountId as string,
        accessTeamName: values.accessTeamName as string,
        accessEmails: (values.accessEmails as string[]).map((e) => e.toLowerCase()),
        accessEmailDomains: (values.accessEmailDomains as string[]).map((e) => e.toLowerCase()),
        accessIdentityProviderIds: values.accessIdentityProviderIds as string[],
        accessSessionDuration: values.accessSessionDuration as string,
        accessServiceToken: values.accessServiceToken as boolean,
        sshPublicKey: (values.sshPublicKey as string).trim(),
        providerSshKey: values.providerSshKey as string,
        adminCidrs: values.adminCidrs as string[],
        adminUser: values.adminUser as string,
        openclawVersion: values.openclawVersion as string,
        nodeMajor: values.nodeMajor as number,
        timezone: values.timezone as string,
        gatewayPort: values.gatewayPort as number,
        gatewayAuth: values.gatewayAuth as GatewayAuthMode,
        tunnelProtocol: values.tunnelProtocol as TunnelProtocol,
        llmProvider: values.llmProvider as LlmProvider,
        model: values.model as string,
        memorySearchProvider: values.memorySearchProvider as MemorySearchProvider,
        heartbeatEvery: values.heartbeatEvery as string,
        activeHoursStart: values.activeHoursStart as string,
        activeHoursEnd: values.activeHoursEnd as string,
        swapMb: values.swapMb as number,
        backupBucketName: values.backupBucketName as string,
        backupBucketAdopt: values.backupBucketAdopt as boolean,
        backupLocation: values.backupLocation as Settings["backupLocation"],
        backupSchedule: values.backupSchedule as string,
        backupLockDays: values.backupLockDays as number,
        backupRetentionDays: values.backupRetentionDays as number,
        restoreFrom: values.restoreFrom as string,
    };
    const secrets: SettingsSecrets = { llmApiKey: (values.llmApiKey as string).trim() };
    if (embeddingApiKey) secrets.embeddingApiKey = embeddingApiKey.trim();
    return { settings, secrets, warnings };
}
