// File integrity and a rootkit scan on the host (issue 18): AIDE's configuration, scoped on purpose to the files an
// attacker would change to persist and that no package update touches on its own (the agent's workspace and memory
// never: they change all the time), and the two sandboxed oneshots that run cloud-init/integrity.sh: a daily AIDE
// check and a weekly chkrootkit scan. Both only write a status file; the watchdog's `integrity` check reads it and
// alerts through its usual path (README "Host hardening"). Pure: no Pulumi imports.
import { AGENT_HOME, HOST_DIRS, HOST_FILES, HOST_UNITS, USER_NAME_PATTERN } from "../core/host-contract";
import { exposureBoundLines } from "./exposure";
import { backgroundPriority, renderSandbox } from "./sandbox";

export const INTEGRITY_SCRIPT = "integrity.sh";
export const INTEGRITY_SERVICE_PATH = `${HOST_DIRS.systemUnits}/${HOST_UNITS.integrityService}`;
export const INTEGRITY_TIMER_PATH = `${HOST_DIRS.systemUnits}/${HOST_UNITS.integrityTimer}`;
export const ROOTKIT_SERVICE_PATH = `${HOST_DIRS.systemUnits}/${HOST_UNITS.rootkitService}`;
export const ROOTKIT_TIMER_PATH = `${HOST_DIRS.systemUnits}/${HOST_UNITS.rootkitTimer}`;
/** apt's hooks: the AIDE check before dpkg changes package files, a new baseline after (integrity.sh dpkg-pre/post). */
export const INTEGRITY_APT_HOOK_PATH = "/etc/apt/apt.conf.d/85openclaw-vps-integrity";

/** What AIDE records per entry: type, mode, owner, group, size, link count, link target, ACLs, xattrs, SHA-256.
 *  No mtime/ctime/inode: a file rewritten with the same content and mode (every push does that) is no change. */
export const AIDE_ATTRIBUTES = "ftype+p+u+g+s+n+l+acl+xattrs+sha256";

export interface AideConfigInput {
    /** The admin user (its authorized_keys is watched). */
    adminUser: string;
    /** Only the tests: a directory every watched path and the database live under. */
    root?: string;
}

/**
 * The watched paths, each with why an attacker would change it. Regexes (AIDE's selection lines): each covers the
 * path and everything below it. Package-owned files among them (sshd's config, pam.d, ...) are re-baselined after
 * every dpkg run (the apt hook), after a check that runs before it; debsums covers the rest of the package files.
 */
export function watchedPaths(adminUser: string): { path: string; why: string }[] {
    const admin = `/home/${adminUser}`;
    return [
        { path: "/etc/ssh", why: "sshd's config and host keys" },
        { path: "/etc/sudoers", why: "who may become root" },
        { path: "/etc/sudoers.d", why: "who may become root" },
        { path: "/etc/passwd", why: "accounts" },
        { path: "/etc/shadow", why: "passwords" },
        { path: "/etc/group", why: "groups (sudo membership)" },
        { path: "/etc/gshadow", why: "group passwords" },
        { path: "/etc/pam.d", why: "how logins are authenticated" },
        { path: "/etc/security", why: "PAM's limits and access rules" },
        { path: "/etc/login.defs", why: "umask and password rules" },
        { path: "/etc/systemd", why: "units and their drop-ins: the usual persistence" },
        { path: "/etc/crontab", why: "scheduled commands" },
        { path: "/etc/cron.d", why: "scheduled commands" },
        { path: "/etc/cron.hourly", why: "scheduled commands" },
        { path: "/etc/cron.daily", why: "scheduled commands" },
        { path: "/etc/cron.weekly", why: "scheduled commands" },
        { path: "/etc/cron.monthly", why: "scheduled commands" },
        { path: "/var/spool/cron/crontabs", why: "users' crontabs (nobody here has one)" },
        { path: "/etc/ld.so.preload", why: "a library loaded into every process" },
        { path: "/etc/ld.so.conf", why: "where libraries are looked up" },
        { path: "/etc/ld.so.conf.d", why: "where libraries are looked up" },
        { path: "/etc/apt", why: "package sources, their keys and apt's hooks" },
        { path: "/etc/profile", why: "login shells' startup" },
        { path: "/etc/profile.d", why: "login shells' startup" },
        { path: "/etc/bash.bashrc", why: "interactive shells' startup" },
        { path: "/etc/environment", why: "every session's environment" },
        { path: "/etc/update-motd.d", why: "runs as root at every login" },
        { path: "/etc/rc.local", why: "runs as root at boot" },
        { path: "/etc/sysctl.conf", why: "kernel settings (our hardening)" },
        { path: "/etc/sysctl.d", why: "kernel settings (our hardening)" },
        { path: "/etc/modprobe.d", why: "kernel modules (our blacklist)" },
        { path: "/etc/ufw", why: "the firewall's rules" },
        { path: "/etc/fail2ban", why: "the SSH jail" },
        { path: "/etc/hosts", why: "name resolution" },
        { path: "/etc/aide", why: "this configuration" },
        { path: HOST_DIRS.etc, why: "our settings and credentials" },
        { path: "/etc/cloudflared", why: "the tunnel's token" },
        { path: "/usr/local", why: "commands ahead of the system's on PATH (node, openclaw: links into the release)" },
        { path: HOST_DIRS.bin, why: "our host scripts (the backup, the watchdog, this check)" },
        { path: "/root/.ssh", why: "root's keys" },
        { path: "/root/.bashrc", why: "root's shell startup" },
        { path: "/root/.profile", why: "root's shell startup" },
        { path: `${admin}/.ssh/authorized_keys`, why: "who logs in as the admin" },
        { path: `${AGENT_HOME}/.ssh`, why: "the agent user has no keys: any appearing is a backdoor" },
        { path: `${AGENT_HOME}/.config/systemd`, why: "the agent user's units" },
    ];
}

/** Symlinks whose target is watched, not what is below them (the OpenClaw release tree: see README). */
export const WATCHED_LINKS = [HOST_FILES.currentRelease, HOST_FILES.previousRelease] as const;

const escape = (path: string) => path.replace(/[.^$*+?()[\]{}|\\]/g, "\\$&");

/** /etc/aide/aide.conf: the whole configuration (no Debian include: aide-common is not installed). */
export function renderAideConfig(input: AideConfigInput): string {
    if (!USER_NAME_PATTERN.test(input.adminUser))
        throw new Error(`aide.conf: admin user ${JSON.stringify(input.adminUser)}: expected a user name`);
    const root = input.root ?? "";
    if (root && !/^\/[A-Za-z0-9._/-]+[^/]$/.test(root))
        throw new Error(`aide.conf: root ${JSON.stringify(root)}: expected an absolute path`);
    const db = `${root}${HOST_FILES.aideDatabase}`;
    return [
        "# Rendered by openclaw-vps (components/render/integrity.ts). AIDE watches only what an attacker would change to",
        "# persist; the agent's workspace and memory are never in it. Checked daily by openclaw-integrity.service",
        "# (integrity.sh check); every push and every dpkg run writes a new baseline (integrity.sh baseline).",
        `database_in=file:${db}`,
        `database_out=file:${db}.new`,
        "gzip_dbout=no",
        "log_level=warning",
        // The report integrity.sh parses: the changed paths as JSON keys, never a file's content or checksums.
        "report_format=json",
        "report_level=list_entries",
        "report_url=stdout",
        `Watched = ${AIDE_ATTRIBUTES}`,
        "Link = ftype+p+u+g+l",
        ...watchedPaths(input.adminUser).flatMap(({ path, why }) => [`# ${why}`, `${escape(root + path)} Watched`]),
        "# the release links (the release tree itself is out of scope: README)",
        ...WATCHED_LINKS.map((link) => `=${escape(root + link)}$ Link`),
        "",
    ].join("\n");
}

/** The daily AIDE check: root (it reads /etc/shadow and the admin's keys), writing only its status directory. */
export function renderIntegrityService(): string {
    const sandbox = renderSandbox({
        why: "AIDE reads root-only files (/etc/shadow, sshd's host keys, the admin's authorized_keys)",
        readWritePaths: [HOST_DIRS.integrityState],
        capabilities: {
            CAP_DAC_READ_SEARCH: "reads every watched file whoever owns it (the admin's ~/.ssh is 0700)",
        },
        noJit: true,
        network: "none",
    });
    return `# Rendered by openclaw-vps (components/render/integrity.ts): the daily file integrity check.
[Unit]
Description=openclaw-vps integrity: AIDE check of the security-relevant files
${exposureBoundLines(3.0, "the full sandbox below; read-only apart from its status directory")}

[Service]
Type=oneshot
ExecStart=${HOST_DIRS.bin}/${INTEGRITY_SCRIPT} check
SyslogIdentifier=openclaw-integrity
${backgroundPriority(15).join("\n")}
TimeoutStartSec=30min
${sandbox.join("\n")}
`;
}

/** The weekly chkrootkit scan: it must see the real /tmp and /dev (it looks for rootkit files there). */
export function renderRootkitService(): string {
    const sandbox = renderSandbox({
        why: "chkrootkit compares ps with /proc, reads every process's sockets and looks into root-only directories",
        readWritePaths: [HOST_DIRS.integrityState],
        capabilities: {
            CAP_DAC_READ_SEARCH: "looks into every directory whoever owns it",
            CAP_SYS_PTRACE: "reads other users' /proc/<pid>/fd and exe (the hidden-process and sniffer checks)",
            CAP_KILL: "chkproc probes every PID with signal 0 to find processes hidden from /proc",
        },
        // ifpromisc reads the interfaces' flags with an ioctl on an AF_INET socket and packet sockets from /proc/net.
        extraAddressFamilies: { AF_NETLINK: "ss and ip read sockets and interfaces over netlink" },
        network: "no-ip",
        hostTmpAndDevices: "chkrootkit looks for rootkit files in /tmp, /var/tmp and /dev: a private /tmp or /dev would hide them",
        noJit: true,
    });
    return `# Rendered by openclaw-vps (components/render/integrity.ts): the weekly rootkit scan.
[Unit]
Description=openclaw-vps rootkit scan (chkrootkit)
${exposureBoundLines(3.0, "the sandbox below; it sees the real /tmp and /dev on purpose")}

[Service]
Type=oneshot
ExecStart=${HOST_DIRS.bin}/${INTEGRITY_SCRIPT} rootkit-scan
SyslogIdentifier=openclaw-rootkit-scan
${backgroundPriority(15).join("\n")}
TimeoutStartSec=60min
${sandbox.join("\n")}
`;
}

function timer(description: string, service: string, calendar: string): string {
    return `# Rendered by openclaw-vps (components/render/integrity.ts): when ${service} runs.
[Unit]
Description=${description}

[Timer]
OnCalendar=${calendar}
RandomizedDelaySec=1h
# A host that was off at that time runs it at the next boot.
Persistent=true
Unit=${service}

[Install]
WantedBy=timers.target
`;
}

export const renderIntegrityTimer = () => timer("openclaw-vps integrity check, daily", HOST_UNITS.integrityService, "*-*-* 04:30");
export const renderRootkitTimer = () => timer("openclaw-vps rootkit scan, weekly", HOST_UNITS.rootkitService, "Sun *-*-* 05:00");

/** apt's hooks (/etc/apt/apt.conf.d): the check before dpkg changes anything, a new baseline after it. */
export function renderIntegrityAptHook(): string {
    const script = `${HOST_DIRS.bin}/${INTEGRITY_SCRIPT}`;
    return [
        "// Rendered by openclaw-vps (components/render/integrity.ts): package updates change watched files (sshd's and PAM's",
        "// configs, unit symlinks); what changed before dpkg runs is recorded first, then dpkg's changes become the baseline.",
        `DPkg::Pre-Invoke { "if [ -x ${script} ]; then ${script} dpkg-pre || true; fi"; };`,
        `DPkg::Post-Invoke { "if [ -x ${script} ]; then ${script} dpkg-post || true; fi"; };`,
        "",
    ].join("\n");
}
