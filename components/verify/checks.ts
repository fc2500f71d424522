// The verify checklist as plain data: what each check of `npm run verify` means, the fix hint an operator sees when
// it fails, how the host audit's output (cloud-init/audit-host.sh) becomes results, how the audit script is
// parameterised, and how a report is printed and judged. Pure apart from reading the script file; no Pulumi imports.
import { HOST_FILES, USER_NAME_PATTERN } from "../core/host-contract";
import { afterShebang, shellExports } from "../core/shell";
import { readHostFile } from "../render/host-files";

export type CheckStatus = "pass" | "fail" | "skip";
/** A failed critical check makes `npm run verify` exit non-zero; a failed warning does not. */
export type CheckSeverity = "critical" | "warning";

export interface CheckResult {
    id: string;
    title: string;
    status: CheckStatus;
    severity: CheckSeverity;
    /** One line of what was found (never a secret value). */
    summary: string;
    /** What to do about a failure (empty for passes and skips). */
    hint: string;
}

export interface VerifyReport {
    target: string;
    checkedAt: string;
    checks: CheckResult[];
    /** Failed critical checks. */
    critical: number;
    /** Failed warnings. */
    warnings: number;
    ok: boolean;
}

/** Title and fix hint of every check, by the id the audit prints. */
export const CHECKS: Record<string, { title: string; hint: string }> = {
    connect: {
        title: "SSH connection and sudo",
        hint: "check --host/--user/--key (or the stack outputs), that your IP is in adminCidrs, and that the admin user has NOPASSWD sudo",
    },
    "agent-user": {
        title: "agent user exists",
        hint: `provisioning did not finish: read ${HOST_FILES.provisionLog}, then \`sudo ${HOST_FILES.provisionScript}\` or \`pulumi up\``,
    },
    "cloud-init": {
        title: "cloud-init and provision.sh finished",
        hint: `read \`sudo cloud-init status --long\` and ${HOST_FILES.provisionLog}; rerun a step with \`sudo ${HOST_FILES.provisionScript} --only STEP\``,
    },
    sshd: {
        title: "sshd: key-only, no root, MaxAuthTries <= 3",
        hint: "a drop-in in /etc/ssh/sshd_config.d/ sorting before 01-openclaw-hardening.conf (or sshd_config itself) overrides the hardening: remove it, `sudo sshd -t && sudo systemctl reload ssh`",
    },
    "ssh-crypto": {
        title: "sshd: modern key exchange, no ECDSA host key, ETM MACs, no compression or agent/remote forwarding",
        hint: "a drop-in in /etc/ssh/sshd_config.d/ sorting before 01-openclaw-hardening.conf (or sshd_config) sets weaker algorithms: remove it, `sudo sshd -t && sudo systemctl reload ssh`; `ssh-audit <host>` from your machine shows the effect",
    },
    "unit-sandbox": {
        title: "system units sandboxed (systemd-analyze security: exposure <= 3.0)",
        hint: "a unit file or drop-in loosened the sandbox: `sudo systemd-analyze security UNIT` lists what is open, `systemctl cat UNIT` shows the drop-ins; `pulumi up` pushes the rendered unit again",
    },
    firewall: {
        title: "UFW active, deny incoming, SSH only",
        hint: "`sudo ufw default deny incoming && sudo ufw allow OpenSSH && sudo ufw --force enable`; delete other rules with `sudo ufw status numbered` + `sudo ufw delete N`",
    },
    sockets: {
        title: "nothing but sshd listens on the network",
        hint: "stop or rebind the listed process to 127.0.0.1 (`sudo ss -ltnup` shows it); the tunnel is the only way in",
    },
    "gateway-bind": {
        title: "gateway on loopback only, at the configured port",
        hint: "CRITICAL if exposed: stop it now (`sudo systemctl stop openclaw-gateway`), then `pulumi up` to push gateway.bind=loopback again",
    },
    "gateway-ready": {
        title: "gateway answers /readyz",
        hint: "read its log: `sudo journalctl -u openclaw-gateway -n 100`; `pulumi up` pushes config and restarts it",
    },
    "service-gateway": {
        title: "openclaw-gateway.service active as openclaw, enabled at boot",
        hint: "`pulumi up` installs and enables it (or start it: `sudo systemctl start openclaw-gateway`)",
    },
    "service-cloudflared": {
        title: "cloudflared.service active",
        hint: "`sudo journalctl -u cloudflared -n 50`; a rejected token means the tunnel was replaced: `pulumi up` pushes the new token",
    },
    "service-openclaw-backup": {
        title: "openclaw-backup.timer active",
        hint: "`sudo systemctl enable --now openclaw-backup.timer`; `systemctl list-timers openclaw-backup.timer` shows the next run",
    },
    "gateway-memory": {
        title: "gateway memory: no MemoryHigh/MemoryMax events (cgroup v2)",
        hint: "memory.events of the gateway's unit counts throttling (high), hits of MemoryMax (max) and OOM kills since it started: see what grew (`ps aux --sort=-rss | head`), choose a bigger serverType (the budget follows the host's memory at the next push) or give it swap (swapMb)",
    },
    backup: {
        title: "last successful backup within the schedule",
        hint: "`sudo journalctl -u openclaw-backup.service -n 50` and /var/lib/openclaw-vps/backup.status; run one now: `npm run backup` or `sudo systemctl start openclaw-backup.service`",
    },
    "openclaw-audit": {
        title: "openclaw security audit",
        hint: "see the findings: `sudo -u openclaw -H bash -c 'cd ~/.openclaw && openclaw security audit'`; fix the config in the project (components/render/openclaw-config.ts) and `pulumi up`",
    },
    channels: {
        title: "messaging channels",
        hint: 'configure one (README, "Talk to your agent"), or ignore: the Control UI works without',
    },
    "channel-telegram": {
        title: "Telegram channel connected",
        hint: "read OpenClaw's reason above; a revoked or mistyped token: @BotFather > /mybots > API Token, then `pulumi config set --secret telegramBotToken` and `pulumi up` (the gateway restarts with it); live state: `sudo -u openclaw -H bash -c 'cd ~/.openclaw && openclaw channels status --probe'`",
    },
    "channel-discord": {
        title: "Discord channel connected",
        hint: "read OpenClaw's reason above; check the bot token (Developer Portal > Bot > Reset Token, then `pulumi config set --secret discordBotToken`, `pulumi up`) and that Message Content Intent is on; live state: `sudo -u openclaw -H bash -c 'cd ~/.openclaw && openclaw channels status --probe'`",
    },
    "channel-slack": {
        title: "Slack channel connected",
        hint: "read OpenClaw's reason above; socket mode needs both tokens (slackBotToken xoxb-, slackAppToken xapp- with connections:write) and the app made from slack-app-manifest.json; `pulumi up` after fixing them",
    },
    "channel-whatsapp": {
        title: "WhatsApp channel connected",
        hint: "not linked yet, or WhatsApp logged the device out: link it with `npm run channels -- login whatsapp` (scan the QR code with WhatsApp > Linked devices)",
    },
    disk: {
        title: "disk headroom",
        hint: "`sudo du -xh / | sort -h | tail`; `sudo journalctl --vacuum-size=200M`; old npm caches: `sudo rm -rf /root/.npm/_cacache`",
    },
    memory: {
        title: "memory headroom",
        hint: "a bigger serverType, or fewer browser tabs/plugins; `ps aux --sort=-rss | head`",
    },
    swap: {
        title: "swap",
        hint: `set swapMb (config) and \`pulumi up\`, or \`sudo ${HOST_FILES.provisionScript} --only swap\``,
    },
    "userdata-metadata": {
        title: "metadata service's user data holds no secret",
        hint: "a secret reached user data: rotate it now (see README, day 2), fix the renderer so secrets go over SSH only, `pulumi up` (new user data replaces the server)",
    },
    "userdata-cloud-init": {
        title: "cloud-init's copy of the user data holds no secret",
        hint: "a secret reached user data: rotate it now (see README, day 2), fix the renderer so secrets go over SSH only, `pulumi up` (new user data replaces the server)",
    },
    "gateway-restarts": {
        title: "the gateway runs without crash restarts (and not stopped by a config error)",
        hint: "read the gateway's journal (`sudo journalctl -u openclaw-gateway -n 100`); exit 78 is a config OpenClaw rejects: fix it in the stack and `pulumi up`",
    },
    "failed-units": {
        title: "no failed systemd unit",
        hint: "`systemctl --failed`, then `journalctl -u UNIT` for the reason",
    },
    "reboot-pending": {
        title: "no reboot pending for long",
        hint: "security updates wait for a reboot: `sudo reboot` at a quiet time (the agent comes back by itself)",
    },
    "tokens-today": {
        title: "LLM tokens today under alertDailyTokens",
        hint: "look at what the agent did today (the Control UI's sessions, or `openclaw gateway usage-cost` on the host); a runaway loop can be stopped with `sudo systemctl stop openclaw-gateway`",
    },
    "file-integrity": {
        title: "no watched security file changed since the last push (AIDE)",
        hint: "`sudo cat /var/lib/openclaw-vps/integrity/aide.changed` lists the paths; `sudo aide --check` shows what changed. Not yours (a new key, unit, cron job, sudoers line): treat the server as compromised, rebuild it from a snapshot (README, day 2). Yours: the next `pulumi up`, or `sudo /opt/openclaw-vps/bin/integrity.sh baseline`, accepts it",
    },
    "rootkit-scan": {
        title: "the weekly rootkit scan (chkrootkit) found nothing",
        hint: "`sudo cat /var/lib/openclaw-vps/integrity/rootkit.findings`; a real finding means a rebuild from a snapshot taken before it (README, day 2); a new harmless one: report it so it joins the known false positives in integrity.sh",
    },
    "watchdog-audit": {
        title: "the watchdog's host audit ran",
        hint: "`sudo journalctl -u openclaw-watchdog -n 50` and `sudo /opt/openclaw-vps/bin/audit-host.sh` by hand",
    },
    "edge-access": {
        title: "public hostname answers with the Cloudflare Access login",
        hint: "the gateway may be public: check the Access application for the hostname (`pulumi up` recreates it) and that the DNS record points at the tunnel; until then stop cloudflared (`sudo systemctl stop cloudflared`)",
    },
};

/** What the audit script needs to know from the stack's settings. */
export interface AuditSettings {
    adminUser: string;
    agentUser: string;
    gatewayPort: number;
    /** systemd OnCalendar expression of the backup timer. */
    backupSchedule: string;
    /** Paths on the metadata service where the provider serves user data (its ProviderSpec's); tried in order. */
    metadataPaths: string[];
    /** Base URL of the metadata service (stand-ins only; default http://169.254.169.254). */
    metadataBase?: string;
    /** Seconds for `openclaw security audit`. */
    securityAuditTimeoutSeconds?: number;
    /** Run only these check groups (AUDIT_GROUPS); default all. */
    only?: string[];
}

/** The audit's check groups, in the order it runs them (AUDIT_ONLY takes a subset). */
export const AUDIT_GROUPS = [
    "cloud-init",
    "sshd",
    "firewall",
    "sockets",
    "gateway-ready",
    "services",
    "restarts",
    "gateway-memory",
    "units",
    "tokens",
    "openclaw-audit",
    "channels",
    "backup",
    "resources",
    "reboot",
    "sandbox",
    "userdata",
    "integrity",
] as const;

/** cloud-init/audit-host.sh with the settings as assignments right after its shebang (stdin stays the only channel). */
export function renderAuditScript(settings: AuditSettings): string {
    const values: Record<string, string | undefined> = {
        AUDIT_ADMIN_USER: settings.adminUser,
        AUDIT_AGENT_USER: settings.agentUser,
        AUDIT_GATEWAY_PORT: String(settings.gatewayPort),
        AUDIT_BACKUP_SCHEDULE: settings.backupSchedule,
        AUDIT_METADATA_PATHS: settings.metadataPaths.join(" "),
        AUDIT_METADATA_BASE: settings.metadataBase,
        AUDIT_SECURITY_AUDIT_TIMEOUT: settings.securityAuditTimeoutSeconds?.toString(),
        AUDIT_ONLY: settings.only?.join(","),
    };
    const unknownGroups = (settings.only ?? []).filter((g) => !(AUDIT_GROUPS as readonly string[]).includes(g));
    if (unknownGroups.length)
        throw new Error(`audit: unknown check group(s) ${unknownGroups.join(", ")}; known: ${AUDIT_GROUPS.join(", ")}`);
    if (!USER_NAME_PATTERN.test(settings.adminUser) || !USER_NAME_PATTERN.test(settings.agentUser)) {
        throw new Error("audit: user names must be plain login names");
    }
    if (!Number.isInteger(settings.gatewayPort) || settings.gatewayPort < 1 || settings.gatewayPort > 65535) {
        throw new Error(`audit: gatewayPort ${settings.gatewayPort} is not a TCP port`);
    }
    if (/[\n\r]/.test(settings.backupSchedule)) throw new Error("audit: backupSchedule must be one line");
    if (!settings.metadataPaths.length || settings.metadataPaths.some((p) => !/^\/[A-Za-z0-9._/-]+$/.test(p))) {
        throw new Error(`audit: metadataPaths must be absolute URL paths (got ${JSON.stringify(settings.metadataPaths)})`);
    }
    return afterShebang(readHostFile("audit-host.sh"), shellExports(values));
}

export function checkResult(id: string, status: CheckStatus, severity: CheckSeverity, summary: string): CheckResult {
    const info = CHECKS[id];
    return {
        id,
        title: info?.title ?? id,
        status,
        severity,
        summary,
        hint: status === "fail" ? (info?.hint ?? "") : "",
    };
}

/** The audit's `AUDIT` lines as results; anything else on stdout is ignored. Throws when the audit did not finish. */
export function parseAuditOutput(stdout: string): CheckResult[] {
    const results: CheckResult[] = [];
    let finished = false;
    for (const line of stdout.split("\n")) {
        const fields = line.split("\t");
        if (fields[0] === "AUDIT-END") {
            finished = true;
            continue;
        }
        if (fields[0] !== "AUDIT" || fields.length < 5) continue;
        const [, id, status, severity] = fields;
        if (!/^(pass|fail|skip)$/.test(status) || !/^(critical|warning)$/.test(severity)) {
            throw new Error(`unreadable audit line: ${line}`);
        }
        results.push(checkResult(id, status as CheckStatus, severity as CheckSeverity, fields.slice(4).join(" ")));
    }
    if (!finished) throw new Error("the host audit stopped before its end (no AUDIT-END line)");
    return results;
}

export function buildReport(target: string, checks: CheckResult[], now: Date = new Date()): VerifyReport {
    const critical = checks.filter((c) => c.status === "fail" && c.severity === "critical").length;
    const warnings = checks.filter((c) => c.status === "fail" && c.severity === "warning").length;
    return { target, checkedAt: now.toISOString(), checks, critical, warnings, ok: critical === 0 };
}

const MARK: Record<CheckStatus, string> = { pass: "✓", fail: "✗", skip: "–" };

/** The human checklist: ✓ passed, ✗ failed (with a fix hint), – skipped; then one verdict line. */
export function formatChecklist(report: VerifyReport): string {
    const lines = [`openclaw-vps verify: ${report.target} (${report.checkedAt})`, ""];
    for (const c of report.checks) {
        const level = c.status === "fail" ? (c.severity === "critical" ? " [CRITICAL]" : " [warning]") : "";
        lines.push(`${MARK[c.status]} ${c.title}${level}: ${c.summary}`);
        if (c.status === "fail" && c.hint) lines.push(`    fix: ${c.hint}`);
    }
    lines.push("");
    lines.push(
        report.ok
            ? `OK: no critical failure (${report.warnings} warning${report.warnings === 1 ? "" : "s"})`
            : `FAILED: ${report.critical} critical failure${report.critical === 1 ? "" : "s"}, ${report.warnings} warning${report.warnings === 1 ? "" : "s"}`,
    );
    return lines.join("\n");
}

/** 0 when no critical check failed, 1 otherwise. */
export function exitCodeOf(report: VerifyReport): number {
    return report.ok ? 0 : 1;
}
