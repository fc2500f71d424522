// The reboot window: `openclaw-reboot-window.timer` fires at the start of `rebootWindow` (in `timezone`) and its
// service runs cloud-init/reboot-window.sh, which reboots only when unattended upgrades left /run/reboot-required,
// only inside the window, and only after it holds the backup lock (so never during a backup, a restore or an
// upgrade). unattended-upgrades' own Automatic-Reboot stays off (provision.sh): it ignores systemd inhibitors.
// Pure: no Pulumi imports. `systemd-analyze verify`/`calendar` check the output in the tools tests.
import { HOST_DIRS, HOST_FILES, HOST_UNITS } from "../core/host-contract";
import { REBOOT_WINDOW_RULE, rebootWindowMinutes } from "../core/rules";
import { isIanaTimezone } from "../core/validators";

export const REBOOT_SERVICE_NAME = HOST_UNITS.rebootService;
export const REBOOT_TIMER_NAME = HOST_UNITS.rebootTimer;
export const REBOOT_SERVICE_PATH = `${HOST_DIRS.systemUnits}/${REBOOT_SERVICE_NAME}`;
export const REBOOT_TIMER_PATH = `${HOST_DIRS.systemUnits}/${REBOOT_TIMER_NAME}`;
export const DEFAULT_REBOOT_WINDOW = "04:00-05:00";

export interface RebootWindowInput {
    /** `HH:MM-HH:MM` in `timezone` (config `rebootWindow`), or `off`. */
    window: string;
    /** IANA time zone of the window (config `timezone`). */
    timezone: string;
    /** Where reboot-window.sh is (default: the host contract's HOST_BIN_DIR); tests point it at a checkout. */
    scriptPath?: string;
}

function check(input: RebootWindowInput): void {
    if (!REBOOT_WINDOW_RULE.test(input.window))
        throw new Error(`rebootWindow ${JSON.stringify(input.window)}: expected ${REBOOT_WINDOW_RULE.expected}`);
    if (!isIanaTimezone(input.timezone)) throw new Error(`reboot window: ${JSON.stringify(input.timezone)} is not an IANA time zone`);
}

export function renderRebootWindowService(input: RebootWindowInput): string {
    check(input);
    return `# Rendered by openclaw-vps (components/render/reboot-window.ts): reboot when updates need it, inside rebootWindow.
[Unit]
Description=Reboot for pending updates inside the reboot window ${input.window} ${input.timezone} (openclaw-vps)
Documentation=file://${input.scriptPath ?? HOST_FILES.rebootWindowScript}
After=apt-daily-upgrade.service

[Service]
Type=oneshot
Environment=TZ=${input.timezone}
ExecStart=${input.scriptPath ?? HOST_FILES.rebootWindowScript} ${input.window}
SyslogIdentifier=openclaw-reboot-window
`;
}

export function renderRebootWindowTimer(input: RebootWindowInput): string {
    check(input);
    const window = rebootWindowMinutes(input.window);
    // `off` keeps a timer (files the push once wrote are never deleted) whose service only says it is off.
    const start = window ?? rebootWindowMinutes(DEFAULT_REBOOT_WINDOW)!;
    const hhmm = `${String(Math.floor(start.start / 60)).padStart(2, "0")}:${String(start.start % 60).padStart(2, "0")}`;
    return `# Rendered by openclaw-vps (components/render/reboot-window.ts): when ${REBOOT_SERVICE_NAME} runs.
[Unit]
Description=Daily reboot window ${input.window} ${input.timezone} for pending updates (openclaw-vps)

[Timer]
OnCalendar=*-*-* ${hhmm}:00 ${input.timezone}
# A missed window is not caught up outside the window.
Persistent=false
AccuracySec=1min
Unit=${REBOOT_SERVICE_NAME}

[Install]
WantedBy=timers.target
`;
}
