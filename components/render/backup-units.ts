// The backup job's systemd units: `openclaw-backup.service` (Type=oneshot, runs cloud-init/backup.sh as root) and
// `openclaw-backup.timer` (OnCalendar from config `backupSchedule`, Persistent, randomized delay), plus a validator
// for schedule values. The real parser (`systemd-analyze calendar` / `verify`) checks them in
// test/tools/backup-units.test.ts. Pure: no Pulumi imports.
import { HOST_DIRS, HOST_UNITS } from "../core/host-contract";
import { BACKUP_SCHEDULE_RULE } from "../core/rules";
import { exposureBoundLines } from "./exposure";
import { backgroundPriority, OPENCLAW_CLI_WRITABLE, renderSandbox } from "./sandbox";

export const BACKUP_SERVICE_NAME = HOST_UNITS.backupService;
export const BACKUP_TIMER_NAME = HOST_UNITS.backupTimer;
export const BACKUP_SERVICE_PATH = `${HOST_DIRS.systemUnits}/${BACKUP_SERVICE_NAME}`;
export const BACKUP_TIMER_PATH = `${HOST_DIRS.systemUnits}/${BACKUP_TIMER_NAME}`;
export const HOST_BIN_DIR = HOST_DIRS.bin;
/** The host scripts this feature needs in HOST_BIN_DIR (root:root 0755); backup-lib.sh is sourced by the others,
 *  backup-archive.js (Node) writes and verifies the archives. Snapshots are listed on the operator's machine. */
export const BACKUP_HOST_SCRIPTS = ["backup-lib.sh", "backup.sh", "restore.sh", "backup-archive.js"] as const;
export const DEFAULT_BACKUP_SCHEDULE = "hourly";
export const DEFAULT_RANDOMIZED_DELAY = "10min";

export interface BackupUnitsInput {
    /** systemd OnCalendar expression, e.g. hourly, daily, "*-*-* 00/6:00:00" (config `backupSchedule`). */
    schedule?: string;
    /** Spread of the start time (systemd time span), so many hosts do not hit R2 at the same second. */
    randomizedDelay?: string;
    /** Default HOST_BIN_DIR. */
    binDir?: string;
}

const TIME_SPAN = /^(\d+ ?(us|ms|s|sec|m|min|h|hr|d)? ?)+$/;

/** What is wrong with a `backupSchedule` value (BACKUP_SCHEDULE_RULE), or undefined when it is acceptable. */
export function validateBackupSchedule(schedule: string): string | undefined {
    return BACKUP_SCHEDULE_RULE.test(schedule)
        ? undefined
        : `backupSchedule ${JSON.stringify(schedule)}: expected ${BACKUP_SCHEDULE_RULE.expected}`;
}

function checkInput(input: BackupUnitsInput): { schedule: string; delay: string; binDir: string } {
    const schedule = input.schedule ?? DEFAULT_BACKUP_SCHEDULE;
    const problem = validateBackupSchedule(schedule);
    if (problem) throw new Error(problem);
    const delay = input.randomizedDelay ?? DEFAULT_RANDOMIZED_DELAY;
    if (!TIME_SPAN.test(delay)) throw new Error(`randomizedDelay ${JSON.stringify(delay)} is not a systemd time span such as 10min`);
    const binDir = input.binDir ?? HOST_BIN_DIR;
    if (!/^\/[A-Za-z0-9._/-]+$/.test(binDir)) throw new Error(`binDir ${JSON.stringify(binDir)} must be an absolute path`);
    return { schedule, delay, binDir: binDir.replace(/\/+$/, "") };
}

/** The oneshot service: failures land in the journal and in /var/lib/openclaw-vps/backup.status. */
export function renderBackupService(input: BackupUnitsInput = {}): string {
    const { binDir } = checkInput(input);
    const sandbox = renderSandbox({
        why: "it reads the root-only rclone credentials and stages the agent user's files it cannot read as that user",
        readWritePaths: [HOST_DIRS.state, HOST_DIRS.agentState, OPENCLAW_CLI_WRITABLE],
        capabilities: {
            CAP_DAC_READ_SEARCH: "reads the agent's workspace and state (0700, owned by the agent user)",
            CAP_DAC_OVERRIDE: "clears the agent-owned scratch dir inside the staging dir",
            CAP_CHOWN: "hands that scratch dir to the agent user",
            CAP_FOWNER: "keeps modes and times of the staged copies",
            CAP_SETUID: "runuser: OpenClaw's own backup runs as the agent user",
            CAP_SETGID: "runuser: the agent user's groups",
        },
        extraAddressFamilies: { AF_NETLINK: "runuser's PAM stack may log to the kernel audit socket" },
    });
    return `# Rendered by openclaw-vps (components/render/backup-units.ts): one snapshot of the agent's memory to R2.
[Unit]
Description=Snapshot the OpenClaw agent's workspace and state to R2 (openclaw-vps)
Documentation=file://${binDir}/backup.sh
Wants=network-online.target
After=network-online.target
${exposureBoundLines(3.0, "the full sandbox below; what it keeps (root's file access to the agent's files, runuser) is listed there")}

[Service]
Type=oneshot
ExecStart=${binDir}/backup.sh
SyslogIdentifier=openclaw-backup
${backgroundPriority(10).join("\n")}
TimeoutStartSec=3h
${sandbox.join("\n")}
`;
}

/** The schedule: Persistent catches up a run missed while the host was off; the fixed random delay spreads hosts. */
export function renderBackupTimer(input: BackupUnitsInput = {}): string {
    const { schedule, delay } = checkInput(input);
    return `# Rendered by openclaw-vps (components/render/backup-units.ts): when ${BACKUP_SERVICE_NAME} runs.
[Unit]
Description=Scheduled snapshots of the OpenClaw agent's memory to R2 (openclaw-vps)

[Timer]
OnCalendar=${schedule}
Persistent=true
RandomizedDelaySec=${delay}
FixedRandomDelay=true
AccuracySec=1min
Unit=${BACKUP_SERVICE_NAME}

[Install]
WantedBy=timers.target
`;
}
