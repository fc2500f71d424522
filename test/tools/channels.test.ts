// Every messaging channel at once against the pinned OpenClaw: the official Discord, Slack and WhatsApp plugins
// installed at the exact pin (as cloud-init/install-plugins.sh does, from the real npm registry) into the state dir,
// then the rendered openclaw.json validated with no warning at all (so every plugin it enables is present) and
// `openclaw security audit` run on it as the host keeps it: 0 critical, 0 warnings, and no channel token in its output.
// The Slack app manifest the README hands out is the pinned OpenClaw's own socket-mode one.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { renderGatewayEnvFile, renderOpenclawConfig } from "../../components/render/openclaw-config";
import { CHANNEL_TOKEN_ENV } from "../../components/render/channels";
import { assertNode24, baseConfigInput, CHANNEL_SENTINELS, openclawBin, run, SENTINEL_SECRETS, tempDir } from "../helpers/openclaw-runtime";

assertNode24();
const root = tempDir("oc-channels");
const home = path.join(root, "home");
const stateDir = path.join(home, ".openclaw");
const configPath = path.join(stateDir, "openclaw.json");
fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
fs.chmodSync(stateDir, 0o700);

const rendered = renderOpenclawConfig({
    ...baseConfigInput(),
    auth: "token",
    stateDir,
    memorySearch: { provider: "none", hasEmbeddingKey: false },
    channels: {
        telegram: { allowFrom: ["123456789"] },
        discord: { allowFrom: ["123456789012345678"] },
        slack: { allowFrom: ["U0123456789"] },
        whatsapp: { allowFrom: ["+4915123456789"] },
    },
});

/** The environment the gateway has: HOME, and every secret the config names from ~/.openclaw/.env. */
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    // How this machine reaches the registry (proxy, extra CA), as install-plugins.sh passes it through.
    ...Object.fromEntries(
        [
            "HTTPS_PROXY",
            "HTTP_PROXY",
            "NO_PROXY",
            "https_proxy",
            "http_proxy",
            "no_proxy",
            "NODE_EXTRA_CA_CERTS",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
        ]
            .filter((name) => process.env[name])
            .map((name) => [name, process.env[name]]),
    ),
    PATH: process.env.PATH,
    HOME: home,
    NO_COLOR: "1",
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    ...extra,
});

test("the official channel plugins install at the exact pin", { timeout: 1_200_000 }, async () => {
    assert.deepEqual(rendered.plugins, ["@openclaw/discord@2026.9.6", "@openclaw/slack@2026.9.6", "@openclaw/whatsapp@2026.9.6"]);
    for (const spec of rendered.plugins) {
        // A scratch config per install, as install-plugins.sh gives it (the deployed one is read-only on the host).
        const scratch = path.join(root, `scratch-${spec.replace(/[^a-z0-9]/gi, "_")}.json`);
        fs.writeFileSync(scratch, '{ "gateway": { "mode": "local", "port": 9 } }\n', { mode: 0o600 });
        const install = await run(openclawBin(), ["plugins", "install", `npm:${spec}`, "--pin"], {
            env: env({ OPENCLAW_CONFIG_PATH: scratch }),
            timeoutMs: 600_000,
        });
        assert.equal(install.code, 0, `${spec}: ${install.stdout}${install.stderr}`);
        const name = spec.slice(0, spec.lastIndexOf("@"));
        const projects = fs.readdirSync(path.join(stateDir, "npm", "projects"));
        const versions = projects
            .map((p) => path.join(stateDir, "npm", "projects", p, "node_modules", name, "package.json"))
            .filter((f) => fs.existsSync(f))
            .map((f) => JSON.parse(fs.readFileSync(f, "utf8")).version);
        assert.deepEqual(versions, [spec.slice(spec.lastIndexOf("@") + 1)], spec);
    }
});

test("the pinned OpenClaw validates the config with every channel set: valid, not a single warning", { timeout: 600_000 }, async () => {
    fs.writeFileSync(configPath, rendered.json, { mode: 0o600 });
    const result = await run(openclawBin(), ["config", "validate", "--json"], { env: env(), timeoutMs: 300_000 });
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
    assert.equal(report.valid, true, result.stdout);
    assert.deepEqual(report.warnings, [], "every plugin the config enables is installed, no channel is half-configured");
    assert.equal(result.code, 0);
});

test("security audit with every channel set: 0 critical, 0 warnings; no token in its output", { timeout: 600_000 }, async () => {
    fs.writeFileSync(configPath, rendered.json, { mode: 0o600 });
    // The tokens as the host has them: ~/.openclaw/.env (0600), which OpenClaw reads itself.
    const secrets: Record<string, string> = {
        OPENCLAW_GATEWAY_TOKEN: SENTINEL_SECRETS.OPENCLAW_GATEWAY_TOKEN.repeat(3),
        ANTHROPIC_API_KEY: SENTINEL_SECRETS.ANTHROPIC_API_KEY,
    };
    for (const [name, key] of Object.entries(CHANNEL_TOKEN_ENV)) secrets[name] = CHANNEL_SENTINELS[key];
    assert.deepEqual(Object.keys(secrets).sort(), [...rendered.env].sort(), "the .env holds exactly what the config names");
    fs.writeFileSync(path.join(stateDir, ".env"), renderGatewayEnvFile(secrets), { mode: 0o600 });
    const result = await run(openclawBin(), ["security", "audit", "--json"], { env: env(), timeoutMs: 300_000 });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
    const serious = report.findings.filter((f: { severity: string }) => f.severity !== "info");
    assert.deepEqual(serious, [], JSON.stringify(report.findings, null, 1));
    assert.ok(!report.findings.some((f: { checkId: string }) => f.checkId === "gateway.auth_no_rate_limit"));
    for (const value of Object.values(CHANNEL_SENTINELS))
        assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value), "audit output leaks no channel token");
});

test("the Slack app manifest in docs/ is the pinned OpenClaw's minimal socket-mode manifest (DMs, no inbound URL)", () => {
    const docs = fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "openclaw", "docs", "channels", "slack", "setup.md"), "utf8");
    const minimal = /```json Minimal\n([\s\S]*?)\n```/.exec(docs);
    assert.ok(minimal, "the pinned docs no longer carry a Minimal manifest");
    const ours = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "docs", "slack-app-manifest.json"), "utf8"));
    assert.deepEqual(ours, JSON.parse(minimal[1]!));
    assert.equal(ours.settings.socket_mode_enabled, true);
    assert.ok(ours.oauth_config.scopes.bot.includes("im:history") && ours.settings.event_subscriptions.bot_events.includes("message.im"));
    assert.doesNotMatch(JSON.stringify(ours), /request_url|https?:\/\//, "socket mode: Slack needs no URL of ours");
});
