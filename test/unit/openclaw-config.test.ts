// Pure tests of components/render/openclaw-config.ts: every setting lands where the 2026.9.6 schema expects it,
// no secret ever reaches the JSON, HEARTBEAT.md drives the heartbeat, and a missing embedding key degrades loudly.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { settingSpecs } from "../../components/settings";
import {
    DEFAULT_MEMORY_SEARCH_PROVIDER,
    GATEWAY_SECRET_ENV,
    LLM_PROVIDERS,
    LLM_PROVIDER_SPECS,
    MEMORY_SEARCH_PROVIDERS,
    OpenclawConfigInput,
    TOOL_POLICIES,
    heartbeatPromptFrom,
    renderGatewayEnvFile,
    renderOpenclawConfig,
} from "../../components/render/openclaw-config";
import { baseConfigInput, SENTINEL_SECRETS } from "../helpers/openclaw-runtime";
import { CHANNEL_IDS, ChannelsInput, WHATSAPP_AUTH_SUBDIR } from "../../components/render/channels";
import { readHostFile } from "../../components/render/host-files";

type Json = any;
const render = (overrides: Partial<OpenclawConfigInput> = {}) => {
    const out = renderOpenclawConfig({ ...baseConfigInput(), ...overrides });
    return { ...out, config: JSON.parse(out.json) as Json };
};

test("gateway: local mode, loopback bind, port, public and allowed origin, loopback trusted proxies, no Tailscale", () => {
    const { config } = render({ port: 18800, hostname: "Agent.Example.com" });
    const gw = config.gateway;
    assert.equal(gw.mode, "local");
    assert.equal(gw.bind, "loopback");
    assert.equal(gw.port, 18800);
    assert.equal(gw.publicOrigin, "https://agent.example.com");
    assert.deepEqual(gw.controlUi, { enabled: true, allowedOrigins: ["https://agent.example.com"] });
    assert.deepEqual(gw.trustedProxies, ["127.0.0.1", "::1"]);
    assert.deepEqual(gw.tailscale, { mode: "off" });
    assert.equal(gw.auth.allowTailscale, false);
    assert.deepEqual(gw.terminal, { enabled: false });
    assert.equal(render().config.gateway.port, 18789, "default port");
});

test("token auth: the gateway token is a SecretRef to OPENCLAW_GATEWAY_TOKEN", () => {
    const { config, env } = render({ auth: "token" });
    assert.deepEqual(config.gateway.auth, {
        mode: "token",
        token: { source: "env", provider: "default", id: "OPENCLAW_GATEWAY_TOKEN" },
        allowTailscale: false,
        rateLimit: { maxAttempts: 10, windowMs: 60000, lockoutMs: 300000, exemptLoopback: true },
    });
    assert.ok(env.includes(GATEWAY_SECRET_ENV.token));
    assert.ok(!env.includes(GATEWAY_SECRET_ENV.access));
});

test("access auth: trusted-proxy on Cloudflare Access headers, only the listed e-mails, local password as SecretRef", () => {
    const { config, env } = render({ auth: "access", accessEmails: ["Me@Example.com", "me@example.com", "ops@example.org"] });
    const auth = config.gateway.auth;
    assert.equal(auth.mode, "trusted-proxy");
    assert.deepEqual(auth.trustedProxy, {
        userHeader: "cf-access-authenticated-user-email",
        requiredHeaders: ["cf-access-jwt-assertion"],
        allowUsers: ["me@example.com", "ops@example.org"],
        allowLoopback: true,
    });
    assert.deepEqual(auth.password, { source: "env", provider: "default", id: "OPENCLAW_GATEWAY_PASSWORD" });
    assert.equal(auth.token, undefined);
    assert.ok(env.includes("OPENCLAW_GATEWAY_PASSWORD"));
    assert.ok(!env.includes("OPENCLAW_GATEWAY_TOKEN"));
    assert.throws(() => render({ auth: "access", accessEmails: [] }), /accessEmails/);
    assert.throws(() => render({ auth: "access", accessEmails: ["not-an-email"] }), /accessEmails/);
});

test("workspace, timezone, update checks off, mDNS off, logs in the state dir, pre-compaction flush on", () => {
    const { config } = render({ stateDir: "/srv/oc", timezone: "America/New_York" });
    assert.equal(config.agents.defaults.workspace, "/srv/oc/workspace");
    assert.equal(config.agents.defaults.userTimezone, "America/New_York");
    assert.deepEqual(config.update, { checkOnStart: false, auto: { enabled: false } });
    assert.deepEqual(config.discovery, { mdns: { mode: "off" } });
    assert.equal(config.logging.file, "/srv/oc/logs/openclaw.log");
    assert.deepEqual(config.agents.defaults.compaction.memoryFlush, { enabled: true });
    assert.equal(render({ workspaceDir: "/data/ws" }).config.agents.defaults.workspace, "/data/ws");
    assert.throws(() => render({ timezone: "Mars/Olympus" }), /timezone/);
    assert.throws(() => render({ workspaceDir: "relative/ws" }), /workspaceDir/);
});

test("LLM: default Anthropic model, key as SecretRef to the provider's env var, every provider renders", () => {
    const { config, env } = render();
    assert.deepEqual(config.agents.defaults.model, { primary: LLM_PROVIDER_SPECS.anthropic.defaultModel });
    assert.deepEqual(config.models.providers.anthropic.apiKey, { source: "env", provider: "default", id: "ANTHROPIC_API_KEY" });
    assert.ok(env.includes("ANTHROPIC_API_KEY"));
    for (const provider of LLM_PROVIDERS) {
        const spec = LLM_PROVIDER_SPECS[provider];
        const out = render({ llmProvider: provider });
        assert.equal(out.config.agents.defaults.model.primary, spec.defaultModel);
        assert.equal(out.config.models.providers[spec.id].apiKey.id, spec.keyEnv);
        assert.ok(out.env.includes(spec.keyEnv), `${provider} key env listed`);
    }
    assert.equal(
        render({ llmProvider: "openai", model: "openai/gpt-5.4-mini" }).config.agents.defaults.model.primary,
        "openai/gpt-5.4-mini",
    );
    assert.throws(() => render({ llmProvider: "openai", model: "anthropic/claude-sonnet-5" }), /model/);
});

test("plugins: Voyage embeddings need @openclaw/voyage-provider pinned to the OpenClaw version, enabled in config", () => {
    const { config, plugins } = render({ memorySearch: { provider: "voyage", hasEmbeddingKey: true } });
    assert.deepEqual(plugins, ["@openclaw/voyage-provider@2026.9.6"]);
    assert.deepEqual(config.plugins, { entries: { voyage: { enabled: true } } });
    const mistral = render({ llmProvider: "mistral", memorySearch: { provider: "mistral", hasEmbeddingKey: true } });
    assert.deepEqual(mistral.plugins, ["@openclaw/mistral-provider@2026.9.6"], "one package for both uses");
    const bundled = render({ memorySearch: { provider: "openai", hasEmbeddingKey: true } });
    assert.deepEqual(bundled.plugins, [], "OpenAI embeddings are bundled");
    assert.equal(bundled.config.plugins, undefined);
});

test("the default embedding provider is OpenAI's, bundled in the pinned OpenClaw: a default deploy installs no plugin", () => {
    assert.equal(DEFAULT_MEMORY_SEARCH_PROVIDER, "openai");
    const { config, plugins, env } = render({ memorySearch: { hasEmbeddingKey: true } });
    assert.equal(config.memory.search.provider, "openai");
    assert.deepEqual(plugins, [], "nothing to install, so nothing that can fail to install");
    assert.ok(env.includes("OPENAI_API_KEY"));
    // Bundled: the pinned package carries the provider itself.
    const extension = path.join(PROJECT_ROOT, "node_modules", "openclaw", "dist", "extensions", "openai");
    assert.ok(fs.existsSync(extension), `${extension} is missing: is OpenAI still bundled in this OpenClaw?`);
    assert.equal(settingSpecs().memorySearchProvider.default, "openai");
});

test("memory search: the guide's numbers in the 2026.9.6 keys, key via SecretRef", () => {
    const { config, env, warnings } = render({ memorySearch: { provider: "voyage", hasEmbeddingKey: true } });
    assert.deepEqual(config.memory.search, {
        enabled: true,
        provider: "voyage",
        sources: ["memory", "sessions"],
        query: { maxResults: 20, minScore: 0.3 },
        cache: { enabled: true },
        remote: { apiKey: { source: "env", provider: "default", id: "VOYAGE_API_KEY" } },
    });
    assert.ok(env.includes("VOYAGE_API_KEY"));
    assert.deepEqual(warnings, []);
    // The guide's retired keys never appear.
    assert.doesNotMatch(JSON.stringify(config), /memorySearch|indexMode|ackMaxChars|vectorWeight|textWeight/);
});

test("no embedding key: a loud warning and keyword-only (provider none), no key env, no plugin", () => {
    for (const provider of MEMORY_SEARCH_PROVIDERS.filter((p) => p !== "none")) {
        const { config, env, warnings, plugins } = render({ memorySearch: { provider, hasEmbeddingKey: false } });
        assert.equal(config.memory.search.provider, "none", provider);
        assert.equal(config.memory.search.remote, undefined);
        assert.equal(config.memory.search.enabled, true, "keyword search stays on");
        assert.ok(
            warnings.some((w) => /NO EMBEDDING KEY/.test(w) && /KEYWORD-ONLY/.test(w) && w.includes(provider)),
            provider,
        );
        assert.ok(!env.some((e) => /VOYAGE|MISTRAL/.test(e)), provider);
        if (provider !== "mistral") assert.deepEqual(plugins, []);
    }
    const chosen = render({ memorySearch: { provider: "none", hasEmbeddingKey: false } });
    assert.equal(chosen.config.memory.search.provider, "none");
    assert.deepEqual(chosen.warnings, [], "keyword-only by choice is not a warning");
});

test("heartbeat: every, active hours in the operator's timezone, prompt = HEARTBEAT.md, isolated and light (the cost guard)", () => {
    const checklist = "# Heartbeat\n\n- Check disk usage\n- Review today's notes\n\nIf nothing needs attention, reply NO_REPLY.\n";
    const { config } = render({
        timezone: "Asia/Tokyo",
        heartbeat: { checklist, every: "45m", activeHours: { start: "07:30", end: "23:00" } },
    });
    assert.deepEqual(config.agents.defaults.heartbeat, {
        every: "45m",
        target: "last",
        prompt: checklist.trim(),
        isolatedSession: true,
        lightContext: true,
        activeHours: { start: "07:30", end: "23:00", timezone: "Asia/Tokyo" },
    });
    assert.equal(render({ heartbeat: { checklist: "- x" } }).config.agents.defaults.heartbeat.every, "30m", "default 30m");
    assert.throws(() => render({ heartbeat: { checklist: "- x", every: "soon" } }), /heartbeat.every/);
    assert.throws(() => render({ heartbeat: { checklist: "- x", activeHours: { start: "08:00", end: "08:00" } } }), /activeHours/);
});

test("empty HEARTBEAT.md (blank, headings, comments, empty items) means no heartbeat at all", () => {
    for (const checklist of ["", "   \n\n", "# Heartbeat\n\n## Checks\n", "<!-- add checks here -->\n# HB\n- [ ]\n-\n"]) {
        const { config, warnings } = render({ heartbeat: { checklist, activeHours: { start: "08:00", end: "22:00" } } });
        assert.deepEqual(config.agents.defaults.heartbeat, { every: "0m" }, JSON.stringify(checklist));
        assert.ok(warnings.some((w) => /heartbeat is disabled/.test(w)));
    }
});

test("heartbeat prompt: operator comments stripped, the quiet rule added only when missing", () => {
    assert.equal(
        heartbeatPromptFrom("<!-- private note -->\n- check mail\n"),
        "- check mail\n\nIf nothing needs attention, reply NO_REPLY.",
    );
    assert.equal(heartbeatPromptFrom("- check\nReply HEARTBEAT_OK when idle."), "- check\nReply HEARTBEAT_OK when idle.");
    assert.equal(heartbeatPromptFrom("<!-- unterminated"), undefined);
});

test("no sentinel secret can reach the JSON: the renderer takes no secret, only env var names", () => {
    const { json } = render({ auth: "access", accessEmails: ["me@example.com"], memorySearch: { hasEmbeddingKey: true } });
    for (const value of Object.values(SENTINEL_SECRETS)) assert.ok(!json.includes(value));
    // Every secret-bearing key is a SecretRef object, never a string.
    const secretKeys: string[] = [];
    JSON.parse(json, (key, value) => {
        if (/apiKey|token|password/i.test(key) && typeof value === "string") secretKeys.push(key);
        return value;
    });
    assert.deepEqual(secretKeys, []);
});

test("env lists exactly what the config references", () => {
    const { json, env } = render({ llmProvider: "google", memorySearch: { provider: "gemini", hasEmbeddingKey: true } });
    const referenced = [...json.matchAll(/"source": "env",\s*"provider": "default",\s*"id": "([A-Z0-9_]+)"/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(referenced)].sort(), [...env].sort());
    assert.deepEqual(env.sort(), ["GEMINI_API_KEY", "OPENCLAW_GATEWAY_TOKEN"]);
});

test("output is deterministic and valid input is required", () => {
    assert.equal(render().json, render().json);
    assert.throws(() => render({ hostname: "not a host" }), /hostname/);
    assert.throws(() => render({ port: 80 }), /port/);
    assert.throws(() => render({ openclawVersion: "latest" }), /openclawVersion/);
});

test(".env renderer: sorted NAME=value lines, refuses values systemd and dotenv would parse differently", () => {
    assert.equal(renderGatewayEnvFile({ B_KEY: "b+/=", A_KEY: "sk-ant-123" }), "A_KEY=sk-ant-123\nB_KEY=b+/=\n");
    assert.throws(
        () => renderGatewayEnvFile({ A: "has space" }),
        (e: Error) => /A/.test(e.message) && !e.message.includes("has space"),
    );
    assert.throws(() => renderGatewayEnvFile({ A: 'quote"d' }));
    assert.throws(() => renderGatewayEnvFile({ "bad-name": "x" }));
    assert.throws(() => renderGatewayEnvFile({ A: "" }));
});

test("tool policy: ask by default (allowlist + approvals, inline eval always asked), elevated always off", () => {
    const { config, warnings } = render();
    assert.deepEqual(config.tools, { exec: { mode: "ask", strictInlineEval: true }, elevated: { enabled: false } });
    assert.equal(warnings.filter((w) => /toolPolicy/.test(w)).length, 0);
    assert.deepEqual(render({ toolPolicy: "allowlist" }).config.tools.exec, { mode: "allowlist", strictInlineEval: true });
    const full = render({ toolPolicy: "full" });
    assert.deepEqual(full.config.tools, { exec: { mode: "full" }, elevated: { enabled: false } });
    assert.ok(
        full.warnings.some((w) => /toolPolicy full/.test(w)),
        "full is said out loud",
    );
    for (const toolPolicy of TOOL_POLICIES) assert.equal(render({ toolPolicy }).config.tools.elevated.enabled, false);
    assert.throws(() => render({ toolPolicy: "yolo" as never }), /toolPolicy is "yolo"; expected ask \| allowlist \| full/);
});

test("browser: off unless deployed; deployed = headless, Chromium's sandbox on, the installed binary, default profile", () => {
    assert.deepEqual(render().config.browser, { enabled: false });
    const { config } = render({ browser: { executablePath: "/usr/bin/chromium" } });
    assert.deepEqual(config.browser, { enabled: true, headless: true, noSandbox: false, executablePath: "/usr/bin/chromium" });
    // No profile block: OpenClaw keeps the profile under the state dir and the CDP port on loopback by itself.
    assert.equal(config.browser.profiles, undefined);
    const test = render({ browser: { executablePath: "/usr/bin/chromium", allowedPrivateHostnames: ["10.0.0.1"] } }).config;
    assert.deepEqual(test.browser.ssrfPolicy, { allowedHostnames: ["10.0.0.1"] });
    assert.throws(() => render({ browser: { executablePath: "chromium" } }), /browser\.executablePath/);
    assert.throws(
        () => render({ browser: { executablePath: "/usr/bin/chromium", allowedPrivateHostnames: ["a b"] } }),
        /allowedPrivateHostnames/,
    );
});

// ---- the auth limiter -----------------------------------------------------------------------------------------------

test("auth limiter: stated in both auth modes, keyed on the X-Forwarded-For client of the trusted local proxy only", () => {
    for (const auth of ["token", "access"] as const) {
        const gw = render({ auth, accessEmails: ["me@example.com"] }).config.gateway;
        assert.deepEqual(gw.auth.rateLimit, { maxAttempts: 10, windowMs: 60000, lockoutMs: 300000, exemptLoopback: true }, auth);
        assert.deepEqual(gw.trustedProxies, ["127.0.0.1", "::1"], auth);
        // X-Real-IP is never trusted (a client could set it); the right-most X-Forwarded-For hop is cloudflared's.
        assert.equal(gw.allowRealIpFallback, false, auth);
    }
});

// ---- channels -----------------------------------------------------------------------------------------------------

const ALL_CHANNELS: ChannelsInput = {
    telegram: { allowFrom: ["123456789", "987654321"] },
    discord: { allowFrom: ["123456789012345678"] },
    slack: { allowFrom: ["U0123456789"] },
    whatsapp: { allowFrom: ["+4915123456789"] },
};

test("no channel: no channels, commands, session or approvals block; the heartbeat reports to the last conversation", () => {
    const { config, env, plugins } = render({ memorySearch: { provider: "none", hasEmbeddingKey: false } });
    for (const key of ["channels", "commands", "session", "approvals"]) assert.equal(config[key], undefined, key);
    assert.equal(config.agents.defaults.heartbeat.target, "last");
    assert.equal(config.agents.defaults.heartbeat.directPolicy, undefined);
    assert.deepEqual(plugins, []);
    assert.ok(!env.some((e) => /TELEGRAM|DISCORD|SLACK/.test(e)));
    assert.throws(() => render({ heartbeat: { checklist: "- x", target: "owner" } }), /heartbeat\.target/);
});

test("every channel: owner-only DMs (allowlist), groups off, tokens as env SecretRefs, plugins pinned", () => {
    const { config, env, plugins, json } = render({ memorySearch: { provider: "none", hasEmbeddingKey: false }, channels: ALL_CHANNELS });
    assert.deepEqual(Object.keys(config.channels), [...CHANNEL_IDS]);
    for (const id of CHANNEL_IDS) {
        const block = config.channels[id];
        assert.equal(block.enabled, true, id);
        assert.equal(block.dmPolicy, "allowlist", `${id}: never pairing or open`);
        assert.equal(block.groupPolicy, "disabled", id);
        assert.deepEqual(block.allowFrom, ALL_CHANNELS[id]!.allowFrom, id);
    }
    const ref = (id: string) => ({ source: "env", provider: "default", id });
    assert.deepEqual(config.channels.telegram.botToken, ref("TELEGRAM_BOT_TOKEN"));
    assert.deepEqual(config.channels.discord.token, ref("DISCORD_BOT_TOKEN"));
    assert.deepEqual(config.channels.slack.botToken, ref("SLACK_BOT_TOKEN"));
    assert.deepEqual(config.channels.slack.appToken, ref("SLACK_APP_TOKEN"));
    assert.equal(config.channels.slack.mode, "socket", "Slack dials out: no inbound port");
    assert.equal(config.channels.telegram.apiRoot, undefined, "production talks to api.telegram.org");
    for (const name of ["TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
        assert.ok(env.includes(name), name);
    assert.deepEqual(plugins, ["@openclaw/discord@2026.9.6", "@openclaw/slack@2026.9.6", "@openclaw/whatsapp@2026.9.6"]);
    assert.deepEqual(config.plugins.entries, { discord: { enabled: true }, slack: { enabled: true }, whatsapp: { enabled: true } });
    // Telegram is bundled: no package, no entry.
    assert.equal(config.plugins.entries.telegram, undefined);
    assert.doesNotMatch(json, /"pairing"|"open"/);
});

test("the owner: every id in commands.ownerAllowFrom and one identity, first channel first; heartbeat and approvals go to its DM", () => {
    const { config } = render({ memorySearch: { provider: "none", hasEmbeddingKey: false }, channels: ALL_CHANNELS });
    const owners = [
        "telegram:123456789",
        "telegram:987654321",
        "discord:123456789012345678",
        "slack:U0123456789",
        "whatsapp:+4915123456789",
    ];
    assert.deepEqual(config.commands, { ownerAllowFrom: owners });
    assert.deepEqual(config.session, { identityLinks: { owner: owners } });
    assert.equal(config.agents.defaults.heartbeat.target, "owner");
    assert.equal(config.agents.defaults.heartbeat.directPolicy, "allow");
    // Approval prompts: native buttons on the first channel only, nowhere else, no text forwarding on top.
    assert.deepEqual(config.channels.telegram.execApprovals, { enabled: true, approvers: ["123456789", "987654321"], target: "dm" });
    assert.deepEqual(config.channels.discord.execApprovals, { enabled: false });
    assert.deepEqual(config.channels.slack.execApprovals, { enabled: false });
    assert.equal(config.approvals, undefined);

    const discordFirst = render({ channels: { slack: ALL_CHANNELS.slack, discord: ALL_CHANNELS.discord } }).config;
    assert.deepEqual(
        discordFirst.commands.ownerAllowFrom,
        ["discord:123456789012345678", "slack:U0123456789"],
        "CHANNEL_IDS order, not input order",
    );
    assert.deepEqual(discordFirst.channels.discord.execApprovals, { enabled: true, approvers: ["123456789012345678"], target: "dm" });
});

test("WhatsApp: no token, approvals forwarded to the owner's number, the link kept below the state dir where backups reach it", () => {
    const { config, env } = render({ stateDir: "/home/openclaw/.openclaw", channels: { whatsapp: ALL_CHANNELS.whatsapp } });
    assert.deepEqual(config.approvals, {
        exec: { enabled: true, mode: "targets", targets: [{ channel: "whatsapp", to: "+4915123456789" }] },
    });
    assert.ok(!env.some((e) => /WHATSAPP/.test(e)), "WhatsApp is linked by QR code, not a token");
    const authDir: string = config.channels.whatsapp.accounts.default.authDir;
    assert.equal(authDir, `/home/openclaw/.openclaw/${WHATSAPP_AUTH_SUBDIR}`);
    // The backup leaves these state entries out (cloud-init/backup-lib.sh): the link must not be under one of them.
    const excludes = /DEFAULT_STATE_EXCLUDES="([^"]+)"/.exec(readHostFile("backup-lib.sh"))![1]!.split(/\s+/);
    const top = authDir.slice("/home/openclaw/.openclaw/".length).split("/")[0]!;
    assert.ok(
        !excludes.some((pattern) => new RegExp(`^${pattern.replaceAll(".", "\\.").replaceAll("*", ".*")}$`).test(top)),
        `${top} vs ${excludes}`,
    );
});

test("channel ids are re-checked by the renderer, naming the field", () => {
    assert.throws(() => render({ channels: { telegram: { allowFrom: ["@me"] } } }), /channels\.telegram\.allowFrom.*@me/);
    assert.throws(() => render({ channels: { discord: { allowFrom: ["123"] } } }), /channels\.discord\.allowFrom/);
    assert.throws(() => render({ channels: { slack: { allowFrom: ["alice"] } } }), /channels\.slack\.allowFrom/);
    assert.throws(() => render({ channels: { whatsapp: { allowFrom: ["015123456789"] } } }), /channels\.whatsapp\.allowFrom/);
    assert.throws(() => render({ channels: { telegram: { allowFrom: [] } } }), /at least one id/);
});

test("stand-in endpoints (tests only): the Telegram Bot API root and an OpenAI-compatible LLM read with the provider's own key", () => {
    const { config, env } = render({
        channels: { telegram: ALL_CHANNELS.telegram },
        standIn: { telegramApiRoot: "http://10.77.0.1:8081", llm: { baseUrl: "http://10.77.0.1:8082/v1", model: "standin-1" } },
    });
    assert.equal(config.channels.telegram.apiRoot, "http://10.77.0.1:8081");
    assert.equal(config.models.mode, "merge");
    assert.equal(config.models.providers.standin.baseUrl, "http://10.77.0.1:8082/v1");
    assert.equal(config.models.providers.standin.api, "openai-completions");
    assert.deepEqual(config.models.providers.standin.apiKey, { source: "env", provider: "default", id: "ANTHROPIC_API_KEY" });
    assert.equal(config.agents.defaults.model.primary, "standin/standin-1");
    assert.ok(env.includes("ANTHROPIC_API_KEY"), "the same .env as production");
    assert.throws(() => render({ standIn: { llm: { baseUrl: "file:///etc/passwd", model: "x" } } }), /standIn\.llm\.baseUrl/);
});
