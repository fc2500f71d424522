// The host contract in code: the users, paths, unit names, default port and limits that the renderers, the host
// scripts (cloud-init/*.sh), verify and the tests agree on about the server. Defined once here; docs/host-contract.md
// describes them (a unit test checks the two agree), and host scripts receive them through contract.env
// (`renderContractEnv`) instead of retyping them. No imports: everything else builds on this.

/** The service user that runs the gateway (no sudo, no login). */
export const AGENT_USER = "openclaw";
export const AGENT_HOME = `/home/${AGENT_USER}`;

/** A Linux user name as useradd accepts it (the admin and agent users). */
export const USER_NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Names the admin user can never have. */
export const RESERVED_USER_NAMES: readonly string[] = ["root", AGENT_USER];

/** The gateway's loopback port unless `gatewayPort` says otherwise (OpenClaw's own default). */
export const DEFAULT_GATEWAY_PORT = 18789;

export const HOST_DIRS = {
    /** Root-owned install root: host scripts, Node, OpenClaw. */
    install: "/opt/openclaw-vps",
    bin: "/opt/openclaw-vps/bin",
    /** Node versions side by side, one directory per version (v24.21.0/), each from the official tarball. */
    nodes: "/opt/openclaw-vps/nodes",
    /** OpenClaw releases side by side: <version>-node<major>-<lock digest>/ with package.json, lock, node_modules/. */
    releases: "/opt/openclaw-vps/releases",
    /** The release the push wants (package.json, package-lock.json, release.env), written by the push. */
    releaseSpec: "/etc/openclaw-vps/release",
    /** The pinned clawhub CLI (root-owned, like OpenClaw), installed by install-skills.sh. */
    clawhub: "/opt/openclaw-vps/clawhub",
    /** Non-secret settings (0644) and root-only credentials (0600). */
    etc: "/etc/openclaw-vps",
    /** Status files, markers, the push's state. */
    state: "/var/lib/openclaw-vps",
    log: "/var/log/openclaw-vps",
    /** OpenClaw's state dir and the agent's workspace. */
    agentState: `${AGENT_HOME}/.openclaw`,
    workspace: `${AGENT_HOME}/.openclaw/workspace`,
    /** The agent's cache: OpenClaw's CLI keeps its temp files in openclaw-<uid>/ here (writable in the root units' sandbox). */
    agentCache: `${AGENT_HOME}/.cache`,
    systemUnits: "/etc/systemd/system",
    /** The integrity check's and the rootkit scan's status (integrity.sh), read by the watchdog's `integrity` check. */
    integrityState: "/var/lib/openclaw-vps/integrity",
} as const;

export const HOST_FILES = {
    /** The contract itself, as KEY=value lines every host script reads (written by user data and by the push). */
    contractEnv: `${HOST_DIRS.etc}/contract.env`,
    provisionEnv: `${HOST_DIRS.etc}/provision.env`,
    provisionScript: `${HOST_DIRS.bin}/provision.sh`,
    provisionStatus: `${HOST_DIRS.state}/provision.status`,
    provisionLog: `${HOST_DIRS.log}/provision.log`,
    sshdHardening: "/etc/ssh/sshd_config.d/01-openclaw-hardening.conf",
    rcloneConfig: `${HOST_DIRS.etc}/rclone.conf`,
    backupEnv: `${HOST_DIRS.etc}/backup.env`,
    backupStatus: `${HOST_DIRS.state}/backup.status`,
    restoreMarker: `${HOST_DIRS.state}/restore.done`,
    /** The first-boot restore plan (a secret: a one-time identity), on RAM-backed /run; removed after the restore. */
    restorePlan: "/run/openclaw-vps/restore-plan",
    /** The backup job's local index: its last full (key, id, header) and every file's hash, root-only. */
    backupIndex: `${HOST_DIRS.state}/backup-index`,
    pushState: `${HOST_DIRS.state}/push`,
    /** flock lock of the backup job and the restore; the upgrade and the reboot window take it too. */
    backupLock: `${HOST_DIRS.state}/backup.lock`,
    /** Symlinks to the current and the previous release: switching is one rename of `current`. */
    currentRelease: `${HOST_DIRS.install}/current`,
    previousRelease: `${HOST_DIRS.install}/previous`,
    upgradeScript: `${HOST_DIRS.bin}/upgrade-openclaw.sh`,
    upgradeStatus: `${HOST_DIRS.state}/upgrade.status`,
    upgradeLog: `${HOST_DIRS.log}/upgrade.log`,
    rebootWindowScript: `${HOST_DIRS.bin}/reboot-window.sh`,
    tunnelEnv: "/etc/cloudflared/tunnel.env",
    cloudflaredBinary: "/usr/bin/cloudflared",
    openclawConfig: `${HOST_DIRS.agentState}/openclaw.json`,
    agentEnv: `${HOST_DIRS.agentState}/.env`,
    watchdogEnv: `${HOST_DIRS.etc}/watchdog.env`,
    alertsEnv: `${HOST_DIRS.etc}/alerts.env`,
    watchdogState: `${HOST_DIRS.state}/watchdog`,
    /** What the push installs besides the config's plugins: the browser and the ClawHub skills (install-tools.sh). */
    toolsEnv: `${HOST_DIRS.etc}/tools.env`,
    /** Debian's Chromium (install-browser.sh): a wrapper that runs /usr/lib/chromium/chromium. */
    browserBinary: "/usr/bin/chromium",
    /** AppArmor profile letting Chromium's sandbox create user namespaces on Ubuntu 24.04. */
    browserAppArmor: "/etc/apparmor.d/openclaw-vps-chromium",
    /** AIDE's configuration (ours: Debian's aide-common with its full-disk config is not installed) and database. */
    aideConfig: "/etc/aide/aide.conf",
    aideDatabase: "/var/lib/aide/aide.db",
} as const;

export const HOST_UNITS = {
    /** The gateway, a system unit running as AGENT_USER (`User=`; components/render/gateway-unit.ts). */
    gateway: "openclaw-gateway.service",
    cloudflared: "cloudflared.service",
    backupService: "openclaw-backup.service",
    backupTimer: "openclaw-backup.timer",
    /** Reboots a host that needs it (unattended upgrades), inside `rebootWindow`, never during a backup. */
    rebootService: "openclaw-reboot-window.service",
    rebootTimer: "openclaw-reboot-window.timer",
    watchdogService: "openclaw-watchdog.service",
    watchdogTimer: "openclaw-watchdog.timer",
    /** The daily AIDE check and the weekly chkrootkit scan (integrity.sh). */
    integrityService: "openclaw-integrity.service",
    integrityTimer: "openclaw-integrity.timer",
    rootkitService: "openclaw-rootkit-scan.service",
    rootkitTimer: "openclaw-rootkit-scan.timer",
} as const;

/** The largest user data the project renders (20 KB; provision.sh travels gzipped). Well under the smallest provider
 *  limit (Hetzner's 32 KiB), so provision.sh has room to grow; every provider module must accept at least this much
 *  (checked when it is registered). */
export const USER_DATA_BUDGET_BYTES = 20_000;

/** The metadata service every supported provider serves user data from (verify reads it back to look for secrets). */
export const METADATA_SERVICE = "http://169.254.169.254";

/**
 * The contract as `KEY=value` lines for /etc/openclaw-vps/contract.env: what host scripts read instead of retyping
 * paths and names (every key starts with HOST_, so none collides with a script's own overrides). The same on every host (settings such as the admin user or the gateway port are not part of it);
 * values are plain paths and names (no quoting needed; checked).
 */
export function renderContractEnv(): string {
    const values: Record<string, string> = {
        HOST_AGENT_USER: AGENT_USER,
        HOST_AGENT_HOME: AGENT_HOME,
        HOST_INSTALL_DIR: HOST_DIRS.install,
        HOST_BIN_DIR: HOST_DIRS.bin,
        HOST_NODE_VERSIONS_DIR: HOST_DIRS.nodes,
        HOST_RELEASES_DIR: HOST_DIRS.releases,
        HOST_RELEASE_SPEC_DIR: HOST_DIRS.releaseSpec,
        HOST_CURRENT_RELEASE: HOST_FILES.currentRelease,
        HOST_PREVIOUS_RELEASE: HOST_FILES.previousRelease,
        HOST_ETC_DIR: HOST_DIRS.etc,
        HOST_STATE_DIR: HOST_DIRS.state,
        HOST_LOG_DIR: HOST_DIRS.log,
        HOST_AGENT_STATE_DIR: HOST_DIRS.agentState,
        HOST_WORKSPACE_DIR: HOST_DIRS.workspace,
        HOST_PROVISION_STATUS: HOST_FILES.provisionStatus,
        HOST_PROVISION_LOG: HOST_FILES.provisionLog,
        HOST_SSHD_HARDENING: HOST_FILES.sshdHardening,
        HOST_BACKUP_STATUS: HOST_FILES.backupStatus,
        HOST_RESTORE_MARKER: HOST_FILES.restoreMarker,
        HOST_RESTORE_PLAN: HOST_FILES.restorePlan,
        HOST_BACKUP_LOCK: HOST_FILES.backupLock,
        HOST_UPGRADE_STATUS: HOST_FILES.upgradeStatus,
        HOST_UPGRADE_LOG: HOST_FILES.upgradeLog,
        HOST_TUNNEL_ENV: HOST_FILES.tunnelEnv,
        HOST_RCLONE_CONFIG: HOST_FILES.rcloneConfig,
        HOST_GATEWAY_UNIT: HOST_UNITS.gateway,
        HOST_CLOUDFLARED_UNIT: HOST_UNITS.cloudflared,
        HOST_BACKUP_SERVICE: HOST_UNITS.backupService,
        HOST_BACKUP_TIMER: HOST_UNITS.backupTimer,
        HOST_REBOOT_SERVICE: HOST_UNITS.rebootService,
        HOST_REBOOT_TIMER: HOST_UNITS.rebootTimer,
        HOST_WATCHDOG_STATE: HOST_FILES.watchdogState,
        HOST_CLAWHUB_PREFIX: HOST_DIRS.clawhub,
        HOST_TOOLS_ENV: HOST_FILES.toolsEnv,
        HOST_BROWSER_BIN: HOST_FILES.browserBinary,
        HOST_BROWSER_APPARMOR: HOST_FILES.browserAppArmor,
        HOST_AIDE_CONFIG: HOST_FILES.aideConfig,
        HOST_AIDE_DB: HOST_FILES.aideDatabase,
        HOST_INTEGRITY_STATE: HOST_DIRS.integrityState,
        HOST_INTEGRITY_SERVICE: HOST_UNITS.integrityService,
        HOST_ROOTKIT_SERVICE: HOST_UNITS.rootkitService,
    };
    const lines = Object.entries(values).map(([key, value]) => {
        if (!/^[A-Za-z0-9_./@:+-]+$/.test(value))
            throw new Error(`contract.env: ${key}=${JSON.stringify(value)} is not a plain path or name`);
        return `${key}=${value}`;
    });
    return `# openclaw-vps host contract (components/core/host-contract.ts): paths and names every host script reads\n${lines.join("\n")}\n`;
}
