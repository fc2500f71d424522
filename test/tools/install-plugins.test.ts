// cloud-init/install-plugins.sh with the real OpenClaw CLI and the real npm registry: it installs an official plugin
// package at an exact pin into the agent user's OpenClaw state (owned by that user, found by OpenClaw's own config
// validation), changes nothing on a second run, refuses unpinned specs, and fails when the deployed config still
// enables a plugin that is not installed. @openclaw/discord stands in for @openclaw/voyage-provider, which the
// registry these tests reach does not carry; both are official packages installed the same way.
import "../helpers/contract";
import { test, after, before, describe, it } from "node:test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { renderOpenclawConfig } from "../../components/render/openclaw-config";
import { PROJECT_ROOT, readOpenclawPin } from "../../components/core/pins";
import { assertNode24, baseConfigInput, run, tempDir } from "../helpers/openclaw-runtime";

assertNode24();
if (spawnSync("sh", ["-c", "command -v shellcheck && command -v runuser"]).status !== 0) {
    throw new Error("shellcheck and runuser are needed: apt-get install shellcheck util-linux");
}

const script = path.join(PROJECT_ROOT, "cloud-init", "install-plugins.sh");
const version = readOpenclawPin().version;
const spec = `@openclaw/discord@${version}`;
const AGENT = "nobody";
const root = tempDir("oc-plugins");
fs.chmodSync(root, 0o755);
const home = path.join(root, "home");
const stateDir = path.join(home, ".openclaw");
const bin = path.join(root, "bin");
const uid = Number(spawnSync("id", ["-u", AGENT], { encoding: "utf8" }).stdout.trim());

fs.mkdirSync(bin);
fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
// The agent user cannot enter /root, where the test's Node may live: give it its own link to the same binary.
try {
    fs.linkSync(process.execPath, path.join(bin, "node"));
} catch {
    fs.copyFileSync(process.execPath, path.join(bin, "node"));
    fs.chmodSync(path.join(bin, "node"), 0o755);
}
// The deployed config, as the push writes it: enables the plugin it needs.
const config = JSON.parse(
    renderOpenclawConfig({ ...baseConfigInput(), stateDir, memorySearch: { provider: "none", hasEmbeddingKey: false } }).json,
);
config.plugins = { entries: { discord: { enabled: true } } };
fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
spawnSync("chown", ["-R", `${AGENT}:`, home]);

const configHash = () =>
    crypto
        .createHash("sha256")
        .update(fs.readFileSync(path.join(stateDir, "openclaw.json")))
        .digest("hex");
const hashBefore = configHash();

function installPlugins(args: string[]) {
    // A deadline for a hang, not a performance bound: a cold npm install of a plugin takes 20-60 s, 300 s on a
    // machine loaded 15x; allow 20 minutes.
    return run("bash", [script, ...args], {
        timeoutMs: 1_200_000,
        env: {
            ...process.env,
            AGENT_USER: AGENT,
            AGENT_HOME: home,
            NODE_BIN: path.join(bin, "node"),
            OPENCLAW_BIN: path.join(PROJECT_ROOT, "node_modules", "openclaw", "openclaw.mjs"),
            PROVISION_ENV: "/nonexistent",
        },
    });
}

/** Every path below the plugin projects with its mtime: a rerun must not touch any of them. */
function snapshot(dir: string): string {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            out.push(`${p} ${fs.lstatSync(p).mtimeMs}`);
            if (e.isDirectory()) walk(p);
        }
    };
    walk(dir);
    return out.sort().join("\n");
}

test("install-plugins.sh passes shellcheck", () => {
    const result = spawnSync("shellcheck", [script], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout);
});

test("refuses unpinned specs and needs none to do nothing", async () => {
    for (const bad of ["@openclaw/discord", "@openclaw/discord@latest", "@openclaw/discord@^2026.9.0"]) {
        const result = await installPlugins([bad]);
        assert.notEqual(result.code, 0, bad);
        assert.match(result.stderr, /not an exact pin/, bad);
    }
    const nothing = await installPlugins([]);
    assert.equal(nothing.code, 0);
    assert.match(nothing.stderr, /nothing to do/);
    assert.ok(!fs.existsSync(path.join(stateDir, "npm")), "nothing installed so far");
});

test(
    "installs the pinned plugin as the agent user, where OpenClaw finds it, without touching the config",
    { timeout: 1_260_000 },
    async () => {
        const started = Date.now();
        const result = await installPlugins([spec]);
        console.log(`# first install took ${((Date.now() - started) / 1000).toFixed(1)} s`);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /every plugin the config enables is installed/);
        const manifests = fs
            .readdirSync(path.join(stateDir, "npm", "projects"))
            .map((p) => path.join(stateDir, "npm", "projects", p, "node_modules", "@openclaw", "discord", "package.json"))
            .filter((p) => fs.existsSync(p));
        assert.equal(manifests.length, 1);
        assert.equal(JSON.parse(fs.readFileSync(manifests[0], "utf8")).version, version, "pinned to the OpenClaw version");
        assert.equal(fs.statSync(manifests[0]).uid, uid, "owned by the agent user");
        assert.equal(configHash(), hashBefore, "the deployed config is not rewritten");
    },
);

test("a second run changes nothing", { timeout: 1_260_000 }, async () => {
    const before = snapshot(path.join(stateDir, "npm"));
    const result = await installPlugins([spec]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /already installed: unchanged/);
    assert.ok(snapshot(path.join(stateDir, "npm")) === before, "no file below ~/.openclaw/npm was touched");
    assert.equal(configHash(), hashBefore);
});

test("fails loudly when the deployed config enables a plugin that is not installed", { timeout: 1_260_000 }, async () => {
    config.plugins.entries.voyage = { enabled: true };
    fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
    spawnSync("chown", [`${AGENT}:`, path.join(stateDir, "openclaw.json")]);
    const result = await installPlugins([spec]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /not installed: plugins\.entries\.voyage/);
});

/**
 * The route when npm lacks the pinned version (as the registry reachable here lacks @openclaw/voyage-provider): a local
 * registry that answers 404 (or something else), and an `openclaw` stand-in that records how it is called and lays a
 * ClawHub install down where OpenClaw puts archive installs. ClawHub itself is not reachable here: what is proven is
 * that install-plugins.sh asks npm first and then calls OpenClaw's documented `clawhub:` route with the same pin.
 */
describe("the route when npm has no such version: ClawHub, pinned the same", () => {
    const home2 = path.join(root, "home2");
    const state2 = path.join(home2, ".openclaw");
    const stub = path.join(root, "openclaw-stub.mjs");
    const voyage = `@openclaw/voyage-provider@${version}`;
    let registry: http.Server;
    let answer = 404;
    const asked: string[] = [];

    before(async () => {
        fs.mkdirSync(state2, { recursive: true, mode: 0o700 });
        fs.writeFileSync(
            stub,
            [
                'import fs from "node:fs"; import path from "node:path";',
                "const state = process.env.OPENCLAW_STATE_DIR; const args = process.argv.slice(2);",
                'fs.appendFileSync(path.join(state, "stub-calls"), JSON.stringify(args) + "\\n");',
                'if (args[0] === "plugins" && args[1] === "install") {',
                '    const wanted = args[2].replace(/^clawhub:/, ""); const at = wanted.lastIndexOf("@");',
                "    const spec = wanted.slice(0, at); const version = wanted.slice(at + 1);",
                '    const dir = path.join(state, "extensions", spec.split("/").pop());',
                "    fs.mkdirSync(dir, { recursive: true });",
                '    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: spec, version }));',
                '} else if (args[0] === "config") {',
                "    process.stdout.write(JSON.stringify({ valid: true, warnings: [] }));",
                "}",
                "",
            ].join("\n"),
        );
        fs.chmodSync(root, 0o755);
        spawnSync("chown", ["-R", `${AGENT}:`, home2]);
        registry = http.createServer((req, res) => {
            asked.push(decodeURIComponent(req.url ?? ""));
            res.writeHead(answer, { "content-type": "application/json" });
            res.end(answer === 200 ? JSON.stringify({ name: "x", version }) : '{"error":"Not found"}');
        });
        await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
    });
    after(() => registry?.close());

    function installVia(args: string[]) {
        return run("bash", [script, ...args], {
            timeoutMs: 300_000,
            env: {
                ...process.env,
                AGENT_USER: AGENT,
                AGENT_HOME: home2,
                NODE_BIN: path.join(bin, "node"),
                OPENCLAW_BIN: stub,
                PROVISION_ENV: "/nonexistent",
                NPM_REGISTRY: `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`,
            },
        });
    }
    const calls = () =>
        fs
            .readFileSync(path.join(state2, "stub-calls"), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as string[]);

    it("asks npm for the exact version, and on a 404 installs clawhub:NAME@VERSION (no npm pin flag)", async () => {
        answer = 404;
        const result = await installVia([voyage]);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(asked, [`/@openclaw/voyage-provider/${version}`], "one lookup of that exact version");
        assert.deepEqual(calls()[0], ["plugins", "install", `clawhub:${voyage}`]);
        assert.match(result.stderr, new RegExp(`installing clawhub:${voyage.replace(/[.@/]/g, "\\$&")} \\(found: none; .* has no `));
        assert.match(result.stderr, /@openclaw\/voyage-provider \S+ installed/);
    });

    it("finds the ClawHub install again: a second run changes nothing", async () => {
        const before = calls().length;
        const result = await installVia([voyage]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /already installed: unchanged/);
        assert.equal(calls().length, before, "openclaw was not called again");
    });

    it("refuses to guess when npm answers neither 200 nor 404", async () => {
        answer = 503;
        const result = await installVia([`@openclaw/mistral-provider@${version}`]);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /answered 503 for @openclaw\/mistral-provider@\S+ \(not 200, not 404\): not installing it/);
    });
});

after(() => fs.rmSync(root, { recursive: true, force: true }));
