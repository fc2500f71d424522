// The stack configuration schema: every `openclaw-vps:*` key once, with its kind, default, description and check.
// The `Settings` and `SettingsSecrets` types are derived from it, Pulumi.yaml's `config:` block and the README's
// reference are generated from it (components/project-file.ts), the guided setup asks with it, and parse.ts applies
// it. No Pulumi imports.
import * as semver from "semver";
import { DEFAULT_GATEWAY_PORT, RESERVED_USER_NAMES, USER_NAME_PATTERN } from "../core/host-contract";
import { CONFIG_SCHEMA_SINCE, MINIMUM_SAFE_OPENCLAW, OpenclawPin, readOpenclawPin } from "../core/pins";
import {
    API_KEY_RULE,
    BACKUP_SCHEDULE_RULE,
    DURATION_RULE,
    HTTPS_URL_RULE,
    REBOOT_WINDOW_RULE,
    SKILL_SPEC_RULE,
    Rule,
    TELEGRAM_BOT_TOKEN_RULE,
    TELEGRAM_CHAT_ID_RULE,
    WATCHDOG_INTERVAL_RULE,
    isPlanPlaceholder,
} from "../core/rules";
import { canonicalTimezone } from "../core/timezones";
import { HHMM, isCidr, isFqdn, isIanaTimezone, SSH_PUBLIC_KEY } from "../core/validators";
import { recipientOf } from "../core/age";
import { DEFAULT_PROVIDER, findProvider, isLargeEnough, MINIMUM_SIZE, otherProvidersWith, providerIds, ProviderSpec } from "../providers";
import { CHANNEL_SPECS, ChannelId } from "../render/channels";
import { TUNNEL_PROTOCOLS } from "../render/cloudflared-unit";
import {
    DEFAULT_MEMORY_SEARCH_PROVIDER,
    GATEWAY_AUTH_MODES,
    LLM_PROVIDER_SPECS,
    LLM_PROVIDERS,
    LlmProvider,
    MEMORY_SEARCH_PROVIDERS,
    TOOL_POLICIES,
} from "../render/openclaw-config";
import { parseRestoreFrom, RESTORE_FROM_EXPECTED } from "../core/backup-layout";
import { availableReleases } from "../render/openclaw-release";
import { suggest } from "./suggest";

export const NAMESPACE = "openclaw-vps";
export const R2_LOCATIONS = ["auto", "apac", "eeur", "enam", "weur", "wnam", "oc"] as const;

/** The default model of each LLM provider, in OpenClaw's `provider/model` form. */
export const DEFAULT_MODEL = Object.fromEntries(Object.entries(LLM_PROVIDER_SPECS).map(([id, spec]) => [id, spec.defaultModel])) as Record<
    LlmProvider,
    string
>;

export type Kind = "string" | "integer" | "boolean" | "array";
/** Values as parsing sees them before every key is known (defaults and checks can read the others). */
export type RawValues = Partial<Record<string, string | number | boolean | string[]>>;

/** One config key. `T` is its parsed type; `check` returns what is expected when the value is wrong. */
export interface SettingSpec<T = unknown> {
    kind: Kind;
    description: string;
    /** Default when unset; absent means the key is required (unless `optional`). */
    default?: T;
    /** A default that depends on other settings (documented in `description`; not expressible in Pulumi.yaml). */
    derivedDefault?: (values: RawValues) => T;
    optional?: boolean;
    secret?: boolean;
    enum?: readonly string[];
    check?: (value: T, values: RawValues) => string | undefined;
    /** Applied to a valid value (e.g. lowercase a hostname). */
    normalize?: (value: T) => T;
}

type Options<T> = Omit<SettingSpec<T>, "kind" | "enum" | "secret">;
const text = (o: Options<string>): SettingSpec<string> => ({ kind: "string", ...o });
const oneOf = <const E extends readonly string[]>(values: E, o: Options<E[number]>): SettingSpec<E[number]> => ({
    kind: "string",
    enum: values,
    ...o,
});
const integer = (o: Options<number>): SettingSpec<number> => ({ kind: "integer", ...o });
const flag = (o: Options<boolean>): SettingSpec<boolean> => ({ kind: "boolean", ...o });
const list = (o: Options<string[]>): SettingSpec<string[]> => ({ kind: "array", ...o });
const secret = (o: Omit<Options<string>, "optional">): SettingSpec<string> & { secret: true } => ({ kind: "string", ...o, secret: true });
const optionalSecret = (o: Omit<Options<string>, "optional">): SettingSpec<string> & { secret: true; optional: true } => ({
    kind: "string",
    ...o,
    secret: true,
    optional: true,
});

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

function checkList(items: string[], ok: (s: string) => boolean, what: string): string | undefined {
    const bad = items.filter((i) => !ok(i));
    return bad.length ? `${what} (not valid: ${bad.map((b) => JSON.stringify(b)).join(", ")})` : undefined;
}

/** A channel token key: optional, secret, refused by key when it does not have the platform's shape. */
function channelToken(rule: Rule<string>, description: string) {
    return optionalSecret({ description, check: (v) => (rule.test(v.trim()) ? undefined : rule.expected), normalize: (v) => v.trim() });
}

/**
 * A channel's allowlist key: the owner's ids there. Set together with the channel's token(s) (WhatsApp has none): a
 * token without ids would drop every message, ids without a token configure nothing.
 */
function channelAllowFrom(channel: ChannelId, description: string) {
    const spec = CHANNEL_SPECS[channel];
    const tokenKeys = spec.tokens.map((t) => t.secret);
    return list({
        default: [],
        description,
        check: (ids, all) => {
            const bad = checkList(ids, spec.idRule.test, spec.idRule.expected);
            if (bad) return bad;
            const missing = tokenKeys.filter((k) => !all[k]);
            if (ids.length && missing.length)
                return `empty, or ${missing.join(" and ")} set too (the channel needs ${missing.length > 1 ? "them" : "it"})`;
            if (!ids.length && tokenKeys.some((k) => all[k]))
                return `at least one id with ${tokenKeys.filter((k) => all[k]).join(" and ")} set: ${spec.idRule.expected} (the bot answers only these)`;
            return undefined;
        },
    });
}

/** Is at least one complete alert destination configured (Telegram bot + chat, ntfy, or a webhook)? */
function hasAlertDestination(values: RawValues): boolean {
    return Boolean((values.alertTelegramBotToken && values.alertTelegramChatId) || values.alertNtfyUrl || values.alertWebhookUrl);
}
const NEEDS_ALERT_DESTINATION = "an alert destination first: alertTelegramBotToken + alertTelegramChatId, alertNtfyUrl or alertWebhookUrl";

/** Does some release of Node `major` satisfy the engines range? */
export function nodeMajorSatisfies(major: number, engines: string): boolean {
    return semver.intersects(engines, `${major}.x`);
}

function providerOf(values: RawValues): ProviderSpec | undefined {
    return findProvider(String(values.provider ?? DEFAULT_PROVIDER));
}

/** Types of `provider` that are sold and big enough, nearest to `given` first. */
function nearestServerTypes(provider: ProviderSpec, given: string): string[] {
    const good = Object.entries(provider.serverTypes)
        .filter(([, size]) => !size.retired && isLargeEnough(size))
        .map(([name]) => name);
    const near = suggest(given, good);
    return [...new Set([...(near ? [near] : []), provider.defaultServerType, ...good])].slice(0, 4);
}

function checkServerType(type: string, values: RawValues): string | undefined {
    const provider = providerOf(values);
    if (!provider) return undefined; // the provider key itself is reported
    const size = provider.serverTypes[type];
    if (!size) {
        const owners = otherProvidersWith(provider.id, "serverType", type);
        if (owners.length)
            return `a ${provider.id} server type (${type} is ${owners.map((o) => o.id).join("/")}'s), e.g. ${nearestServerTypes(provider, type).join(", ")}`;
        return undefined; // a type we do not know: used with a warning
    }
    if (size.retired)
        return `a type ${provider.id} still sells (${type} was retired), e.g. ${nearestServerTypes(provider, type).join(", ")}`;
    if (!isLargeEnough(size)) {
        return `at least ${MINIMUM_SIZE.vcpus} vCPU / ${MINIMUM_SIZE.memoryMb / 1024} GB (${type} has ${size.vcpus} vCPU / ${size.memoryMb / 1024} GB), e.g. ${nearestServerTypes(provider, type).join(", ")}`;
    }
    return undefined;
}

function checkRegion(region: string, values: RawValues): string | undefined {
    if (!/^[a-z0-9-]{2,20}$/.test(region)) return "a provider location slug such as fsn1 or fra1";
    const provider = providerOf(values);
    if (!provider || provider.regions.includes(region)) return undefined;
    const owners = otherProvidersWith(provider.id, "region", region);
    if (!owners.length) return undefined; // a location we do not know: used with a warning
    const near = suggest(region, [...provider.regions]);
    return `a ${provider.id} location (${region} is ${owners.map((o) => o.id).join("/")}'s), e.g. ${[...new Set([near, provider.defaultRegion].filter(Boolean))].join(", ")} (all: ${provider.regions.join(", ")})`;
}

function providerDefaults(what: (p: ProviderSpec) => string): string {
    return providerIds()
        .map((id) => `${what(findProvider(id)!)} on ${id}`)
        .join(", ");
}

/**
 * The schema. Order = the order of Pulumi.yaml and of the guided setup. `pin` is read once, from the installed
 * `openclaw` package, so the Node range and the default version are never hard-coded.
 */
export function settingsSchema(pin: OpenclawPin = readOpenclawPin()) {
    return {
        agentName: text({
            default: "openclaw",
            description: "Name of this agent: prefixes every resource (server, tunnel, bucket) so several agents fit in one account.",
            check: (v) =>
                /^[a-z][a-z0-9-]{0,29}$/.test(v) && !v.endsWith("-")
                    ? undefined
                    : "a lowercase DNS label of at most 30 characters, e.g. openclaw",
        }),
        provider: oneOf(providerIds(), {
            default: DEFAULT_PROVIDER,
            description: `Where the VPS runs: ${providerIds().join(" or ")} (components/providers/).`,
        }),
        region: text({
            optional: true,
            derivedDefault: (s) => providerOf(s)?.defaultRegion ?? "",
            description: `Provider location. Default: ${providerDefaults((p) => p.defaultRegion)}. Another provider's location is refused.`,
            check: checkRegion,
        }),
        serverType: text({
            optional: true,
            derivedDefault: (s) => providerOf(s)?.defaultServerType ?? "",
            description: `Server size. Default: ${providerDefaults((p) => {
                const size = p.serverTypes[p.defaultServerType];
                return `${p.defaultServerType} (${size.vcpus} vCPU / ${size.memoryMb / 1024} GB)`;
            })}. At least ${MINIMUM_SIZE.vcpus} vCPU / ${MINIMUM_SIZE.memoryMb / 1024} GB; another provider's type is refused.`,
            check: checkServerType,
        }),
        hostname: text({
            description: "Public hostname of the agent, e.g. agent.example.com (a name in the Cloudflare zone `zoneId`).",
            check: (v) => (isFqdn(v) ? undefined : "a fully qualified domain name such as agent.example.com"),
            normalize: (v) => v.toLowerCase(),
        }),
        zoneId: text({
            description: "Cloudflare zone id of the hostname's domain (32 hex characters, dashboard > domain > Overview).",
            check: (v) => (HEX32.test(v) ? undefined : "a Cloudflare zone id: 32 lowercase hex characters"),
        }),
        accountId: text({
            description: "Cloudflare account id (32 hex characters): owns the tunnel, Access and the R2 bucket.",
            check: (v) => (HEX32.test(v) ? undefined : "a Cloudflare account id: 32 lowercase hex characters"),
        }),
        accessTeamName: text({
            description: "Zero Trust team name: the <team> of <team>.cloudflareaccess.com (Zero Trust > Settings > Custom Pages).",
            check: (v) =>
                /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v)
                    ? undefined
                    : "the team name only (e.g. example for example.cloudflareaccess.com)",
        }),
        accessEmails: list({
            description: "E-mail addresses allowed through Cloudflare Access (one-time PIN or your IdP). At least one.",
            check: (v) =>
                v.length === 0
                    ? "at least one e-mail address"
                    : checkList(v, (e) => EMAIL.test(e), "e-mail addresses such as you@example.com"),
            normalize: (v) => v.map((e) => e.toLowerCase()),
        }),
        accessEmailDomains: list({
            default: [],
            description: "Whole e-mail domains allowed through Access (e.g. your company's). Empty by default.",
            check: (v) => checkList(v, isFqdn, "domains such as example.com"),
            normalize: (v) => v.map((e) => e.toLowerCase()),
        }),
        accessIdentityProviderIds: list({
            default: [],
            description: "Access identity provider ids the login page offers (empty: all of the account's, incl. one-time PIN).",
            check: (v) => checkList(v, (s) => /^[0-9a-f-]{36}$/.test(s), "identity provider UUIDs"),
        }),
        accessSessionDuration: text({
            default: "24h",
            description: "How long an Access login lasts before Cloudflare asks again (e.g. 30m, 24h, 168h).",
            check: (v) => (DURATION_RULE.test(v) ? undefined : DURATION_RULE.expected),
        }),
        accessServiceToken: flag({
            default: false,
            description: "Create an Access service token (and a Service Auth policy) for machine clients such as the OpenClaw CLI.",
        }),
        sshPublicKey: text({
            description: "Your SSH public key (one line, e.g. the content of ~/.ssh/id_ed25519.pub): the only way into the server.",
            check: (v) =>
                SSH_PUBLIC_KEY.test(v.trim()) ? undefined : "one OpenSSH public key line such as `ssh-ed25519 AAAA... you@laptop`",
            normalize: (v) => v.trim(),
        }),
        providerSshKey: text({
            default: "",
            description: `An SSH key already in the provider account to use instead of creating one (${providerIds()
                .map((id) => `${id}: ${findProvider(id)!.existingSshKeyIs}`)
                .join("; ")}). Providers refuse the same public key twice.`,
            check: (v) =>
                v === "" || /^[\x21-\x7e][\x20-\x7e]{0,127}$/.test(v)
                    ? undefined
                    : "the key's name or fingerprint at the provider, or empty",
        }),
        adminCidrs: list({
            description:
                "Networks allowed to reach SSH (port 22), IPv4 and/or IPv6 CIDRs such as 203.0.113.7/32. Nothing else is ever open.",
            check: (v) =>
                v.length === 0
                    ? "at least one CIDR (your IP address with /32)"
                    : checkList(v, isCidr, "CIDRs such as 203.0.113.7/32 or 2001:db8::/64"),
        }),
        adminUser: text({
            default: "ops",
            description: "Login of the admin account that SSH and the deploy use (root login is disabled).",
            check: (v) =>
                USER_NAME_PATTERN.test(v) && !RESERVED_USER_NAMES.includes(v)
                    ? undefined
                    : `a Linux user name other than ${RESERVED_USER_NAMES.join(" and ")}`,
        }),
        openclawVersion: text({
            default: pin.version,
            description: `OpenClaw release the host runs: the version pinned in package.json (${pin.version}, the one the tests validate) or one the project keeps in releases/ (\`npm run upgrade\` keeps the previous pin there). The host installs that release's locked tree side by side and switches to it in place: a push, never a new server.`,
            check: (v) => {
                if (!semver.valid(v)) return `a release version such as ${pin.version}`;
                if (semver.lt(v, MINIMUM_SAFE_OPENCLAW))
                    return `${MINIMUM_SAFE_OPENCLAW} or newer (older releases leak the gateway token: CVE-2026-25253)`;
                if (semver.lt(v, CONFIG_SCHEMA_SINCE))
                    return `${CONFIG_SCHEMA_SINCE} or newer (the config schema we render was introduced then); better: the pinned ${pin.version}`;
                const releases = availableReleases();
                if (!releases.has(v))
                    return `a version the project has a lockfile for (${[...releases.keys()].join(", ")}); \`npm run upgrade -- --to ${v}\` pins another`;
                return undefined;
            },
        }),
        nodeMajor: integer({
            default: semver.minVersion(pin.nodeEngines)?.major ?? 24,
            description: `Major version of Node.js on the host (the newest release of that major, installed side by side with the one before); must satisfy the engines of the OpenClaw it runs (${pin.version}: ${pin.nodeEngines}).`,
            check: (v, all) => {
                const version = typeof all.openclawVersion === "string" ? all.openclawVersion : pin.version;
                const engines =
                    version === pin.version ? pin.nodeEngines : (availableReleases().get(version)?.nodeEngines ?? pin.nodeEngines);
                return nodeMajorSatisfies(v, engines)
                    ? undefined
                    : `a Node major that satisfies openclaw ${version}'s engines "${engines}"`;
            },
        }),
        rebootWindow: text({
            default: "04:00-05:00",
            description: `When the host may reboot after unattended security upgrades need it: ${REBOOT_WINDOW_RULE.expected}. Never while a backup or an upgrade runs.`,
            check: (v) => (REBOOT_WINDOW_RULE.test(v) ? undefined : REBOOT_WINDOW_RULE.expected),
        }),
        timezone: text({
            default: "UTC",
            description:
                "The operator's IANA time zone (e.g. America/New_York): host clock, agent and heartbeat active hours. A legacy name (US/Eastern, GB, Asia/Calcutta) becomes the zone it links to: Ubuntu 24.04 ships legacy names only in tzdata-legacy.",
            check: (v) => (isIanaTimezone(v) ? undefined : "an IANA time zone such as America/New_York or Europe/Berlin"),
            normalize: canonicalTimezone,
        }),
        gatewayPort: integer({
            default: DEFAULT_GATEWAY_PORT,
            description: "Loopback port of the OpenClaw gateway (never opened to the network; the tunnel reaches it locally).",
            check: (v) => (v >= 1024 && v <= 65535 && v !== 22 ? undefined : "a port between 1024 and 65535"),
        }),
        gatewayAuth: oneOf(GATEWAY_AUTH_MODES, {
            default: "token",
            description:
                "Gateway authentication behind Access: token (a random gateway token; default) or access (trusted Cloudflare Access identity headers).",
        }),
        tunnelProtocol: oneOf(TUNNEL_PROTOCOLS, {
            default: "auto",
            description: "Transport cloudflared uses to reach Cloudflare: auto, http2 (TCP 443 only) or quic (UDP 7844).",
        }),
        llmProvider: oneOf(LLM_PROVIDERS, {
            default: "anthropic",
            description: "The LLM provider the agent calls; its API key is `llmApiKey`.",
        }),
        model: text({
            optional: true,
            derivedDefault: (s) => DEFAULT_MODEL[(s.llmProvider as LlmProvider) ?? "anthropic"] ?? DEFAULT_MODEL.anthropic,
            description: `Model in OpenClaw's provider/model form. Default: the provider's default in the pinned OpenClaw (anthropic: ${DEFAULT_MODEL.anthropic}).`,
            check: (v, all) =>
                /^[a-z0-9-]+\/\S+$/.test(v) && (!all.llmProvider || v.startsWith(`${all.llmProvider}/`))
                    ? undefined
                    : `a model of llmProvider ${JSON.stringify(all.llmProvider)} in provider/model form, e.g. ${DEFAULT_MODEL[(all.llmProvider as LlmProvider) ?? "anthropic"] ?? DEFAULT_MODEL.anthropic}`,
        }),
        llmApiKey: secret({
            description: "API key of llmProvider. Secret: set it with `pulumi config set --secret llmApiKey`.",
            check: (v) => (API_KEY_RULE.test(v) ? undefined : API_KEY_RULE.expected),
            normalize: (v) => v.trim(),
        }),
        memorySearchProvider: oneOf(MEMORY_SEARCH_PROVIDERS, {
            default: DEFAULT_MEMORY_SEARCH_PROVIDER,
            description:
                "Embedding provider of hybrid memory search (vectors + BM25); none = keyword search only. Default openai: it ships inside the pinned OpenClaw, so nothing is installed for it; voyage and mistral are plugins installed at deploy time (npm, else ClawHub).",
        }),
        embeddingApiKey: optionalSecret({
            description: "API key of memorySearchProvider (secret). Without it memory search falls back to keyword-only, with a warning.",
            check: (v) => (API_KEY_RULE.test(v) ? undefined : API_KEY_RULE.expected),
            normalize: (v) => v.trim(),
        }),
        telegramBotToken: channelToken(
            CHANNEL_SPECS.telegram.tokens[0]!.rule,
            "Telegram bot token from @BotFather (secret). With telegramAllowFrom, the agent answers you on Telegram.",
        ),
        telegramAllowFrom: channelAllowFrom(
            "telegram",
            "Your numeric Telegram user id(s): the only people the bot answers (DM allowlist; groups are off). Needs telegramBotToken.",
        ),
        discordBotToken: channelToken(
            CHANNEL_SPECS.discord.tokens[0]!.rule,
            "Discord bot token from the Developer Portal (secret). With discordAllowFrom, the agent answers your DMs on Discord.",
        ),
        discordAllowFrom: channelAllowFrom(
            "discord",
            "Your Discord user id(s) (snowflakes): the only people the bot answers (DM allowlist; servers are off). Needs discordBotToken.",
        ),
        slackBotToken: channelToken(
            CHANNEL_SPECS.slack.tokens[0]!.rule,
            "Slack bot token xoxb-... of the app made from slack-app-manifest.json (secret). Socket mode: no inbound port.",
        ),
        slackAppToken: channelToken(
            CHANNEL_SPECS.slack.tokens[1]!.rule,
            "Slack app-level token xapp-... with connections:write (secret), for socket mode.",
        ),
        slackAllowFrom: channelAllowFrom(
            "slack",
            "Your Slack member id(s) U...: the only people the app answers (DM allowlist; channels are off). Needs slackBotToken and slackAppToken.",
        ),
        whatsappAllowFrom: channelAllowFrom(
            "whatsapp",
            "Your phone number(s) in E.164 form (+4915...): the only people the agent answers on WhatsApp. Link it once with `npm run channels -- login whatsapp`.",
        ),
        heartbeatEvery: text({
            default: "30m",
            description: "How often the heartbeat turn runs (its checklist is workspace/HEARTBEAT.md; empty file = no heartbeat).",
            check: (v) => (DURATION_RULE.test(v) ? undefined : DURATION_RULE.expected),
        }),
        activeHoursStart: text({
            default: "08:00",
            description: "Start of the heartbeat's active hours (HH:MM, in `timezone`).",
            check: (v) => (HHMM.test(v) ? undefined : "a time HH:MM such as 08:00"),
        }),
        activeHoursEnd: text({
            default: "22:00",
            description: "End of the heartbeat's active hours (HH:MM, in `timezone`).",
            check: (v, all) =>
                !HHMM.test(v)
                    ? "a time HH:MM such as 22:00"
                    : typeof all.activeHoursStart === "string" && v === all.activeHoursStart
                      ? "a time different from activeHoursStart"
                      : undefined,
        }),
        toolPolicy: oneOf(TOOL_POLICIES, {
            default: "ask",
            description:
                "What the agent may run without asking: ask (allowlisted commands run, others wait for your approval in the Control UI or your channel DM; default), allowlist (others are denied) or full (everything runs; audit warns). Elevated tools are always off.",
        }),
        browser: flag({
            default: true,
            description:
                "Install a headless Chromium (Debian's, signature-checked) for the agent's browser tool. Costs memory: see README \"Tools\".",
        }),
        skills: list({
            default: [],
            description: `ClawHub skills installed at push time with the pinned clawhub CLI (see README "Tools"), each ${SKILL_SPEC_RULE.expected}.`,
            check: (v) => {
                const bad = checkList(v, SKILL_SPEC_RULE.test, SKILL_SPEC_RULE.expected);
                if (bad) return bad;
                const names = v.map((spec) => spec.slice(0, spec.lastIndexOf("@")).replace(/^@[^/]+\//, ""));
                const dup = names.find((n, i) => names.indexOf(n) !== i);
                return dup ? `each skill once (${dup} is listed twice)` : undefined;
            },
        }),
        provisionTimeoutMinutes: integer({
            default: 30,
            description:
                "How long the deploy waits for a new server's first-boot provisioning (upgrading a weeks-old image, Node, OpenClaw's ~700 npm packages on 2 shared vCPUs, apt's daily jobs at boot) before it fails with the provisioning log's last lines.",
            check: (v) => (v >= 5 && v <= 240 ? undefined : "between 5 and 240 minutes"),
        }),
        swapMb: integer({
            default: 2048,
            description: "Swap file size in MB (0 = none). The gateway alone uses about 1 GB, so a 2 GB host needs swap.",
            check: (v) => (v >= 0 && v <= 65536 ? undefined : "a size in MB between 0 and 65536"),
        }),
        backupBucketName: text({
            optional: true,
            derivedDefault: (s) => `${s.agentName ?? "openclaw"}-memory`,
            description: "R2 bucket for memory snapshots. Default: <agentName>-memory. Kept when the stack is destroyed.",
            check: (v) =>
                /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(v) ? undefined : "an R2 bucket name: 3-63 lowercase letters, digits and hyphens",
        }),
        backupBucketAdopt: flag({
            default: false,
            description:
                "Adopt an existing bucket named backupBucketName (kept by an earlier `pulumi destroy`) instead of creating it. `npm run deploy` sets it when it finds one.",
        }),
        backupLocation: oneOf(R2_LOCATIONS, {
            default: "auto",
            description: "R2 location hint: auto (Cloudflare picks), apac, eeur, enam, weur, wnam or oc.",
        }),
        backupSchedule: text({
            default: "hourly",
            description: `When the host takes a snapshot (default hourly; the guide used every 6 h): ${BACKUP_SCHEDULE_RULE.expected}.`,
            check: (v) => (BACKUP_SCHEDULE_RULE.test(v) ? undefined : BACKUP_SCHEDULE_RULE.expected),
        }),
        backupRecipient: text({
            description:
                "The age recipient (age1..., a public key) every backup is encrypted to; the host holds only this. `npm run deploy` generates it with backupIdentity.",
            check: (v) => (AGE_RECIPIENT.test(v) ? undefined : "an age X25519 recipient: age1 followed by 58 characters"),
        }),
        backupIdentity: secret({
            description:
                "The age identity (AGE-SECRET-KEY-1..., secret) that reads the backups: it never reaches a server. `npm run deploy` generates it; keep a copy offline (`pulumi config get backupIdentity`).",
            check: (v, all) => {
                if (isPlanPlaceholder(v)) return undefined;
                let recipient: string;
                try {
                    recipient = recipientOf(v);
                } catch {
                    return "an age X25519 identity: AGE-SECRET-KEY-1 followed by 58 characters";
                }
                return typeof all.backupRecipient === "string" && all.backupRecipient !== recipient
                    ? "the identity of backupRecipient (they are a pair: generate both with `npm run deploy`, or age-keygen)"
                    : undefined;
            },
            normalize: (v) => v.trim(),
        }),
        backupLockDays: integer({
            default: 7,
            description:
                "Days a diff is locked in R2 (cannot be deleted or overwritten, even with the host's credentials); fulls one day more.",
            check: (v, all) =>
                v < 1
                    ? "at least 1 day"
                    : typeof all.backupRetentionDays === "number" && v >= all.backupRetentionDays
                      ? `fewer days than backupRetentionDays (${all.backupRetentionDays})`
                      : undefined,
        }),
        backupRetentionDays: integer({
            default: 30,
            description: "Days after which R2 deletes a diff (lifecycle rule); fulls one day later. Must exceed backupLockDays.",
            check: (v) => (v >= 2 && v <= 3650 ? undefined : "between 2 and 3650 days"),
        }),
        restoreFrom: text({
            default: "latest",
            description:
                "What a new server restores before the agent starts (chosen on your machine by R2's LastModified): latest, before:<time>, a snapshot from `npm run snapshots`, or none.",
            check: (v) => (parseRestoreFrom(v) ? undefined : RESTORE_FROM_EXPECTED),
        }),
        watchdogInterval: text({
            default: "2min",
            description: `How often the host watchdog checks the agent (gateway, channels, backups, disk, memory, units): ${WATCHDOG_INTERVAL_RULE.expected}.`,
            check: (v) => (WATCHDOG_INTERVAL_RULE.test(v) ? undefined : WATCHDOG_INTERVAL_RULE.expected),
        }),
        alertTelegramBotToken: optionalSecret({
            description:
                "Telegram bot token the watchdog sends alerts with, straight to the Bot API (not through the gateway). Needs alertTelegramChatId.",
            check: (v, all) =>
                !TELEGRAM_BOT_TOKEN_RULE.test(v)
                    ? TELEGRAM_BOT_TOKEN_RULE.expected
                    : all.alertTelegramChatId
                      ? undefined
                      : "a bot token together with alertTelegramChatId (the chat the alerts go to)",
        }),
        alertTelegramChatId: text({
            optional: true,
            description: "Chat the Telegram alerts go to (your numeric user id for a DM). Needs alertTelegramBotToken.",
            check: (v, all) =>
                !TELEGRAM_CHAT_ID_RULE.test(v)
                    ? TELEGRAM_CHAT_ID_RULE.expected
                    : all.alertTelegramBotToken
                      ? undefined
                      : "a chat id together with alertTelegramBotToken (the bot that sends to it)",
        }),
        alertNtfyUrl: optionalSecret({
            description: "ntfy topic URL the watchdog posts alerts to (secret: whoever knows a public topic can read it).",
            check: (v) => (HTTPS_URL_RULE.test(v) && new URL(v).pathname.length > 1 ? undefined : HTTPS_URL_RULE.expected),
        }),
        alertWebhookUrl: optionalSecret({
            description: "Incoming-webhook URL for alerts (Slack or Discord payloads by its host; any other host gets a plain JSON body).",
            check: (v) => (HTTPS_URL_RULE.test(v) ? undefined : HTTPS_URL_RULE.expected),
        }),
        alertDailyDigest: flag({
            default: false,
            description: "Also send one daily summary of every check at activeHoursStart (needs an alert destination).",
            check: (v, all) => (v && !hasAlertDestination(all) ? NEEDS_ALERT_DESTINATION : undefined),
        }),
        alertDailyTokens: integer({
            default: 0,
            description: "Alert when the agent used more LLM tokens than this today (in `timezone`); 0 = no token alert.",
            check: (v, all) =>
                v < 0 ? "0 (off) or a number of tokens" : v > 0 && !hasAlertDestination(all) ? NEEDS_ALERT_DESTINATION : undefined,
        }),
    };
}

/** The schema as a plain map, for code that walks every key by name (setup, Pulumi.yaml, parsing). */
export function settingSpecs(pin?: OpenclawPin): Record<string, SettingSpec> {
    return settingsSchema(pin) as Record<string, SettingSpec>;
}

/** The schema's shape: key -> spec. */
export type SettingsSchema = ReturnType<typeof settingsSchema>;
export type SettingKey = keyof SettingsSchema;

type ValueOf<S> = S extends SettingSpec<infer T> ? T : never;
type SecretKeys = { [K in SettingKey]: SettingsSchema[K] extends { secret: true } ? K : never }[SettingKey];
type OptionalSecretKeys = { [K in SettingKey]: SettingsSchema[K] extends { secret: true; optional: true } ? K : never }[SettingKey];

/** Facts about the chosen server type that the program derives from the provider registry. */
export interface ServerFacts {
    /** Memory of the server type in MB, when known (sizes memory limits and swap). */
    serverMemoryMb: number | undefined;
    serverArch: "x64" | "arm64";
}

/** Everything the program needs, typed and validated: one field per non-secret key of the schema, plus ServerFacts. */
export type Settings = { [K in Exclude<SettingKey, SecretKeys>]: ValueOf<SettingsSchema[K]> } & ServerFacts;

/** The secret keys: required ones as strings, optional ones possibly absent. */
export type SettingsSecrets = { [K in Exclude<SecretKeys, OptionalSecretKeys>]: string } & { [K in OptionalSecretKeys]?: string };
