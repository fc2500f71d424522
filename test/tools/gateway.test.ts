// The real gateway of the pinned OpenClaw, started once with the rendered openclaw.json, the repo's workspace and a
// .env of sentinel secrets, as the host runs it (HOME with ~/.openclaw, OPENCLAW_CONFIG_READONLY=1), inside a private
// network namespace: it must listen on loopback only, get ready, refuse unauthenticated or wrongly authenticated
// HTTP and WebSocket clients, accept the right token (read from ~/.openclaw/.env by OpenClaw itself), leave the
// config and the operator's files untouched, and never show a secret in argv or logs.
import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { GATEWAY_AUTH_RATE_LIMIT, renderGatewayEnvFile, renderOpenclawConfig } from "../../components/render/openclaw-config";
import { heartbeatChecklist, workspaceFiles } from "../../components/render/workspace";
import { readOpenclawPin } from "../../components/core/pins";
import { assertNode24, baseConfigInput, openclawBin, run, SENTINEL_SECRETS, tempDir } from "../helpers/openclaw-runtime";

assertNode24();
for (const tool of ["ip", "unshare"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
        throw new Error(`${tool} is missing: apt-get install iproute2 util-linux`);
}

const PORT = 18789;
const root = tempDir("oc-gateway");
const home = path.join(root, "home");
const stateDir = path.join(home, ".openclaw");
const workspaceDir = path.join(stateDir, "workspace");
const configPath = path.join(stateDir, "openclaw.json");
const netns = `ocgw-${process.pid}`;
let gateway: ChildProcess | undefined;
let gatewayOutput = "";

const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Runs a command inside the test's network namespace. */
function inNetns(args: string[], env: NodeJS.ProcessEnv = {}) {
    return run("ip", ["netns", "exec", netns, "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args], { timeoutMs: 300_000 });
}

/** One HTTP request from inside the namespace (Node's fetch, so no curl is needed). */
async function httpInNetns(pathname: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const script = `fetch(${JSON.stringify(`http://127.0.0.1:${PORT}${pathname}`)}, ${JSON.stringify(init)})
        .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text(), retryAfter: r.headers.get("retry-after") })))
        .catch((e) => console.log(JSON.stringify({ status: 0, body: String(e) })));`;
    const result = await inNetns([process.execPath, "-e", script]);
    return JSON.parse(result.stdout.trim()) as { status: number; body: string; retryAfter?: string | null };
}

type HttpInit = { method?: string; headers?: Record<string, string>; body?: string };

/** Several requests one after another from one process inside the namespace (no process start between them). */
async function httpSequenceInNetns(pathname: string, inits: HttpInit[]) {
    const script = `(async () => {
        const out = [];
        for (const init of ${JSON.stringify(inits)}) {
            const r = await fetch(${JSON.stringify(`http://127.0.0.1:${PORT}${pathname}`)}, init);
            out.push({ status: r.status, body: await r.text(), retryAfter: r.headers.get("retry-after") });
        }
        console.log(JSON.stringify(out));
    })().catch((e) => { console.error(String(e)); process.exit(1); });`;
    const result = await inNetns([process.execPath, "-e", script]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout.trim()) as { status: number; body: string; retryAfter: string | null }[];
}

async function probe(token: string) {
    const probeHome = tempDir("oc-probe-home");
    const result = await inNetns([openclawBin(), "gateway", "probe", "--json", "--url", `ws://127.0.0.1:${PORT}`, "--token", token], {
        PATH: process.env.PATH ?? "",
        HOME: probeHome,
        NO_COLOR: "1",
    });
    fs.rmSync(probeHome, { recursive: true, force: true });
    return JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
}

/** Listening TCP sockets of the namespace, from /proc/net/tcp{,6} (state 0A = LISTEN). */
async function listeners(): Promise<{ address: string; port: number }[]> {
    const out: { address: string; port: number }[] = [];
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        const { stdout } = await inNetns(["cat", file]);
        for (const line of stdout.split("\n").slice(1)) {
            const fields = line.trim().split(/\s+/);
            if (fields.length < 4 || fields[3] !== "0A") continue;
            const [hexAddress, hexPort] = fields[1].split(":");
            out.push({ address: decodeAddress(hexAddress), port: parseInt(hexPort, 16) });
        }
    }
    return out;
}

function decodeAddress(hex: string): string {
    if (hex.length === 8) return Buffer.from(hex, "hex").reverse().join(".");
    // IPv6: four little-endian 32-bit words.
    const words = hex.match(/.{8}/g) ?? [];
    const bytes = Buffer.concat(words.map((w) => Buffer.from(w, "hex").reverse()));
    if (bytes.subarray(0, 12).equals(Buffer.from("00000000000000000000ffff", "hex"))) return `::ffff:${[...bytes.subarray(12)].join(".")}`;
    return (bytes.toString("hex").match(/.{4}/g) ?? [])
        .map((g) => g.replace(/^0+(?=.)/, ""))
        .join(":")
        .replace(/(^|:)0(:0)+(:|$)/, "::");
}

const isLoopback = (address: string) =>
    address === "127.0.0.1" ||
    address.startsWith("127.") ||
    address === "::1" ||
    address === "0:0:0:0:0:0:0:1" ||
    address.startsWith("::ffff:127.");

let configHashBefore = "";
const operatorFileHashes: Record<string, string> = {};

test(
    "setup: rendered config, workspace and .env in a temp HOME; the gateway starts in a private netns",
    { timeout: 1_200_000 },
    async () => {
        openclawBin();
        fs.mkdirSync(workspaceDir, { recursive: true, mode: 0o700 });
        fs.chmodSync(stateDir, 0o700);
        const rendered = renderOpenclawConfig({
            ...baseConfigInput(),
            auth: "token",
            port: PORT,
            stateDir,
            heartbeat: { checklist: heartbeatChecklist(), activeHours: { start: "08:00", end: "22:00" } },
            memorySearch: { provider: "none", hasEmbeddingKey: false },
        });
        assert.deepEqual(rendered.plugins, [], "keyword-only search needs no plugin, so the gateway needs no network");
        fs.writeFileSync(configPath, rendered.json, { mode: 0o600 });
        configHashBefore = sha256(configPath);
        const secrets: Record<string, string> = {};
        for (const name of rendered.env) secrets[name] = SENTINEL_SECRETS[name as keyof typeof SENTINEL_SECRETS];
        assert.deepEqual(Object.keys(secrets).sort(), ["ANTHROPIC_API_KEY", "OPENCLAW_GATEWAY_TOKEN"]);
        fs.writeFileSync(path.join(stateDir, ".env"), renderGatewayEnvFile(secrets), { mode: 0o600 });
        for (const file of workspaceFiles()) {
            fs.mkdirSync(path.dirname(path.join(workspaceDir, file.path)), { recursive: true });
            fs.writeFileSync(path.join(workspaceDir, file.path), file.content, { mode: file.mode });
            operatorFileHashes[file.path] = sha256(path.join(workspaceDir, file.path));
        }

        const add = spawnSync("ip", ["netns", "add", netns]);
        assert.equal(add.status, 0, `ip netns add: ${add.stderr}`);
        assert.equal((await inNetns(["ip", "link", "set", "lo", "up"])).code, 0);

        // Only PATH, HOME and the read-only switch: every secret must come from ~/.openclaw/.env via OpenClaw itself.
        const start = () => {
            const child = spawn(
                "ip",
                [
                    "netns",
                    "exec",
                    netns,
                    "env",
                    "-i",
                    `PATH=${process.env.PATH}`,
                    `HOME=${home}`,
                    "OPENCLAW_CONFIG_READONLY=1",
                    "NO_COLOR=1",
                    openclawBin(),
                    "gateway",
                    "run",
                ],
                { cwd: home, stdio: ["ignore", "pipe", "pipe"] },
            );
            child.stdout?.on("data", (d) => (gatewayOutput += d));
            child.stderr?.on("data", (d) => (gatewayOutput += d));
            return child;
        };
        gateway = start();
        const started = Date.now();
        let ready = { status: 0, body: "" };
        let restarts = 0;
        // The mechanism: poll until /readyz answers or the process has exited for good; no clock of our own (the test's
        // timeout only catches a hang). On a starved machine OpenClaw's own startup lease can time out (exit 78, which
        // the host's unit does not restart: README "The agent on the host"); this test starts it again, twice at most.
        for (;;) {
            if (gateway.exitCode !== null) {
                if (restarts >= 2) break;
                restarts++;
                gatewayOutput += `\n--- restart ${restarts} after exit ${gateway.exitCode} ---\n`;
                gateway = start();
            }
            ready = await httpInNetns("/readyz");
            if (ready.status === 200) break;
            await new Promise((r) => setTimeout(r, 500));
        }
        assert.equal(ready.status, 200, `gateway not ready (exit ${gateway.exitCode}):\n${gatewayOutput.slice(-4000)}`);
        console.log(`# gateway ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
);

test("it listens on loopback only", async () => {
    const sockets = await listeners();
    assert.ok(
        sockets.some((s) => s.port === PORT),
        `port ${PORT} is listening: ${JSON.stringify(sockets)}`,
    );
    const exposed = sockets.filter((s) => !isLoopback(s.address));
    assert.deepEqual(exposed, [], "no socket on a non-loopback or wildcard address");
});

test("health and readiness answer without credentials", async () => {
    const health = await httpInNetns("/healthz");
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).ok, true);
    assert.equal((await httpInNetns("/readyz")).status, 200);
});

test("the HTTP API refuses requests without or with a wrong token, and serves the right one", async () => {
    const body = JSON.stringify({ tool: "sessions_list", args: {} });
    const headers = { "content-type": "application/json" };
    const anonymous = await httpInNetns("/tools/invoke", { method: "POST", headers, body });
    assert.equal(anonymous.status, 401, anonymous.body);
    const wrong = await httpInNetns("/tools/invoke", { method: "POST", headers: { ...headers, authorization: "Bearer WRONG" }, body });
    assert.equal(wrong.status, 401, wrong.body);
    const right = await httpInNetns("/tools/invoke", {
        method: "POST",
        headers: { ...headers, authorization: `Bearer ${SENTINEL_SECRETS.OPENCLAW_GATEWAY_TOKEN}` },
        body,
    });
    assert.ok(right.status !== 401 && right.status !== 403 && right.status !== 0, `right token: ${right.status} ${right.body}`);
    // The OpenAI-compatible endpoints stay disabled.
    assert.equal((await httpInNetns("/v1/chat/completions", { method: "POST", headers, body: "{}" })).status, 404);
});

test("the failed-auth limiter keys on the tunnel's client (X-Forwarded-For from the trusted local proxy): 429 after the limit", async () => {
    // What cloudflared sends: the request comes from 127.0.0.1 with the visitor's address appended to X-Forwarded-For.
    const headers = (client: string, token = "WRONG-token-0000000000000000") => ({
        "content-type": "application/json",
        "x-forwarded-for": client,
        authorization: `Bearer ${token}`,
    });
    const body = JSON.stringify({ tool: "sessions_list", args: {} });
    const attempt = (client: string): HttpInit => ({ method: "POST", headers: headers(client), body });
    const { maxAttempts, windowMs } = GATEWAY_AUTH_RATE_LIMIT;
    // All attempts from one process, back to back: the limit counts failures within windowMs (a minute), which
    // eleven requests stay far inside even at a 10x slowdown.
    const replies = await httpSequenceInNetns("/tools/invoke", [
        ...Array.from({ length: maxAttempts + 1 }, () => attempt("203.0.113.5")),
        // A client cannot step around its lockout by prepending addresses: the chain is read from the right, where
        // Cloudflare appends the address it saw.
        attempt("198.51.100.7, 203.0.113.5"),
        // Buckets are per client: another visitor is still judged on its token.
        attempt("203.0.113.6"),
    ]);
    assert.ok(windowMs >= 60_000);
    const statuses = replies.map((r) => r.status);
    assert.deepEqual(statuses.slice(0, maxAttempts), Array(maxAttempts).fill(401), `every failure up to the limit is a 401: ${statuses}`);
    const locked = replies[maxAttempts]!;
    assert.equal(locked.status, 429, `attempt ${maxAttempts + 1}: ${locked.status} ${locked.body}`);
    assert.match(locked.body, /rate_limited/);
    assert.ok(Number(locked.retryAfter) > 0, `Retry-After: ${locked.retryAfter}`);
    assert.equal(replies[maxAttempts + 1]!.status, 429, "a forged left-hand X-Forwarded-For escaped the lockout");
    assert.equal(replies[maxAttempts + 2]!.status, 401, "another client was locked out too");
    // A local CLI (no proxy headers) is keyed on loopback, which stays exempt.
    const local = await httpInNetns("/tools/invoke", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer WRONG" },
        body,
    });
    assert.equal(local.status, 401, local.body);
});

test("a WebSocket connect with a wrong token is refused; the token from ~/.openclaw/.env is accepted", { timeout: 300_000 }, async () => {
    const wrong = await probe("WRONG");
    const wrongTarget = wrong.targets[0];
    assert.equal(wrongTarget.connect.rpcOk, false);
    assert.match(String(wrongTarget.connect.error), /unauthorized/);
    assert.equal(wrongTarget.auth.role, null);

    const right = await probe(SENTINEL_SECRETS.OPENCLAW_GATEWAY_TOKEN);
    const rightTarget = right.targets[0];
    assert.equal(rightTarget.connect.ok, true);
    assert.doesNotMatch(String(rightTarget.connect.error ?? ""), /unauthorized/);
    assert.equal(rightTarget.auth.role, "operator");
    assert.equal(rightTarget.server.version, readOpenclawPin().version);
});

test("runtime leaves the read-only config and the operator's files alone, adds no bootstrap files, logs in the state dir", () => {
    assert.equal(sha256(configPath), configHashBefore, "openclaw.json unchanged");
    for (const [file, hash] of Object.entries(operatorFileHashes)) assert.equal(sha256(path.join(workspaceDir, file)), hash, file);
    for (const starter of ["BOOTSTRAP.md", "TOOLS.md", "HEARTBEAT.md"])
        assert.ok(!fs.existsSync(path.join(workspaceDir, starter)), starter);
    assert.ok(fs.existsSync(path.join(stateDir, "logs", "openclaw.log")), "log file below the state dir");
});

test("no secret in the gateway's argv, output or log file; memory use", async () => {
    const pid = gateway?.pid;
    assert.ok(pid);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const logs = gatewayOutput + fs.readFileSync(path.join(stateDir, "logs", "openclaw.log"), "utf8");
    for (const value of Object.values(SENTINEL_SECRETS)) {
        assert.ok(!cmdline.includes(value), "argv");
        assert.ok(!logs.includes(value), "logs");
    }
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    console.log(`# gateway RSS ${(rssKb / 1024).toFixed(0)} MB`);
    assert.ok(rssKb > 0);
});

after(async () => {
    if (gateway && gateway.exitCode === null) {
        const exited = new Promise((resolve) => gateway?.once("exit", resolve));
        gateway.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (gateway.exitCode === null) gateway.kill("SIGKILL");
    }
    spawnSync("ip", ["netns", "del", netns]);
    fs.rmSync(root, { recursive: true, force: true });
});
