// Deploying onto a stand-in VPS with the code `pulumi up` runs (components/host.ts): the real user data, then over SSH
// `wait-provisioned.sh` and `renderBundleScript(buildHostBundle(hostBundleInput(settings, secrets)))` on stdin of
// `sudo -n bash -s` (RemoteHost). Plus what a stand-in host needs for it: the bucket stand-in, a cloudflared that
// reports READY, and a way to the LLM through the egress proxy. Settings come from the caller (never a stack file).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { bucketLockRules } from "../components/core/backup-layout";
import { HOST_FILES } from "../components/core/host-contract";
import { PROJECT_ROOT } from "../components/core/pins";
import { hostBundleInput, REMOTE_COMMAND, settingsRelease, type HostSecrets } from "../components/host";
import type { HostRelease } from "../components/render/openclaw-release";
import { RemoteHost, type PushResult, type RunResult } from "../components/remote";
import { GATEWAY_UNIT_NAME } from "../components/render/gateway-unit";
import { buildHostBundle, type HostBundle, type HostBundleInput } from "../components/render/host-bundle";
import { parseHostFacts } from "../components/render/host-facts";
import type { LlmProvider, StandInEndpoints } from "../components/render/openclaw-config";
import { renderPlanInstaller } from "../components/render/restore-plan";
import type { Settings } from "../components/settings";
import type { PlanInput } from "../components/snapshots/plan";
import { startS3Server, type S3KeyPair, type S3Server } from "./bucket";
import { STANDIN_EGRESS_PROXY } from "./egress-proxy";
import { cacheDir, isAlive, netnsLauncher } from "./process";
import { standInUserData } from "./scenario";
import { STANDIN_NETWORK, type StandInVps } from "./vps";

/** Secrets shaped like production's; none of them may ever show up in argv, output, user data or a snapshot. */
export const DEPLOY_SENTINELS: HostSecrets & { backupAccessKeyId: string; backupSecretAccessKey: string } = {
    gatewayToken: "DEPLOYsentinelGatewayToken0b7e2d94c1a85f36e2d9c4",
    llmApiKey: "sk-ant-DEPLOY-sentinel-llm-key-8d1f5a3c7e",
    tunnelToken: Buffer.from('{"a":"DEPLOYsentinelAccount","t":"DEPLOYsentinelTunnel","s":"DEPLOYsentinelSecret"}').toString("base64"),
    backupAccessKeyId: "DEPLOYsentinelAccessKeyId4c2e",
    backupSecretAccessKey: "DEPLOYsentinelR2secret1f3e5d7c9b0a2c4e6f8a",
};

/** The operator's read-only key pair of the bucket stand-in (R2's Object Read token): only the planner uses it. */
export const DEPLOY_READER: S3KeyPair = {
    accessKeyId: "DEPLOYsentinelReaderKeyId7a1b",
    secretAccessKey: "DEPLOYsentinelReaderSecret2c3d4e5f6a7b8c9d0e",
};

/** Where the bucket stand-in answers, seen from the container (the bridge address of its namespace). */
export const STANDIN_S3_PORT = 9000;
export const STANDIN_S3_ENDPOINT = `http://${STANDIN_NETWORK.gateway}:${STANDIN_S3_PORT}`;

/** The stand-in cloudflared's record lines in the journal (the unit's ProtectSystem=strict forbids writing a file). */
export const CLOUDFLARED_RECORD_PREFIX = "cloudflared-standin-record ";

/**
 * A cloudflared stand-in that behaves like a connected connector under the real `cloudflared.service`
 * (Type=notify, DynamicUser, ProtectSystem=strict): it records argv and the NAMES of its environment variables (never
 * values) as one JSON line on stderr (the journal), refuses to run without TUNNEL_TOKEN, reports READY=1 and idles.
 */
export const RECORDING_CLOUDFLARED = `#!/usr/bin/python3
# cloudflared STAND-IN (standin/deploy.ts): records how it was started, reports READY like a connected
# tunnel, then idles. Not Cloudflare's binary.
import json, os, socket, sys, time
args = sys.argv[1:]
if args[:1] in (["--version"], ["-v"], ["version"]):
    print("cloudflared version stand-in (openclaw-vps deploy tests, not Cloudflare's binary)")
    sys.exit(0)
record = {"argv": args, "env_names": sorted(os.environ.keys()), "uid": os.getuid(), "pid": os.getpid()}
sys.stderr.write("${CLOUDFLARED_RECORD_PREFIX}" + json.dumps(record) + "\\n")
sys.stderr.flush()
if not os.environ.get("TUNNEL_TOKEN"):
    sys.stderr.write("cloudflared stand-in: TUNNEL_TOKEN is not set\\n")
    sys.exit(1)
address = os.environ.get("NOTIFY_SOCKET")
if address:
    if address.startswith("@"):
        address = "\\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.connect(address)
        notify.sendall(b"READY=1")
while True:
    time.sleep(3600)
`;

/** What a deploy is made of: validated settings (as index.ts gets them) and the rendered user data. */
export interface DeployPlan {
    settings: Settings;
    userData: string;
}

/**
 * What a stack's settings need to deploy onto a stand-in (`key=value`, as `npm run plan -- --set`), applied before the
 * caller's own overrides: memory search is `none` because the Voyage provider plugin is not on the registry the
 * stand-in reaches (and there is no embedding API to call).
 */
export const STANDIN_SETTING_OVERRIDES: readonly string[] = ["memorySearchProvider=none"];

/**
 * The user data components/agent.ts renders from these settings, with the stand-in's mirror URLs (the one
 * difference). The settings are the caller's: read from a stack file with STANDIN_SETTING_OVERRIDES and the
 * scenario's admin key (scripts/lib/standin-settings.ts does that for scripts and tests).
 */
export function deployPlan(settings: Settings): DeployPlan {
    const userData = standInUserData(settings.sshPublicKey, {
        hostname: settings.agentName,
        adminUser: settings.adminUser,
        swapMb: settings.swapMb,
        timezone: settings.timezone,
        gatewayPort: settings.gatewayPort,
    });
    return { settings, userData };
}

/**
 * hostBundleInput(settings, secrets, { hostMemoryMb, release }) exactly as components/host.ts calls it (the memory from
 * wait-provisioned.sh's HOST-FACTS line, `hostMemoryFrom`), with the bucket stand-in's endpoint and, when given, the
 * Telegram and LLM stand-ins' endpoints (the documented differences). `release` defaults to the settings'
 * (openclawVersion); tests pass a stand-in registry's release.
 */
export interface DeployBundleOptions {
    hostMemoryMb?: number;
    release?: HostRelease;
    /** The Telegram Bot API and LLM stand-ins (standin/telegram.ts, standin/llm.ts) the agent talks to instead. */
    standIn?: StandInEndpoints;
    /**
     * How long the push waits for /readyz (production: DEFAULT_READY_TIMEOUT_SECONDS). A test on a loaded machine gives
     * a deadline that holds at a 10x slowdown; the mechanism is the same.
     */
    readyTimeoutSeconds?: number;
    /**
     * Private addresses the browser tool may open anyway (`browser.ssrfPolicy.allowedHostnames`, exact names): the
     * stand-in's test page on the bridge. Only with the settings' `browser: true`; production renders none.
     */
    browserPrivateHostnames?: readonly string[];
}

export function deployBundleInput(
    settings: Settings,
    secrets: HostSecrets = DEPLOY_SENTINELS,
    options: DeployBundleOptions = {},
): HostBundleInput {
    const input = hostBundleInput(settings, secrets, { hostMemoryMb: options.hostMemoryMb, release: options.release });
    if (options.browserPrivateHostnames?.length && !input.tools.browser)
        throw new Error("deployBundleInput: browserPrivateHostnames needs the settings' browser: true");
    const browser = options.browserPrivateHostnames?.length
        ? { browser: { executablePath: HOST_FILES.browserBinary, allowedPrivateHostnames: options.browserPrivateHostnames } }
        : {};
    return {
        ...input,
        openclaw: { ...input.openclaw, ...browser, ...(options.standIn ? { standIn: options.standIn } : {}) },
        ...(options.readyTimeoutSeconds ? { readyTimeoutSeconds: options.readyTimeoutSeconds } : {}),
        backup: { ...input.backup, rclone: { ...input.backup.rclone, endpoint: STANDIN_S3_ENDPOINT } },
    };
}

export function deployBundle(settings: Settings, secrets: HostSecrets = DEPLOY_SENTINELS, options: DeployBundleOptions = {}): HostBundle {
    return buildHostBundle(deployBundleInput(settings, secrets, options));
}

/** The host's memory as wait-provisioned.sh reported it (what components/host.ts sizes the gateway from). */
export function hostMemoryFrom(wait: RunResult): number | undefined {
    return parseHostFacts(wait.stdout).memTotalMb;
}

export interface BucketCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    /** The operator's read-only key pair. */
    reader: S3KeyPair;
}

/**
 * The R2 bucket stand-in: s3rver in the instance's network namespace, its data in `dir` (kept across servers), with
 * the bucket lock rules of `backupLockDays` emulated. The key pairs default to the sentinels; `npm run try` passes
 * its own.
 */
export async function startBucket(
    vps: StandInVps | { resources(): { netns: string } },
    settings: Pick<Settings, "backupBucketName"> & Partial<Pick<Settings, "backupLockDays">>,
    dir: string,
    credentials: BucketCredentials = {
        accessKeyId: DEPLOY_SENTINELS.backupAccessKeyId,
        secretAccessKey: DEPLOY_SENTINELS.backupSecretAccessKey,
        reader: DEPLOY_READER,
    },
): Promise<S3Server> {
    mkdirSync(dir, { recursive: true });
    return startS3Server({
        dir,
        buckets: [settings.backupBucketName],
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        reader: credentials.reader,
        locks: bucketLockRules(settings.backupLockDays ?? 7),
        address: STANDIN_NETWORK.gateway,
        port: STANDIN_S3_PORT,
        // Killed with the namespace when the instance is destroyed, and with this process if it dies.
        launcher: netnsLauncher(vps.resources().netns),
    });
}

/** Replaces the stand-in package's cloudflared (which never reports READY) with the recording, notifying one. */
export async function installRecordingCloudflared(vps: StandInVps): Promise<void> {
    await vps.exec(
        "cat >/usr/bin/cloudflared.new && chmod 0755 /usr/bin/cloudflared.new && mv -f /usr/bin/cloudflared.new /usr/bin/cloudflared",
        {
            input: RECORDING_CLOUDFLARED,
        },
    );
}

/** The same, over SSH as the admin user (sudo), for a caller that holds no handle on the instance (`npm run try`). */
export async function installRecordingCloudflaredOverSsh(remote: RemoteHost): Promise<void> {
    // The here-document feeds `install` alone; `bash -s` reads the rest of the script from the same stdin.
    const script = [
        "set -euo pipefail",
        "install -m 0755 /dev/stdin /usr/bin/cloudflared.new <<'STANDIN_CLOUDFLARED'",
        `${RECORDING_CLOUDFLARED}STANDIN_CLOUDFLARED`,
        "mv -f /usr/bin/cloudflared.new /usr/bin/cloudflared",
        "",
    ].join("\n");
    const result = await remote.runScript(script, { sudo: true });
    if (result.code !== 0) throw new Error(`installing the stand-in cloudflared failed (exit ${result.code}): ${result.stderr}`);
}

/** Each LLM provider's API (host:port): the one place the egress proxy lets a stand-in's gateway reach. */
export const LLM_API_ENDPOINTS: Record<LlmProvider, string> = {
    anthropic: "api.anthropic.com:443",
    openai: "api.openai.com:443",
    openrouter: "openrouter.ai:443",
    google: "generativelanguage.googleapis.com:443",
    mistral: "api.mistral.ai:443",
    minimax: "api.minimax.io:443",
};

/** Where the drop-in that sends the gateway through the egress proxy lives (beside the pushed unit, never in it). */
export const EGRESS_DROP_IN_PATH = `/etc/systemd/system/${GATEWAY_UNIT_NAME}.d/standin-egress-proxy.conf`;

/**
 * The gateway's environment for the egress proxy: Node 24 sends fetch and https through HTTPS_PROXY when
 * NODE_USE_ENV_PROXY=1 (OpenClaw's own HTTP client reads HTTPS_PROXY too); loopback stays direct.
 */
export function renderEgressDropIn(): string {
    return [
        "# Written by `npm run try` (standin/deploy.ts): the stand-in has no internet but its egress proxy, which only",
        "# tunnels to the LLM provider's API. Not part of the production bundle.",
        "[Service]",
        `Environment=HTTPS_PROXY=${STANDIN_EGRESS_PROXY.url}`,
        `Environment=https_proxy=${STANDIN_EGRESS_PROXY.url}`,
        "Environment=NO_PROXY=localhost,127.0.0.1,::1",
        "Environment=no_proxy=localhost,127.0.0.1,::1",
        "Environment=NODE_USE_ENV_PROXY=1",
        "",
    ].join("\n");
}

/**
 * Writes the egress drop-in before the push, owned like the pushed unit (root, 0644), so the push's first
 * `systemctl daemon-reload` picks it up and the gateway starts with it: no extra restart.
 */
export async function installEgressDropIn(remote: RemoteHost): Promise<void> {
    const dir = EGRESS_DROP_IN_PATH.slice(0, EGRESS_DROP_IN_PATH.lastIndexOf("/"));
    const script = [
        "set -euo pipefail",
        `install -d -o root -g root -m 0755 ${dir}`,
        `install -o root -g root -m 0644 /dev/stdin ${EGRESS_DROP_IN_PATH} <<'STANDIN_DROP_IN'`,
        renderEgressDropIn() + "STANDIN_DROP_IN",
        "",
    ].join("\n");
    const result = await remote.runScript(script, { sudo: true });
    if (result.code !== 0) throw new Error(`writing the egress drop-in failed (exit ${result.code}): ${result.stderr}`);
}

/** SSH as the admin user, pinning the host key the container generated on first boot. The deadline is a hang guard,
 *  not a speed: a first boot on a loaded 2-core machine can keep sshd from answering a handshake for minutes. */
export async function connectAdmin(vps: StandInVps, settings: Settings, privateKey: string, timeoutMs = 10 * 60_000): Promise<RemoteHost> {
    const deadline = Date.now() + timeoutMs;
    // On a server that is still booting, the host key and the admin user appear during cloud-init's first stage.
    let hostKey = "";
    while (!hostKey) {
        hostKey = (await vps.exec("cat /etc/ssh/ssh_host_ed25519_key.pub", { allowFailure: true })).stdout.trim();
        if (!hostKey) {
            if (Date.now() > deadline) throw new Error(`${vps.name}: no SSH host key after ${timeoutMs / 1000} s`);
            await new Promise((resolve) => setTimeout(resolve, 250));
        }
    }
    for (;;) {
        try {
            return await RemoteHost.connect({
                host: vps.ssh.host,
                port: vps.ssh.port,
                username: settings.adminUser,
                privateKey,
                hostKey: [hostKey],
            });
        } catch (error) {
            if (Date.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, 500));
        }
    }
}

/**
 * The restore planner exactly as the Pulumi program runs it on the operator's machine (components/snapshots/
 * plan-cli.ts, input as JSON on stdin), inside the instance's network namespace, where the bucket stand-in answers.
 * Returns the plan (a secret) and what it chose.
 */
export function planRestoreInNamespace(netns: string, input: PlanInput): Promise<{ plan: string; summary: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(
            "nsenter",
            [`--net=/run/netns/${netns}`, "--", process.execPath, "--import", "tsx", "components/snapshots/plan-cli.ts"],
            { cwd: PROJECT_ROOT, stdio: ["pipe", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) =>
            code === 0 ? resolve({ plan: stdout, summary: stderr.trim() }) : reject(new Error(`${stderr.trim()} (planner exit ${code})`)),
        );
        child.stdin.end(JSON.stringify(input));
    });
}

/** What components/host.ts's restore-keys command does: the plan to HOST_RESTORE_PLAN over SSH, script on stdin. */
export async function installRestorePlan(remote: RemoteHost, plan: string): Promise<RunResult> {
    const result = await remote.runScript(renderPlanInstaller(plan), { sudo: true });
    if (result.code !== 0) throw new Error(`placing the restore plan failed (exit ${result.code}): ${result.stderr}`);
    return result;
}

export interface DeployRun {
    wait: RunResult;
    /** The release step (upgrade-openclaw.sh stage), run beside the wait as AgentHost runs it. */
    stage: RunResult;
    /** The memory the host reported (HOST-FACTS), which the gateway unit's budget was computed from. */
    hostMemoryMb: number | undefined;
    push: PushResult;
    waitSeconds: number;
    stageSeconds: number;
    /** The browser stage (install-browser.sh --prefetch: Chromium's packages into apt's cache), beside everything else;
     *  absent with browser: false. */
    browserStage: RunResult | undefined;
    /** From the start of the deploy to the end of the browser stage (0 without one). */
    browserStageSeconds: number;
    /** From the start of the wait and the stage to the end of the later of the two. */
    beforePushSeconds: number;
    /** From the start of the deploy to the push's start (beforePushSeconds, the restore plan and the beforePush hook). */
    pushStartedSeconds: number;
    pushSeconds: number;
}

export interface DeployOptions {
    secrets?: HostSecrets;
    /** Default: the settings' release (openclawVersion). */
    release?: HostRelease;
    /** Resolve with the failed push instead of throwing (the rollback tests read its output). */
    allowFailure?: boolean;
    /** Runs after the wait and the release step, right before the push (e.g. the READY-reporting cloudflared, which
     *  must replace the package's once provisioning installed it). */
    beforePush?: () => Promise<void>;
    /** The restore plan the local planner made for a new server (planRestoreInNamespace), placed before the push. */
    plan?: string;
    /** The Telegram Bot API and LLM stand-ins the agent talks to instead (see DeployBundleOptions). */
    standIn?: StandInEndpoints;
    /** How long the push waits for /readyz (see DeployBundleOptions). */
    readyTimeoutSeconds?: number;
    /** The browser's exceptions for the stand-in's test page (see DeployBundleOptions). */
    browserPrivateHostnames?: readonly string[];
}

/** Where the agent's stand-ins listen on an instance's bridge (`StandInVps.serveOnBridge`): Telegram, LLM, test page. */
export const AGENT_STANDIN_PORTS = { telegram: 8081, llm: 8082, page: 8083 } as const;

/** The test page the agent's browser may open on the bridge (served on AGENT_STANDIN_PORTS.page). */
export const STANDIN_PAGE_URL = `http://${STANDIN_NETWORK.gateway}:${AGENT_STANDIN_PORTS.page}/`;

/**
 * The deploy options that point the agent at the Telegram and LLM stand-ins on the bridge and let its browser open
 * the test page there (the agent-turn test and the bench; serve them on AGENT_STANDIN_PORTS).
 */
export function agentStandIns(): Pick<DeployOptions, "standIn" | "browserPrivateHostnames"> {
    const bridge = `http://${STANDIN_NETWORK.gateway}`;
    return {
        standIn: {
            telegramApiRoot: `${bridge}:${AGENT_STANDIN_PORTS.telegram}`,
            llm: { baseUrl: `${bridge}:${AGENT_STANDIN_PORTS.llm}/v1`, model: "standin-1" },
        },
        browserPrivateHostnames: [STANDIN_NETWORK.gateway],
    };
}

/**
 * The SSH steps of AgentHost: the release's side-by-side install and wait-provisioned.sh at the same time, then the
 * bundle script, each on stdin of REMOTE_COMMAND; with browser: true, the browser stage beside all of them (the push
 * does not wait for it; its own browser run after readiness does). Throws with the applier's output when the push
 * fails, and with the browser stage's when that fails.
 */
export async function deploy(remote: RemoteHost, settings: Settings, options: DeployOptions | HostSecrets = {}): Promise<DeployRun> {
    if (REMOTE_COMMAND !== "sudo -n bash -s") throw new Error(`components/host.ts now runs ${REMOTE_COMMAND}: update RemoteHost`);
    const opts: DeployOptions = "gatewayToken" in options ? { secrets: options as HostSecrets } : (options as DeployOptions);
    const secrets = opts.secrets ?? DEPLOY_SENTINELS;
    const release = opts.release ?? settingsRelease(settings);
    const started = Date.now();
    let waitSeconds = 0;
    let stageSeconds = 0;
    let browserStageSeconds = 0;
    // Settled into a value at once, so a failure is reported after the push instead of as an unhandled rejection.
    // Its own connection: the hardened sshd allows two sessions per connection (MaxSessions 2), and the wait and the
    // release step use those (pulumi up gives every remote command a connection of its own).
    const browser: Promise<{ result?: RunResult; error?: unknown }> = settings.browser
        ? remote
              .another()
              .then(async (own) => {
                  try {
                      const result = await own.stageBrowser();
                      browserStageSeconds = (Date.now() - started) / 1000;
                      return { result };
                  } finally {
                      own.dispose();
                  }
              })
              .catch((error: unknown) => ({ error }))
        : Promise.resolve({});
    const [wait, stage] = await Promise.all([
        remote
            .waitProvisioned({ timeoutSeconds: settings.provisionTimeoutMinutes * 60 })
            .then((r) => ((waitSeconds = (Date.now() - started) / 1000), r)),
        remote.stageRelease(release, settings.nodeMajor).then((r) => ((stageSeconds = (Date.now() - started) / 1000), r)),
    ]);
    // A new server's restore plan (the planner ran on the operator's side) goes in before the push, as restore-keys does.
    if (opts.plan !== undefined) await installRestorePlan(remote, opts.plan);
    const beforePushSeconds = (Date.now() - started) / 1000;
    const hostMemoryMb = hostMemoryFrom(wait);
    await opts.beforePush?.();
    const pushStarted = Date.now();
    const push = await remote.pushBundle(
        deployBundle(settings, secrets, {
            hostMemoryMb,
            release,
            standIn: opts.standIn,
            readyTimeoutSeconds: opts.readyTimeoutSeconds,
            browserPrivateHostnames: opts.browserPrivateHostnames,
        }),
    );
    const pushSeconds = (Date.now() - pushStarted) / 1000;
    const browserStage = await browser;
    if ((push.code !== 0 || !push.summary) && !opts.allowFailure) {
        throw new Error(`push failed (exit ${push.code}):\n${push.stdout}\n${push.stderr}`);
    }
    if (browserStage.error !== undefined) throw browserStage.error;
    return {
        wait,
        stage,
        hostMemoryMb,
        push,
        waitSeconds,
        stageSeconds,
        browserStage: browserStage.result,
        browserStageSeconds,
        beforePushSeconds,
        pushStartedSeconds: (pushStarted - started) / 1000,
        pushSeconds,
    };
}

/** systemctl for the gateway's unit (a system unit running as the agent user), from root inside the container. */
export function gatewaySystemctl(): string {
    return "systemctl --no-pager";
}

export interface GatewayProcess {
    activeState: string;
    mainPid: number;
    /** Owner of the main process. */
    user: string;
    /** /proc/PID/cgroup of the main process (systemd's unit cgroup). */
    cgroup: string;
}

export async function gatewayProcess(vps: StandInVps): Promise<GatewayProcess> {
    const show = await vps.exec(`${gatewaySystemctl()} show -p ActiveState -p MainPID openclaw-gateway.service`);
    const fields = Object.fromEntries(
        show.stdout
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    const mainPid = Number(fields.MainPID);
    let user = "";
    let cgroup = "";
    if (mainPid > 0) {
        user = (await vps.exec(`ps -o user= -p ${mainPid}`, { allowFailure: true })).stdout.trim();
        cgroup = (await vps.exec(`cat /proc/${mainPid}/cgroup`, { allowFailure: true })).stdout.trim();
    }
    return { activeState: fields.ActiveState ?? "", mainPid, user, cgroup };
}

/** Polls /readyz inside the container until it answers 200; returns the seconds it took. */
export async function waitGatewayReady(vps: StandInVps, port: number, timeoutSeconds = 240): Promise<number> {
    const started = Date.now();
    const result = await vps.exec(
        `for _ in $(seq ${timeoutSeconds * 2}); do curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${port}/readyz && exit 0; sleep 0.5; done; exit 1`,
        { allowFailure: true, timeoutMs: (timeoutSeconds + 30) * 1000 },
    );
    if (result.code !== 0) {
        const journal = await vps.exec("journalctl --no-pager -n 40 _UID=$(id -u openclaw)", { allowFailure: true });
        throw new Error(`/readyz did not answer 200 within ${timeoutSeconds} s\n${journal.stdout}`);
    }
    return (Date.now() - started) / 1000;
}

/** Listening sockets as [process name, local address] pairs (ss -H -l -n -p, TCP and UDP). */
export async function listeners(vps: StandInVps): Promise<{ name: string; address: string; port: number; pid: number }[]> {
    const sockets = await vps.exec("ss -H -l -n -p -t -u");
    return sockets.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => {
            const local = line.trim().split(/\s+/)[4] ?? "";
            const cut = local.lastIndexOf(":");
            return {
                name: /users:\(\("([^"]+)"/.exec(line)?.[1] ?? "unknown",
                address: local
                    .slice(0, cut)
                    .replace(/^\[|\]$/g, "")
                    .replace(/%\S+$/, ""),
                port: Number(local.slice(cut + 1)),
                pid: Number(/pid=(\d+)/.exec(line)?.[1] ?? 0),
            };
        });
}

export function isLoopback(address: string): boolean {
    return /^127\./.test(address) || address === "::1";
}

/**
 * A fresh directory for the bucket stand-in's data under the stand-in cache (outside the repository), named after
 * this process; directories of processes that died without cleaning up are removed first.
 */
export function bucketDataDir(): string {
    const root = cacheDir("e2e");
    for (const entry of readdirSync(root)) {
        const owner = /^bucket-(\d+)-/.exec(entry)?.[1];
        if (owner && Number(owner) !== process.pid && !isAlive(Number(owner))) rmSync(join(root, entry), { recursive: true, force: true });
    }
    return mkdtempSync(join(root, `bucket-${process.pid}-`));
}
