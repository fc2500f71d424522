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
