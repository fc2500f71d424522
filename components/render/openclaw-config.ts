// Owns the content of `~/.openclaw/openclaw.json` for the pinned OpenClaw (the 2026.8+ schema only), plus the rules
// around it: which LLM and memory-search providers we support, which env vars the config reads its secrets from,
// which plugin packages it needs installed beforehand, and how HEARTBEAT.md becomes the heartbeat job.
// A pure function of plain data: no Pulumi, no I/O. The real OpenClaw checks its output in test/tools/.
import { DEFAULT_GATEWAY_PORT, HOST_DIRS } from "../core/host-contract";
import { HHMM, isIanaTimezone } from "../core/validators";
import { ChannelsInput, renderChannels } from "./channels";

/** The gateway's default loopback port (the guide's 18789). */
export { DEFAULT_GATEWAY_PORT };

/** Where the service user's OpenClaw state lives on the host (see docs/host-contract.md). */
export const DEFAULT_STATE_DIR = HOST_DIRS.agentState;

/** `token`: a random shared gateway token (Access is the outer gate). `access`: OpenClaw trusts Cloudflare Access headers. */
export const GATEWAY_AUTH_MODES = ["token", "access"] as const;
export type GatewayAuthMode = (typeof GATEWAY_AUTH_MODES)[number];

/**
 * The env var holding the gateway's shared secret in each auth mode. In `access` mode it is the local-direct password
 * that same-host clients (the operator's CLI over SSH) use, because they do not come through Cloudflare.
 */
export const GATEWAY_SECRET_ENV: Record<GatewayAuthMode, string> = {
    token: "OPENCLAW_GATEWAY_TOKEN",
    access: "OPENCLAW_GATEWAY_PASSWORD",
};

/**
 * The gateway's failed-auth limiter (OpenClaw's defaults, stated so the audit and a reader see them): 10 failures a
 * minute per client, then 5 minutes locked out (429 + Retry-After). Behind cloudflared every request comes from
 * 127.0.0.1; with `trustedProxies` the gateway keys it on the X-Forwarded-For client Cloudflare appends instead, so
 * tunnel traffic is never loopback-exempt. Only local CLI connections (no proxy headers) stay exempt.
 */
export const GATEWAY_AUTH_RATE_LIMIT = { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: true } as const;

/** The identity headers Cloudflare Access adds to every request it lets through. */
export const CF_ACCESS_USER_HEADER = "cf-access-authenticated-user-email";
export const CF_ACCESS_JWT_HEADER = "cf-access-jwt-assertion";

export interface LlmProviderSpec {
    /** OpenClaw's provider id (the part before the slash of a model ref). */
    id: string;
    /** The env var OpenClaw reads the provider's API key from. */
    keyEnv: string;
    /** Model used when the operator names none, in OpenClaw's `provider/model` form (from 2026.9.6's catalog/docs). */
    defaultModel: string;
    /** The provider's plugin when it is not bundled in the `openclaw` package. */
    plugin?: ExternalPlugin;
}

/** An official OpenClaw plugin published as its own npm package (installed by cloud-init/install-plugins.sh). */
export interface ExternalPlugin {
    /** Plugin id, the key under `plugins.entries`. */
    id: string;
    /** npm package name; installed at the pinned OpenClaw version. */
    package: string;
}

export const VOYAGE_PLUGIN: ExternalPlugin = { id: "voyage", package: "@openclaw/voyage-provider" };
export const MISTRAL_PLUGIN: ExternalPlugin = { id: "mistral", package: "@openclaw/mistral-provider" };

/** LLM providers we know how to hand a key to (bundled in 2026.9.6 unless `plugin` says otherwise). */
export const LLM_PROVIDER_SPECS = {
    anthropic: { id: "anthropic", keyEnv: "ANTHROPIC_API_KEY", defaultModel: "anthropic/claude-sonnet-5" },
    openai: { id: "openai", keyEnv: "OPENAI_API_KEY", defaultModel: "openai/gpt-5.5" },
    openrouter: { id: "openrouter", keyEnv: "OPENROUTER_API_KEY", defaultModel: "openrouter/auto" },
    google: { id: "google", keyEnv: "GEMINI_API_KEY", defaultModel: "google/gemini-2.5-pro" },
    mistral: {
        id: "mistral",
        keyEnv: "MISTRAL_API_KEY",
        defaultModel: "mistral/mistral-large-latest",
        plugin: MISTRAL_PLUGIN,
    },
    minimax: { id: "minimax", keyEnv: "MINIMAX_API_KEY", defaultModel: "minimax/MiniMax-M3" },
} as const satisfies Record<string, LlmProviderSpec>;

export type LlmProvider = keyof typeof LLM_PROVIDER_SPECS;
export const LLM_PROVIDERS = Object.keys(LLM_PROVIDER_SPECS) as LlmProvider[];

export interface MemorySearchProviderSpec {
    /** Value of `memory.search.provider`. */
    id: string;
    /** The env var holding the embedding API key; absent for `none` (keyword-only, needs no key). */
    keyEnv?: string;
    /** The embedding provider's plugin when it is not bundled in `openclaw`. */
    plugin?: ExternalPlugin;
}

/**
 * Embedding providers for hybrid memory search (vectors + BM25 in SQLite). `none` is OpenClaw's deliberate
 * FTS-only mode: keyword (BM25) search, no embeddings, no key, no network.
 */
export const MEMORY_SEARCH_PROVIDER_SPECS = {
    voyage: { id: "voyage", keyEnv: "VOYAGE_API_KEY", plugin: VOYAGE_PLUGIN },
    openai: { id: "openai", keyEnv: "OPENAI_API_KEY" },
    gemini: { id: "gemini", keyEnv: "GEMINI_API_KEY" },
    mistral: { id: "mistral", keyEnv: "MISTRAL_API_KEY", plugin: MISTRAL_PLUGIN },
    none: { id: "none" },
} as const satisfies Record<string, MemorySearchProviderSpec>;

export type MemorySearchProvider = keyof typeof MEMORY_SEARCH_PROVIDER_SPECS;

/**
 * The default embedding provider: OpenAI's, which ships inside the pinned OpenClaw (its `openai` extension), so a default
 * deploy installs no plugin and cannot fail on one. Voyage (the guide's) needs `@openclaw/voyage-provider`, which the
 * npm registry may not have (install-plugins.sh then takes ClawHub); Mistral needs `@openclaw/mistral-provider`.
 */
export const DEFAULT_MEMORY_SEARCH_PROVIDER: MemorySearchProvider = "openai";
export const MEMORY_SEARCH_PROVIDERS = Object.keys(MEMORY_SEARCH_PROVIDER_SPECS) as MemorySearchProvider[];

/** The guide's memory-search numbers, carried to `memory.search.query`. */
export const MEMORY_SEARCH_MAX_RESULTS = 20;
export const MEMORY_SEARCH_MIN_SCORE = 0.3;

/**
 * What the agent may run without asking (`tools.exec.mode` of the pinned OpenClaw):
 * - `ask` (default): allowlisted and safe commands run; anything else waits for the owner's approval (Control UI, or the
 *   owner's DM on a channel with native approvals). With nobody to ask (cron, heartbeat) a miss is denied.
 * - `allowlist`: only allowlisted and safe commands run; nothing is asked, everything else is denied.
 * - `full`: every command runs without asking (OpenClaw's own default; its security audit warns about it).
 */
export const TOOL_POLICIES = ["ask", "allowlist", "full"] as const;
export type ToolPolicy = (typeof TOOL_POLICIES)[number];

/** Chromium-family browser the browser tool launches (headless, its profile under the state dir). */
export interface BrowserInput {
    /** The browser binary (the host installs it: cloud-init/install-browser.sh). */
    executablePath: string;
    /**
     * Hostnames the browser may open although they resolve to private/loopback addresses (OpenClaw blocks those by
     * default, against SSRF). Tests only: production renders none.
     */
    allowedPrivateHostnames?: readonly string[];
}

export interface HeartbeatInput {
    /** The content of `workspace/HEARTBEAT.md`: the checklist a heartbeat turn works through. Empty = no heartbeat. */
    checklist: string;
    /** Cadence, e.g. "30m" or "1h" (default "30m"). */
    every?: string;
    /** Local window (in the input's `timezone`) in which heartbeats may run, "HH:MM" each; omit for 24/7. */
    activeHours?: { start: string; end: string };
    /**
     * Where a heartbeat's alert goes: `owner` (the operator's DM on the first configured channel; the default when a
     * channel is configured), `last` (the most recent conversation, e.g. the Control UI chat; the default without
     * channels), or `none` (runs silently).
     */
    target?: "last" | "owner" | "none";
}

export interface OpenclawConfigInput {
    /** The pinned OpenClaw version (exact, e.g. "2026.9.6"): plugin packages are pinned to it. */
    openclawVersion: string;
    /** Public hostname behind Cloudflare Access, e.g. "agent.example.com": the gateway's public and allowed origin. */
    hostname: string;
    /** The operator's IANA time zone, e.g. "Europe/Berlin": the agent's clock and the heartbeat's active hours. */
    timezone: string;
    /** Loopback port of the gateway (default 18789). */
    port?: number;
    /** Gateway authentication (default `token`). */
    auth?: GatewayAuthMode;
    /** E-mail addresses Access lets in; in `access` mode also the only users the gateway accepts (required there). */
    accessEmails?: readonly string[];
    /** OpenClaw's state dir on the host (default /home/openclaw/.openclaw): logs go below it. */
    stateDir?: string;
    /** The agent's workspace (default `<stateDir>/workspace`). */
    workspaceDir?: string;
    /** LLM provider (default `anthropic`). Its key is read from the env var `LLM_PROVIDER_SPECS[p].keyEnv`. */
    llmProvider?: LlmProvider;
    /** Model in `provider/model` form (default: the provider's `defaultModel`). */
    model?: string;
    /** The heartbeat job; its prompt is HEARTBEAT.md. */
    heartbeat: HeartbeatInput;
    /** Memory search: the embedding provider (default `openai`, bundled) and whether its API key will be on the host. */
    memorySearch: { provider?: MemorySearchProvider; hasEmbeddingKey: boolean };
    /** Gateway log level (default `info`). */
    logLevel?: "error" | "warn" | "info" | "debug";
    /** What the agent may run without asking (default `ask`). Elevated tools are always off. */
    toolPolicy?: ToolPolicy;
    /** The headless browser; absent = the browser tool is off. */
    browser?: BrowserInput;
    /** Messaging channels and the owner's ids on each (render/channels.ts); none = the Control UI only. */
    channels?: ChannelsInput;
    /** Stand-in endpoints instead of the real APIs (the stand-in VPS's tests only; production renders none). */
    standIn?: StandInEndpoints;
}

/**
 * What the stand-in VPS serves in place of the internet: the Telegram Bot API root (`channels.telegram.apiRoot`) and an
 * OpenAI-compatible LLM (a custom provider `standin` whose key is still read from the llmProvider's env var, so the
 * .env is the production one). Never set by index.ts.
 */
export interface StandInEndpoints {
    telegramApiRoot?: string;
    llm?: { baseUrl: string; model: string };
}

/** The custom provider id the stand-in LLM is configured under. */
export const STANDIN_LLM_PROVIDER = "standin";

export interface RenderedOpenclawConfig {
    /** openclaw.json, pretty-printed, newline-terminated. Holds no secret: only SecretRefs naming env vars. */
    json: string;
    /** Things the operator must hear about (e.g. keyword-only memory search because no embedding key is set). */
    warnings: string[];
    /** npm specs of plugin packages the config needs, pinned to the OpenClaw version, e.g. "@openclaw/voyage-provider@2026.9.6". */
    plugins: string[];
    /** Names of the env vars the config references (the .env must define every one of them). */
    env: string[];
}

/** The `SecretRef` shape 2026.9.6 accepts for secrets read from the gateway's environment (and `~/.openclaw/.env`). */
export interface EnvSecretRef {
    source: "env";
    provider: "default";
    id: string;
}

export function envSecretRef(id: string): EnvSecretRef {
    return { source: "env", provider: "default", id };
}

const DURATION = /^(\d+(ms|s|m|h|d))+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const VERSION = /^\d+\.\d+\.\d+$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Appended when the operator's checklist does not say how to stay quiet, so idle heartbeats stay silent. */
export const HEARTBEAT_QUIET_RULE = "If nothing needs attention, reply NO_REPLY.";

/**
 * The heartbeat prompt a HEARTBEAT.md yields, or undefined when the file has nothing to do: only blank lines,
 * Markdown headings, HTML comments or empty list items (the guide's "empty HEARTBEAT.md skips the run").
 * HTML comments are operator notes and never reach the model.
 */
export function heartbeatPromptFrom(markdown: string): string | undefined {
    const withoutComments = markdown.replace(/<!--[\s\S]*?(-->|$)/g, "");
    const lines = withoutComments.split(/\r?\n/).map((line) => line.trimEnd());
    const isFiller = (line: string) => {
        const text = line.trim();
        return text === "" || /^#{1,6}(\s|$)/.test(text) || /^([-*+]|\d+[.)])(\s+\[[ xX]?\])?\s*$/.test(text);
    };
    if (lines.every(isFiller)) return undefined;
    const prompt = lines
        .join("\n")
        .replace(/\n{3,}/g, "\n\n")
        .trim();
    return /\bNO_REPLY\b|\bHEARTBEAT_OK\b/.test(prompt) ? prompt : `${prompt}\n\n${HEARTBEAT_QUIET_RULE}`;
}

function fail(field: string, value: unknown, expected: string): never {
    throw new Error(`openclaw config: ${field} is ${JSON.stringify(value)}; expected ${expected}`);
}

/** Renders openclaw.json for the pinned OpenClaw. Throws (naming the field) on input it cannot render safely. */
export function renderOpenclawConfig(input: OpenclawConfigInput): RenderedOpenclawConfig {
    const warnings: string[] = [];
    const env: string[] = [];
    const plugins: string[] = [];
    const needEnv = (name: string) => {
        if (!env.includes(name)) env.push(name);
    };
    const pluginEntries: Record<string, { enabled: true }> = {};
    const needPlugin = (plugin: ExternalPlugin | undefined) => {
        if (!plugin) return;
        const spec = `${plugin.package}@${input.openclawVersion}`;
        if (!plugins.includes(spec)) plugins.push(spec);
        pluginEntries[plugin.id] = { enabled: true };
    };

    if (!VERSION.test(input.openclawVersion)) fail("openclawVersion", input.openclawVersion, "an exact version such as 2026.9.6");
    const hostname = input.hostname.trim().toLowerCase();
    if (!HOSTNAME.test(hostname)) fail("hostname", input.hostname, "a DNS hostname such as agent.example.com");
    const port = input.port ?? DEFAULT_GATEWAY_PORT;
    if (!Number.isInteger(port) || port < 1024 || port > 65535) fail("port", port, "an integer between 1024 and 65535");
    const auth = input.auth ?? "token";
    if (!GATEWAY_AUTH_MODES.includes(auth)) fail("auth", auth, GATEWAY_AUTH_MODES.join(" | "));
    if (!isIanaTimezone(input.timezone)) fail("timezone", input.timezone, "an IANA time zone such as America/New_York");
    const stateDir = input.stateDir ?? DEFAULT_STATE_DIR;
    const workspaceDir = input.workspaceDir ?? `${stateDir}/workspace`;
    for (const [field, dir] of [
        ["stateDir", stateDir],
        ["workspaceDir", workspaceDir],
    ] as const) {
        if (!dir.startsWith("/") || /[\s"'\\]/.test(dir)) fail(field, dir, "an absolute path without spaces or quotes");
    }
    const origin = `https://${hostname}`;

    // --- gateway: loopback only, reached through cloudflared on the same host -------------------------------------
    const secretEnv = GATEWAY_SECRET_ENV[auth];
    needEnv(secretEnv);
    let gatewayAuth: Record<string, unknown>;
    if (auth === "token") {
        gatewayAuth = { mode: "token", token: envSecretRef(secretEnv), allowTailscale: false, rateLimit: { ...GATEWAY_AUTH_RATE_LIMIT } };
    } else {
        const emails = (input.accessEmails ?? []).map((e) => e.trim().toLowerCase());
        if (emails.length === 0) fail("accessEmails", input.accessEmails, "at least one e-mail address in access mode");
        for (const email of emails) if (!EMAIL.test(email)) fail("accessEmails", email, "an e-mail address");
        gatewayAuth = {
            mode: "trusted-proxy",
            // Same-host clients that bypass cloudflared (the operator's CLI over SSH) authenticate with this.
            password: envSecretRef(secretEnv),
            allowTailscale: false,
            trustedProxy: {
                userHeader: CF_ACCESS_USER_HEADER,
                requiredHeaders: [CF_ACCESS_JWT_HEADER],
                allowUsers: [...new Set(emails)],
                // cloudflared connects from 127.0.0.1; OpenClaw ignores loopback proxies without this opt-in.
                allowLoopback: true,
            },
            rateLimit: { ...GATEWAY_AUTH_RATE_LIMIT },
        };
    }
    const gateway = {
        mode: "local",
        // Never a wider bind: anything but loopback would expose the gateway beside the tunnel.
        bind: "loopback",
        port,
        publicOrigin: origin,
        // cloudflared is the only proxy; trusting its X-Forwarded-For keeps tunnel traffic from counting as local and
        // keys the auth limiter on the real client (read right to left, so a client cannot forge its way around it).
        trustedProxies: ["127.0.0.1", "::1"],
        allowRealIpFallback: false,
        auth: gatewayAuth,
        controlUi: { enabled: true, allowedOrigins: [origin] },
        tailscale: { mode: "off" },
        // A browser shell on the host is one stolen session away from root-equivalent access: off.
        terminal: { enabled: false },
        // The config is read-only and pushed; the push restarts the gateway when it changes.
        reload: { mode: "off" },
    };

    // --- LLM ---------------------------------------------------------------------------------------------------------
    const llmProvider = input.llmProvider ?? "anthropic";
    const llm: LlmProviderSpec | undefined = LLM_PROVIDER_SPECS[llmProvider];
    if (!llm) fail("llmProvider", llmProvider, LLM_PROVIDERS.join(" | "));
    const model = input.model ?? llm.defaultModel;
    if (!model.startsWith(`${llm.id}/`) || /\s/.test(model) || model.length <= llm.id.length + 1) {
        fail("model", model, `a model of ${llm.id} in provider/model form, e.g. ${llm.defaultModel}`);
    }
    needEnv(llm.keyEnv);
    needPlugin(llm.plugin);

    // --- memory search -----------------------------------------------------------------------------------------------
    const requested = input.memorySearch.provider ?? DEFAULT_MEMORY_SEARCH_PROVIDER;
    const requestedSpec: MemorySearchProviderSpec | undefined = MEMORY_SEARCH_PROVIDER_SPECS[requested];
    if (!requestedSpec) fail("memorySearch.provider", requested, MEMORY_SEARCH_PROVIDERS.join(" | "));
    let searchSpec: MemorySearchProviderSpec = requestedSpec;
    if (requestedSpec.keyEnv && !input.memorySearch.hasEmbeddingKey) {
        // An explicit remote provider without a key fails closed in 2026.9.6 (memory_search reports "unavailable");
        // provider "none" is its deliberate keyword-only mode, so the agent keeps BM25 recall.
        warnings.push(
            `NO EMBEDDING KEY for memory search provider "${requested}" (${requestedSpec.keyEnv}): memory search runs ` +
                `KEYWORD-ONLY (BM25, memory.search.provider "none"), without semantic recall. Set the key and redeploy to get hybrid search.`,
        );
        searchSpec = MEMORY_SEARCH_PROVIDER_SPECS.none;
    }
    const search: Record<string, unknown> = {
        enabled: true,
        provider: searchSpec.id,
        sources: ["memory", "sessions"],
        query: { maxResults: MEMORY_SEARCH_MAX_RESULTS, minScore: MEMORY_SEARCH_MIN_SCORE },
        cache: { enabled: true },
    };
    if (searchSpec.keyEnv) {
        search.remote = { apiKey: envSecretRef(searchSpec.keyEnv) };
        needEnv(searchSpec.keyEnv);
        needPlugin(searchSpec.plugin);
    }

    // --- channels: owner-only DMs; the first one gets the heartbeat's reports and approval prompts -------------------
    const channels = renderChannels(input.channels ?? {}, stateDir, { telegramApiRoot: input.standIn?.telegramApiRoot });
    for (const name of channels.env) needEnv(name);
    for (const plugin of channels.plugins) needPlugin(plugin);

    // --- heartbeat ---------------------------------------------------------------------------------------------------
    const prompt = heartbeatPromptFrom(input.heartbeat.checklist);
    const every = input.heartbeat.every ?? "30m";
    if (!DURATION.test(every)) fail("heartbeat.every", every, "a duration such as 30m or 1h");
    let heartbeat: Record<string, unknown>;
    if (prompt === undefined) {
        // "0m" is how 2026.9.6 turns the recurring heartbeat off (HEARTBEAT.md itself is no longer read).
        heartbeat = { every: "0m" };
        warnings.push("HEARTBEAT.md has no checklist (empty, headings or comments only): the heartbeat is disabled.");
    } else {
        const target = input.heartbeat.target ?? (channels.owner ? "owner" : "last");
        if (target === "owner" && !channels.owner)
            fail("heartbeat.target", target, "last or none when no channel is configured (owner is a channel DM)");
        // The cost guard: each heartbeat turn starts a fresh session (a few thousand tokens instead of the whole
        // conversation) without the workspace's bootstrap files, and runs only inside the active hours below.
        heartbeat = { every, target, prompt, isolatedSession: true, lightContext: true };
        // A report to the owner is a direct message: allowed explicitly (doctor flags an unset policy).
        if (target === "owner") heartbeat.directPolicy = "allow";
        const hours = input.heartbeat.activeHours;
        if (hours) {
            if (!HHMM.test(hours.start)) fail("heartbeat.activeHours.start", hours.start, "HH:MM");
            if (!HHMM.test(hours.end)) fail("heartbeat.activeHours.end", hours.end, "HH:MM");
            if (hours.start === hours.end)
                fail("heartbeat.activeHours.end", hours.end, "a time different from start (an empty window never runs)");
            heartbeat.activeHours = { start: hours.start, end: hours.end, timezone: input.timezone };
        }
    }

    // --- tools: exec approvals and the browser ------------------------------------------------------------------------
    const toolPolicy = input.toolPolicy ?? "ask";
    if (!TOOL_POLICIES.includes(toolPolicy)) fail("toolPolicy", toolPolicy, TOOL_POLICIES.join(" | "));
    const tools = {
        // `mode` is 2026.9.6's canonical key (it cannot be combined with the legacy security/ask pair). strictInlineEval:
        // `python -c …`/`node -e …` always need an explicit approval, even when the interpreter is allowlisted.
        exec: toolPolicy === "full" ? { mode: "full" } : { mode: toolPolicy, strictInlineEval: true },
        // Elevated mode (the sandbox escape hatch and the `!`/`/bash` chat shell) is on by default in OpenClaw: off.
        elevated: { enabled: false },
    };
    if (toolPolicy === "full") {
        warnings.push("toolPolicy full: the agent runs every shell command without asking (OpenClaw's security audit warns about it).");
    }
    let browser: Record<string, unknown>;
    if (input.browser) {
        const exe = input.browser.executablePath;
        if (!/^\/[A-Za-z0-9._/+-]+$/.test(exe)) fail("browser.executablePath", exe, "an absolute path without spaces");
        const allowed = [...(input.browser.allowedPrivateHostnames ?? [])];
        for (const host of allowed) if (!/^[A-Za-z0-9.-]+$/.test(host)) fail("browser.allowedPrivateHostnames", host, "a hostname or IP");
        browser = {
            enabled: true,
            // No display on a VPS; a headed browser would also cost more memory.
            headless: true,
            // Chromium's own sandbox stays on: the agent user is not root, and install-browser.sh lets it create the user
            // namespaces the sandbox needs (an AppArmor profile on Ubuntu 24.04).
            noSandbox: false,
            executablePath: exe,
            // The profile (`<stateDir>/browser/openclaw/user-data`) and the CDP port (gateway port + 11, loopback) are
            // OpenClaw's defaults: under the agent's 0700 state dir, never reachable from outside the host.
            ...(allowed.length ? { ssrfPolicy: { allowedHostnames: allowed } } : {}),
        };
    } else {
        // OpenClaw enables browser control by default, and would pick up any Chromium it finds: off unless deployed.
        browser = { enabled: false };
    }

    const config = {
        gateway,
        update: { checkOnStart: false, auto: { enabled: false } },
        telemetry: { enabled: false },
        // No LAN on a VPS: do not advertise the gateway over mDNS.
        discovery: { mdns: { mode: "off" } },
        logging: {
            level: input.logLevel ?? "info",
            // Outside the shared /tmp, in the service user's own 0700 state dir.
            file: `${stateDir}/logs/openclaw.log`,
        },
        models: input.standIn?.llm
            ? { mode: "merge", providers: { [STANDIN_LLM_PROVIDER]: standInProvider(input.standIn.llm, llm.keyEnv) } }
            : { providers: { [llm.id]: { apiKey: envSecretRef(llm.keyEnv) } } },
        agents: {
            defaults: {
                workspace: workspaceDir,
                userTimezone: input.timezone,
                model: { primary: input.standIn?.llm ? `${STANDIN_LLM_PROVIDER}/${input.standIn.llm.model}` : model },
                // The push seeds the workspace itself; OpenClaw must not add its own starter files beside ours.
                skipBootstrap: true,
                heartbeat,
                compaction: { memoryFlush: { enabled: true } },
            },
        },
        memory: { search },
        tools,
        browser,
        ...(channels.owner
            ? {
                  channels: channels.channels,
                  // Set explicitly: OpenClaw would otherwise write the first pairing approval into this (read-only) file.
                  commands: { ownerAllowFrom: channels.ownerAllowFrom },
                  // Every allowlisted id is the one owner: one person across channels, so their DMs share one session
                  // by design (OpenClaw's audit warns about shared DM sessions of distinct people otherwise).
                  session: { identityLinks: { owner: channels.ownerAllowFrom } },
                  ...(channels.execApprovalForwarding ? { approvals: { exec: channels.execApprovalForwarding } } : {}),
              }
            : {}),
        // Installed beforehand by install-plugins.sh; naming them here lets `config validate` prove they are present.
        ...(Object.keys(pluginEntries).length ? { plugins: { entries: pluginEntries } } : {}),
    };

    const json = `${JSON.stringify(config, null, 2)}\n`;
    return { json, warnings, plugins, env };
}

/** The stand-in LLM as an OpenAI-compatible custom provider (streaming chat completions at `baseUrl`). */
function standInProvider(llm: { baseUrl: string; model: string }, keyEnv: string): Record<string, unknown> {
    if (!/^http:\/\/[0-9.]+:\d+\/v1$/.test(llm.baseUrl)) fail("standIn.llm.baseUrl", llm.baseUrl, "http://IP:PORT/v1");
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(llm.model)) fail("standIn.llm.model", llm.model, "a plain model id");
    return {
        baseUrl: llm.baseUrl,
        api: "openai-completions",
        apiKey: envSecretRef(keyEnv),
        models: [
            {
                id: llm.model,
                name: "OpenClaw stand-in",
                reasoning: false,
                input: ["text"],
                cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
                contextWindow: 128000,
                maxTokens: 4096,
            },
        ],
    };
}

/**
 * `~/.openclaw/.env` for the gateway: read both by systemd (`EnvironmentFile=`) and by OpenClaw's own dotenv loader,
 * so values are restricted to what both parse identically unquoted (API keys, hex/base64 tokens).
 * Throws, without echoing the value, on a name or value outside that set.
 */
export function renderGatewayEnvFile(values: Record<string, string>): string {
    const lines: string[] = [];
    for (const name of Object.keys(values).sort()) {
        const value = values[name];
        if (!ENV_NAME.test(name)) throw new Error(`gateway .env: ${JSON.stringify(name)} is not an env var name`);
        if (!/^[A-Za-z0-9._~+/=:@-]+$/.test(value)) {
            throw new Error(`gateway .env: the value of ${name} is empty or has characters other than A-Z a-z 0-9 . _ ~ + / = : @ -`);
        }
        lines.push(`${name}=${value}`);
    }
    return lines.length ? `${lines.join("\n")}\n` : "";
}
