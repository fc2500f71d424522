// Starting, finding, following and stopping a detached stand-in supervisor (standin/supervisor.ts) from another
// process, through its state directory: pid file, log, progress events, and the run's files (admin key, host key,
// gateway token, connection info, bucket data). A stop leaves none of the run's files, processes or mounts behind.
import { spawn } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PROJECT_ROOT } from "../components/core/pins";
import { isAlive, startTime } from "./process";
import type { ProvisionProgress } from "./scenario";
import { cleanupStaleInstances } from "./vps";

const SUPERVISOR_SCRIPT = resolve(__dirname, "supervisor.ts");

/** Everything one supervisor keeps in its state directory (0700). Only the two logs and the events outlive a stop. */
export interface SupervisorPaths {
    dir: string;
    /** {pid, start, startedAt}: which process is the supervisor (start time: a reused pid is never taken for it). */
    pidFile: string;
    /** The supervisor's stdout and stderr; the previous run's is `supervisor.last.log`. */
    log: string;
    lastLog: string;
    /** Progress as JSON lines (SupervisorEvent), appended by the supervisor and followed by whoever started it. */
    events: string;
    /** The admin user's key pair of this run (ssh-keygen, 0600), and its host key as OpenSSH's known_hosts line. */
    adminKey: string;
    knownHosts: string;
    /** The gateway token of this run (0600): the one secret a run stores, so its owner can paste it. */
    gatewayToken: string;
    /** What a second caller needs to print the connection again (no secrets: paths and ports). */
    connection: string;
    /** The bucket stand-in's data. */
    bucketDir: string;
}

export function supervisorPaths(dir: string): SupervisorPaths {
    return {
        dir,
        pidFile: join(dir, "supervisor.json"),
        log: join(dir, "supervisor.log"),
        lastLog: join(dir, "supervisor.last.log"),
        events: join(dir, "events.jsonl"),
        adminKey: join(dir, "admin_ed25519"),
        knownHosts: join(dir, "known_hosts"),
        gatewayToken: join(dir, "gateway-token"),
        connection: join(dir, "connection.json"),
        bucketDir: join(dir, "bucket"),
    };
}

/** What the supervisor is told on its stdin (never argv: the bucket's key pair is in it). */
export interface SupervisorConfig {
    /** The instance's name ([a-z0-9-]): its hostname and console log name. */
    name: string;
    userData: string;
    /** host:port pairs the container may reach through the egress proxy (empty: no proxy, no way out). */
    egressAllowlist: string[];
    bucket: { name: string; accessKeyId: string; secretAccessKey: string; reader: { accessKeyId: string; secretAccessKey: string } };
}

export type SupervisorEvent = { time: string } & (
    | { kind: "started"; pid: number }
    | { kind: "image"; state: "cached" | "building" | "ok"; seconds?: number }
    | { kind: "mirrors"; state: "start" | "ok" }
    | { kind: "boot"; state: "start" | "ok"; sshPort?: number }
    | ({ kind: "provision" } & ProvisionProgress)
    | { kind: "cloud-init"; status: string; code: number; seconds: number }
    | { kind: "host-key"; knownHosts: string }
    | { kind: "bucket"; endpoint: string }
    | { kind: "ready"; sshPort: number; netns: string; instanceDir: string; socketDir: string }
    | { kind: "error"; message: string }
    | { kind: "stopped"; reason: string }
);

/** The supervisor's events without their time, as it emits them. */
export type SupervisorEventInput = SupervisorEvent extends infer E ? (E extends unknown ? Omit<E, "time"> : never) : never;

export interface SupervisorRecord {
    pid: number;
    /** /proc start time of that pid: with the pid, it names the process. */
    start: string;
    startedAt: string;
}

export function readSupervisorRecord(paths: SupervisorPaths): SupervisorRecord | undefined {
    try {
        return JSON.parse(readFileSync(paths.pidFile, "utf8")) as SupervisorRecord;
    } catch {
        return undefined;
    }
}

/** The supervisor of this state directory while it runs (the recorded pid, still the same process). */
export function runningSupervisor(paths: SupervisorPaths): SupervisorRecord | undefined {
    const record = readSupervisorRecord(paths);
    if (!record || !isAlive(record.pid) || startTime(record.pid) !== record.start) return undefined;
    return record;
}

/** The state directory, private to its owner (it holds the run's key and token). */
export function ensureStateDir(paths: SupervisorPaths): void {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    // An existing directory keeps its mode through mkdir: make sure of it.
    chmodSync(paths.dir, 0o700);
}

/** Names of variables that hold secrets (API keys, tokens, passphrases): a long-lived process should not carry them. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE|CREDENTIALS?)$/i;

/**
 * This environment without its secrets: the supervisor keeps what reaching the internet needs (PATH, proxies, extra CA
 * certificates, the cache's location) and never holds the caller's LLM key or cloud tokens.
 */
export function withoutSecrets(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(environment).filter(([name]) => !SECRET_NAME.test(name)));
}

/**
 * Starts the supervisor detached (its own session, so it outlives the caller and its terminal), with its output in the
 * state directory's log and `config` on its stdin. Returns once it runs; its progress arrives as events.
 */
export function startSupervisor(paths: SupervisorPaths, config: SupervisorConfig): SupervisorRecord {
    ensureStateDir(paths);
    if (existsSync(paths.log)) renameSync(paths.log, paths.lastLog);
    writeFileSync(paths.events, "", { mode: 0o600 });
    const logFd = openSync(paths.log, "a", 0o600);
    const child = spawn(process.execPath, ["--import", "tsx", SUPERVISOR_SCRIPT, paths.dir], {
        cwd: PROJECT_ROOT,
        detached: true,
        stdio: ["pipe", logFd, logFd],
        env: withoutSecrets(process.env),
    });
    closeSync(logFd);
    if (child.pid === undefined) throw new Error(`could not start ${SUPERVISOR_SCRIPT}`);
    child.stdin!.on("error", () => undefined); // a supervisor that died at once is reported by the follower
    child.stdin!.end(JSON.stringify(config));
    child.unref();
    const record: SupervisorRecord = { pid: child.pid, start: startTime(child.pid) ?? "", startedAt: new Date().toISOString() };
    writeFileSync(paths.pidFile, JSON.stringify(record), { mode: 0o600 });
    return record;
}

/** The last lines of the supervisor's log, for an error message. */
export function supervisorLogTail(paths: SupervisorPaths, lines = 30): string {
    try {
        return readFileSync(paths.log, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no supervisor log)";
    }
}

/**
 * Calls `onEvent` for each event the supervisor writes, from the first, until `until(event)` holds (resolves with it).
 * Rejects on an `error` event, or when the supervisor is gone without one (with its log's tail).
 */
export async function followEvents(
    paths: SupervisorPaths,
    record: SupervisorRecord,
    onEvent: (event: SupervisorEvent) => void,
    until: (event: SupervisorEvent) => boolean,
    pollMs = 250,
): Promise<SupervisorEvent> {
    let offset = 0;
    let partial = "";
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
        const alive = isAlive(record.pid) && startTime(record.pid) === record.start;
        let fd: number | undefined;
        try {
            fd = openSync(paths.events, "r");
            for (;;) {
                const read = readSync(fd, buffer, 0, buffer.length, offset);
                if (read <= 0) break;
                offset += read;
                partial += buffer.subarray(0, read).toString("utf8");
            }
        } catch {
            // not written yet
        } finally {
            if (fd !== undefined) closeSync(fd);
        }
        let newline: number;
        while ((newline = partial.indexOf("\n")) >= 0) {
            const line = partial.slice(0, newline);
            partial = partial.slice(newline + 1);
            if (!line.trim()) continue;
            const event = JSON.parse(line) as SupervisorEvent;
            onEvent(event);
            if (event.kind === "error") throw new Error(`the stand-in failed: ${event.message}`);
            if (until(event)) return event;
        }
        // Read once more after it died: its last events were written before it exited.
        if (!alive) {
            throw new Error(
                `the stand-in supervisor (pid ${record.pid}) exited; its log (${paths.log}) ends with:\n${supervisorLogTail(paths)}`,
            );
        }
        await sleep(pollMs);
    }
}

/** Removes the run's files (key, host key, token, connection info, bucket data, pid file); logs and events stay. */
export function clearRunFiles(paths: SupervisorPaths): void {
    for (const file of [paths.adminKey, `${paths.adminKey}.pub`, paths.knownHosts, paths.gatewayToken, paths.connection, paths.pidFile]) {
        rmSync(file, { force: true });
    }
    rmSync(paths.bucketDir, { recursive: true, force: true });
}

export interface StopResult {
    /** The supervisor that was running, if one was. */
    stopped?: SupervisorRecord;
    /** It had not finished its teardown within the grace and was killed; the rest of its instance was removed here. */
    forced: boolean;
}

/**
 * Stops the supervisor (SIGTERM: it tears its instance down itself), kills it if it does not go, then removes whatever
 * a dead supervisor left (its instance, namespace and mount: cleanupStaleInstances) and the run's files. The grace is
 * long because the teardown is real work: removing the container's disk (about 50,000 files, 1.3 GB once the agent
 * is installed) took over a minute on a busy machine.
 */
export async function stopSupervisor(paths: SupervisorPaths, graceMs = 10 * 60_000): Promise<StopResult> {
    const record = runningSupervisor(paths);
    let forced = false;
    if (record) {
        const same = () => isAlive(record.pid) && startTime(record.pid) === record.start;
        process.kill(record.pid, "SIGTERM");
        const deadline = Date.now() + graceMs;
        while (same() && Date.now() < deadline) await sleep(100);
        if (same()) {
            forced = true;
            process.kill(record.pid, "SIGKILL");
            while (same()) await sleep(100);
        }
    }
    // Whatever a supervisor killed with SIGKILL (or a crashed one) left: only instances whose owner is gone are touched.
    if (process.getuid?.() === 0) cleanupStaleInstances();
    clearRunFiles(paths);
    return { stopped: record, forced };
}
