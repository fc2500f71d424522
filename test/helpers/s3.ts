// Test utilities of the backup area: a local S3 server (the npm `s3rver`, in a child process, with a request log to
// count uploads vs server-side copies), a throwaway "host" in a temp dir laid out like the host contract (etc, lib,
// agent home with OpenClaw state and workspace) wired to the real cloud-init/ backup scripts, a real OpenClaw state
// made by the pinned `openclaw onboard`, and tree hashing to prove byte-identical round trips.
import { CONTRACT_ENV_FILE } from "./contract";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderBackupEnv, renderRcloneConfig } from "../../components/render/rclone";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const HOST_SCRIPTS_DIR = path.join(REPO_ROOT, "cloud-init");
export const OPENCLAW_BIN = path.join(REPO_ROOT, "node_modules", ".bin", "openclaw");
/** The Node that runs the tests (Node 24: OpenClaw 2026.9.6 refuses older ones); its bin dir goes first on PATH. */
export const NODE_BIN_DIR = path.dirname(process.execPath);
const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
export const TEST_PATH = [NODE_BIN_DIR, path.join(REPO_ROOT, "node_modules", ".bin"), ...SYSTEM_PATH].join(":");
/** An unprivileged user that exists on every Debian/Ubuntu machine: the agent user of the throwaway hosts, so the
 *  scripts' privilege split (runuser, chown) really runs without creating users on the test machine. */
export const TEST_AGENT_USER = "nobody";

/** Fails (never skips) when a tool the tests need is missing, naming the package that provides it. */
export function requireTools(tools: Record<string, string>): void {
    const missing = Object.entries(tools).filter(([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
    if (missing.length > 0) {
        throw new Error(`missing tools: ${missing.map(([tool, pkg]) => `${tool} (apt-get install ${pkg})`).join(", ")}`);
    }
}

export function agentIds(user = TEST_AGENT_USER): { uid: number; gid: number } {
    const uid = Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", user], { encoding: "utf8" }).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`user ${user} does not exist on this machine`);
    return { uid, gid };
}

// --- S3 server -------------------------------------------------------------------------------------------------

export interface S3Request {
    method: string;
    /** Path and query as received, e.g. /bucket/snapshots/20261126T050000Z/workspace/MEMORY.md */
    url: string;
    /** x-amz-copy-source: set on a server-side copy. */
    copySource: string;
}

export interface S3Server {
    endpoint: string;
    dataDir: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** Every request so far (a copy). */
    requests(): S3Request[];
    stop(): Promise<void>;
}

const S3RVER_MAIN = `
const S3rver = require(process.env.S3RVER_MODULE);
const Account = require(process.env.S3RVER_MODULE + "/lib/models/account");
const key = require("fs").readFileSync(0, "utf8").split("\\n");
Account.DUMMY_ACCOUNT.createKeyPair(key[0], key[1]);
const server = new S3rver({ address: process.env.S3RVER_ADDRESS, port: Number(process.env.S3RVER_PORT), silent: true, directory: process.env.S3RVER_DIR,
    configureBuckets: JSON.parse(process.env.S3RVER_BUCKETS).map((name) => ({ name })) });
server.run().then(({ port }) => {
    server.httpServer.on("request", (req) => process.stdout.write(JSON.stringify({ method: req.method, url: req.url,
        copySource: req.headers["x-amz-copy-source"] || "" }) + "\\n"));
    process.stdout.write("LISTEN " + port + "\\n");
});
`;

export interface S3ServerOptions {
    dir: string;
    buckets: string[];
    accessKeyId: string;
    secretAccessKey: string;
    /** Listen address (default 127.0.0.1) and port (default 0: a free one). */
    address?: string;
    port?: number;
    /** Command prefix that must exec its argument (e.g. `nsenter --net=/run/netns/NS --`: the stand-in VPS's bucket). */
    launcher?: string[];
}

/** Starts s3rver (default: a free loopback port). The key pair goes in on stdin (it is a test sentinel: never in argv). */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
    fs.mkdirSync(opts.dir, { recursive: true });
    const address = opts.address ?? "127.0.0.1";
    const launcher = opts.launcher ?? [];
    // s3rver signs listing continuation tokens with DES, which Node 24's OpenSSL 3 only has in its legacy provider:
    // without it every listing longer than 1000 keys fails with InternalError.
    const argv = [...launcher, process.execPath, "--openssl-legacy-provider", "-e", S3RVER_MAIN];
    const child = spawn(argv[0], argv.slice(1), {
        env: {
            PATH: TEST_PATH, S3RVER_MODULE: path.join(REPO_ROOT, "node_modules", "s3rver"), S3RVER_DIR: opts.dir, S3RVER_BUCKETS: JSON.stringify(opts.buckets),
            S3RVER_ADDRESS: address, S3RVER_PORT: String(opts.port ?? 0),
        },
        stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end(`${opts.accessKeyId}\n${opts.secretAccessKey}\n`);
    const requests: S3Request[] = [];
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
        let buffered = "";
        const timer = setTimeout(() => reject(new Error(`s3rver did not start in 20 s: ${stderr}`)), 20_000);
        child.on("exit", (code) => reject(new Error(`s3rver exited (${code}): ${stderr}`)));
        child.stdout.on("data", (d: Buffer) => {
            buffered += d.toString();
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
                const line = buffered.slice(0, newline);
                buffered = buffered.slice(newline + 1);
                if (line.startsWith("LISTEN ")) {
                    clearTimeout(timer);
                    resolve(Number(line.slice(7)));
                } else if (line.startsWith("{")) {
                    requests.push(JSON.parse(line) as S3Request);
                }
            }
        });
    });
    child.removeAllListeners("exit");
    return {
        endpoint: `http://${address}:${port}`,
        dataDir: opts.dir,
        accessKeyId: opts.accessKeyId,
        secretAccessKey: opts.secretAccessKey,
        requests: () => requests.slice(),
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.on("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}

/** Where s3rver keeps an object's bytes on disk (to simulate bit rot in the bucket). */
export function s3ObjectFile(server: S3Server, bucket: string, key: string): string {
    return path.join(server.dataDir, bucket, `${key}._S3rver_object`);
}

/** PUTs of new bytes (not server-side copies) under a key prefix, as keys relative to that prefix. */
export function uploadsUnder(requests: S3Request[], bucket: string, prefix: string): string[] {
    const base = `/${bucket}/${prefix}`;
    return requests
        .filter((r) => r.method === "PUT" && r.copySource === "" && r.url.startsWith(base))
        .map((r) => decodeURIComponent(r.url.slice(base.length).split("?")[0]));
}

export function serverSideCopiesUnder(requests: S3Request[], bucket: string, prefix: string): string[] {
    const base = `/${bucket}/${prefix}`;
    return requests.filter((r) => r.method === "PUT" && r.copySource !== "" && r.url.startsWith(base)).map((r) => decodeURIComponent(r.url.slice(base.length)));
}

// --- a throwaway host -------------------------------------------------------------------------------------------

/**
 * A bin dir with this Node that the unprivileged agent user can execute (the test Node may sit under /root, 0700):
 * a hard link when on the same file system, else a copy.
 */
export function agentReadableNodeDir(root: string): string {
    const dir = path.join(root, "node-bin");
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const node = path.join(dir, "node");
    if (!fs.existsSync(node)) {
        try {
            fs.linkSync(process.execPath, node);
        } catch {
            fs.copyFileSync(process.execPath, node);
            fs.chmodSync(node, 0o755);
        }
    }
    return dir;
}

export interface BackupHost {
    root: string;
    /** PATH for the scripts: an agent-readable Node first, then node_modules/.bin (openclaw), then the system. */
    path: string;
    etcDir: string;
    libDir: string;
    home: string;
    stateDir: string;
    workspace: string;
    bucket: string;
    rcloneConfig: string;
    /** Environment for the host scripts (the same variables a systemd unit would not need: defaults = contract). */
    env(extra?: Record<string, string>): Record<string, string>;
}

/**
 * A host laid out like the contract under `root`: etc (rclone.conf + backup.env from the real renderers, 0600),
 * lib, and the agent's home owned by the unprivileged agent user. Parents stay traversable for that user.
 */
export function createBackupHost(root: string, server: S3Server, bucket: string, opts: { agentUser?: string } = {}): BackupHost {
    const agentUser = opts.agentUser ?? TEST_AGENT_USER;
    const { uid, gid } = agentIds(agentUser);
    fs.mkdirSync(root, { recursive: true });
    fs.chmodSync(root, 0o755);
    const etcDir = path.join(root, "etc");
    const libDir = path.join(root, "lib");
    const home = path.join(root, "home", agentUser);
    fs.mkdirSync(etcDir, { recursive: true, mode: 0o755 });
    fs.mkdirSync(libDir, { recursive: true, mode: 0o755 });
    fs.mkdirSync(home, { recursive: true });
    fs.chmodSync(path.join(root, "home"), 0o755);
    fs.chownSync(home, uid, gid);
    fs.chmodSync(home, 0o750);
    const rcloneConfig = path.join(etcDir, "rclone.conf");
    fs.writeFileSync(
        rcloneConfig,
        renderRcloneConfig({ accountId: "0123456789abcdef0123456789abcdef", accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, endpoint: server.endpoint }),
        { mode: 0o600 },
    );
    fs.writeFileSync(path.join(etcDir, "backup.env"), renderBackupEnv({ bucketName: bucket, restoreFrom: "latest", agentUser }), { mode: 0o600 });
    const stateDir = path.join(home, ".openclaw");
    const hostPath = [agentReadableNodeDir(root), path.join(REPO_ROOT, "node_modules", ".bin"), ...SYSTEM_PATH].join(":");
    return {
        root,
        path: hostPath,
        etcDir,
        libDir,
        home,
        stateDir,
        workspace: path.join(stateDir, "workspace"),
        bucket,
        rcloneConfig,
        env: (extra = {}) => ({
            PATH: hostPath,
            LANG: "C.UTF-8",
            OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
            OPENCLAW_VPS_ETC_DIR: etcDir,
            OPENCLAW_VPS_LIB_DIR: libDir,
            AGENT_HOME: home,
            OPENCLAW_BIN,
            // Tests must not wait on a backup that another test left holding the lock.
            BACKUP_LOCK_WAIT_SECONDS: "0",
            ...extra,
        }),
    };
}

export interface ScriptResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a command to completion, collecting its output (asynchronously: servers and writers keep running meanwhile). */
function collect(command: string, args: string[], env: Record<string, string>): Promise<ScriptResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

/** Runs cloud-init/<script> with bash. */
export function runHostScript(script: string, args: string[], env: Record<string, string>, opts: { wrap?: string[] } = {}): Promise<ScriptResult> {
    const command = [...(opts.wrap ?? []), "bash", path.join(HOST_SCRIPTS_DIR, script), ...args];
    return collect(command[0], command.slice(1), env);
}

/** rclone with the host's config, for assertions (e.g. `rclone check`). */
export function rclone(host: BackupHost, args: string[]): Promise<ScriptResult> {
    return collect("rclone", ["--config", host.rcloneConfig, ...args], { PATH: TEST_PATH });
}

// --- OpenClaw state ---------------------------------------------------------------------------------------------

/**
 * A real OpenClaw state dir (config, state/openclaw.sqlite in WAL mode, default workspace) made by the pinned
 * `openclaw onboard` in `templateHome`; copy it into each host with installOpenClawState.
 */
export function onboardOpenClaw(templateHome: string): void {
    fs.mkdirSync(templateHome, { recursive: true });
    const result = spawnSync(
        OPENCLAW_BIN,
        ["onboard", "--non-interactive", "--accept-risk", "--mode", "local", "--gateway-bind", "loopback", "--gateway-port", "18789",
            "--gateway-auth", "token", "--gateway-token-ref-env", "OPENCLAW_GATEWAY_TOKEN", "--workspace", path.join(templateHome, ".openclaw", "workspace"),
            "--skip-channels", "--skip-skills", "--skip-ui", "--skip-health", "--json"],
        { env: { PATH: TEST_PATH, HOME: templateHome, LANG: "C.UTF-8", OPENCLAW_GATEWAY_TOKEN: "onboarding-only" }, encoding: "utf8", timeout: 120_000 },
    );
    if (result.status !== 0 || !fs.existsSync(path.join(templateHome, ".openclaw", "state", "openclaw.sqlite"))) {
        throw new Error(`openclaw onboard failed (${result.status}): ${result.stderr}\n${result.stdout}`);
    }
}

/** Copies the onboarded state into the host and rewrites its paths (OpenClaw records absolute workspace paths). */
export function installOpenClawState(templateHome: string, host: BackupHost): void {
    const { uid, gid } = agentIds();
    // cp -a keeps the modes OpenClaw chose (its state/ is 0700; it would tighten a looser one during a backup).
    const copied = spawnSync("cp", ["-a", path.join(templateHome, ".openclaw"), host.stateDir], { encoding: "utf8" });
    if (copied.status !== 0) throw new Error(`cp -a of the OpenClaw state failed: ${copied.stderr}`);
    const configPath = path.join(host.stateDir, "openclaw.json");
    fs.writeFileSync(configPath, fs.readFileSync(configPath, "utf8").split(templateHome).join(host.home));
    chownTree(host.stateDir, uid, gid);
}

export function chownTree(dir: string, uid: number, gid: number): void {
    fs.lchownSync(dir, uid, gid);
    if (!fs.lstatSync(dir).isDirectory()) return;
    for (const entry of fs.readdirSync(dir)) chownTree(path.join(dir, entry), uid, gid);
}

/** Writes files (creating folders) owned by the agent user; a value of {link} makes a symlink, {mode} sets the mode. */
export function writeTree(dir: string, files: Record<string, string | { content: string; mode: number } | { link: string }>): void {
    const { uid, gid } = agentIds();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [rel, spec] of Object.entries(files)) {
        const file = path.join(dir, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        if (typeof spec === "string") {
            fs.writeFileSync(file, spec, { mode: 0o600 });
        } else if ("link" in spec) {
            fs.symlinkSync(spec.link, file);
        } else {
            fs.writeFileSync(file, spec.content, { mode: spec.mode });
            fs.chmodSync(file, spec.mode);
        }
    }
    chownTree(dir, uid, gid);
}

// --- trees ------------------------------------------------------------------------------------------------------

export interface TreeOptions {
    /** Relative paths (or prefixes ending in /) to leave out. */
    exclude?: (rel: string) => boolean;
    /** Include owner uid:gid in each entry (default true). */
    owners?: boolean;
}

/**
 * Every entry under dir as "rel -> kind mode [owner] digest": file bytes hashed, link targets as text, dirs by mode.
 * Two equal maps mean two byte-identical trees (modes and owners included).
 */
export function hashTree(dir: string, opts: TreeOptions = {}): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (rel: string): void => {
        const full = rel === "" ? dir : path.join(dir, rel);
        const st = fs.lstatSync(full);
        const owner = opts.owners === false ? "" : ` ${st.uid}:${st.gid}`;
        const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
        if (rel !== "" && opts.exclude?.(rel)) return;
        if (st.isSymbolicLink()) {
            out.set(rel, `link${owner} -> ${fs.readlinkSync(full)}`);
        } else if (st.isDirectory()) {
            if (rel !== "") out.set(rel, `dir ${mode}${owner}`);
            for (const entry of fs.readdirSync(full).sort()) walk(rel === "" ? entry : path.join(rel, entry));
        } else if (st.isFile()) {
            out.set(rel, `file ${mode}${owner} ${st.size} ${createHash("sha256").update(fs.readFileSync(full)).digest("hex")}`);
        }
    };
    walk("");
    return out;
}

/** Differences between two tree maps, as readable lines (empty when identical). */
export function treeDiff(before: Map<string, string>, after: Map<string, string>): string[] {
    const lines: string[] = [];
    for (const [rel, value] of before) if (after.get(rel) !== value) lines.push(`${rel}: ${value} => ${after.get(rel) ?? "(missing)"}`);
    for (const [rel, value] of after) if (!before.has(rel)) lines.push(`${rel}: (new) ${value}`);
    return lines;
}

/** Every file under dir whose bytes contain one of the needles (for secret sentinels). */
export function filesContaining(dir: string, needles: string[]): string[] {
    const hits: string[] = [];
    const walk = (full: string): void => {
        const st = fs.lstatSync(full);
        if (st.isDirectory()) for (const entry of fs.readdirSync(full)) walk(path.join(full, entry));
        else if (st.isFile()) {
            const bytes = fs.readFileSync(full);
            if (needles.some((n) => bytes.includes(n))) hits.push(full);
        }
    };
    if (fs.existsSync(dir)) walk(dir);
    return hits;
}

export function makeTempDir(prefix: string): string {
    const base = process.env.OPENCLAW_VPS_TEST_TMP ?? os.tmpdir();
    return fs.mkdtempSync(path.join(base, prefix));
}

/** Reads backup.status (key=value, shell-quoted values) into an object. */
export function readStatus(file: string): Record<string, string> {
    const status: Record<string, string> = {};
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^([a-z_]+)=(.*)$/.exec(line);
        if (!m) continue;
        let value = m[2];
        if (value === "''") value = "";
        else if (/^\$?'.*'$/.test(value)) value = value.replace(/^\$?'/, "").replace(/'$/, "");
        else value = value.replace(/\\(.)/g, "$1");
        status[m[1]] = value;
    }
    return status;
}
