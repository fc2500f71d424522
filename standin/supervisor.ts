// The detached owner of one stand-in VPS (`npm run try`): it boots the instance (image, mirrors, nspawn, forwarder,
// egress proxy), starts the bucket stand-in, reports progress as events in its state directory, and on SIGTERM (or
// when the container stops for good) tears all of it down and removes the run's files. Started by
// supervisor-control.ts as `node --import tsx standin/supervisor.ts STATE_DIR`, its config on stdin.
import { appendFileSync, closeSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { startBucket, STANDIN_S3_ENDPOINT } from "./deploy";
import { log } from "./process";
import { ensureRootfs, isRootfsCached } from "./rootfs";
import { provisionProgress } from "./scenario";
import {
    clearRunFiles,
    supervisorPaths,
    type SupervisorConfig,
    type SupervisorEventInput,
    type SupervisorPaths,
} from "./supervisor-control";
import { StandInVps, standInInternet } from "./vps";

function readStdin(): Promise<string> {
    return new Promise((resolveInput, reject) => {
        let input = "";
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (chunk: string) => (input += chunk));
        process.stdin.on("end", () => resolveInput(input));
        process.stdin.on("error", reject);
    });
}

/** Calls `onLine` for every complete line appended to `path` (the console log), until stopped. */
function followFile(path: string, onLine: (line: string) => void, everyMs = 500): { stop(): void } {
    let offset = 0;
    let partial = "";
    const buffer = Buffer.alloc(64 * 1024);
    const readNew = () => {
        let fd: number | undefined;
        try {
            if (statSync(path).size < offset) offset = 0; // truncated: a new console
            fd = openSync(path, "r");
            for (;;) {
                const read = readSync(fd, buffer, 0, buffer.length, offset);
                if (read <= 0) break;
                offset += read;
                partial += buffer.subarray(0, read).toString("utf8");
            }
        } catch {
            return; // not there yet
        } finally {
            if (fd !== undefined) closeSync(fd);
        }
        const lines = partial.split(/\r?\n/);
        partial = lines.pop() ?? "";
        for (const line of lines) onLine(line);
    };
    const timer = setInterval(readNew, everyMs);
    return {
        stop: () => {
            clearInterval(timer);
            readNew();
        },
    };
}

class Supervisor {
    private vps: StandInVps | undefined;
    private tearingDown = false;

    constructor(
        private readonly paths: SupervisorPaths,
        private readonly config: SupervisorConfig,
    ) {}

    private emit(event: SupervisorEventInput): void {
        appendFileSync(this.paths.events, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    }

    /**
     * Synchronous on purpose: it runs from a signal handler, before the stand-in's own exit hooks, and exits. Killing
     * the container and everything in its namespace (forwarder, bucket) is destroySync's job; the run's files are ours.
     */
    teardown(reason: string, exitCode: number): never {
        if (!this.tearingDown) {
            this.tearingDown = true;
            log(`supervisor: tearing down (${reason})`);
            this.vps?.destroySync();
            clearRunFiles(this.paths);
            this.emit({ kind: "stopped", reason });
            log("supervisor: nothing left; exiting");
        }
        process.exit(exitCode);
    }

    async run(): Promise<void> {
        const { config, paths } = this;
        this.emit({ kind: "started", pid: process.pid });
        log(`supervisor: pid ${process.pid}, state in ${paths.dir}`);

        // The image and the mirrors do not depend on each other: prepared side by side, as boot() would.
        this.emit({ kind: "image", state: isRootfsCached() ? "cached" : "building" });
        this.emit({ kind: "mirrors", state: "start" });
        await Promise.all([
            ensureRootfs().then((rootfs) => this.emit({ kind: "image", state: "ok", seconds: rootfs.seconds })),
            standInInternet().then(() => this.emit({ kind: "mirrors", state: "ok" })),
        ]);

        this.emit({ kind: "boot", state: "start" });
        const vps = await StandInVps.boot({ name: config.name, userData: config.userData, egressAllowlist: config.egressAllowlist });
        this.vps = vps;
        this.emit({ kind: "boot", state: "ok", sshPort: vps.ssh.port });

        // provision.sh copies each step line to the console: relay them as they happen.
        const consoleFollower = followFile(vps.consoleLogFile, (line) => {
            const progress = provisionProgress(line);
            if (progress) this.emit({ kind: "provision", ...progress });
        });
        const boot = await vps.waitBooted();
        consoleFollower.stop();
        const status = /^status: (\S+)/m.exec(boot.cloudInit)?.[1] ?? "unknown";
        this.emit({ kind: "cloud-init", status, code: boot.cloudInitCode, seconds: boot.seconds });
        if (boot.cloudInitCode !== 0) {
            const provisionLog = await vps.exec("tail -n 20 /var/log/openclaw-vps/provision.log", { allowFailure: true });
            throw new Error(
                `cloud-init did not finish cleanly (${status}); the end of provision.log:\n${provisionLog.stdout.trimEnd()}\n` +
                    `(the whole console: ${vps.consoleLogFile}.last)`,
            );
        }

        // The host key the container made on first boot, as OpenSSH pins it for this address and port.
        const hostKey = (await vps.exec("cat /etc/ssh/ssh_host_ed25519_key.pub")).stdout.trim().split(/\s+/).slice(0, 2).join(" ");
        const knownHosts = `[${vps.ssh.host}]:${vps.ssh.port} ${hostKey}\n`;
        writeFileSync(paths.knownHosts, knownHosts, { mode: 0o600 });
        this.emit({ kind: "host-key", knownHosts: knownHosts.trim() });

        await startBucket(vps, { backupBucketName: config.bucket.name }, paths.bucketDir, config.bucket);
        this.emit({ kind: "bucket", endpoint: STANDIN_S3_ENDPOINT });

        const held = vps.resources();
        this.emit({ kind: "ready", sshPort: vps.ssh.port, netns: held.netns, instanceDir: held.instanceDir, socketDir: held.socketDir });
        log(`supervisor: ready; ssh on 127.0.0.1:${vps.ssh.port}`);

        // The instance's servers and nspawn are unref'd (a test must be able to exit around them): this process lives on
        // for them, until SIGTERM or the container's end.
        setInterval(() => undefined, 60 * 60_000);
        const how = await vps.whenStopped();
        this.teardown(`the container stopped by itself (nspawn exit ${how})`, 1);
    }
}

async function main(): Promise<void> {
    const dir = process.argv[2];
    if (!dir) throw new Error("usage: supervisor.ts STATE_DIR (config on stdin)");
    const paths = supervisorPaths(dir);
    const config = JSON.parse(await readStdin()) as SupervisorConfig;
    const supervisor = new Supervisor(paths, config);
    // Registered before the stand-in installs its own exit hooks, so ours runs first (and exits).
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => supervisor.teardown(`${signal} received`, 0));
    process.on("SIGHUP", () => undefined); // its own session: no terminal can hang it up, and none may
    try {
        await supervisor.run();
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`supervisor: failed: ${message}`);
        appendFileSync(paths.events, `${JSON.stringify({ time: new Date().toISOString(), kind: "error", message })}\n`);
        supervisor.teardown("it failed", 1);
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`supervisor: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
