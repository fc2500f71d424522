// Plumbing the whole stand-in shares: where its cache lives, running a command with a readable failure, a lock
// across processes, telling whether a pid is alive (and still the same process), and its log lines.
// No Pulumi, no project code.
import { spawn, type SpawnOptions } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Big downloads and built images live outside the repository (shared across clones and runs). */
export function cacheDir(...parts: string[]): string {
    const root = process.env.OPENCLAW_VPS_CACHE || join(homedir(), ".cache", "openclaw-vps");
    const dir = join(root, ...parts);
    mkdirSync(dir, { recursive: true });
    return dir;
}

export interface RunOptions extends SpawnOptions {
    input?: string | Buffer;
    /** Kill the command after this many milliseconds (the error says so). */
    timeoutMs?: number;
    /** Do not throw on a non-zero exit; the caller reads `code`. */
    allowFailure?: boolean;
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a command without a shell; throws with the command, exit code and output tail on failure. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const { input, timeoutMs, allowFailure, ...spawnOptions } = options;
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { ...spawnOptions, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout!.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr!.on("data", (chunk: Buffer) => err.push(chunk));
        let timedOut = false;
        const timer = timeoutMs
            ? setTimeout(() => {
                  timedOut = true;
                  child.kill("SIGKILL");
              }, timeoutMs)
            : undefined;
        child.on("error", reject);
        child.on("close", (code, signal) => {
            if (timer) clearTimeout(timer);
            const result = {
                code: code ?? 128 + (signal ? 9 : 0),
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
            };
            if (timedOut) {
                reject(new Error(`${command} ${args.join(" ")}: timed out after ${timeoutMs} ms\n${tail(result)}`));
            } else if (result.code !== 0 && !allowFailure) {
                reject(new Error(`${command} ${args.join(" ")}: exit ${result.code}\n${tail(result)}`));
            } else {
                resolve(result);
            }
        });
        child.stdin!.on("error", () => {}); // the command may exit before reading all input
        child.stdin!.end(input ?? "");
    });
}

function tail(result: RunResult): string {
    const text = `${result.stdout}\n${result.stderr}`.trim();
    return text.split("\n").slice(-40).join("\n");
}

/** True while a process with this pid exists (signal 0 only probes). */
export function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Field 22 of /proc/PID/stat: with the pid, it names one process for the lifetime of this machine's boot. */
export function startTime(pid: number): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
}

/**
 * A lock across processes (mkdir is atomic). A lock whose holder died is taken over,
 * so a killed test run never blocks the next one.
 */
export async function withLock<T>(lockDir: string, work: () => Promise<T>, waitMs = 30 * 60_000): Promise<T> {
    const ownerFile = join(lockDir, "pid");
    const deadline = Date.now() + waitMs;
    for (;;) {
        try {
            mkdirSync(lockDir);
            writeFileSync(ownerFile, String(process.pid));
            break;
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
            const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, "utf8")) : NaN;
            if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
                rmSync(lockDir, { recursive: true, force: true });
                continue;
            }
            if (Date.now() > deadline) throw new Error(`lock ${lockDir} still held by pid ${owner}`, { cause: error });
            await sleep(250);
        }
    }
    try {
        return await work();
    } finally {
        rmSync(lockDir, { recursive: true, force: true });
    }
}

/** Logs a step of the harness with a timestamp (stderr, so the test reporter shows it). */
export function log(message: string): void {
    if (process.env.OPENCLAW_VPS_QUIET) return;
    process.stderr.write(`[stand-in ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

/**
 * The argv prefix that runs a command inside the network namespace `netns` and kills it when this process dies (a
 * crashed test leaves no stand-in server behind). Entered with nsenter, not `ip netns exec`, which remounts /sys.
 */
export function netnsLauncher(netns: string): [string, ...string[]] {
    return ["setpriv", "--pdeathsig", "KILL", "--", "nsenter", `--net=/run/netns/${netns}`, "--"];
}
