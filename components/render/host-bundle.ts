// Composes the push bundle of one host: every file the deploy writes over SSH (agent config and secrets, the gateway
// and tunnel units, backup settings and units, host scripts from cloud-init/, the workspace seed), each with the
// owner, mode and policy of docs/host-contract.md, plus the services, the first-boot restore and the readiness check.
// Input is plain data with the secrets as plain strings (the Pulumi component unwraps them inside an `apply` and
// marks the rendered script secret). Pure apart from reading the repository's cloud-init/ scripts; no Pulumi imports.
import { AGENT_USER, HOST_DIRS, HOST_FILES, HOST_UNITS, renderContractEnv } from "../core/host-contract";
import { SKILL_SPEC_RULE } from "../core/rules";
import { AFFECTS_PLUGINS, Bundle, BundleDir, BundleFile, BundleService } from "./bundle";
import {
    BACKUP_HOST_SCRIPTS,
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_NAME,
    BACKUP_TIMER_PATH,
    BackupUnitsInput,
    HOST_BIN_DIR,
    renderBackupService,
    renderBackupTimer,
} from "./backup-units";
import { CLOUDFLARED_UNIT_PATH, TUNNEL_ENV_PATH, renderCloudflaredUnit, renderTunnelEnv } from "./cloudflared-unit";
import { GATEWAY_UNIT_NAME } from "./gateway-unit";
import { readHostFile } from "./host-files";
import {
    DEFAULT_GATEWAY_PORT,
    DEFAULT_MEMORY_SEARCH_PROVIDER,
    GATEWAY_SECRET_ENV,
    LLM_PROVIDER_SPECS,
    MEMORY_SEARCH_PROVIDER_SPECS,
    OpenclawConfigInput,
    renderGatewayEnvFile,
    renderOpenclawConfig,
} from "./openclaw-config";
import {
    BACKUP_ENV_PATH,
    BACKUP_SETTINGS_MODE,
    BackupEnvInput,
    RCLONE_CONFIG_PATH,
    RcloneConfigInput,
    renderBackupEnv,
    renderRcloneConfig,
} from "./rclone";
import {
    AlertDestinations,
    renderAlertsEnv,
    renderWatchdogEnv,
    renderWatchdogService,
    renderWatchdogTimer,
    WATCHDOG_FILES,
    WATCHDOG_HOST_SCRIPTS,
    WATCHDOG_SERVICE_PATH,
    WATCHDOG_TIMER_PATH,
    WatchdogInput,
} from "./watchdog";
import { WorkspaceFile } from "./workspace";
import {
    INTEGRITY_APT_HOOK_PATH,
    INTEGRITY_SCRIPT,
    INTEGRITY_SERVICE_PATH,
    INTEGRITY_TIMER_PATH,
    renderAideConfig,
    renderIntegrityAptHook,
    renderIntegrityService,
    renderIntegrityTimer,
    renderRootkitService,
    renderRootkitTimer,
    ROOTKIT_SERVICE_PATH,
    ROOTKIT_TIMER_PATH,
} from "./integrity";
import { CHANNEL_TOKEN_ENV, ChannelSecretKey } from "./channels";
import { TunnelProtocol } from "./cloudflared-unit";
import { HostRelease, releaseSpecFiles } from "./openclaw-release";
import {
    REBOOT_SERVICE_PATH,
    REBOOT_TIMER_NAME,
    REBOOT_TIMER_PATH,
    RebootWindowInput,
    renderRebootWindowService,
    renderRebootWindowTimer,
} from "./reboot-window";

export { AGENT_USER, GATEWAY_UNIT_NAME };
export const CLOUDFLARED_UNIT_NAME = HOST_UNITS.cloudflared;
export const RESTORE_MARKER = HOST_FILES.restoreMarker;
/** Host scripts the push ships to HOST_BIN_DIR besides the backup ones (provision.sh comes with the user data). */
export const PUSHED_HOST_SCRIPTS = [
    "install-plugins.sh",
    "install-browser.sh",
    "install-skills.sh",
    "install-tools.sh",
    "upgrade-openclaw.sh",
    "reboot-window.sh",
    "baseline.sh",
] as const;
/** Runs the three installers above, in that order, before the gateway (re)starts. */
export const TOOLS_INSTALLER = "install-tools.sh";
/**
 * How long the push waits for the gateway's /readyz. Its first start takes 15–22 s on an idle 2-vCPU host, but more
 * than 180 s on the stand-in at load 25 (2 shared cores): the bound only catches a hang (a failed unit ends the wait
 * at once), so it is generous.
 */
export const DEFAULT_READY_TIMEOUT_SECONDS = 600;

export interface HostBundleInput {
    /** openclaw.json input (its `stateDir`/`workspaceDir` default to the host contract's). */
    openclaw: OpenclawConfigInput;
    /** Secrets, as plain strings. `embeddingApiKey` absent: keyword-only memory search (the config warns). */
    secrets: { gatewayToken: string; llmApiKey: string; embeddingApiKey?: string; channels?: Partial<Record<ChannelSecretKey, string>> };
    tunnel: { protocol: TunnelProtocol; token: string };
    backup: { rclone: RcloneConfigInput; env: BackupEnvInput; units?: BackupUnitsInput };
    /** The workspace seed with its ownership policies (`workspaceFiles()` reads the repository's workspace/). */
    workspace: WorkspaceFile[];
    /** The gateway's systemd unit text: `renderGatewayUnit(...).unit` (its warnings are the caller's to log). */
    gatewayUnit: string;
    /** The watchdog: its settings and its (secret) alert destinations. */
    watchdog: { settings: WatchdogInput; destinations: AlertDestinations };
    /** The agent's tools the host installs: the browser (on/off), the pinned ClawHub skills, the pinned clawhub CLI. */
    tools: ToolsInput;
    /** How long the push waits for /readyz (default 180 s: first start after a restore can be slow on 2 GB). */
    readyTimeoutSeconds?: number;
    /** The OpenClaw release the host runs and the Node major under it (upgrade-openclaw.sh installs and switches).
     *  Absent: the host's OpenClaw is left alone (the applier's own tests). */
    release?: { release: HostRelease; nodeMajor: number };
    /** When the host may reboot for updates (the reboot-window units). Absent: no such units. */
    rebootWindow?: RebootWindowInput;
}

export interface ToolsInput {
    browser: boolean;
    /** ClawHub skills, each `slug@X.Y.Z` or `@owner/slug@X.Y.Z`. */
    skills: readonly string[];
    /** The clawhub CLI pin (`readClawhubPin()`): version and the npm lock's sha512 integrity. */
    clawhub: { version: string; integrity: string };
}

/** /etc/openclaw-vps/tools.env: what install-tools.sh installs besides the plugins (plain words, read as data). */
export function renderToolsEnv(tools: ToolsInput): string {
    for (const spec of tools.skills) {
        if (!SKILL_SPEC_RULE.test(spec))
            throw new Error(`host bundle: skill ${JSON.stringify(spec)}; expected ${SKILL_SPEC_RULE.expected}`);
    }
    if (!/^\d+\.\d+\.\d+$/.test(tools.clawhub.version) || !/^sha512-[A-Za-z0-9+/]+=*$/.test(tools.clawhub.integrity)) {
        throw new Error("host bundle: the clawhub pin needs an exact version and a sha512 integrity");
    }
    return [
        "# Managed by openclaw-vps (components/render/host-bundle.ts): read by install-tools.sh.",
        `BROWSER=${tools.browser ? 1 : 0}`,
        `SKILLS=${tools.skills.join(" ")}`,
        `CLAWHUB_VERSION=${tools.clawhub.version}`,
        `CLAWHUB_INTEGRITY=${tools.clawhub.integrity}`,
        "",
    ].join("\n");
}

export interface HostBundle extends Bundle {
    /** Things the operator must hear (e.g. keyword-only memory search); the Pulumi component logs them. */
    warnings: string[];
    /** Plugin packages the config needs, pinned (what install-plugins.sh installs). */
    plugins: string[];
}

const RELATIVE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** The .env values: every env var the rendered config references, mapped to the secret it names. */
function gatewayEnv(input: HostBundleInput, referenced: string[]): Record<string, string> {
    const auth = input.openclaw.auth ?? "token";
    const llm = LLM_PROVIDER_SPECS[input.openclaw.llmProvider ?? "anthropic"];
    const memory = MEMORY_SEARCH_PROVIDER_SPECS[input.openclaw.memorySearch.provider ?? DEFAULT_MEMORY_SEARCH_PROVIDER];
    const values: Record<string, string> = {};
    for (const name of referenced) {
        if (name === GATEWAY_SECRET_ENV[auth]) values[name] = input.secrets.gatewayToken;
        else if (name === llm.keyEnv) values[name] = input.secrets.llmApiKey;
        else if ("keyEnv" in memory && name === memory.keyEnv && input.secrets.embeddingApiKey)
            values[name] = input.secrets.embeddingApiKey;
        else if (CHANNEL_TOKEN_ENV[name] && input.secrets.channels?.[CHANNEL_TOKEN_ENV[name]])
            values[name] = input.secrets.channels[CHANNEL_TOKEN_ENV[name]]!;
        else throw new Error(`host bundle: the config reads ${name}, but no secret is given for it`);
    }
    return values;
}

export function buildHostBundle(input: HostBundleInput): HostBundle {
    const agent = AGENT_USER;
    const home = `/home/${agent}`;
    const stateDir = input.openclaw.stateDir ?? `${home}/.openclaw`;
    const workspaceDir = input.openclaw.workspaceDir ?? `${stateDir}/workspace`;
    const port = input.openclaw.port ?? DEFAULT_GATEWAY_PORT;
    const config = renderOpenclawConfig({
        ...input.openclaw,
        stateDir,
        workspaceDir,
        ...(input.tools.browser ? { browser: { executablePath: HOST_FILES.browserBinary, ...input.openclaw.browser } } : {}),
    });
    const installer = `${HOST_BIN_DIR}/${TOOLS_INSTALLER}`;

    const root = (path: string, content: string, mode: string, extra: Partial<BundleFile> = {}): BundleFile => ({
        path,
        content,
        owner: "root",
        group: "root",
        mode,
        policy: "replace",
        secret: false,
        ...extra,
    });
    const mine = (path: string, content: string, mode: string, extra: Partial<BundleFile> = {}): BundleFile => ({
        path,
        content,
        owner: agent,
        group: agent,
        mode,
        policy: "replace",
        secret: false,
        ...extra,
    });

    const dirs: BundleDir[] = [
        { path: "/etc/openclaw-vps", owner: "root", group: "root", mode: "0755" },
        ...(input.release ? [{ path: HOST_DIRS.releaseSpec, owner: "root", group: "root", mode: "0755" }] : []),
        { path: "/etc/cloudflared", owner: "root", group: "root", mode: "0755" },
        { path: HOST_BIN_DIR, owner: "root", group: "root", mode: "0755" },
        { path: "/var/lib/openclaw-vps", owner: "root", group: "root", mode: "0755" },
        { path: "/etc/aide", owner: "root", group: "root", mode: "0755" },
        { path: HOST_DIRS.integrityState, owner: "root", group: "root", mode: "0700" },
        { path: stateDir, owner: agent, group: agent, mode: "0700" },
        { path: workspaceDir, owner: agent, group: agent, mode: "0700" },
        { path: `${workspaceDir}/memory`, owner: agent, group: agent, mode: "0700" },
        // The repo's skills and the ClawHub ones land here; the agent's own skills live here too (never touched).
        { path: `${workspaceDir}/skills`, owner: agent, group: agent, mode: "0700" },
        // OpenClaw's CLI temp files (openclaw-<uid>/): must exist before the sandboxed backup or watchdog starts.
        { path: `${home}/.cache`, owner: agent, group: agent, mode: "0700" },
    ];

    const files: BundleFile[] = [
        // The host contract every host script reads (user data wrote it at first boot; a newer project may add keys).
        root(HOST_FILES.contractEnv, renderContractEnv(), "0644"),
        // Host scripts first: restore.sh must be in place before the first-boot restore.
        ...BACKUP_HOST_SCRIPTS.map((name) => root(`${HOST_BIN_DIR}/${name}`, readHostFile(name), "0755")),
        ...PUSHED_HOST_SCRIPTS.map((name) => root(`${HOST_BIN_DIR}/${name}`, readHostFile(name), "0755", { affects: [AFFECTS_PLUGINS] })),
        root(HOST_FILES.toolsEnv, renderToolsEnv(input.tools), "0644", { affects: [AFFECTS_PLUGINS] }),
        root(RCLONE_CONFIG_PATH, renderRcloneConfig(input.backup.rclone), BACKUP_SETTINGS_MODE, { secret: true }),
        root(BACKUP_ENV_PATH, renderBackupEnv({ agentUser: agent, ...input.backup.env }), BACKUP_SETTINGS_MODE),
        root(BACKUP_SERVICE_PATH, renderBackupService(input.backup.units), "0644"),
        root(BACKUP_TIMER_PATH, renderBackupTimer(input.backup.units), "0644", { affects: [BACKUP_TIMER_NAME] }),
        root(CLOUDFLARED_UNIT_PATH, renderCloudflaredUnit({ protocol: input.tunnel.protocol }), "0644", {
            affects: [CLOUDFLARED_UNIT_NAME],
        }),
        root(TUNNEL_ENV_PATH, renderTunnelEnv(input.tunnel.token), "0600", { secret: true, affects: [CLOUDFLARED_UNIT_NAME] }),
        // The release spec: what upgrade-openclaw.sh installs (a new version also reinstalls the pinned plugins).
        ...(input.release
            ? releaseSpecFiles(input.release.release, input.release.nodeMajor).map((f) =>
                  root(
                      `${HOST_DIRS.releaseSpec}/${f.name}`,
                      f.content,
                      "0644",
                      f.name === "release.env" ? { affects: [AFFECTS_PLUGINS] } : {},
                  ),
              )
            : []),
        ...(input.rebootWindow
            ? [
                  root(REBOOT_SERVICE_PATH, renderRebootWindowService(input.rebootWindow), "0644"),
                  root(REBOOT_TIMER_PATH, renderRebootWindowTimer(input.rebootWindow), "0644", { affects: [REBOOT_TIMER_NAME] }),
              ]
            : []),
        // The watchdog: its scripts (the audit is the one `npm run verify` runs), settings, destinations and units.
        ...WATCHDOG_HOST_SCRIPTS.map((name) => root(`${HOST_BIN_DIR}/${name}`, readHostFile(name), "0755")),
        root(WATCHDOG_FILES.env, renderWatchdogEnv(input.watchdog.settings), "0644"),
        root(WATCHDOG_FILES.alerts, renderAlertsEnv(input.watchdog.destinations), "0600", { secret: true }),
        root(WATCHDOG_SERVICE_PATH, renderWatchdogService(), "0644"),
        root(WATCHDOG_TIMER_PATH, renderWatchdogTimer({ interval: input.watchdog.settings.interval }), "0644", {
            affects: [HOST_UNITS.watchdogTimer],
        }),
        // File integrity (AIDE, daily) and the rootkit scan (chkrootkit, weekly); the watchdog reports what they find.
        root(`${HOST_BIN_DIR}/${INTEGRITY_SCRIPT}`, readHostFile(INTEGRITY_SCRIPT), "0755"),
        root(HOST_FILES.aideConfig, renderAideConfig({ adminUser: input.watchdog.settings.adminUser }), "0600"),
        root(INTEGRITY_APT_HOOK_PATH, renderIntegrityAptHook(), "0644"),
        root(INTEGRITY_SERVICE_PATH, renderIntegrityService(), "0644"),
        root(INTEGRITY_TIMER_PATH, renderIntegrityTimer(), "0644", { affects: [HOST_UNITS.integrityTimer] }),
        root(ROOTKIT_SERVICE_PATH, renderRootkitService(), "0644"),
        root(ROOTKIT_TIMER_PATH, renderRootkitTimer(), "0644", { affects: [HOST_UNITS.rootkitTimer] }),
        // The agent's files, written after the restore.
        mine(`${stateDir}/openclaw.json`, config.json, "0600", { affects: [GATEWAY_UNIT_NAME, AFFECTS_PLUGINS] }),
        mine(`${stateDir}/.env`, renderGatewayEnvFile(gatewayEnv(input, config.env)), "0600", {
            secret: true,
            affects: [GATEWAY_UNIT_NAME],
        }),
        // A system unit running as the agent (gateway-unit.ts says why), written with the agent's files as before.
        root(`${HOST_DIRS.systemUnits}/${GATEWAY_UNIT_NAME}`, input.gatewayUnit, "0644", { stage: "agent", affects: [GATEWAY_UNIT_NAME] }),
        ...input.workspace.map((f) => {
            if (!RELATIVE.test(f.path) || f.path.split("/").includes("..")) {
                throw new Error(`host bundle: workspace file ${JSON.stringify(f.path)} must be a plain relative path`);
            }
            return mine(`${workspaceDir}/${f.path}`, f.content, `0${f.mode.toString(8).padStart(3, "0")}`, { policy: f.policy });
        }),
    ];

    const services: BundleService[] = [
        // The tunnel retries by itself; waiting for it would let an unreachable edge hang the deploy.
        { unit: CLOUDFLARED_UNIT_NAME, noBlock: true },
        { unit: BACKUP_TIMER_NAME },
        ...(input.rebootWindow ? [{ unit: REBOOT_TIMER_NAME }] : []),
        { unit: HOST_UNITS.watchdogTimer },
        { unit: HOST_UNITS.integrityTimer },
        { unit: HOST_UNITS.rootkitTimer },
        { unit: GATEWAY_UNIT_NAME },
    ];

    return {
        agentUser: agent,
        dirs,
        files,
        services,
        // Hosts pushed before the gateway became a system unit: their user unit is retired and linger turned off.
        retireUserUnit: GATEWAY_UNIT_NAME,
        restore: { from: input.backup.env.restoreFrom, script: `${HOST_BIN_DIR}/restore.sh`, marker: RESTORE_MARKER },
        // install-tools.sh --after-gateway installs the browser once the gateway is ready (cloud-init/install-tools.sh).
        pluginInstaller: { script: installer, args: config.plugins, afterGateway: true },
        ...(input.release
            ? { release: { script: HOST_FILES.upgradeScript, spec: HOST_DIRS.releaseSpec, config: `${stateDir}/openclaw.json` } }
            : {}),
        readiness: {
            url: `http://127.0.0.1:${port}/readyz`,
            unit: GATEWAY_UNIT_NAME,
            timeoutSeconds: input.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
        },
        warnings: config.warnings,
        plugins: config.plugins,
    };
}
