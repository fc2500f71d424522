// Test utilities of the push: a REAL sshd on loopback inside a private mount namespace (throwaway host and client
// keys, temporary /etc/passwd, /etc/group, /etc/shadow and /etc/sudoers.d with an `ops` admin that has NOPASSWD sudo
// and an `openclaw` agent user), so the push runs exactly as in production (`sudo -n bash -s` over SSH) without
// altering this machine; recording stand-ins for systemctl/loginctl/journalctl; a tiny /readyz responder.
import { readClawhubPin } from "../../components/core/pins";
import "./contract";
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { RemoteHost } from "../../components/remote";
import { renderGatewayUnit } from "../../components/render/gateway-unit";
import { HostBundleInput } from "../../components/render/host-bundle";
import { EXAMPLE_BACKUP_RECIPIENT } from "../../scripts/lib/setup";

export const ADMIN_USER = "ops";
export const AGENT_USER = "openclaw";

export interface SshdSandbox {
    dir: string;
    port: number;
    clientKey: string;
    /** `ssh-ed25519 AAAA...` line of the sandbox's host key. */
    hostPublicKey: string;
    adminUid: number;
    agentUid: number;
    /** sshd's own log (stderr of `sshd -D -e`). */
    sshdLog(): string;
    stop(): Promise<void>;
}

function run(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.error) throw new Error(`${cmd} is missing (${r.error.message}); install it (see README, test tools)`);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
}

export function requireTools(tools: string[]): void {
    const missing = tools.filter((t) => spawnSync("bash", ["-c", `command -v ${t}`]).status !== 0 && !fs.existsSync(t));
    if (missing.length)
        throw new Error(`missing tools for this test: ${missing.join(", ")} (apt-get install openssh-server sudo util-linux curl)`);
    if (process.getuid?.() !== 0) throw new Error("this test needs root (mount namespaces, sshd, other users' files)");
}

/** A uid/gid free in both the real passwd and group databases. */
function freeIds(count: number): number[] {
    const used = new Set<number>();
    for (const f of ["/etc/passwd", "/etc/group"]) {
        for (const line of fs.readFileSync(f, "utf8").split("\n")) {
            const id = Number(line.split(":")[2]);
            if (Number.isInteger(id)) used.add(id);
        }
    }
    const ids: number[] = [];
    for (let id = 4701; ids.length < count; id++) if (!used.has(id)) ids.push(id);
    return ids;
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as net.AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}):\n${log()}`);
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, "127.0.0.1");
            s.once("connect", () => (s.destroy(), resolve(true)));
            s.once("error", () => resolve(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sshd did not listen on 127.0.0.1:${port}:\n${log()}`);
}

/** `sshdConfig`: more sshd_config lines (e.g. `MaxSessions 1`). */
export async function startSshdSandbox(sshdConfig: readonly string[] = []): Promise<SshdSandbox> {
    requireTools(["/usr/sbin/sshd", "ssh-keygen", "unshare", "sudo", "setpriv", "curl"]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-push-"));
    fs.chmodSync(dir, 0o755); // the agent user must reach its home inside the apply root below
    const [adminUid, agentUid] = freeIds(2);
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key")]);

    const etc = path.join(dir, "etc");
    fs.mkdirSync(path.join(etc, "sudoers.d"), { recursive: true });
    const adminHome = path.join(dir, "home", ADMIN_USER);
    fs.mkdirSync(adminHome, { recursive: true });
    fs.chownSync(adminHome, adminUid, adminUid);
    fs.writeFileSync(
        path.join(etc, "passwd"),
        fs.readFileSync("/etc/passwd", "utf8") +
            `${ADMIN_USER}:x:${adminUid}:${adminUid}::${adminHome}:/bin/bash\n` +
            `${AGENT_USER}:x:${agentUid}:${agentUid}::/home/${AGENT_USER}:/usr/sbin/nologin\n`,
    );
    fs.writeFileSync(
        path.join(etc, "group"),
        fs.readFileSync("/etc/group", "utf8") + `${ADMIN_USER}:x:${adminUid}:\n${AGENT_USER}:x:${agentUid}:\n`,
    );
    // `*` = no password but not locked (sshd without PAM refuses locked `!` accounts even for keys).
    fs.writeFileSync(
        path.join(etc, "shadow"),
        fs.readFileSync("/etc/shadow", "utf8") + `${ADMIN_USER}:*:19000:0:99999:7:::\n${AGENT_USER}:*:19000:0:99999:7:::\n`,
        { mode: 0o640 },
    );
    fs.writeFileSync(path.join(etc, "sudoers.d", ADMIN_USER), `${ADMIN_USER} ALL=(ALL) NOPASSWD:ALL\n`, { mode: 0o440 });
    const keys = path.join(dir, "authorized_keys");
    fs.mkdirSync(keys);
    fs.writeFileSync(path.join(keys, ADMIN_USER), fs.readFileSync(path.join(dir, "client_key.pub")));

    const port = await freePort();
    const config = path.join(dir, "sshd_config");
    fs.writeFileSync(
        config,
        [
            `Port ${port}`,
            "ListenAddress 127.0.0.1",
            `HostKey ${path.join(dir, "host_key")}`,
            `PidFile ${path.join(dir, "sshd.pid")}`,
            `AuthorizedKeysFile ${keys}/%u`,
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin no",
            `AllowUsers ${ADMIN_USER}`,
            "LogLevel VERBOSE",
            ...sshdConfig,
            "",
        ].join("\n"),
    );
    // Everything below exists only in the new mount namespace: a private /run (sshd's privilege separation dir, sudo's
    // timestamps) and the temporary user databases.
    const setup = [
        "set -euo pipefail",
        "mount -t tmpfs -o mode=0755 tmpfs /run",
        "mkdir -p /run/sshd && chmod 0755 /run/sshd",
        ...["passwd", "group", "shadow"].map((f) => `mount --bind ${etc}/${f} /etc/${f}`),
        `mount --bind ${etc}/sudoers.d /etc/sudoers.d`,
        `exec /usr/sbin/sshd -D -e -f ${config}`,
    ].join("\n");
    let log = "";
    const child = spawn("unshare", ["--mount", "--propagation", "private", "bash", "-c", setup], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    await waitForPort(port, child, () => log);

    return {
        dir,
        port,
        clientKey: fs.readFileSync(path.join(dir, "client_key"), "utf8"),
        hostPublicKey: fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").trim(),
        adminUid,
        agentUid,
        sshdLog: () => log,
        stop: async () => {
            if (child.exitCode === null) {
                const exited = new Promise((r) => child.once("exit", r));
                child.kill("SIGTERM");
                await exited;
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** The admin's SSH connection to the sandbox's sshd, checking its host key (or the given fingerprints instead). */
export function connectToSandbox(sandbox: SshdSandbox, hostKey: string[] = [sandbox.hostPublicKey]): Promise<RemoteHost> {
    return RemoteHost.connect({ host: "127.0.0.1", port: sandbox.port, username: ADMIN_USER, privateKey: sandbox.clientKey, hostKey });
}

/**
 * Recording stand-ins for systemctl, loginctl and journalctl (real services are proven on the stand-in VPS). Every
 * call is appended to `calls.log` as `<user> <command> <args>`; systemctl keeps the set of active units so
 * `is-active` answers like the real one after start/restart.
 */
export function writeStandInTools(dir: string): {
    bin: string;
    calls(): string[];
    reset(): void;
    crashOnStart(scopedUnit: string): () => void;
} {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const calls = path.join(dir, "calls.log");
    const active = path.join(dir, "active-units");
    for (const f of [calls, active]) fs.writeFileSync(f, "", { mode: 0o666 });
    fs.chmodSync(calls, 0o666);
    fs.chmodSync(active, 0o666);
    fs.writeFileSync(
        path.join(bin, "systemctl"),
        `#!/usr/bin/env bash
set -euo pipefail
printf '%s systemctl %s\\n' "$(id -un)" "$*" >>${calls}
scope=system unit="" verb=""
for arg in "$@"; do
    case $arg in
        --user) scope=user ;;
        --*) ;;
        *) if [[ -z $verb ]]; then verb=$arg; else unit=$arg; fi ;;
    esac
done
case $verb in
    is-active) grep -qx "$scope:$unit" ${active} ;;
    is-failed) grep -qx "crashing:$scope:$unit" ${active} ;;
    start|restart) grep -qx "$scope:$unit" ${active} || echo "$scope:$unit" >>${active} ;;
    enable|daemon-reload) ;;
    disable) rest=$(grep -vx "$scope:$unit" ${active} || true); if [[ -n $rest ]]; then printf '%s\\n' "$rest" >${active}; else : >${active}; fi ;;
    is-system-running) echo running ;;
    *) echo "stand-in systemctl: unexpected $verb" >&2; exit 2 ;;
esac
`,
        { mode: 0o755 },
    );
    // disable-linger removes the flag file, as logind does (under the push's OPENCLAW_VPS_ROOT).
    fs.writeFileSync(
        path.join(bin, "loginctl"),
        `#!/usr/bin/env bash\nprintf '%s loginctl %s\\n' "$(id -un)" "$*" >>${calls}\n` +
            `if [[ $1 == disable-linger ]]; then rm -f -- "\${OPENCLAW_VPS_ROOT:-}/var/lib/systemd/linger/$2"; fi\n`,
        { mode: 0o755 },
    );
    fs.writeFileSync(
        path.join(bin, "journalctl"),
        `#!/usr/bin/env bash\nprintf '%s journalctl %s\\n' "$(id -un)" "$*" >>${calls}\nfor i in $(seq 1 40); do echo "gateway journal line $i"; done\n`,
        { mode: 0o755 },
    );
    return {
        bin,
        calls: () => fs.readFileSync(calls, "utf8").split("\n").filter(Boolean),
        reset: () => fs.writeFileSync(calls, ""),
        /** e.g. "user:openclaw-gateway.service": from now on `is-failed` says yes (a unit that exits 78 on start). */
        crashOnStart: (scopedUnit) => {
            fs.appendFileSync(active, `crashing:${scopedUnit}\n`);
            return () => fs.writeFileSync(active, fs.readFileSync(active, "utf8").replace(`crashing:${scopedUnit}\n`, ""));
        },
    };
}

/** A loopback HTTP responder for /readyz whose status the test sets. */
export async function startReadyz(): Promise<{ port: number; setStatus(code: number): void; hits(): number; close(): Promise<void> }> {
    let status = 200;
    let hits = 0;
    const server = http.createServer((req, res) => {
        hits++;
        res.writeHead(req.url === "/readyz" ? status : 404, { "content-type": "application/json" });
        res.end(JSON.stringify({ ready: status === 200 }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        setStatus: (code) => (status = code),
        hits: () => hits,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

/** owner:group, octal mode, inode and mtime of a path, for "nothing changed" assertions. */
export function fileStat(p: string): { owner: string; mode: string; ino: number; mtimeMs: number } {
    const st = fs.lstatSync(p);
    return { owner: `${st.uid}:${st.gid}`, mode: (st.mode & 0o7777).toString(8).padStart(4, "0"), ino: st.ino, mtimeMs: st.mtimeMs };
}

/** Every path under `root` with its fileStat, for before/after comparisons. */
export function treeStat(root: string): Record<string, ReturnType<typeof fileStat>> {
    const out: Record<string, ReturnType<typeof fileStat>> = {};
    const walk = (p: string) => {
        out[path.relative(root, p) || "."] = fileStat(p);
        if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    };
    walk(root);
    return out;
}

/** Sentinel secrets of sampleHostInput: tests assert they appear nowhere but in the 0600 secret files. */
export const HOST_SENTINELS = {
    gatewayToken: "SENTINELgatewaytoken0c1d2e3f",
    llmApiKey: "SENTINEL-llm-key-4a5b6c",
    embeddingApiKey: "SENTINEL-voyage-key-7d8e9f",
    tunnelToken: "U0VOVElORUwtdHVubmVsLXRva2VuLTFhMmIzYw==",
    r2Secret: "SENTINELr2secret5d6e7f8a9b",
    alertBotToken: "123456789:SENTINELalertbottokenABCDEFGHIJKLMNOP",
    alertNtfyUrl: "https://ntfy.example.com/SENTINEL-ntfy-topic-3e4f",
};

/** A complete, valid input of buildHostBundle with sentinel secrets. */
export function sampleHostInput(overrides: Partial<HostBundleInput> = {}): HostBundleInput {
    return {
        openclaw: {
            openclawVersion: "2026.9.6",
            hostname: "agent.example.com",
            timezone: "Europe/Berlin",
            heartbeat: { checklist: "- check the inbox\n" },
            memorySearch: { provider: "voyage", hasEmbeddingKey: true },
        },
        secrets: {
            gatewayToken: HOST_SENTINELS.gatewayToken,
            llmApiKey: HOST_SENTINELS.llmApiKey,
            embeddingApiKey: HOST_SENTINELS.embeddingApiKey,
        },
        tunnel: { protocol: "auto", token: HOST_SENTINELS.tunnelToken },
        backup: {
            rclone: {
                accountId: "0123456789abcdef0123456789abcdef",
                accessKeyId: "access-key-id",
                secretAccessKey: HOST_SENTINELS.r2Secret,
            },
            env: { bucketName: "openclaw-memory", restoreFrom: "latest", recipient: EXAMPLE_BACKUP_RECIPIENT },
        },
        workspace: [
            { path: "SOUL.md", content: "# Soul\n", policy: "replace", mode: 0o600 },
            { path: "MEMORY.md", content: "# Memory\n", policy: "create-only", mode: 0o600 },
        ],
        gatewayUnit: renderGatewayUnit({ serverMemoryMb: 4096, swapMb: 2048 }).unit,
        tools: { browser: false, skills: [], clawhub: readClawhubPin() },
        watchdog: {
            settings: {
                label: "openclaw (agent.example.com)",
                adminUser: "ops",
                gatewayPort: 18789,
                backupSchedule: "hourly",
                timezone: "Europe/Berlin",
            },
            destinations: {
                telegramBotToken: HOST_SENTINELS.alertBotToken,
                telegramChatId: "123456789",
                ntfyUrl: HOST_SENTINELS.alertNtfyUrl,
            },
        },
        ...overrides,
    };
}
