// The SSH layer (node-ssh) that tests, the stand-in VPS and the operator scripts use to reach the host: connect with a
// checked host key, run a script by sending it on stdin (never in argv, where `ps` and logs would show it), push a
// rendered bundle and read its summary, wait for provisioning. Pulumi itself runs the same scripts via
// @pulumi/command (components/host.ts).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { NodeSSH } from "node-ssh";
import { afterShebang, shellExports } from "./core/shell";
import { Bundle, RenderOptions, renderBundleScript } from "./render/bundle";
import { HostRelease, renderReleaseStageScript } from "./render/openclaw-release";
import { renderBrowserStageScript } from "./render/stage-script";

export interface ConnectOptions {
    host: string;
    port?: number;
    username: string;
    /** OpenSSH private key text. */
    privateKey: string;
    /**
     * The host key the server must present, as `SHA256:...` fingerprints (as `ssh-keygen -lf` prints them) or
     * public key lines (`ssh-ed25519 AAAA...`). `"accept-any"` only where the key cannot be known in advance (a
     * server that generated its keys on first boot); callers must choose it explicitly.
     */
    hostKey: string[] | "accept-any";
    readyTimeoutMs?: number;
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    /** Run as root through `sudo -n` (no password prompt: the admin user has NOPASSWD sudo). */
    sudo?: boolean;
    /** Stream output while it runs (e.g. to the operator's terminal). */
    onStdout?: (chunk: Buffer) => void;
    onStderr?: (chunk: Buffer) => void;
    /** What the script does, for the error when SSH cannot run it (default: the command). */
    what?: string;
}

export interface WaitProvisionedOptions {
    /** Give up after this many seconds (default: the script's, 900). */
    timeoutSeconds?: number;
    /** Default: the repository's cloud-init/wait-provisioned.sh. */
    scriptPath?: string;
    /** Stand-in hooks only (e.g. PROVISION_STATUS, PROVISION_LOG, PROVISION_POLL_SECONDS); production passes none. */
    environment?: Record<string, string>;
}

export interface PushSummary {
    changed: number;
    created: number;
    fixed: number;
    kept: number;
    agentKept: number;
    restarted: string[];
    started: string[];
}

export interface PushResult extends RunResult {
    summary: PushSummary | undefined;
}

/** `SHA256:<base64 without padding>` of a raw SSH public key blob, as OpenSSH prints it. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
    return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

function expectedFingerprints(hostKey: string[]): Set<string> {
    return new Set(
        hostKey.map((k) => {
            const line = k.trim().split(/\s+/);
            return line[0].startsWith("SHA256:") ? line[0] : hostKeyFingerprint(Buffer.from(line[1] ?? "", "base64"));
        }),
    );
}

/** Opening a session again after sshd refused it: attempts, and the step of the growing pause (0.1 s, 0.2 s, ... 5.5 s
 *  in all), longer than sshd needs to free a closed session's slot. */
const SESSION_OPEN_ATTEMPTS = 11;
const SESSION_RETRY_STEP_MS = 100;

export class RemoteHost {
    /** Commands running on this connection now (runScript). */
    private running = 0;

    private constructor(
        private readonly ssh: NodeSSH,
        readonly target: string,
        private readonly options: ConnectOptions,
    ) {}

    /**
     * A second connection to the same host, with the same checked host key: the hardened sshd allows two sessions per
     * connection (`MaxSessions 2`), so a third step at the same time (the browser stage beside the wait and the
     * release step) gets a connection of its own, as each of `pulumi up`'s remote commands has. Dispose it after use.
     */
    another(): Promise<RemoteHost> {
        return RemoteHost.connect(this.options);
    }

    static async connect(options: ConnectOptions): Promise<RemoteHost> {
        const ssh = new NodeSSH();
        const expected = options.hostKey === "accept-any" ? undefined : expectedFingerprints(options.hostKey);
        let presented: string | undefined;
        const target = `${options.username}@${options.host}:${options.port ?? 22}`;
        try {
            await ssh.connect({
                host: options.host,
                port: options.port ?? 22,
                username: options.username,
                privateKey: options.privateKey,
                readyTimeout: options.readyTimeoutMs ?? 20_000,
                hostVerifier: (key: Buffer) => {
                    presented = hostKeyFingerprint(key);
                    return expected === undefined || expected.has(presented);
                },
            });
        } catch (err) {
            ssh.dispose();
            if (expected && presented && !expected.has(presented)) {
                throw new Error(`${target} presented host key ${presented}, not the expected one: refusing to connect`, { cause: err });
            }
            throw new Error(`cannot connect to ${target}: ${(err as Error).message}`, { cause: err });
        }
        return new RemoteHost(ssh, target, options);
    }

    /** Runs a bash script sent on stdin (`bash -s`, or `sudo -n bash -s`); never throws on a non-zero exit. */
    async runScript(script: string, options: RunOptions = {}): Promise<RunResult> {
        const command = options.sudo ? "sudo -n bash -s" : "bash -s";
        // Counted so that a refused session says how many this connection had open (sshd allows MaxSessions 2).
        const alongside = this.running++;
        try {
            for (let attempt = 1; ; attempt++) {
                try {
                    const result = await this.ssh.execCommand(command, {
                        stdin: script,
                        noTrim: true,
                        onStdout: options.onStdout,
                        onStderr: options.onStderr,
                    });
                    return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
                } catch (err) {
                    // sshd frees a finished session's slot on a later turn of its loop, so a session opened right after
                    // another closed can be refused while the connection is at MaxSessions (seen on the stand-in: the
                    // next deploy's release step right after a push). A refused open ran nothing: open it again.
                    const refused = /Channel open failure/.test((err as Error).message);
                    if (refused && attempt < SESSION_OPEN_ATTEMPTS) {
                        await new Promise((resolve) => setTimeout(resolve, SESSION_RETRY_STEP_MS * attempt));
                        continue;
                    }
                    throw new Error(
                        `${this.target}: ${options.what ?? command} could not run${refused ? ` after ${attempt} attempts` : ""} (${alongside} other command(s) running on this connection): ${(err as Error).message}`,
                        { cause: err },
                    );
                }
            }
        } finally {
            this.running--;
        }
    }

    /** Renders the bundle, applies it as root and parses the applier's summary line. */
    async pushBundle(bundle: Bundle, options: RunOptions & RenderOptions = {}): Promise<PushResult> {
        const script = renderBundleScript(bundle, { environment: options.environment });
        const result = await this.runScript(script, { what: "the push", ...options, sudo: true });
        return { ...result, summary: parsePushSummary(result.stdout) };
    }

    /**
     * Waits until provisioning finished (cloud-init/wait-provisioned.sh, from the provisioning part); fails with the
     * provisioning log tail when it failed or timed out.
     */
    async waitProvisioned(options: RunOptions & WaitProvisionedOptions = {}): Promise<RunResult> {
        const scriptPath = options.scriptPath ?? path.resolve(__dirname, "..", "cloud-init", "wait-provisioned.sh");
        if (!fs.existsSync(scriptPath)) throw new Error(`${scriptPath} is missing`);
        const settings: Record<string, string> = { ...options.environment };
        if (options.timeoutSeconds !== undefined) settings.WAIT_TIMEOUT_SECONDS = String(Math.floor(options.timeoutSeconds));
        // Settings become assignments at the top of the script: stdin stays the only channel into the host.
        const script = afterShebang(fs.readFileSync(scriptPath, "utf8"), shellExports(settings));
        const result = await this.runScript(script, { sudo: true, what: "wait-provisioned.sh", ...options });
        if (result.code !== 0) {
            throw new Error(`${this.target} did not finish provisioning (exit ${result.code}):\n${result.stdout}${result.stderr}`);
        }
        return result;
    }

    /**
     * Installs an OpenClaw release side by side (upgrade-openclaw.sh stage, the script and the spec on stdin), as the
     * deploy's `release` step does before the push; throws with its output when it fails.
     */
    stageRelease(release: HostRelease, nodeMajor: number, options: RunOptions = {}): Promise<RunResult> {
        return this.runStage(renderReleaseStageScript(release, nodeMajor), `installing openclaw ${release.version}`, options);
    }

    /**
     * Prefetches the headless browser beside provisioning (install-browser.sh --prefetch, on stdin: sources, lists and
     * packages into apt's cache), as the deploy's `browser` step does; throws with its output when it fails.
     */
    stageBrowser(options: RunOptions = {}): Promise<RunResult> {
        return this.runStage(renderBrowserStageScript(), "prefetching the browser", options);
    }

    /** A stage script (render/stage-script.ts) as root; throws with its output, saying what failed, when it fails. */
    private async runStage(script: string, what: string, options: RunOptions): Promise<RunResult> {
        const result = await this.runScript(script, { sudo: true, what, ...options });
        if (result.code !== 0) throw new Error(`${this.target}: ${what} failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
        return result;
    }

    /**
     * Runs `command` in a pseudo-terminal and hands it the operator's terminal (keys in, screen out, window size), for
     * the few host commands that need a person (e.g. scanning WhatsApp's QR code). Resolves with its exit code. The
     * command line must hold no secret (it is argv on the host); `io` defaults to this process's terminal.
     */
    async interactive(command: string, io: InteractiveIo = processTerminal()): Promise<number> {
        const connection = this.ssh.connection as unknown as PtyConnection | null;
        if (!connection) throw new Error(`${this.target}: not connected`);
        const size = io.size();
        return new Promise((resolve, reject) => {
            connection.exec(command, { pty: { term: io.term, rows: size.rows, cols: size.cols } }, (err, stream) => {
                if (err) return reject(new Error(`${this.target}: cannot start ${command.split(" ")[0]}: ${err.message}`));
                const release = io.attach({
                    write: (data) => stream.write(data),
                    resize: (rows, cols) => stream.setWindow(rows, cols, 0, 0),
                });
                stream.on("data", (data: Buffer) => io.output(data));
                stream.stderr.on("data", (data: Buffer) => io.output(data));
                let done = false;
                const finish = (code: number) => {
                    if (done) return;
                    done = true;
                    release();
                    resolve(code);
                };
                stream.on("exit", (code: number | null, signal?: string) => {
                    // Closing our end lets the channel finish even if the remote keeps a descriptor open.
                    stream.end();
                    finish(code ?? (signal ? 128 : -1));
                });
                // The connection dropped without an exit status.
                stream.on("close", () => finish(-1));
            });
        });
    }

    dispose(): void {
        this.ssh.dispose();
    }
}

/** The part of ssh2's Client (untyped here) that `interactive` uses: exec in a pseudo-terminal. */
interface PtyConnection {
    exec(
        command: string,
        options: { pty: { term: string; rows: number; cols: number } },
        callback: (err: Error | undefined, stream: PtyStream) => void,
    ): void;
}

interface PtyStream {
    write(data: Buffer): void;
    end(): void;
    setWindow(rows: number, cols: number, height: number, width: number): void;
    on(event: "data", listener: (data: Buffer) => void): void;
    on(event: "exit", listener: (code: number | null, signal?: string) => void): void;
    on(event: "close", listener: () => void): void;
    stderr: { on(event: "data", listener: (data: Buffer) => void): void };
}

/** The operator's side of an interactive command: what it types, where the output goes, the window size. */
export interface InteractiveIo {
    term: string;
    size(): { rows: number; cols: number };
    output(data: Buffer): void;
    /** Start forwarding input (and window changes) to `remote`; returns a function that stops it. */
    attach(remote: { write(data: Buffer): void; resize(rows: number, cols: number): void }): () => void;
}

/** This process's terminal: raw keys to the remote (Ctrl-C reaches the remote program), screen size kept in sync. */
export function processTerminal(): InteractiveIo {
    const stdin = process.stdin;
    const stdout = process.stdout;
    return {
        term: process.env.TERM ?? "xterm-256color",
        size: () => ({ rows: stdout.rows ?? 24, cols: stdout.columns ?? 80 }),
        output: (data) => stdout.write(data),
        attach: (remote) => {
            const onData = (data: Buffer) => remote.write(data);
            const onResize = () => remote.resize(stdout.rows ?? 24, stdout.columns ?? 80);
            if (stdin.isTTY) stdin.setRawMode(true);
            stdin.on("data", onData);
            stdin.resume();
            stdout.on("resize", onResize);
            return () => {
                stdin.off("data", onData);
                stdout.off("resize", onResize);
                if (stdin.isTTY) stdin.setRawMode(false);
                stdin.pause();
            };
        },
    };
}

/** The `KEY=value` pairs of the applier's machine-readable line starting with `tag` (in order), or undefined without one. */
function taggedPairs(stdout: string, tag: string): [string, string][] | undefined {
    const line = stdout.split("\n").find((l) => l.startsWith(`${tag} `));
    if (!line) return undefined;
    return line
        .slice(tag.length + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((pair) => pair.split("=", 2) as [string, string]);
}

/** The applier's `PUSH-SUMMARY ...` line, or undefined when the push did not get that far. */
export function parsePushSummary(stdout: string): PushSummary | undefined {
    const pairs = taggedPairs(stdout, "PUSH-SUMMARY");
    if (!pairs) return undefined;
    const fields = Object.fromEntries(pairs);
    const list = (v: string | undefined) => (!v || v === "-" ? [] : v.split(","));
    return {
        changed: Number(fields.changed),
        created: Number(fields.created),
        fixed: Number(fields.fixed),
        kept: Number(fields.kept),
        agentKept: Number(fields.agent_kept),
        restarted: list(fields.restarted),
        started: list(fields.started),
    };
}

/** The applier's `PUSH-TIMES phase=seconds ...` line (where the push spent its time, in order), or [] without one. */
export function parsePushTimes(stdout: string): { phase: string; seconds: number }[] {
    return (taggedPairs(stdout, "PUSH-TIMES") ?? []).map(([phase, seconds]) => ({ phase, seconds: Number(seconds) }));
}
