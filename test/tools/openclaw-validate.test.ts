// The rendered openclaw.json against the pinned OpenClaw's own checks: `openclaw config validate --json` for every
// auth mode × memory-search provider and every LLM provider we list, negative controls proving the validator rejects
// what 2026.9.6 no longer accepts (the guide's keys), and `openclaw security audit` on the files as the host keeps them.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    GATEWAY_AUTH_MODES,
    LLM_PROVIDERS,
    MEMORY_SEARCH_PROVIDERS,
    OpenclawConfigInput,
    renderOpenclawConfig,
    TOOL_POLICIES,
} from "../../components/render/openclaw-config";
import { assertNode24, baseConfigInput, openclawBin, run, SENTINEL_SECRETS, tempDir, validateConfig } from "../helpers/openclaw-runtime";

assertNode24();
const dir = tempDir("oc-validate");
let counter = 0;

function writeConfig(json: string): string {
    const file = path.join(dir, `openclaw-${++counter}.json`);
    fs.writeFileSync(file, json, { mode: 0o600 });
    return file;
}

/** Runs `work` over `items`, two at a time (the machine has two shared cores). */
async function inPairs<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
    const queue = [...items];
    await Promise.all(
        [0, 1].map(async () => {
            for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
        }),
    );
}

/** Valid, and the only warnings are "plugin not installed" for the plugins the renderer said it needs. */
async function assertAccepted(input: OpenclawConfigInput, label: string): Promise<void> {
    const rendered = renderOpenclawConfig(input);
    const result = await validateConfig(writeConfig(rendered.json));
    assert.equal(result.valid, true, `${label}: ${result.raw}`);
    assert.equal(result.code, 0, label);
    const expectedPluginIds = rendered.plugins.map((spec) => spec.replace(/^@openclaw\/(.+)-provider@.*$/, "$1"));
    for (const warning of result.warnings) {
        const match = /^plugins\.entries\.(.+)$/.exec(warning.path);
        assert.ok(
            match && expectedPluginIds.includes(match[1]) && /not installed/.test(warning.message),
            `${label}: unexpected warning ${JSON.stringify(warning)}`,
        );
    }
}

test("every auth mode × memory-search provider passes the pinned OpenClaw's validation", { timeout: 900_000 }, async () => {
    openclawBin();
    const combos = GATEWAY_AUTH_MODES.flatMap((auth) =>
        MEMORY_SEARCH_PROVIDERS.flatMap((provider) => [true, false].map((hasEmbeddingKey) => ({ auth, provider, hasEmbeddingKey }))),
    ).filter((c) => c.hasEmbeddingKey || c.provider === "voyage"); // without a key every provider renders the same "none"
    await inPairs(combos, async ({ auth, provider, hasEmbeddingKey }) => {
        await assertAccepted(
            { ...baseConfigInput(), auth, memorySearch: { provider, hasEmbeddingKey } },
            `auth=${auth} memory=${provider} key=${hasEmbeddingKey}`,
        );
    });
});

test("every LLM provider, an empty HEARTBEAT.md and a custom port pass validation", { timeout: 900_000 }, async () => {
    const inputs: [string, OpenclawConfigInput][] = LLM_PROVIDERS.map((llmProvider) => [
        `llm=${llmProvider}`,
        { ...baseConfigInput(), llmProvider, memorySearch: { provider: "none", hasEmbeddingKey: false } },
    ]);
    inputs.push(["empty heartbeat", { ...baseConfigInput(), heartbeat: { checklist: "# Heartbeat\n<!-- nothing yet -->\n" } }]);
    inputs.push(["port 20000, no active hours", { ...baseConfigInput(), port: 20000, heartbeat: { checklist: "- check" } }]);
    await inPairs(inputs, ([label, input]) => assertAccepted(input, label));
});

test("negative controls: the guide's retired keys are rejected by the pinned OpenClaw", { timeout: 600_000 }, async () => {
    const good = JSON.parse(renderOpenclawConfig(baseConfigInput()).json);
    const mutations: [string, (c: any) => void, RegExp][] = [
        ["top-level memorySearch block", (c) => (c.memorySearch = { enabled: true, provider: "voyage", indexMode: "hot" }), /memorySearch/],
        ["agents.defaults.memorySearch", (c) => (c.agents.defaults.memorySearch = { enabled: true }), /memorySearch/],
        ["memory.search.indexMode", (c) => (c.memory.search.indexMode = "hot"), /indexMode/],
        ["hybrid weights", (c) => (c.memory.search.query.vectorWeight = 0.7), /vectorWeight/],
        ["heartbeat ackMaxChars", (c) => (c.agents.defaults.heartbeat.ackMaxChars = 300), /ackMaxChars/],
        ["bind as an IP address", (c) => (c.gateway.bind = "127.0.0.1"), /bind/],
    ];
    await inPairs(mutations, async ([label, mutate, mentions]) => {
        const config = structuredClone(good);
        mutate(config);
        const result = await validateConfig(writeConfig(JSON.stringify(config)));
        assert.equal(result.valid, false, `${label} should be rejected: ${result.raw}`);
        assert.notEqual(result.code, 0, label);
        assert.ok(
            result.issues.some((i) => mentions.test(`${i.path} ${i.message}`)),
            `${label}: ${JSON.stringify(result.issues)}`,
        );
    });
});

test(
    "security audit: token mode has no finding at warn or above; access mode only the inherent trusted-proxy ones",
    { timeout: 900_000 },
    async () => {
        for (const auth of GATEWAY_AUTH_MODES) {
            const stateDir = path.join(dir, `state-${auth}`);
            fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
            const config = path.join(stateDir, "openclaw.json");
            const rendered = renderOpenclawConfig({
                ...baseConfigInput(),
                auth,
                stateDir,
                memorySearch: { provider: "none", hasEmbeddingKey: false },
            });
            fs.writeFileSync(config, rendered.json, { mode: 0o600 });
            const result = await run(openclawBin(), ["security", "audit", "--json"], {
                env: {
                    PATH: process.env.PATH,
                    HOME: dir,
                    NO_COLOR: "1",
                    OPENCLAW_STATE_DIR: stateDir,
                    OPENCLAW_CONFIG_PATH: config,
                    // Long random-looking secrets, as the deployment generates them.
                    OPENCLAW_GATEWAY_TOKEN: SENTINEL_SECRETS.OPENCLAW_GATEWAY_TOKEN.repeat(3),
                    OPENCLAW_GATEWAY_PASSWORD: SENTINEL_SECRETS.OPENCLAW_GATEWAY_PASSWORD.repeat(3),
                    ANTHROPIC_API_KEY: SENTINEL_SECRETS.ANTHROPIC_API_KEY,
                },
            });
            assert.equal(result.code, 0, result.stderr);
            const report = JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
            const serious = report.findings
                .filter((f: any) => f.severity !== "info")
                .map((f: any) => f.checkId)
                .sort();
            const expected = auth === "token" ? [] : ["gateway.trusted_proxy_allow_loopback", "gateway.trusted_proxy_auth"];
            assert.deepEqual(serious, expected, `${auth}: ${JSON.stringify(report.findings, null, 1)}`);
            for (const value of Object.values(SENTINEL_SECRETS)) assert.ok(!result.stdout.includes(value), "audit output leaks no secret");
        }
    },
);

/** `openclaw security audit --json` on a rendered config kept as the host keeps it (0600 file in a 0700 state dir). */
async function audit(label: string, input: OpenclawConfigInput): Promise<{ findings: any[]; summary: any; raw: string }> {
    const stateDir = path.join(dir, `state-${label}`);
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const config = path.join(stateDir, "openclaw.json");
    fs.writeFileSync(config, renderOpenclawConfig({ ...input, stateDir }).json, { mode: 0o600 });
    const result = await run(openclawBin(), ["security", "audit", "--json"], {
        // A loaded CI box: the audit's first run creates its SQLite state (minutes at load 15).
        timeoutMs: 600_000,
        env: {
            PATH: process.env.PATH,
            HOME: dir,
            NO_COLOR: "1",
            OPENCLAW_STATE_DIR: stateDir,
            OPENCLAW_CONFIG_PATH: config,
            OPENCLAW_GATEWAY_TOKEN: SENTINEL_SECRETS.OPENCLAW_GATEWAY_TOKEN.repeat(3),
            ANTHROPIC_API_KEY: SENTINEL_SECRETS.ANTHROPIC_API_KEY,
        },
    });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
    return { findings: report.findings, summary: report.summary, raw: result.stdout };
}

test(
    "tool policy: every toolPolicy, with and without the browser, passes validation; the legacy/mixed keys are refused",
    { timeout: 900_000 },
    async () => {
        const inputs: [string, OpenclawConfigInput][] = TOOL_POLICIES.flatMap((toolPolicy) =>
            [undefined, { executablePath: "/usr/bin/chromium" }].map(
                (browser) =>
                    [
                        `toolPolicy=${toolPolicy} browser=${Boolean(browser)}`,
                        { ...baseConfigInput(), memorySearch: { provider: "none", hasEmbeddingKey: false }, toolPolicy, browser },
                    ] as [string, OpenclawConfigInput],
            ),
        );
        // The stand-in VPS's browser turn: one exact private address the browser may open (test deploys only).
        inputs.push([
            "browser with the stand-in's private-host exception",
            {
                ...baseConfigInput(),
                memorySearch: { provider: "none", hasEmbeddingKey: false },
                browser: { executablePath: "/usr/bin/chromium", allowedPrivateHostnames: ["10.77.0.1"] },
            },
        ]);
        await inPairs(inputs, ([label, input]) => assertAccepted(input, label));
        // Negative controls: the validator does look at the tools block we render.
        const good = JSON.parse(renderOpenclawConfig({ ...baseConfigInput(), browser: { executablePath: "/usr/bin/chromium" } }).json);
        const mutations: [string, (c: any) => void, RegExp][] = [
            [
                "mode together with the legacy security key",
                (c) => (c.tools.exec.security = "allowlist"),
                /mode cannot be combined|security/,
            ],
            ["an exec mode OpenClaw does not know", (c) => (c.tools.exec.mode = "sometimes"), /mode/],
            ["a browser profile without a CDP port", (c) => (c.browser.profiles = { openclaw: {} }), /cdpPort|cdpUrl/],
            [
                "a private-host exception that is not a list",
                (c) => (c.browser.ssrfPolicy = { allowedHostnames: "10.77.0.1" }),
                /allowedHostnames/,
            ],
        ];
        await inPairs(mutations, async ([label, mutate, mentions]) => {
            const config = structuredClone(good);
            mutate(config);
            const result = await validateConfig(writeConfig(JSON.stringify(config)));
            assert.equal(result.valid, false, `${label} should be rejected: ${result.raw}`);
            assert.ok(
                result.issues.some((i) => mentions.test(`${i.path} ${i.message}`)),
                `${label}: ${JSON.stringify(result.issues)}`,
            );
        });
    },
);

test(
    "tool policy: security audit has 0 critical for every policy; only full warns; elevated off, browser as configured",
    { timeout: 900_000 },
    async () => {
        for (const toolPolicy of TOOL_POLICIES) {
            const { findings, summary, raw } = await audit(`policy-${toolPolicy}`, {
                ...baseConfigInput(),
                memorySearch: { provider: "none", hasEmbeddingKey: false },
                toolPolicy,
                browser: { executablePath: "/usr/bin/chromium" },
            });
            assert.equal(summary.critical, 0, `${toolPolicy}: ${raw}`);
            const warned = findings.filter((f) => f.severity !== "info").map((f) => f.checkId);
            assert.deepEqual(warned, toolPolicy === "full" ? ["tools.exec.security_full_configured"] : [], `${toolPolicy}: ${raw}`);
            const surface = JSON.stringify(findings.find((f) => f.checkId === "summary.attack_surface") ?? {});
            assert.match(surface, /tools\.elevated: disabled/, `${toolPolicy}: ${surface}`);
            for (const value of Object.values(SENTINEL_SECRETS)) assert.ok(!raw.includes(value), "audit output leaks no secret");
        }
        const off = await audit("browser-off", { ...baseConfigInput(), memorySearch: { provider: "none", hasEmbeddingKey: false } });
        const surface = JSON.stringify(off.findings.find((f) => f.checkId === "summary.attack_surface") ?? {});
        assert.match(surface, /browser control: disabled/, surface);
    },
);
