// `npm run try` as a user runs it: the script comes up on a stand-in server under its detached supervisor, the SSH
// forward it prints (opened with the real `ssh` client, host key checked against what it pinned) reaches the gateway's
// /readyz, the gateway goes out only through the egress proxy and only to the LLM's API, a second run and --status
// find it, and --stop leaves no namespace, mount, process, instance directory or run file behind. Plus the fast
// parts: the missing-prerequisites message (nothing is created) and the egress proxy's allowlist.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createServer, connect, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PROJECT_ROOT } from "../../components/core/pins";
import { llmKeyFromEnvironment, tryStateDir } from "../../scripts/try";
import { EGRESS_DROP_IN_PATH, RECORDING_CLOUDFLARED, renderEgressDropIn } from "../../standin/deploy";
import { createEgressProxy } from "../../standin/egress-proxy";
import { checkPrerequisites, describeMissing, findTool, STANDIN_TOOLS } from "../../standin/prerequisites";
import { cacheDir, isAlive, run, startTime } from "../../standin/process";

const TRY_SCRIPT = join(PROJECT_ROOT, "scripts", "try.ts");
/** The pinned OpenClaw's CLI on this machine: a client of the gateway, as a laptop's would be. */
const OPENCLAW_CLI = join(PROJECT_ROOT, "node_modules", ".bin", "openclaw");
/** A key shaped like Anthropic's: it must reach the container's .env, and never any output or log. */
const LLM_KEY_SENTINEL = "sk-ant-TRYTEST-sentinel-llm-key-5e1f0c3a9b";

interface CliRun {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** `npm run try -- ARGS` as a child process (tsx, as the npm script runs it), with `env` as its whole environment. */
function runTry(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 10 * 60_000): Promise<CliRun> {
    return new Promise((resolveRun, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", TRY_SCRIPT, ...args], {
            cwd: PROJECT_ROOT,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs); // SIGINT: it stops its stand-in on the way out
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolveRun({ code, stdout, stderr });
        });
    });
}

function listen(server: Server): Promise<number> {
    return new Promise((resolvePort) => server.listen(0, "127.0.0.1", () => resolvePort((server.address() as AddressInfo).port)));
}

/** Sends CONNECT for `target` through the proxy and returns everything it answers until it closes. */
function connectThrough(proxyPort: number, target: string): Promise<string> {
    return new Promise((resolveReply, reject) => {
        const socket = connect({ host: "127.0.0.1", port: proxyPort }, () =>
            socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`),
        );
        let reply = "";
        socket.on("data", (chunk: Buffer) => (reply += chunk.toString()));
        socket.on("error", reject);
        socket.on("close", () => resolveReply(reply));
    });
}

async function freePort(): Promise<number> {
    const server = createServer();
    const port = await listen(server);
    await new Promise((done) => server.close(done));
    return port;
}

describe("npm run try: before anything is created", () => {
    it("names every missing tool with its package and the install command, and creates nothing", async () => {
        // A PATH that has a few of the tools (ip, ssh-keygen) but not systemd-nspawn or debootstrap.
        const bin = mkdtempSync(join(tmpdir(), "try-path-"));
        const cache = mkdtempSync(join(tmpdir(), "try-cache-"));
        try {
            for (const tool of ["ip", "ssh-keygen"]) symlinkSync(findTool(tool)!, join(bin, tool));
            const result = await runTry([], { PATH: bin, HOME: tmpdir(), OPENCLAW_VPS_CACHE: cache }, 120_000);
            assert.equal(result.code, 2, result.stdout + result.stderr);
            assert.match(result.stderr, /^npm run try needs what this machine lacks:$/m);
            assert.match(result.stderr, /^ {2}- systemd-nspawn \(Debian\/Ubuntu package systemd-container\)$/m);
            assert.match(result.stderr, /^ {2}- debootstrap \(Debian\/Ubuntu package debootstrap\)$/m);
            assert.match(result.stderr, /^ {2}sudo apt-get install .*\bsystemd-container\b/m);
            assert.match(result.stderr, /^ {2}sudo apt-get install .*\bdebootstrap\b/m);
            assert.doesNotMatch(result.stderr, /- (ip|ssh-keygen) \(/, "a tool that is there is reported missing");
            assert.deepEqual(readdirSync(cache), [], "it created something before saying what is missing");
        } finally {
            rmSync(bin, { recursive: true, force: true });
            rmSync(cache, { recursive: true, force: true });
        }
    });

    it("says root is needed, and how to run it as root with this PATH", () => {
        const check = checkPrerequisites(STANDIN_TOOLS, { uid: 1000 });
        assert.equal(check.needsRoot, true);
        const message = describeMissing(check, "npm run try", "npm run try") ?? "";
        assert.match(message, /- root \(it creates network namespaces, mounts and containers\)/);
        assert.match(message, /sudo env "PATH=\$PATH" npm run try/);
        assert.equal(describeMissing(checkPrerequisites({}, { uid: 0 }), "npm run try"), undefined);
    });

    it("takes the LLM key from OPENCLAW_VPS_LLM_API_KEY, else the provider's own variable, else none", () => {
        assert.deepEqual(llmKeyFromEnvironment("anthropic", { ANTHROPIC_API_KEY: "a" }), {
            key: "a",
            from: "ANTHROPIC_API_KEY",
            names: ["OPENCLAW_VPS_LLM_API_KEY", "ANTHROPIC_API_KEY"],
        });
        assert.equal(
            llmKeyFromEnvironment("openai", { OPENAI_API_KEY: "o", OPENCLAW_VPS_LLM_API_KEY: "v" }).from,
            "OPENCLAW_VPS_LLM_API_KEY",
        );
        assert.equal(llmKeyFromEnvironment("anthropic", { OPENAI_API_KEY: "o", ANTHROPIC_API_KEY: " " }).key, undefined);
        assert.equal(tryStateDir({ OPENCLAW_VPS_CACHE: "/c" }), "/c/try");
        assert.equal(tryStateDir({ OPENCLAW_VPS_TRY_DIR: "/t", OPENCLAW_VPS_CACHE: "/c" }), "/t");
    });
});

describe("the stand-in's egress proxy", () => {
    it("tunnels CONNECT to an allowed host:port, refuses every other target and plain HTTP", async () => {
        const upstream = createServer((socket) => socket.end("hello from upstream\n"));
        const upstreamPort = await listen(upstream);
        const proxy = createEgressProxy([`127.0.0.1:${upstreamPort}`]);
        const proxyPort = await new Promise<number>((done) =>
            proxy.listen(0, "127.0.0.1", () => done((proxy.address() as AddressInfo).port)),
        );
        try {
            const tunnelled = await connectThrough(proxyPort, `127.0.0.1:${upstreamPort}`);
            assert.match(tunnelled, /^HTTP\/1\.1 200 Connection Established\r\n\r\nhello from upstream\n$/);
            const otherPort = await connectThrough(proxyPort, `127.0.0.1:${upstreamPort + 1}`);
            assert.match(otherPort, /^HTTP\/1\.1 403 /);
            const otherHost = await connectThrough(proxyPort, "registry.npmjs.org:443");
            assert.match(otherHost, /^HTTP\/1\.1 403 /);
            const plain = await fetch(`http://127.0.0.1:${proxyPort}/`);
            assert.equal(plain.status, 405);
            await plain.body?.cancel();
        } finally {
            proxy.close();
            upstream.close();
        }
    });
});

describe("npm run try end to end", { timeout: 45 * 60_000 }, () => {
    const stateDir = join(cacheDir(), `try-test-${process.pid}`);
    const env: NodeJS.ProcessEnv = { ...process.env, OPENCLAW_VPS_TRY_DIR: stateDir, ANTHROPIC_API_KEY: LLM_KEY_SENTINEL };
    delete env.OPENCLAW_VPS_LLM_API_KEY;
    let first: CliRun;
    let forward: ChildProcess | undefined;

    /** The printed command that starts with `ssh ` and contains `marker`, as argv. */
    function printedCommand(output: string, marker: string): string[] {
        const line = output
            .split("\n")
            .map((l) => l.trim())
            .find((l) => l.startsWith("ssh ") && l.includes(marker));
        assert.ok(line, `no printed ssh command with ${marker}:\n${output}`);
        return line.split(/\s+/);
    }

    before(async () => {
        first = await runTry([], env, 40 * 60_000);
    });

    after(async () => {
        forward?.kill();
        await runTry(["--stop"], env, 5 * 60_000);
        rmSync(stateDir, { recursive: true, force: true });
    });

    it("comes up, showing each step as it happens, and prints how to reach the gateway", () => {
        assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
        const out = first.stdout;
        for (const step of [
            /^- image: /m,
            /^- boot: running; its sshd is forwarded to 127\.0\.0\.1:\d+$/m,
            /^- provision: step 1\/\d+ \w+: start$/m,
            /^- provision: provisioning done in \d+ s$/m,
            /^- cloud-init: done after \d+ s$/m,
            /^- wait: /m,
            /^ {2}wait \| wait-provisioned: provisioning done/m,
            /^- push: /m,
            /^ {2}push \| /m,
            /^- gateway: ready/m,
        ]) {
            assert.match(out, step);
        }
        assert.match(out, /^LLM key: from ANTHROPIC_API_KEY; the container may reach api\.anthropic\.com:443 \(only\)/m);
        assert.match(out, /^Then open http:\/\/127\.0\.0\.1:18789\/ and paste the gateway token:$/m);
        const token = readFileSync(join(stateDir, "gateway-token"), "utf8").trim();
        assert.match(token, /^[0-9a-f]{48}$/);
        assert.ok(out.includes(`\n  ${token}\n`), "the gateway token is not printed");
        assert.equal(statSync(join(stateDir, "gateway-token")).mode & 0o777, 0o600);
        assert.match(out, /npm run try -- --stop/);
    });

    it("never prints or logs the LLM key", () => {
        const logs = ["supervisor.log", "events.jsonl"].map((name) => readFileSync(join(stateDir, name), "utf8")).join("\n");
        for (const [where, text] of [
            ["its output", first.stdout + first.stderr],
            ["the supervisor's log and events", logs],
        ]) {
            assert.ok(!text!.includes(LLM_KEY_SENTINEL), `the LLM key appears in ${where}`);
        }
    });

    it("the printed SSH forward, opened with ssh, pinned host key and all, reaches the gateway's /readyz", async () => {
        const argv = printedCommand(first.stdout, " -L ");
        const local = await freePort();
        const at = argv.indexOf("-L");
        argv[at + 1] = argv[at + 1]!.replace(/^\d+:/, `${local}:`);
        // BatchMode: fail instead of asking; ExitOnForwardFailure: a forward that cannot listen is an error, not a hang.
        forward = spawn(argv[0]!, ["-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", ...argv.slice(1)], {
            stdio: ["ignore", "ignore", "pipe"],
        });
        let sshErrors = "";
        forward.stderr!.on("data", (chunk: Buffer) => (sshErrors += chunk.toString()));
        let status = 0;
        const deadline = Date.now() + 90_000; // a guard against a hang, not a speed requirement
        while (status !== 200 && Date.now() < deadline && forward.exitCode === null) {
            status = await fetch(`http://127.0.0.1:${local}/readyz`, { signal: AbortSignal.timeout(5_000) })
                .then(async (response) => {
                    await response.body?.cancel();
                    return response.status;
                })
                .catch(() => 0);
            if (status !== 200) await new Promise((resolveWait) => setTimeout(resolveWait, 500));
        }
        assert.equal(status, 200, `GET /readyz through the forward: ${status}; ssh: ${sshErrors}`);
        // The Control UI is what the URL opens.
        const page = await fetch(`http://127.0.0.1:${local}/`, { signal: AbortSignal.timeout(10_000) });
        assert.equal(page.status, 200);
        assert.match(page.headers.get("content-type") ?? "", /text\/html/);
        await page.body?.cancel();
        // The printed token is the gateway's: the pinned OpenClaw's own client gets in with it, and not without it.
        const token = readFileSync(join(stateDir, "gateway-token"), "utf8").trim();
        const home = mkdtempSync(join(tmpdir(), "try-client-"));
        try {
            const client = (withToken: string) =>
                run(OPENCLAW_CLI, ["gateway", "health", "--url", `ws://127.0.0.1:${local}`, "--token", withToken, "--json"], {
                    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, NO_COLOR: "1" },
                    allowFailure: true,
                    timeoutMs: 120_000,
                });
            const healthy = await client(token);
            assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
            assert.equal((JSON.parse(healthy.stdout) as { ok: boolean }).ok, true);
            const refused = await client("0".repeat(48));
            assert.notEqual(refused.code, 0);
            assert.match(refused.stdout + refused.stderr, /token mismatch/);
        } finally {
            rmSync(home, { recursive: true, force: true });
        }
        forward.kill();
    });

    /** A command on the server through the printed SSH command (as the admin user). */
    function remote(command: string) {
        const ssh = printedCommand(first.stdout, "ops@127.0.0.1");
        return run(ssh[0]!, ["-o", "BatchMode=yes", ...ssh.slice(1), command], { timeoutMs: 60_000, allowFailure: true });
    }

    it("puts the stand-in's pieces in place whole: the READY-reporting cloudflared and the gateway's egress drop-in", async () => {
        const cloudflared = await remote("sudo -n cat /usr/bin/cloudflared; sudo -n systemctl is-active cloudflared.service");
        assert.equal(cloudflared.stdout, `${RECORDING_CLOUDFLARED}active\n`);
        const dropIn = await remote(`sudo -n stat -c '%U:%G %a' ${EGRESS_DROP_IN_PATH} && sudo -n cat ${EGRESS_DROP_IN_PATH}`);
        assert.equal(dropIn.stdout, `root:root 644\n${renderEgressDropIn()}`);
    });

    it("sends the gateway through the egress proxy, which lets it reach the LLM's API and nothing else", async () => {
        const mainPid = (await remote("sudo -n systemctl show -p MainPID --value openclaw-gateway.service")).stdout.trim();
        assert.match(mainPid, /^[1-9]\d*$/);
        const environ = (
            await remote(`sudo -n cat /proc/${mainPid}/environ | tr '\\0' '\\n' | grep -E '^(HTTPS_PROXY|NODE_USE_ENV_PROXY|NO_PROXY)='`)
        ).stdout;
        assert.match(environ, /^HTTPS_PROXY=http:\/\/10\.77\.0\.1:3128$/m);
        assert.match(environ, /^NODE_USE_ENV_PROXY=1$/m);
        assert.match(environ, /^NO_PROXY=localhost,127\.0\.0\.1,::1$/m);
        const through = (target: string) =>
            remote(`curl -s -o /dev/null -m 20 -w '%{http_connect}' -p -x http://10.77.0.1:3128 https://${target}/`);
        assert.equal((await through("registry.npmjs.org")).stdout, "403", "the proxy tunnelled to a host that is not the LLM's");
        // The LLM's API is let through (200), or tried and unreachable from here (502): never refused.
        assert.match((await through("api.anthropic.com")).stdout, /^(200|502)$/);
    });

    it("a second npm run try and --status find it running and print the same connection", async () => {
        const second = await runTry([], env);
        assert.equal(second.code, 0, second.stdout + second.stderr);
        assert.match(second.stdout, /^A stand-in is already running \(supervisor pid \d+/m);
        assert.deepEqual(printedCommand(second.stdout, " -L "), printedCommand(first.stdout, " -L "));
        const token = readFileSync(join(stateDir, "gateway-token"), "utf8").trim();
        assert.ok(second.stdout.includes(`\n  ${token}\n`));
        const status = await runTry(["--status"], env);
        assert.equal(status.code, 0, status.stdout + status.stderr);
        assert.match(status.stdout, /^A stand-in is running \(supervisor pid \d+/m);
    });

    it("--stop removes the server and everything it made", async () => {
        const supervisor = JSON.parse(readFileSync(join(stateDir, "supervisor.json"), "utf8")) as { pid: number; start: string };
        const ready = readFileSync(join(stateDir, "events.jsonl"), "utf8")
            .split("\n")
            .filter(Boolean)
            .map((line) => JSON.parse(line) as { kind: string; netns?: string; instanceDir?: string; socketDir?: string })
            .find((event) => event.kind === "ready");
        assert.ok(ready?.netns && ready.instanceDir && ready.socketDir, "no ready event with the instance's namespace and directories");
        assert.ok((await run("ip", ["netns", "list"])).stdout.includes(ready.netns), "the running stand-in has no namespace");

        const stopped = await runTry(["--stop"], env);
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        // Stopped by its own teardown on SIGTERM, not killed.
        assert.match(stopped.stdout, /^Stopped the stand-in \(supervisor pid \d+\)\.$/m);

        assert.ok(!(isAlive(supervisor.pid) && startTime(supervisor.pid) === supervisor.start), "the supervisor still runs");
        const namespaces = (await run("ip", ["netns", "list"])).stdout;
        assert.ok(!namespaces.includes(`ocvps-${supervisor.pid}-`), `a namespace of the supervisor is left:\n${namespaces}`);
        assert.ok(!existsSync(ready.instanceDir), `${ready.instanceDir} is left`);
        assert.ok(!existsSync(ready.socketDir), `${ready.socketDir} is left`);
        // nspawn names the instance directory in its argv, the forwarder its sockets: neither may still run.
        const leftovers = readdirSync("/proc")
            .filter((entry) => /^\d+$/.test(entry))
            .filter((pid) => {
                try {
                    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8");
                    return argv.includes(ready.instanceDir!) || argv.includes(ready.socketDir!) || argv.includes(stateDir);
                } catch {
                    return false; // gone meanwhile
                }
            });
        assert.deepEqual(leftovers, [], "processes of the stand-in are left");
        const mounts = readFileSync("/proc/self/mountinfo", "utf8")
            .split("\n")
            .map((line) => line.split(" ")[4] ?? "");
        assert.deepEqual(
            mounts.filter((path) => path.startsWith(ready.instanceDir!) || path.startsWith(stateDir)),
            [],
            "mounts are left",
        );
        for (const file of [
            "admin_ed25519",
            "admin_ed25519.pub",
            "known_hosts",
            "gateway-token",
            "connection.json",
            "supervisor.json",
            "bucket",
        ]) {
            assert.ok(!existsSync(join(stateDir, file)), `${file} is left in the state directory`);
        }
        const status = await runTry(["--status"], env);
        assert.equal(status.code, 3, status.stdout + status.stderr);
        assert.match(status.stdout, /^No stand-in is running/m);
    });
});
