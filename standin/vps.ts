// The stand-in VPS: boots user data with the real cloud-init in a systemd-nspawn container on a private network (a
// namespace with a bridge that it creates), so tests and `npm run try` drive a host the way `pulumi up` does: over
// SSH, after cloud-init. Owns each instance's lifecycle and, above all, its teardown (see standin/README.md).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { basename, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createEgressProxy, STANDIN_EGRESS_PROXY } from "./egress-proxy";
import type { ForwarderConfig } from "./forwarder";
import { StandInInternet } from "./internet";
import { requireTools, STANDIN_TOOLS } from "./prerequisites";
import { cacheDir, isAlive, log, netnsLauncher, run, startTime, type RunResult } from "./process";
import { ensureRootfs, STANDIN_NETWORK } from "./rootfs";

export { STANDIN_MIRRORS, STANDIN_CLOUDFLARED_RECORD, STANDIN_CLOUDFLARED_VERSION } from "./internet";
export { STANDIN_NETWORK } from "./rootfs";

export interface StandInVpsOptions {
    /** The user data exactly as a provider would receive it (#cloud-config, a script, or multipart). */
    userData: string;
    /** Short name: the container's hostname and part of its directory names ([a-z0-9-]). */
    name: string;
    /** A new server unless given: cloud-init runs its per-instance modules again for a new id. */
    instanceId?: string;
    /** Container TCP ports the test reaches on 127.0.0.1 (see `forwardedPort`). Default: [22]. */
    guestPorts?: number[];
    /**
     * `host:port` pairs the container may reach through the egress proxy at STANDIN_EGRESS_PROXY (HTTPS CONNECT only).
     * Default: none, and no proxy: the stand-in has no internet but its mirrors.
     */
    egressAllowlist?: string[];
}

export interface ExecOptions {
    input?: string | Buffer;
    allowFailure?: boolean;
    timeoutMs?: number;
}

export interface BootState {
    /** `systemctl is-system-running` once the boot transaction finished: running, degraded, ... */
    systemState: string;
    /** `cloud-init status --long` once cloud-init finished. */
    cloudInit: string;
    /** Its exit code: 0 done, 1 error (cloud-init 22.4). */
    cloudInitCode: number;
    seconds: number;
}

/** What is recorded before anything is created, so a later run can undo it if this process dies. */
interface InstanceState {
    owner: number;
    name: string;
    netns: string;
    instanceDir: string;
    socketDir: string;
    merged: string;
    /** Processes this instance started, with their start time so a reused pid is never killed. */
    processes: RecordedProcess[];
}

interface RecordedProcess {
    pid: number;
    start: string;
}

const INSTANCE_ROOT = () => cacheDir("instances");
const SOCKET_ROOT = "/run/openclaw-vps-standin";
const NETNS_PREFIX = "ocvps-";
const BRIDGE = "br0";
const SEED_DIR = "var/lib/cloud/seed/nocloud";
const CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const forwarderScript = resolve(__dirname, "forwarder.ts");

const liveInstances = new Set<StandInVps>();
let internetPromise: Promise<StandInInternet> | undefined;
let staleCleaned = false;

/** The process-wide internet stand-in (built once, shared by every instance this process owns). */
export function standInInternet(): Promise<StandInInternet> {
    internetPromise ??= StandInInternet.prepare();
    return internetPromise;
}

/**
 * One stand-in server.
 *
 *   const vps = await StandInVps.boot({ userData, name: "smoke" });
 *   await vps.waitBooted();
 *   const { stdout } = await vps.exec("ufw status");
 *   const ssh = vps.ssh;            // { host: "127.0.0.1", port } reaching the container's sshd
 *   await vps.reboot(); await vps.waitBooted();
 *   await vps.destroy();            // also runs on process exit; stale leftovers are cleaned at the next boot()
 *
 * Every namespace, mount and process it makes is recorded in a state file before it is made, so an instance whose
 * owning process died is removed by the next boot() (or cleanupStaleInstances()).
 */
export class StandInVps {
    /** The container's address on its private network (each instance has its own namespace). */
    readonly ip: string = STANDIN_NETWORK.guest;
    /** Where the container's sshd answers, from this process. */
    ssh: { host: string; port: number } = { host: "127.0.0.1", port: 0 };
    /** How many times nspawn was started (1 after boot, +1 per reboot). */
    bootCount = 0;

    private nspawn: ChildProcess | undefined;
    private forwarder: ChildProcess | undefined;
    private forwarderPid: number | undefined;
    /** Forwarders of `serveOnBridge`, one per served port. */
    private readonly bridgeForwarders: ChildProcess[] = [];
    private readonly servers: Server[] = [];
    private readonly sockets = new Set<Socket>();
    private readonly localPorts = new Map<number, number>();
    private stopping = false;
    private destroyed = false;
    private exitWaiters: (() => void)[] = [];
    private lastExitCode: number | null = null;
    /** Set when nspawn exited for good (not a reboot): its exit code or signal. */
    private stoppedWith: string | undefined;

    private constructor(
        readonly name: string,
        private readonly state: InstanceState,
        private readonly consoleLogPath: string,
    ) {}

    private get machineName(): string {
        return basename(this.state.instanceDir);
    }

    /** Creates the namespace, overlay, seed and forwards, and starts the container (returns once PID 1 runs). */
    static async boot(options: StandInVpsOptions): Promise<StandInVps> {
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(options.name)) throw new Error(`bad stand-in name ${options.name}`);
        requireTools(STANDIN_TOOLS);
        if (!staleCleaned) {
            cleanupStaleInstances();
            staleCleaned = true;
        }
        const [rootfs, internet] = await Promise.all([ensureRootfs(), standInInternet()]);

        const id = `${options.name}-${process.pid}-${randomBytes(3).toString("hex")}`;
        const instanceDir = join(INSTANCE_ROOT(), id);
        const state: InstanceState = {
            owner: process.pid,
            name: options.name,
            // Named after the owning process so an orphan is recognisable even without its state file.
            netns: `${NETNS_PREFIX}${process.pid}-${randomBytes(3).toString("hex")}`,
            instanceDir,
            socketDir: join(SOCKET_ROOT, id),
            merged: join(instanceDir, "merged"),
            processes: [],
        };
        for (const dir of ["upper", "work", "merged"]) mkdirSync(join(instanceDir, dir), { recursive: true });
        mkdirSync(state.socketDir, { recursive: true, mode: 0o700 });
        writeState(state);
        const consoleLogPath = join(cacheDir("logs"), `${options.name}.console.log`);
        const vps = new StandInVps(options.name, state, consoleLogPath);
        liveInstances.add(vps);
        installExitHooks();
        try {
            await vps.setUp(rootfs.path, internet, options);
        } catch (error) {
            await vps.destroy();
            throw error;
        }
        return vps;
    }

    private async setUp(rootfsPath: string, internet: StandInInternet, options: StandInVpsOptions): Promise<void> {
        const { state } = this;
        log(`${this.name}: overlay on ${rootfsPath}`);
        await run("mount", [
            "-t",
            "overlay",
            "overlay",
            "-o",
            `lowerdir=${rootfsPath},upperdir=${join(state.instanceDir, "upper")},workdir=${join(state.instanceDir, "work")}`,
            state.merged,
        ]);
        writeSeed(state.merged, {
            instanceId: options.instanceId ?? `standin-${randomBytes(8).toString("hex")}`,
            hostname: options.name,
            userData: options.userData,
        });

        log(`${this.name}: network namespace ${state.netns} with bridge ${BRIDGE} ${STANDIN_NETWORK.gateway}`);
        await run("ip", ["netns", "add", state.netns]);
        const inNs = (...args: string[]) => run("ip", ["-n", state.netns, ...args]);
        await inNs("link", "set", "lo", "up");
        await inNs("link", "add", BRIDGE, "type", "bridge");
        await inNs("addr", "add", `${STANDIN_NETWORK.gateway}/${STANDIN_NETWORK.prefixLength}`, "dev", BRIDGE);
        await inNs("link", "set", BRIDGE, "up");

        // The mirrors listen on a unix socket (a file: reachable from the namespace) ...
        const internetSocket = join(state.socketDir, "internet.sock");
        const internetServer = createHttpServer(internet.handle);
        await listenOn(internetServer, { path: internetSocket });
        this.servers.push(internetServer);
        // ... and the forwarder, inside the namespace, joins them to the container's network and back.
        const guestPorts = options.guestPorts ?? [22];
        const config: ForwarderConfig = {
            tcpToUnix: [STANDIN_NETWORK.aptProxyPort, STANDIN_NETWORK.mirrorPort].map((port) => ({
                host: STANDIN_NETWORK.gateway,
                port,
                socket: internetSocket,
            })),
            unixToTcp: guestPorts.map((port) => ({ socket: this.guestSocket(port), host: this.ip, port })),
        };
        // The one way out, only when asked for and only to the allowed host:port pairs (on its own socket and port, so
        // the mirrors never tunnel anywhere).
        if (options.egressAllowlist?.length) {
            const egressSocket = join(state.socketDir, "egress.sock");
            const proxy = createEgressProxy(options.egressAllowlist);
            await listenOn(proxy, { path: egressSocket });
            this.servers.push(proxy);
            config.tcpToUnix.push({ host: STANDIN_EGRESS_PROXY.host, port: STANDIN_EGRESS_PROXY.port, socket: egressSocket });
            log(`${this.name}: egress proxy at ${STANDIN_EGRESS_PROXY.url} to ${options.egressAllowlist.join(", ")} only`);
        }
        this.forwarder = await this.startForwarder(config);
        this.forwarderPid = this.forwarder.pid;
        for (const port of guestPorts) this.localPorts.set(port, await this.loopbackForward(this.guestSocket(port)));
        this.ssh = { host: "127.0.0.1", port: this.localPorts.get(22) ?? 0 };

        writeFileSync(this.consoleLogPath, "");
        this.startContainer();
        await this.pid1();
    }

    private guestSocket(port: number): string {
        return join(this.state.socketDir, `guest-${port}.sock`);
    }

    /** The 127.0.0.1 port that reaches this container port (one of `guestPorts`). */
    forwardedPort(guestPort: number): number {
        const port = this.localPorts.get(guestPort);
        if (port === undefined) throw new Error(`${this.name}: port ${guestPort} is not in guestPorts`);
        return port;
    }

    /**
     * Serves `server` (an HTTP or TCP server of this process) to the container at `STANDIN_NETWORK.gateway:port`, the
     * way the mirrors are served: it listens on a unix socket in the instance's socket directory, and a forwarder in
     * the namespace joins that port to it. For stand-ins of outside services the test plays (an LLM, a chat API); it
     * stays until destroy(), which closes the server too. The container reaches it as an outgoing connection, which
     * UFW allows.
     */
    async serveOnBridge(port: number, server: Server): Promise<void> {
        const taken: number[] = [STANDIN_NETWORK.mirrorPort, STANDIN_NETWORK.aptProxyPort, STANDIN_EGRESS_PROXY.port];
        if (!Number.isInteger(port) || port < 1024 || port > 65535 || taken.includes(port)) {
            throw new Error(`${this.name}: cannot serve on port ${port} of the bridge (1024-65535, not ${taken.join(", ")})`);
        }
        const socket = join(this.state.socketDir, `bridge-${port}.sock`);
        rmSync(socket, { force: true });
        await listenOn(server, { path: socket });
        this.servers.push(server);
        this.bridgeForwarders.push(
            await this.startForwarder({ tcpToUnix: [{ host: STANDIN_NETWORK.gateway, port, socket }], unixToTcp: [] }),
        );
        log(`${this.name}: serving ${STANDIN_NETWORK.gateway}:${port} to the container`);
    }

    private async startForwarder(config: ForwarderConfig): Promise<ChildProcess> {
        const [launcher, ...prefix] = netnsLauncher(this.state.netns);
        const child = spawn(launcher, [...prefix, process.execPath, "--no-warnings", forwarderScript, JSON.stringify(config)], {
            stdio: ["pipe", "pipe", "pipe"],
        });
        this.recordProcess(child.pid);
        let stderr = "";
        child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        await new Promise<void>((resolveReady, reject) => {
            const timer = setTimeout(() => reject(new Error(`forwarder not ready in 20 s: ${stderr}`)), 20_000);
            child.stdout!.on("data", (chunk: Buffer) => {
                if (chunk.toString().includes("ready")) {
                    clearTimeout(timer);
                    resolveReady();
                }
            });
            child.on("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`forwarder exited ${code}: ${stderr}`));
            });
        });
        child.removeAllListeners("exit");
        child.unref();
        for (const stream of [child.stdout, child.stderr, child.stdin]) (stream as unknown as { unref?: () => void })?.unref?.();
        return child;
    }

    private async loopbackForward(socketPath: string): Promise<number> {
        const server = createServer((client) => {
            const upstream = createConnection({ path: socketPath });
            this.sockets.add(client).add(upstream);
            client.pipe(upstream);
            upstream.pipe(client);
            const close = () => {
                client.destroy();
                upstream.destroy();
                this.sockets.delete(client);
                this.sockets.delete(upstream);
            };
            for (const socket of [client, upstream]) {
                socket.on("error", close);
                socket.on("close", close);
            }
        });
        await listenOn(server, { host: "127.0.0.1", port: 0 });
        this.servers.push(server);
        const address = server.address();
        if (!address || typeof address === "string") throw new Error("loopback forward has no port");
        return address.port;
    }

    /** Starts nspawn; a reboot (exit 133) starts it again, like a VM's power cycle. */
    private startContainer(): void {
        const consoleFd = openSync(this.consoleLogPath, "a");
        const child = spawn(
            "setpriv",
            [
                // If this process dies, nspawn gets SIGTERM and shuts the container down cleanly.
                "--pdeathsig",
                "TERM",
                "--",
                // Started from inside the namespace (not `ip netns exec`, which remounts /sys and hides cgroup2; not
                // --network-namespace-path, which leaves the container unable to configure its firewall).
                "nsenter",
                `--net=/run/netns/${this.state.netns}`,
                "--",
                "systemd-nspawn",
                "--directory",
                this.state.merged,
                "--boot",
                "--register=no",
                "--keep-unit",
                `--network-bridge=${BRIDGE}`,
                // Unique, so two instances of one name never share nspawn's per-machine paths; cloud-init sets the hostname.
                `--machine=${this.machineName}`,
                // The image's own resolv.conf and time zone: provision.sh sets the zone, nspawn must not reset it at boot.
                "--resolv-conf=off",
                "--timezone=off",
                "--link-journal=no",
                "--console=read-only",
            ],
            { stdio: ["ignore", consoleFd, consoleFd] },
        );
        closeSync(consoleFd);
        this.nspawn = child;
        this.bootCount += 1;
        this.recordProcess(child.pid);
        child.unref();
        child.on("exit", (code, signal) => {
            this.lastExitCode = code;
            this.forgetProcess(child.pid);
            if (code === 133 && !this.stopping) {
                log(`${this.name}: container rebooted (nspawn exit 133), starting it again`);
                this.startContainer();
                return;
            }
            log(`${this.name}: container stopped (nspawn exit ${code ?? signal})`);
            this.stoppedWith = String(code ?? signal);
            this.nspawn = undefined;
            for (const wake of this.exitWaiters.splice(0)) wake();
        });
    }

    private recordProcess(pid: number | undefined): void {
        const start = pid === undefined ? undefined : startTime(pid);
        if (pid === undefined || start === undefined) return;
        this.state.processes.push({ pid, start });
        writeState(this.state);
    }

    private forgetProcess(pid: number | undefined): void {
        this.state.processes = this.state.processes.filter((recorded) => recorded.pid !== pid);
        if (!this.destroyed) writeState(this.state);
    }

    /** The container's init as seen from this machine (the nspawn child whose namespaced pid is 1). */
    async pid1(timeoutMs = 30_000): Promise<number> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const nspawnPid = this.nspawn?.pid;
            if (nspawnPid !== undefined) {
                const init = findContainerInit(nspawnPid);
                if (init !== undefined) return init;
            } else if (this.stopping || this.destroyed || this.stoppedWith !== undefined) {
                throw new Error(`${this.name}: the container is not running (nspawn exit ${this.stoppedWith})\n${this.consoleTail(20)}`);
            }
            if (Date.now() > deadline) throw new Error(`${this.name}: no container init after ${timeoutMs} ms\n${this.consoleTail()}`);
            await sleep(50);
        }
    }

    /** What this instance holds on this machine (for tests of the teardown, and the benchmark's memory cap). */
    resources(): { netns: string; instanceDir: string; socketDir: string; merged: string; pids: number[]; forwarderPid?: number } {
        const { netns, instanceDir, socketDir, merged, processes } = this.state;
        return { netns, instanceDir, socketDir, merged, pids: processes.map((p) => p.pid), forwarderPid: this.forwarderPid };
    }

    /** Resolves once the container stopped for good (a poweroff or a crash, not a reboot): nspawn's exit code or signal. */
    whenStopped(): Promise<string> {
        if (this.stoppedWith !== undefined) return Promise.resolve(this.stoppedWith);
        return new Promise((resolveStopped) => this.exitWaiters.push(() => resolveStopped(this.stoppedWith ?? "destroyed")));
    }

    /** The file the container's console is copied to (boot, cloud-init, provision.sh's step lines). */
    get consoleLogFile(): string {
        return this.consoleLogPath;
    }

    get running(): boolean {
        return this.nspawn !== undefined;
    }

    /** Runs a command inside the container as root (all of PID 1's namespaces). A string runs under bash. */
    async exec(command: string | string[], options: ExecOptions = {}): Promise<RunResult> {
        const pid = await this.pid1();
        const argv = typeof command === "string" ? ["/bin/bash", "-c", command] : command;
        return run("nsenter", ["-t", String(pid), "-a", "--", ...argv], {
            env: { PATH: CONTAINER_PATH, HOME: "/root", LANG: "C.UTF-8", TERM: "dumb" },
            input: options.input,
            allowFailure: options.allowFailure,
            timeoutMs: options.timeoutMs ?? 120_000,
        });
    }

    /** Waits for the boot to finish (systemd) and for cloud-init to finish; reports both, judges neither. */
    async waitBooted(timeoutMs = 10 * 60_000): Promise<BootState> {
        const started = Date.now();
        const deadline = started + timeoutMs;
        let systemState: string;
        for (;;) {
            const remaining = deadline - Date.now();
            const result = await this.exec(["systemctl", "is-system-running", "--wait"], {
                allowFailure: true,
                timeoutMs: Math.max(remaining, 1000),
            }).catch((error: Error) => ({ code: -1, stdout: "", stderr: error.message }));
            systemState = result.stdout.trim().split("\n").pop() ?? "";
            // Before systemd's bus is up systemctl cannot answer yet ("offline" or an error): ask again.
            if (/^(running|degraded|maintenance|stopping)$/.test(systemState)) break;
            if (Date.now() > deadline)
                throw new Error(`${this.name}: not booted after ${timeoutMs} ms (${systemState})\n${this.consoleTail()}`);
            await sleep(200);
        }
        const cloudInit = await this.exec(["cloud-init", "status", "--wait", "--long"], {
            allowFailure: true,
            timeoutMs: Math.max(deadline - Date.now(), 1000),
        });
        // Once more: a unit may have failed while cloud-init was still finishing.
        const settled = await this.exec(["systemctl", "is-system-running"], { allowFailure: true });
        systemState = settled.stdout.trim() || systemState;
        return {
            systemState,
            cloudInit: cloudInit.stdout.trim(),
            cloudInitCode: cloudInit.code,
            seconds: (Date.now() - started) / 1000,
        };
    }

    /** Reboots the container like `reboot` on a server; resolves once the new boot's init runs. */
    async reboot(timeoutMs = 60_000): Promise<void> {
        const before = this.bootCount;
        log(`${this.name}: reboot`);
        await this.exec(["systemctl", "reboot"], { allowFailure: true, timeoutMs: 30_000 }).catch(() => undefined);
        const deadline = Date.now() + timeoutMs;
        while (this.bootCount === before) {
            // The exit handler restarts nspawn synchronously on 133: no nspawn here means it stopped for good.
            if (!this.nspawn) {
                throw new Error(
                    `${this.name}: the container stopped instead of rebooting (exit ${this.lastExitCode})\n${this.consoleTail()}`,
                );
            }
            if (Date.now() > deadline) throw new Error(`${this.name}: no reboot after ${timeoutMs} ms\n${this.consoleTail()}`);
            await sleep(100);
        }
        await this.pid1();
    }

    /** Powers the container off (SIGRTMIN+4 to its init, as systemd's poweroff); resolves once it stopped. */
    async poweroff(timeoutMs = 30_000): Promise<void> {
        this.stopping = true;
        if (!this.nspawn) return;
        const stopped = new Promise<void>((wake) => this.exitWaiters.push(wake));
        const init = this.nspawn.pid !== undefined ? findContainerInit(this.nspawn.pid) : undefined;
        // SIGRTMIN+4 (38 with glibc, which systemd uses) asks systemd for a clean poweroff; Node has no name for it.
        if (init !== undefined) process.kill(init, 38);
        else this.nspawn.kill("SIGTERM");
        // The timer is cancelled once the container stopped: a pending one would keep the owning process alive.
        const timer = new AbortController();
        const timedOut = await Promise.race([
            stopped.then(() => false),
            sleep(timeoutMs, true, { signal: timer.signal }).catch(() => false),
        ]);
        timer.abort();
        if (timedOut) {
            log(`${this.name}: no clean poweroff in ${timeoutMs} ms, killing the container`);
            if (init !== undefined) killQuietly(init, "SIGKILL");
            this.nspawn?.kill("SIGKILL");
            const grace = new AbortController();
            await Promise.race([stopped, sleep(5_000, undefined, { signal: grace.signal }).catch(() => undefined)]);
            grace.abort();
        }
    }

    /** The container's console (boot messages, cloud-init, provision.sh's step lines). */
    consoleLog(): string {
        try {
            return readFileSync(this.consoleLogPath, "utf8");
        } catch {
            return "";
        }
    }

    consoleTail(lines = 40): string {
        return (
            `--- console of ${this.name} (last ${lines} lines; full log ${this.consoleLogPath}) ---\n` +
            this.consoleLog().split("\n").slice(-lines).join("\n")
        );
    }

    /**
     * Removes everything this instance made: the container is killed, not shut down (its disk is thrown away
     * anyway, and a clean shutdown costs seconds). Safe to call twice and after failures.
     */
    async destroy(): Promise<void> {
        if (this.destroyed) return;
        this.stopping = true;
        this.destroyed = true;
        for (const socket of this.sockets) socket.destroy();
        await Promise.all(this.servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
        this.forwarder?.kill("SIGKILL");
        for (const child of this.bridgeForwarders) child.kill("SIGKILL");
        cleanupInstanceSync(this.state);
        liveInstances.delete(this);
        log(`${this.name}: destroyed`);
    }

    /** For the exit hook: no awaiting, no graceful shutdown, everything gone. */
    destroySync(): void {
        if (this.destroyed) return;
        this.destroyed = true;
        this.stopping = true;
        cleanupInstanceSync(this.state);
        liveInstances.delete(this);
    }
}

// ---- seed ------------------------------------------------------------------------------------------------------

interface SeedInput {
    instanceId: string;
    hostname: string;
    userData: string;
}

/** The NoCloud seed a provider's metadata would give: identity, user data, a static address on the bridge. */
function writeSeed(merged: string, seed: SeedInput): void {
    const dir = join(merged, SEED_DIR);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "meta-data"), `instance-id: ${seed.instanceId}\nlocal-hostname: ${seed.hostname}\n`);
    writeFileSync(join(dir, "user-data"), seed.userData, { mode: 0o600 });
    writeFileSync(
        join(dir, "network-config"),
        [
            "version: 2",
            "ethernets:",
            "  host0:",
            `    addresses: [${STANDIN_NETWORK.guest}/${STANDIN_NETWORK.prefixLength}]`,
            `    gateway4: ${STANDIN_NETWORK.gateway}`,
            "    accept-ra: false",
            "",
        ].join("\n"),
    );
}

// ---- processes, namespaces, teardown -----------------------------------------------------------------------------

function listenOn(server: Server, target: { path: string } | { host: string; port: number }): Promise<void> {
    return new Promise((resolveListening, reject) => {
        server.once("error", reject);
        server.listen(target, () => {
            server.unref(); // a forgotten destroy() must not keep the owning process alive (the exit hook cleans up)
            resolveListening();
        });
    });
}

function parentOf(pid: number): number | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
        return undefined;
    }
}

function childrenOf(pid: number): number[] {
    return readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .map(Number)
        .filter((candidate) => parentOf(candidate) === pid);
}

/** nspawn's child that runs as PID 1 of the container's pid namespace and has become systemd. */
function findContainerInit(nspawnPid: number): number | undefined {
    for (const child of childrenOf(nspawnPid)) {
        try {
            const status = readFileSync(`/proc/${child}/status`, "utf8");
            const nsPid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
            const comm = readFileSync(`/proc/${child}/comm`, "utf8").trim();
            if (nsPid && nsPid.length > 1 && nsPid[nsPid.length - 1] === "1" && comm === "systemd") return child;
        } catch {
            // gone meanwhile
        }
    }
    return undefined;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(pid, signal);
    } catch {
        // already gone
    }
}

function writeState(state: InstanceState): void {
    writeFileSync(join(state.instanceDir, "state.json"), JSON.stringify(state));
}

/**
 * Removes one instance from its recorded state, synchronously (usable in an exit hook): the container
 * (SIGKILL to its init ends its whole pid namespace), every process left in its network namespace, the
 * namespace (and with it the bridge and the veth), the overlay mount, the directories.
 */
function cleanupInstanceSync(state: InstanceState): void {
    const ours = state.processes.filter((recorded) => startTime(recorded.pid) === recorded.start).map((p) => p.pid);
    for (const pid of [...ours]) {
        // nspawn's child is the container's init: SIGKILL to it ends the container's whole pid namespace.
        for (const child of childrenOf(pid)) {
            killQuietly(child, "SIGKILL");
            ours.push(child);
        }
        killQuietly(pid, "SIGKILL");
    }
    const netnsPath = `/run/netns/${state.netns}`;
    if (existsSync(netnsPath)) {
        // Everything running in the namespace was started by this harness (nspawn, the forwarder).
        const pids = spawnSync("ip", ["netns", "pids", state.netns], { encoding: "utf8" }).stdout ?? "";
        for (const pid of pids.split(/\s+/).filter(Boolean)) killQuietly(Number(pid), "SIGKILL");
    }
    waitGone(ours, 5_000);
    if (existsSync(netnsPath)) spawnSync("ip", ["netns", "delete", state.netns]);
    unmountSync(state.merged);
    const consoleLog = join(cacheDir("logs"), `${state.name}.console.log`);
    if (existsSync(consoleLog)) copyFileSync(consoleLog, `${consoleLog}.last`);
    rmSync(state.instanceDir, { recursive: true, force: true });
    rmSync(state.socketDir, { recursive: true, force: true });
    // nspawn leaves an empty directory per machine name behind; only an empty one is removed.
    spawnSync("rmdir", [`/run/systemd/nspawn/propagate/${basename(state.instanceDir)}`], { stdio: "ignore" });
}

function waitGone(pids: number[], timeoutMs: number): void {
    const deadline = Date.now() + timeoutMs;
    while (pids.some((pid) => isAlive(pid) && !isZombie(pid)) && Date.now() < deadline) {
        spawnSync("sleep", ["0.05"]);
    }
}

function isZombie(pid: number): boolean {
    try {
        return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
    } catch {
        return true;
    }
}

function unmountSync(path: string): void {
    for (let attempt = 0; attempt < 20 && isMountPoint(path); attempt += 1) {
        const result = spawnSync("umount", [path], { stdio: "ignore" });
        if (result.status !== 0) spawnSync("sleep", ["0.1"]);
    }
    // Still busy (a process we could not see holds it): detach it so nothing is left in the mount table.
    if (isMountPoint(path)) spawnSync("umount", ["--lazy", path], { stdio: "ignore" });
}

function isMountPoint(path: string): boolean {
    return readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .some((line) => line.split(" ")[4] === path);
}

/** Removes what killed runs left behind: instances and namespaces whose owning process is gone. */
export function cleanupStaleInstances(): void {
    const root = INSTANCE_ROOT();
    for (const entry of readdirSync(root)) {
        const stateFile = join(root, entry, "state.json");
        let state: InstanceState | undefined;
        try {
            state = JSON.parse(readFileSync(stateFile, "utf8")) as InstanceState;
        } catch {
            state = undefined;
        }
        if (state && (state.owner === process.pid || isAlive(state.owner))) continue;
        // No state file yet: another run may be creating this instance right now. Its owner's pid is in the name.
        const namedOwner = Number(/-(\d+)-[0-9a-f]+$/.exec(entry)?.[1]);
        if (!state && namedOwner && (namedOwner === process.pid || isAlive(namedOwner))) continue;
        log(`removing a stale stand-in instance ${entry}`);
        if (state) cleanupInstanceSync(state);
        else {
            unmountSync(join(root, entry, "merged"));
            rmSync(join(root, entry), { recursive: true, force: true });
        }
    }
    // Namespaces whose state file was lost: the owner's pid is in the name.
    const namespaces = existsSync("/run/netns") ? readdirSync("/run/netns") : [];
    for (const netns of namespaces) {
        const owner = new RegExp(`^${NETNS_PREFIX}(\\d+)-`).exec(netns)?.[1];
        if (!owner || Number(owner) === process.pid || isAlive(Number(owner))) continue;
        log(`removing a stale network namespace ${netns}`);
        const pids = spawnSync("ip", ["netns", "pids", netns], { encoding: "utf8" }).stdout ?? "";
        for (const pid of pids.split(/\s+/).filter(Boolean)) killQuietly(Number(pid), "SIGKILL");
        spawnSync("ip", ["netns", "delete", netns]);
    }
    if (existsSync(SOCKET_ROOT)) {
        for (const entry of readdirSync(SOCKET_ROOT)) {
            const owner = /-(\d+)-[0-9a-f]+$/.exec(entry)?.[1];
            if (owner && Number(owner) !== process.pid && !isAlive(Number(owner))) {
                rmSync(join(SOCKET_ROOT, entry), { recursive: true, force: true });
            }
        }
    }
}

let exitHooksInstalled = false;

function destroyAllSync(): void {
    for (const vps of [...liveInstances]) vps.destroySync();
}

/** A test that fails, times out or is interrupted still leaves nothing behind. */
function installExitHooks(): void {
    if (exitHooksInstalled) return;
    exitHooksInstalled = true;
    process.on("exit", destroyAllSync);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(signal, () => {
            destroyAllSync();
            process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
        });
    }
}
