// The host watchdog: `openclaw-watchdog.service` (a oneshot running cloud-init/watchdog.sh as root) on
// `openclaw-watchdog.timer` (every `watchdogInterval`), its settings file (watchdog.env, non-secret) and its alert
// destinations (alerts.env, 0600: bot token, ntfy and webhook URLs). The watchdog runs the same read-only audit as
// `npm run verify` and notifies on changes only, outside the gateway. Pure: no Pulumi imports.
import { HOST_DIRS, HOST_FILES, HOST_UNITS } from "../core/host-contract";
import { HTTPS_URL_RULE, TELEGRAM_BOT_TOKEN_RULE, TELEGRAM_CHAT_ID_RULE, WATCHDOG_INTERVAL_RULE } from "../core/rules";
import { HHMM, isIanaTimezone } from "../core/validators";
import { backgroundPriority, OPENCLAW_CLI_WRITABLE, renderSandbox } from "./sandbox";
import { exposureBoundLines } from "./exposure";

export const WATCHDOG_SERVICE_PATH = `${HOST_DIRS.systemUnits}/${HOST_UNITS.watchdogService}`;
export const WATCHDOG_TIMER_PATH = `${HOST_DIRS.systemUnits}/${HOST_UNITS.watchdogTimer}`;
/** Host scripts the watchdog needs in HOST_DIRS.bin (the audit is the one `npm run verify` sends over SSH). */
export const WATCHDOG_HOST_SCRIPTS = ["watchdog.sh", "audit-host.sh", "token-usage.mjs"] as const;
export const DEFAULT_WATCHDOG_INTERVAL = "2min";
export const TELEGRAM_API_ROOT = "https://api.telegram.org";

/** Where alerts go. Every field is optional; the settings schema requires at least one complete destination. */
export interface AlertDestinations {
    telegramBotToken?: string;
    telegramChatId?: string;
    ntfyUrl?: string;
    webhookUrl?: string;
}

export interface WatchdogInput {
    /** How the alerts name this agent, e.g. "openclaw (agent.example.com)". */
    label: string;
    adminUser: string;
    gatewayPort: number;
    /** The backup timer's OnCalendar (the backup-age check judges against it). */
    backupSchedule: string;
    /** systemd time span between runs (default 2min). */
    interval?: string;
    timezone: string;
    /** A daily summary at `digestAt` (HH:MM in `timezone`), besides the change alerts. */
    dailyDigest?: boolean;
    digestAt?: string;
    /** Alert above this many LLM tokens a day; 0 = off. */
    dailyTokens?: number;
    /** Bot API root; only the stand-in VPS points it elsewhere. */
    telegramApiRoot?: string;
}

function fail(field: string, value: unknown, expected: string): never {
    throw new Error(`watchdog: ${field} ${JSON.stringify(value)}: expected ${expected}`);
}

/** True when some complete destination is configured. */
export function hasDestination(d: AlertDestinations): boolean {
    return Boolean((d.telegramBotToken && d.telegramChatId) || d.ntfyUrl || d.webhookUrl);
}

/** /etc/openclaw-vps/watchdog.env: the watchdog's non-secret settings (KEY=value, read as data, never sourced). */
export function renderWatchdogEnv(input: WatchdogInput): string {
    const interval = input.interval ?? DEFAULT_WATCHDOG_INTERVAL;
    if (!WATCHDOG_INTERVAL_RULE.test(interval)) fail("interval", interval, WATCHDOG_INTERVAL_RULE.expected);
    if (!/^[\x20-\x7e]{1,120}$/.test(input.label)) fail("label", input.label, "one printable line");
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(input.adminUser)) fail("adminUser", input.adminUser, "a user name");
    if (!Number.isInteger(input.gatewayPort) || input.gatewayPort < 1 || input.gatewayPort > 65535)
        fail("gatewayPort", input.gatewayPort, "a TCP port");
    if (/[\n\r]/.test(input.backupSchedule)) fail("backupSchedule", input.backupSchedule, "one line");
    if (!isIanaTimezone(input.timezone)) fail("timezone", input.timezone, "an IANA time zone");
    const digestAt = input.digestAt ?? "08:00";
    if (!HHMM.test(digestAt)) fail("digestAt", digestAt, "HH:MM");
    const tokens = input.dailyTokens ?? 0;
    if (!Number.isInteger(tokens) || tokens < 0) fail("dailyTokens", tokens, "0 or a number of tokens");
    const apiRoot = input.telegramApiRoot ?? TELEGRAM_API_ROOT;
    if (!/^https?:\/\/[A-Za-z0-9.:-]+(\/[A-Za-z0-9._~/-]*)?$/.test(apiRoot)) fail("telegramApiRoot", apiRoot, "an http(s) URL");
    return [
        "# openclaw-vps watchdog settings (written by the deploy; components/render/watchdog.ts). Nothing secret.",
        `WATCHDOG_LABEL=${input.label}`,
        `WATCHDOG_ADMIN_USER=${input.adminUser}`,
        `WATCHDOG_GATEWAY_PORT=${input.gatewayPort}`,
        `WATCHDOG_BACKUP_SCHEDULE=${input.backupSchedule}`,
        `WATCHDOG_TIMEZONE=${input.timezone}`,
        `WATCHDOG_DAILY_DIGEST=${input.dailyDigest ? 1 : 0}`,
        `WATCHDOG_DIGEST_AT=${digestAt}`,
        `WATCHDOG_DAILY_TOKENS=${tokens}`,
        `WATCHDOG_TELEGRAM_API=${apiRoot}`,
        "",
    ].join("\n");
}

/**
 * /etc/openclaw-vps/alerts.env (root, 0600): the destinations, unquoted KEY=value lines read as data. The watchdog
 * hands them to curl on stdin (`curl --config -`), so no token or URL is ever on a command line.
 */
export function renderAlertsEnv(d: AlertDestinations): string {
    if (d.telegramBotToken !== undefined && !TELEGRAM_BOT_TOKEN_RULE.test(d.telegramBotToken))
        fail("telegramBotToken", "[secret]", TELEGRAM_BOT_TOKEN_RULE.expected);
    if (d.telegramChatId !== undefined && !TELEGRAM_CHAT_ID_RULE.test(d.telegramChatId))
        fail("telegramChatId", d.telegramChatId, TELEGRAM_CHAT_ID_RULE.expected);
    if (Boolean(d.telegramBotToken) !== Boolean(d.telegramChatId))
        fail("telegram", "half a destination", "both telegramBotToken and telegramChatId");
    for (const [field, url] of [
        ["ntfyUrl", d.ntfyUrl],
        ["webhookUrl", d.webhookUrl],
    ] as const) {
        // http:// only for the stand-in's local sinks: the settings schema requires https.
        if (url !== undefined && !(HTTPS_URL_RULE.test(url) || /^http:\/\/[0-9.]+(:\d+)?\/\S*$/.test(url)))
            fail(field, "[secret]", HTTPS_URL_RULE.expected);
    }
    const lines = ["# openclaw-vps alert destinations (root only). Written by the deploy."];
    if (d.telegramBotToken)
        lines.push(`ALERT_TELEGRAM_BOT_TOKEN=${d.telegramBotToken.trim()}`, `ALERT_TELEGRAM_CHAT_ID=${d.telegramChatId}`);
    if (d.ntfyUrl) lines.push(`ALERT_NTFY_URL=${d.ntfyUrl}`);
    if (d.webhookUrl) lines.push(`ALERT_WEBHOOK_URL=${d.webhookUrl}`);
    return lines.join("\n") + "\n";
}

/** The oneshot: read-only checks as root (the audit needs it), writing only the watchdog's own state. */
export function renderWatchdogService(): string {
    const sandbox = renderSandbox({
        why: "the audit reads sshd's effective configuration (host keys), the firewall and every listening socket",
        // ufw status takes its lock file (it exists once provisioning enabled ufw); "-": no error when it does not.
        readWritePaths: ["-/run/ufw.lock", OPENCLAW_CLI_WRITABLE],
        capabilities: {
            CAP_DAC_READ_SEARCH: "reads the agent's openclaw.json and .env (0600, the agent user's) for the bind and user-data checks",
            CAP_SETUID: "setpriv: the gateway's state, token usage and OpenClaw's security audit are read as the agent user",
            CAP_SETGID: "setpriv: the agent user's groups",
            CAP_SYS_PTRACE: "ss -p names the process behind each listening socket (sshd is not dumpable)",
            CAP_NET_ADMIN: "ufw status reads the kernel's firewall rules",
        },
        extraAddressFamilies: { AF_NETLINK: "ss and ufw (iptables-nft) read sockets and rules over netlink" },
    });
    return `# Rendered by openclaw-vps (components/render/watchdog.ts): one look at the agent, alerts on changes.
[Unit]
Description=openclaw-vps watchdog: checks the agent and alerts on changes, outside the gateway
After=network-online.target
Wants=network-online.target
${exposureBoundLines(3.0, "the full sandbox below; its capabilities are what the audit's read-only checks need")}

[Service]
Type=oneshot
ExecStart=${HOST_DIRS.bin}/watchdog.sh
SyslogIdentifier=openclaw-watchdog
${backgroundPriority(10).join("\n")}
# The daily OpenClaw security audit may take a few minutes on a small host.
TimeoutStartSec=15min
StateDirectory=openclaw-vps/watchdog
StateDirectoryMode=0700
${sandbox.join("\n")}
`;
}

export function renderWatchdogTimer(input: { interval?: string } = {}): string {
    const interval = input.interval ?? DEFAULT_WATCHDOG_INTERVAL;
    if (!WATCHDOG_INTERVAL_RULE.test(interval)) fail("interval", interval, WATCHDOG_INTERVAL_RULE.expected);
    return `# Rendered by openclaw-vps (components/render/watchdog.ts): when ${HOST_UNITS.watchdogService} runs.
[Unit]
Description=openclaw-vps watchdog every ${interval}

[Timer]
# The first look 3 min after the timer starts (at boot, or when the deploy enables it): a monotonic OnBootSec would
# fire at once when a deploy enables the timer late in a boot, while the gateway is still starting.
OnActiveSec=3min
OnUnitActiveSec=${interval}
AccuracySec=10s
Unit=${HOST_UNITS.watchdogService}

[Install]
WantedBy=timers.target
`;
}

/** Paths of the watchdog's files (host contract). */
export const WATCHDOG_FILES = { env: HOST_FILES.watchdogEnv, alerts: HOST_FILES.alertsEnv, state: HOST_FILES.watchdogState } as const;
