// `npm run try`: the prod stack's agent on a local stand-in server, no cloud account. A detached supervisor
// (standin/supervisor.ts) boots the stand-in VPS from Pulumi.prod.yaml's settings; this script then deploys onto it as
// `pulumi up` does (wait-provisioned.sh, then the host bundle over SSH) and prints how to reach the gateway.
// `-- --status` says whether one runs, `-- --stop` removes it; see standin/README.md.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { HostSecrets } from "../components/host";
import { RemoteHost } from "../components/remote";
import { LLM_PROVIDER_SPECS, renderGatewayEnvFile, type LlmProvider } from "../components/render/openclaw-config";
import { ConfigError, type Settings } from "../components/settings";
import {
    checkPrerequisites,
    deployBundle,
    hostMemoryFrom,
    deployPlan,
    describeMissing,
    ensureStateDir,
    followEvents,
    installEgressDropIn,
    installRecordingCloudflaredOverSsh,
    LLM_API_ENDPOINTS,
    run,
    runningSupervisor,
    STANDIN_TOOLS,
    startSupervisor,
    stopSupervisor,
    supervisorPaths,
    withLock,
    type SupervisorEvent,
    type SupervisorPaths,
    type SupervisorRecord,
} from "../standin";
import { standInSettings } from "./lib/standin-settings";

/** Exit codes: 2 = this machine or the stack cannot run it (nothing was done); 3 = --status found none running. */
const EXIT_PREREQUISITES = 2;
const EXIT_NOT_RUNNING = 3;
/** What the gateway's .env gets without a key: it starts and serves the Control UI, but no model call can succeed. */
const NO_LLM_KEY = "no-llm-key-was-given-to-npm-run-try";
/** Held while one `npm run try` checks for a running stand-in and starts one: two at once never start two. */
const START_LOCK = "start.lock";

/** Where a try keeps its state: $OPENCLAW_VPS_TRY_DIR, or try/ in the stand-in cache (computed, not created). */
export function tryStateDir(env: NodeJS.ProcessEnv = process.env): string {
    if (env.OPENCLAW_VPS_TRY_DIR) return env.OPENCLAW_VPS_TRY_DIR;
    return join(env.OPENCLAW_VPS_CACHE || join(homedir(), ".cache", "openclaw-vps"), "try");
}

/**
 * The instance's name, which names its console log (logs/NAME.console.log in the cache): `try` for the default state
 * directory, and one of its own for another (a test's), so two tries never share a console log.
 */
export function instanceName(stateDir: string, defaultDir = tryStateDir({ ...process.env, OPENCLAW_VPS_TRY_DIR: "" })): string {
    return stateDir === defaultDir ? "try" : `try-${createHash("sha256").update(stateDir).digest("hex").slice(0, 8)}`;
}

/** The LLM key from the environment: OPENCLAW_VPS_LLM_API_KEY, else the provider's own variable (ANTHROPIC_API_KEY, ...). */
export function llmKeyFromEnvironment(
    provider: LlmProvider,
    env: NodeJS.ProcessEnv = process.env,
): { key?: string; from?: string; names: string[] } {
    const names = ["OPENCLAW_VPS_LLM_API_KEY", LLM_PROVIDER_SPECS[provider].keyEnv];
    for (const name of names) {
        const value = env[name]?.trim();
        if (value) return { key: value, from: name, names };
    }
    return { names };
}

/** What a second `npm run try` (or --status) prints again: no secrets, only where they are. */
interface Connection {
    sshPort: number;
    adminUser: string;
    gatewayPort: number;
    keyFile: string;
    knownHosts: string;
    tokenFile: string;
    llm: string;
    readyAt: string;
}

function say(line = ""): void {
    process.stdout.write(`${line}\n`);
}

function sshBase(connection: Connection): string {
    return [
        "ssh",
        "-i",
        connection.keyFile,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `UserKnownHostsFile=${connection.knownHosts}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-p",
        String(connection.sshPort),
    ].join(" ");
}

function printConnection(connection: Connection, paths: SupervisorPaths): void {
    const token = readFileSync(connection.tokenFile, "utf8").trim();
    const target = `${connection.adminUser}@127.0.0.1`;
    const port = connection.gatewayPort;
    // Run through sudo, the key and known_hosts are root's (0600): the commands below need sudo too.
    if (process.env.SUDO_USER) say(`(The key below is root's, not ${process.env.SUDO_USER}'s: run these ssh commands with sudo.)`);
    say("SSH to the server as the admin user:");
    say(`  ${sshBase(connection)} ${target}`);
    say("Forward the gateway to this machine (leave it running; any free local port works in place of the first):");
    say(`  ${sshBase(connection)} -N -L ${port}:127.0.0.1:${port} ${target}`);
    say(`Then open http://127.0.0.1:${port}/ and paste the gateway token:`);
    say(`  ${token}`);
    say(`  (also in ${connection.tokenFile}, mode 0600; a new one every try)`);
    if (connection.llm === "none") {
        say("No LLM key was given: the agent runs and the Control UI works, but it cannot answer.");
    } else {
        say(`LLM: ${connection.llm}, reached through the stand-in's egress proxy (the only host it may reach).`);
    }
    say(`Status: npm run try -- --status    Stop (removes the server and all it made): npm run try -- --stop`);
    say(`Logs: ${paths.log} (supervisor); the gateway's: ${sshBase(connection)} ${target} 'sudo journalctl _UID=$(id -u openclaw)'`);
}

function readConnection(paths: SupervisorPaths): Connection | undefined {
    try {
        return JSON.parse(readFileSync(paths.connection, "utf8")) as Connection;
    } catch {
        return undefined;
    }
}

/** One progress line per supervisor event, as it happens. */
function describeEvent(event: SupervisorEvent): string | undefined {
    switch (event.kind) {
        case "image":
            if (event.state === "cached") return "image: the cached Debian 12 image";
            if (event.state === "building") return "image: building the Debian 12 image (debootstrap; the first time takes a few minutes)";
            return event.seconds ? `image: built in ${event.seconds.toFixed(0)} s` : undefined;
        case "mirrors":
            return event.state === "start" ? "mirrors: preparing the Node, npm, Debian and cloudflared stand-ins" : "mirrors: ready";
        case "boot":
            return event.state === "start"
                ? "boot: starting the container"
                : `boot: running; its sshd is forwarded to 127.0.0.1:${event.sshPort}`;
        case "provision":
            return `provision: ${event.text}`;
        case "cloud-init":
            return `cloud-init: ${event.status} after ${event.seconds.toFixed(0)} s`;
        case "host-key":
            return "ssh: host key pinned";
        case "bucket":
            return `bucket: the R2 stand-in at ${event.endpoint}`;
        default:
            return undefined;
    }
}

function status(paths: SupervisorPaths): number {
    const record = runningSupervisor(paths);
    if (!record) {
        say(`No stand-in is running (state: ${paths.dir}).`);
        return EXIT_NOT_RUNNING;
    }
    const connection = readConnection(paths);
    if (!connection) {
        say(`A stand-in is starting (supervisor pid ${record.pid}, since ${record.startedAt}); its log: ${paths.log}`);
        return 0;
    }
    say(`A stand-in is running (supervisor pid ${record.pid}, since ${record.startedAt}; agent ready since ${connection.readyAt}).`);
    printConnection(connection, paths);
    return 0;
}

async function stop(paths: SupervisorPaths): Promise<number> {
    const running = runningSupervisor(paths);
    if (running) say(`Stopping the stand-in (supervisor pid ${running.pid}): the container, its disk, its network and the bucket go.`);
    const result = await stopSupervisor(paths);
    if (result.stopped) {
        say(
            `Stopped the stand-in (supervisor pid ${result.stopped.pid}${result.forced ? "; killed when its teardown took too long, the rest removed here" : ""}).`,
        );
    } else {
        say("No stand-in was running; removed any leftovers.");
    }
    say(`Nothing is left but the cached image and the logs in ${paths.dir}.`);
    return 0;
}

function validationReport(error: unknown): string {
    if (error instanceof ConfigError) return error.message;
    return error instanceof Error ? error.message : String(error);
}

/** Generates the run's admin key into the state dir (0600) and returns its public half. */
async function createRunKey(paths: SupervisorPaths): Promise<string> {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "npm-run-try-admin", "-f", paths.adminKey]);
    return readFileSync(`${paths.adminKey}.pub`, "utf8").trim();
}

/** SSH as the admin user with the host key the supervisor pinned; sshd may still be settling after cloud-init. */
async function connectAdmin(paths: SupervisorPaths, settings: Settings, sshPort: number): Promise<RemoteHost> {
    const hostKey = readFileSync(paths.knownHosts, "utf8").trim().split(/\s+/).slice(1).join(" ");
    const privateKey = readFileSync(paths.adminKey, "utf8");
    const deadline = Date.now() + 60_000;
    for (;;) {
        try {
            return await RemoteHost.connect({
                host: "127.0.0.1",
                port: sshPort,
                username: settings.adminUser,
                privateKey,
                hostKey: [hostKey],
            });
        } catch (error) {
            if (Date.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
    }
}

/** Streams a command's output as indented lines under a label. */
function lineWriter(label: string): { write(chunk: Buffer): void; flush(): void } {
    let partial = "";
    return {
        write(chunk) {
            partial += chunk.toString("utf8");
            const lines = partial.split("\n");
            partial = lines.pop() ?? "";
            for (const line of lines) if (line.trim()) say(`  ${label} | ${line}`);
        },
        flush() {
            if (partial.trim()) say(`  ${label} | ${partial}`);
            partial = "";
        },
    };
}

async function start(paths: SupervisorPaths, stack: string): Promise<number> {
    const missing = describeMissing(checkPrerequisites(STANDIN_TOOLS), "npm run try", "npm run try");
    if (missing) {
        process.stderr.write(`${missing}\n`);
        return EXIT_PREREQUISITES;
    }
    ensureStateDir(paths);
    // Held only while deciding and starting (seconds): a second `npm run try` then finds the supervisor running.
    const started = await withLock(join(paths.dir, START_LOCK), () => startSupervisorOnce(paths, stack), 60_000);
    return typeof started === "number" ? started : deployOnto(paths, started);
}

/** A supervisor this run started, and what the deploy onto it needs. */
interface Started {
    record: SupervisorRecord;
    settings: Settings;
    secrets: HostSecrets;
    withLlm: boolean;
    endpoint: string;
}

/** Prints the running one's connection (a number: the exit code), or starts a supervisor. */
async function startSupervisorOnce(paths: SupervisorPaths, stack: string): Promise<number | Started> {
    const running = runningSupervisor(paths);
    if (running) {
        const connection = readConnection(paths);
        if (!connection) {
            say(`A stand-in is already starting (supervisor pid ${running.pid}, since ${running.startedAt}).`);
            say(`Wait for that \`npm run try\` to finish, or stop it: npm run try -- --stop (its log: ${paths.log})`);
            return 1;
        }
        say(`A stand-in is already running (supervisor pid ${running.pid}, since ${running.startedAt}).`);
        printConnection(connection, paths);
        return 0;
    }
    // A supervisor that died (or was killed) may have left its instance and files: remove them first.
    await stopSupervisor(paths);

    const adminPublicKey = await createRunKey(paths);
    let settings: Settings;
    let warnings: string[];
    let llm: ReturnType<typeof llmKeyFromEnvironment>;
    try {
        ({ settings, warnings } = standInSettings(adminPublicKey, [], stack));
        llm = llmKeyFromEnvironment(settings.llmProvider);
        // Refused the way the push would refuse it, without echoing it.
        if (llm.key) renderGatewayEnvFile({ [LLM_PROVIDER_SPECS[settings.llmProvider].keyEnv]: llm.key });
    } catch (error) {
        await stopSupervisor(paths);
        process.stderr.write(`Pulumi.${stack}.yaml cannot be deployed on the stand-in:\n${validationReport(error)}\n`);
        return EXIT_PREREQUISITES;
    }
    const gatewayToken = randomBytes(24).toString("hex");
    writeFileSync(paths.gatewayToken, `${gatewayToken}\n`, { mode: 0o600 });
    const bucket = {
        name: settings.backupBucketName,
        accessKeyId: `try${randomBytes(8).toString("hex")}`,
        secretAccessKey: randomBytes(24).toString("hex"),
    };
    const secrets: HostSecrets = {
        gatewayToken,
        llmApiKey: llm.key ?? NO_LLM_KEY,
        // The stand-in cloudflared only needs one to exist: no tunnel is made.
        tunnelToken: Buffer.from(JSON.stringify({ a: "stand-in", t: randomBytes(8).toString("hex"), s: "none" })).toString("base64"),
        backupAccessKeyId: bucket.accessKeyId,
        backupSecretAccessKey: bucket.secretAccessKey,
    };
    const endpoint = LLM_API_ENDPOINTS[settings.llmProvider];

    say(
        `npm run try: the ${stack} stack's agent (Pulumi.${stack}.yaml: ${settings.agentName}, ${settings.llmProvider}, OpenClaw ${settings.openclawVersion}) on a local stand-in server`,
    );
    for (const warning of warnings) say(`note: ${warning}`);
    if (llm.key) {
        say(`LLM key: from ${llm.from}; the container may reach ${endpoint} (only) through the stand-in's egress proxy.`);
    } else {
        say(`note: no LLM key in ${llm.names.join(" or ")}: the agent will start and the Control UI works, but it cannot answer.`);
    }
    say(`state: ${paths.dir}`);

    const record = startSupervisor(paths, {
        name: instanceName(paths.dir),
        userData: deployPlan(settings).userData,
        egressAllowlist: llm.key ? [endpoint] : [],
        bucket,
    });
    say(`supervisor: pid ${record.pid} (detached; it outlives this command), log ${paths.log}`);
    return { record, settings, secrets, withLlm: llm.key !== undefined, endpoint };
}

/** Follows the supervisor to `ready`, deploys as `pulumi up` does, prints the connection; stops it all on failure. */
async function deployOnto(paths: SupervisorPaths, started: Started): Promise<number> {
    const { record, settings, secrets, withLlm, endpoint } = started;
    let interrupted = false;
    const onInterrupt = () => {
        interrupted = true;
        say("interrupted: stopping the stand-in (nothing is left behind)");
        void stopSupervisor(paths).finally(() => process.exit(130));
    };
    process.once("SIGINT", onInterrupt);
    process.once("SIGTERM", onInterrupt);
    try {
        const ready = await followEvents(
            paths,
            record,
            (event) => {
                const line = describeEvent(event);
                if (line) say(`- ${line}`);
            },
            (event) => event.kind === "ready",
        );
        const sshPort = ready.kind === "ready" ? ready.sshPort : 0;

        const remote = await connectAdmin(paths, settings, sshPort);
        try {
            say(`- wait: cloud-init/wait-provisioned.sh over SSH as ${settings.adminUser}`);
            const waitOutput = lineWriter("wait");
            const wait = await remote.waitProvisioned({
                timeoutSeconds: settings.provisionTimeoutMinutes * 60,
                onStdout: (chunk) => waitOutput.write(chunk),
            });
            waitOutput.flush();
            say("- cloudflared: the stand-in connector that reports READY (no tunnel is made)");
            await installRecordingCloudflaredOverSsh(remote);
            if (withLlm) {
                say("- egress: the gateway's systemd drop-in for the proxy (HTTPS_PROXY, NODE_USE_ENV_PROXY=1)");
                await installEgressDropIn(remote);
            }
            say("- push: the host bundle, as pulumi up pushes it (then the gateway starts)");
            const out = lineWriter("push");
            const err = lineWriter("push");
            const push = await remote.pushBundle(deployBundle(settings, secrets, hostMemoryFrom(wait)), {
                onStdout: (c) => out.write(c),
                onStderr: (c) => err.write(c),
            });
            out.flush();
            err.flush();
            if (push.code !== 0 || !push.summary) throw new Error(`the push failed (exit ${push.code})`);
            const readyAfter = /gateway ready after (\d+)s/.exec(push.stdout)?.[1];
            say(`- gateway: ready${readyAfter ? ` after ${readyAfter} s` : ""} on 127.0.0.1:${settings.gatewayPort} inside the server`);
        } finally {
            remote.dispose();
        }

        const connection: Connection = {
            sshPort,
            adminUser: settings.adminUser,
            gatewayPort: settings.gatewayPort,
            keyFile: paths.adminKey,
            knownHosts: paths.knownHosts,
            tokenFile: paths.gatewayToken,
            llm: withLlm ? `${settings.llmProvider} (${endpoint})` : "none",
            readyAt: new Date().toISOString(),
        };
        writeFileSync(paths.connection, `${JSON.stringify(connection, null, 2)}\n`, { mode: 0o600 });
        say();
        say("The stand-in server is up: a Debian 12 container standing in for Ubuntu 24.04 (see standin/README.md).");
        printConnection(connection, paths);
        return 0;
    } catch (error) {
        if (interrupted) return 130;
        process.stderr.write(`npm run try failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.stderr.write(`stopping the stand-in (nothing is left behind); the supervisor's log stays in ${paths.log}\n`);
        await stopSupervisor(paths);
        return 1;
    } finally {
        process.removeListener("SIGINT", onInterrupt);
        process.removeListener("SIGTERM", onInterrupt);
    }
}

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: {
            stop: { type: "boolean", default: false },
            status: { type: "boolean", default: false },
            stack: { type: "string", default: "prod" },
            help: { type: "boolean", short: "h", default: false },
        },
    });
    const paths = supervisorPaths(tryStateDir());
    if (values.help) {
        say("npm run try [-- --stack NAME]   the stack's agent on a local stand-in server (root, Linux; see standin/README.md)");
        say("npm run try -- --status         whether one runs (exit 0) or not (exit 3), and how to reach it");
        say("npm run try -- --stop           stop it and remove everything it made (the cached image stays)");
        say("LLM key: OPENCLAW_VPS_LLM_API_KEY or the provider's variable (e.g. ANTHROPIC_API_KEY); state: $OPENCLAW_VPS_TRY_DIR");
        return 0;
    }
    if (values.status) return status(paths);
    if (values.stop) return stop(paths);
    return start(paths, values.stack);
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
            process.exit(1);
        },
    );
}
