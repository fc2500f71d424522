// A throwaway "host" in a directory, laid out like the host contract (etc, lib, the agent's home with its OpenClaw
// state and workspace), wired to the real cloud-init/ backup scripts and a bucket stand-in, with the real privilege
// split (the agent user is `nobody`, the scripts run as root), plus the operator's side: an age identity (never in
// the host's directory) and the restore planner with the bucket's read-only key. Used by the backup benchmark and tests.
import { generateIdentity } from "../components/core/age";
import { renderContractEnv } from "../components/core/host-contract";
import { planRestore, type RestorePlan } from "../components/snapshots/plan";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../components/core/pins";
import { renderBackupEnv, renderRcloneConfig } from "../components/render/rclone";
import type { S3Server } from "./bucket";

export const HOST_SCRIPTS_DIR = path.join(PROJECT_ROOT, "cloud-init");
export const OPENCLAW_BIN = path.join(PROJECT_ROOT, "node_modules", ".bin", "openclaw");
/** The Node that runs this process (Node 24: OpenClaw 2026.9.6 refuses older ones); its bin dir goes first on PATH. */
export const NODE_BIN_DIR = path.dirname(process.execPath);
export const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
/** PATH for the tools around the scripts (rclone, openclaw): this Node, the project's node_modules/.bin, the system. */
export const TOOLS_PATH = [NODE_BIN_DIR, path.join(PROJECT_ROOT, "node_modules", ".bin"), ...SYSTEM_PATH].join(":");
/** An unprivileged user that exists on every Debian/Ubuntu machine: the agent user of the throwaway hosts, so the
 *  scripts' privilege split (runuser, chown) really runs without creating users on this machine. */
export const THROWAWAY_AGENT_USER = "nobody";

export function agentIds(user = THROWAWAY_AGENT_USER): { uid: number; gid: number } {
    const uid = Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", user], { encoding: "utf8" }).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`user ${user} does not exist on this machine`);
    return { uid, gid };
}

/**
 * A bin dir with this Node that the unprivileged agent user can execute (this Node may sit under /root, 0700):
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
    /** The operator's age recipient (in the host's backup.env) and identity (the operator's: never written here). */
    recipient: string;
    identity: string;
    /** Where the first-boot restore reads its plan (the host's /run/openclaw-vps/restore-plan). */
    planFile: string;
    /** Environment for the host scripts (the same variables a systemd unit would not need: defaults = contract). */
    env(extra?: Record<string, string>): Record<string, string>;
}

/**
 * A host laid out like the contract under `root`: etc (rclone.conf + backup.env from the real renderers, 0600),
 * lib, and the agent's home owned by the unprivileged agent user. Parents stay traversable for that user.
 */
export function createBackupHost(
    root: string,
    server: S3Server,
    bucket: string,
    opts: { agentUser?: string; identity?: { identity: string; recipient: string } } = {},
): BackupHost {
    const agentUser = opts.agentUser ?? THROWAWAY_AGENT_USER;
    const keys = opts.identity ?? generateIdentity();
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
        renderRcloneConfig({
            accountId: "0123456789abcdef0123456789abcdef",
            accessKeyId: server.accessKeyId,
            secretAccessKey: server.secretAccessKey,
            endpoint: server.endpoint,
        }),
        { mode: 0o600 },
    );
    fs.writeFileSync(
        path.join(etcDir, "backup.env"),
        renderBackupEnv({ bucketName: bucket, restoreFrom: "latest", agentUser, recipient: keys.recipient }),
        {
            mode: 0o600,
        },
    );
    // The host contract, as user data and the push write it on a real host (the scripts read their paths from it).
    fs.writeFileSync(path.join(etcDir, "contract.env"), renderContractEnv(), { mode: 0o644 });
    // The OpenClaw state dir is the agent's (0700), as provisioning leaves it: the backup reads it as that user.
    const stateDir = path.join(home, ".openclaw");
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.chownSync(stateDir, uid, gid);
    const hostPath = [agentReadableNodeDir(root), path.join(PROJECT_ROOT, "node_modules", ".bin"), ...SYSTEM_PATH].join(":");
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
        recipient: keys.recipient,
        identity: keys.identity,
        planFile: path.join(root, "run", "restore-plan"),
        env: (extra = {}) => ({
            PATH: hostPath,
            LANG: "C.UTF-8",
            OPENCLAW_VPS_CONTRACT: path.join(etcDir, "contract.env"),
            OPENCLAW_VPS_ETC_DIR: etcDir,
            OPENCLAW_VPS_LIB_DIR: libDir,
            AGENT_HOME: home,
            OPENCLAW_BIN,
            // Tests must not wait on a backup that another test left holding the lock.
            BACKUP_LOCK_WAIT_SECONDS: "0",
            RESTORE_PLAN_FILE: path.join(root, "run", "restore-plan"),
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
function collect(command: string, args: string[], env: Record<string, string>, input?: string): Promise<ScriptResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
        if (input !== undefined) child.stdin!.end(input);
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

/** Runs cloud-init/<script> with bash (`input`: its stdin, e.g. a restore plan for `--plan -`). */
export function runHostScript(
    script: string,
    args: string[],
    env: Record<string, string>,
    opts: { wrap?: string[]; input?: string } = {},
): Promise<ScriptResult> {
    const command = [...(opts.wrap ?? []), "bash", path.join(HOST_SCRIPTS_DIR, script), ...args];
    return collect(command[0], command.slice(1), env, opts.input);
}

/** rclone with the host's config, for assertions (e.g. `rclone check`). */
export function rclone(host: BackupHost, args: string[]): Promise<ScriptResult> {
    return collect("rclone", ["--config", host.rcloneConfig, ...args], { PATH: TOOLS_PATH });
}

export function chownTree(dir: string | Buffer, uid: number, gid: number): void {
    // Buffers: a file name need not be UTF-8.
    const at = typeof dir === "string" ? Buffer.from(dir) : dir;
    fs.lchownSync(at, uid, gid);
    if (!fs.lstatSync(at).isDirectory()) return;
    for (const entry of fs.readdirSync(at, { encoding: "buffer" })) chownTree(Buffer.concat([at, Buffer.from("/"), entry]), uid, gid);
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

/**
 * The operator's side of a restore, as `pulumi up` runs it for a new server: plans `restoreFrom` with the bucket's
 * READ-ONLY key and the host's operator identity, and writes the plan where the first-boot restore reads it (0600).
 */
export async function planRestoreFor(host: BackupHost, server: S3Server, restoreFrom: string): Promise<RestorePlan> {
    if (!server.reader) throw new Error("the bucket stand-in has no read-only key pair");
    const plan = await planRestore({
        endpoint: server.endpoint,
        bucket: host.bucket,
        accessKeyId: server.reader.accessKeyId,
        secretAccessKey: server.reader.secretAccessKey,
        identity: host.identity,
        restoreFrom,
    });
    fs.mkdirSync(path.dirname(host.planFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(host.planFile, plan.text, { mode: 0o600 });
    return plan;
}
