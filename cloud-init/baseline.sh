#!/usr/bin/env bash
# The kernel and system baseline of an openclaw-vps host (README "Host hardening"): kernel sysctls, a module
# blacklist, no core dumps, UMASK 027 / HOME_MODE 0750, private homes, root-only cron and sshd_config, and a check
# that libpam-tmpdir is active. The push installs it in /opt/openclaw-vps/bin and runs it as root on every push
# (apply-bundle.sh); it changes files only where they differ, so a rerun changes nothing. (It is not part of
# provision.sh: user data has a size budget.)
#
# Overrides for tests (production sets none): BASELINE_SYSCTL_APPLY=0 writes the sysctl file but leaves the running
# kernel alone (tests run on a shared machine).
set -Eeuo pipefail
export PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

readonly SYSCTL_FILE=/etc/sysctl.d/60-openclaw-vps-hardening.conf
readonly MODPROBE_FILE=/etc/modprobe.d/openclaw-vps-hardening.conf

log() { printf '%s [openclaw-vps baseline] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
die() {
    log "ERROR: $*" >&2
    exit 1
}
in_container() { command -v systemd-detect-virt >/dev/null && systemd-detect-virt --container --quiet; }
systemd_running() { [[ -d /run/systemd/system ]]; }

# Writes stdin to PATH with MODE (root-owned) only when the content differs.
write_if_changed() { # path mode
    local path=$1 mode=$2 content tmp
    content="$(cat && echo .)" # the dot keeps trailing newlines through the command substitution
    content=${content%.}
    if [[ -f $path ]] && cmp -s "$path" <(printf '%s' "$content"); then
        chmod "$mode" "$path"
        return 0
    fi
    tmp="$(mktemp "$path.XXXXXX")"
    printf '%s' "$content" >"$tmp"
    chmod "$mode" "$tmp"
    chown root:root "$tmp"
    mv -f "$tmp" "$path"
    log "wrote $path"
}

# Each block says why. Nothing here costs memory: no daemon is added (auditd would not fit 2 GB; file integrity and
# the rootkit scan are scheduled oneshots: integrity.sh).
main() {
    ((EUID == 0)) || die "must run as root"
    install -d -m 0755 "$(dirname "$SYSCTL_FILE")" "$(dirname "$MODPROBE_FILE")"
    write_if_changed "$SYSCTL_FILE" 0644 <<'EOF'
# openclaw-vps kernel hardening (written by baseline.sh). Applied at boot by systemd-sysctl.
# Kernel pointers and the kernel log stay root-only: they help an exploit find its target.
kernel.kptr_restrict = 2
kernel.dmesg_restrict = 1
# No eBPF for unprivileged users (a frequent local privilege escalation path), and a hardened BPF JIT.
kernel.unprivileged_bpf_disabled = 1
net.core.bpf_jit_harden = 2
# ptrace only of one's own children: the agent's shell tools cannot read another process's memory (secrets).
kernel.yama.ptrace_scope = 1
# No magic SysRq from a console, no line-discipline autoloading by unprivileged users; Ctrl-Alt-Del on the
# provider's console asks systemd for a clean reboot instead of an immediate one.
kernel.sysrq = 0
dev.tty.ldisc_autoload = 0
kernel.ctrl-alt-del = 0
# If a core dump is ever allowed again (they are off below), one process's dump never overwrites another's.
kernel.core_uses_pid = 1
# Links and files in world-writable sticky dirs (/tmp) cannot be used to trick root or another user.
fs.protected_symlinks = 1
fs.protected_hardlinks = 1
fs.protected_fifos = 2
fs.protected_regular = 2
# No core dumps of setuid programs (they would hold other users' secrets).
fs.suid_dumpable = 0
kernel.core_uses_pid = 1
# A single-homed server is no router: no redirects, no source routes, strict reverse-path filter, log martians.
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv4.conf.all.secure_redirects = 0
net.ipv4.conf.default.secure_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv4.conf.all.log_martians = 1
net.ipv4.conf.default.log_martians = 1
net.ipv6.conf.all.accept_redirects = 0
net.ipv6.conf.default.accept_redirects = 0
net.ipv6.conf.all.accept_source_route = 0
net.ipv6.conf.default.accept_source_route = 0
net.ipv4.icmp_echo_ignore_broadcasts = 1
net.ipv4.icmp_ignore_bogus_error_responses = 1
net.ipv4.tcp_syncookies = 1
EOF
    if [[ ${BASELINE_SYSCTL_APPLY:-1} == 0 ]]; then
        log "sysctl: $SYSCTL_FILE written, not applied (BASELINE_SYSCTL_APPLY=0)"
    elif in_container; then
        # A container shares the host's kernel: most keys are read-only here. A VM applies them all (and at boot).
        if sysctl -q -e -p "$SYSCTL_FILE" >/dev/null 2>&1; then
            log "sysctl: applied"
        else
            log "sysctl: in a container the kernel is the host's; the keys it refuses apply on a real server at boot"
        fi
    else
        sysctl -q -e -p "$SYSCTL_FILE" >/dev/null || die "the kernel refuses $SYSCTL_FILE"
    fi

    # Protocols and buses a cloud server never uses; the kernel would autoload them when any user opens a socket of
    # that family (dccp, sctp, rds and tipc all had exploitable bugs). `install <module> /bin/true` makes a load
    # request a no-op (what Lynis checks); blacklist stops alias-based autoloading as well.
    write_if_changed "$MODPROBE_FILE" 0644 <<'EOF'
# openclaw-vps (written by baseline.sh): kernel modules a cloud server never needs.
install dccp /bin/true
install sctp /bin/true
install rds /bin/true
install tipc /bin/true
install usb-storage /bin/true
install firewire-core /bin/true
install firewire-ohci /bin/true
blacklist dccp
blacklist sctp
blacklist rds
blacklist tipc
blacklist usb-storage
blacklist firewire-core
blacklist firewire-ohci
EOF

    # No core dumps: a dump of the gateway holds its environment (LLM keys, gateway token) in a file outside the
    # 0600 places secrets live in. PAM sessions (limits.d) and every systemd service (DefaultLimitCORE, from the next
    # boot) get a zero core limit; systemd-coredump and apport, where present, keep nothing.
    install -d -m 0755 /etc/security/limits.d /etc/systemd/system.conf.d /etc/systemd/coredump.conf.d
    write_if_changed /etc/security/limits.d/60-openclaw-vps-no-core.conf 0644 <<'EOF'
# openclaw-vps (written by baseline.sh): no core dumps (they would hold the gateway's secrets).
* hard core 0
* soft core 0
EOF
    write_if_changed /etc/systemd/system.conf.d/60-openclaw-vps-no-core.conf 0644 <<'EOF'
# openclaw-vps (written by baseline.sh): no core dumps from any service, the gateway included.
[Manager]
DefaultLimitCORE=0
EOF
    write_if_changed /etc/systemd/coredump.conf.d/60-openclaw-vps.conf 0644 <<'EOF'
# openclaw-vps (written by baseline.sh): if systemd-coredump is installed, it stores nothing.
[Coredump]
Storage=none
ProcessSizeMax=0
EOF
    if [[ -f /etc/default/apport ]] && grep -q '^enabled=1' /etc/default/apport; then
        sed -i 's/^enabled=1/enabled=0/' /etc/default/apport
        if systemd_running; then systemctl disable --now --quiet apport.service 2>/dev/null || true; fi
        log "apport off"
    fi

    # Interactive logins (the admin's SSH shell): no core dumps there either, and an idle shell closes after 15
    # minutes (a forgotten root shell in a terminal tab is a way in). Login shells only: the deploy's commands and
    # the host scripts never read /etc/profile.d.
    install -d -m 0755 /etc/profile.d
    write_if_changed /etc/profile.d/openclaw-vps-hardening.sh 0644 <<'EOF'
# openclaw-vps (written by baseline.sh): login shells get no core dumps and close after 15 idle minutes.
ulimit -c 0
case $- in
    *i*)
        readonly TMOUT=900
        export TMOUT
        ;;
esac
EOF
    # Who may use this machine, said where a login prompt shows it (the console, and sshd if a Banner is set).
    local banner='This is a private system, restricted to its owner and the users the owner authorized.
Activity on it is monitored and logged; unauthorized access or use is prohibited.'
    write_if_changed /etc/issue 0644 <<<"$banner"
    write_if_changed /etc/issue.net 0644 <<<"$banner"

    # New files private to their group by default (login sessions, via pam_umask), new homes not world-readable.
    # Host scripts that must create world-readable files set their own umask (apply-bundle.sh does).
    set_login_def UMASK 027
    set_login_def HOME_MODE 0750
    # Nobody logs in with a password here (key-only SSH), but a password set later gets a slow hash and cannot be
    # changed twice a day to cycle back to an old one. No PASS_MAX_DAYS: an expired password makes PAM's account
    # check force a change at the next SSH login, even a key login, which would lock the deploy out after a year.
    set_login_def SHA_CRYPT_MIN_ROUNDS 65536
    set_login_def SHA_CRYPT_MAX_ROUNDS 262144
    set_login_def PASS_MIN_DAYS 1
    # Existing human homes (the admin's, made by cloud-init before this ran): 0750 too.
    local user uid home mode
    while IFS=: read -r user _ uid _ _ home _; do
        if ((uid >= 1000 && uid < 60000)) && [[ $home == /home/* && -d $home ]]; then
            mode=$(stat -c %a "$home")
            if [[ $mode != 750 && $mode != 700 ]]; then
                chmod 0750 "$home"
                log "home of $user: 0750 (was $mode)"
            fi
        fi
    done < <(getent passwd)

    # cron and sshd's main file: root only (nothing else needs them; a readable crontab maps what runs as root).
    local path
    for path in /etc/crontab /etc/ssh/sshd_config; do
        if [[ -f $path && $(stat -c %a "$path") != 600 ]]; then
            chmod 0600 "$path"
            log "$path: 0600"
        fi
    done
    for path in /etc/cron.d /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly; do
        if [[ -d $path && $(stat -c %a "$path") != 700 ]]; then
            chmod 0700 "$path"
            log "$path: 0700"
        fi
    done

    # fail2ban's settings are ours in jail.d (provision.sh); a jail.local says so, where an admin would look first.
    if [[ -d /etc/fail2ban ]]; then
        write_if_changed /etc/fail2ban/jail.local 0644 <<'EOF'
# openclaw-vps (written by baseline.sh): the sshd jail's settings are in jail.d/. Local changes go here (read after
# jail.conf and jail.d/*.conf, never replaced by a package update).
EOF
    fi

    # The assembler (binutils, pulled in by Python and needrestart) for root only: the agent's shell tools have no
    # reason to build machine code. dpkg-statoverride keeps the mode through package updates.
    local assembler
    if assembler=$(readlink -e /usr/bin/as 2>/dev/null) && [[ $assembler == /usr/bin/* ]]; then
        if ! dpkg-statoverride --list "$assembler" >/dev/null; then
            dpkg-statoverride --update --add root root 0750 "$assembler"
            log "$assembler: root only (0750)"
        fi
    fi

    # libpam-tmpdir (provision.sh installs it) gives every PAM session a private TMPDIR: check it is active.
    if [[ -f /etc/pam.d/common-session ]] && dpkg-query -W -f='${Status}' libpam-tmpdir 2>/dev/null | grep -q 'ok installed'; then
        grep -q pam_tmpdir.so /etc/pam.d/common-session || die "libpam-tmpdir is installed but not in /etc/pam.d/common-session"
    fi
}

# Sets KEY VALUE in /etc/login.defs (replacing an existing line, commented or not), only when it differs.
set_login_def() { # key value
    local key=$1 value=$2 file=/etc/login.defs
    [[ -f $file ]] || die "missing $file"
    if grep -Eq "^${key}[[:space:]]+${value}\$" "$file"; then return 0; fi
    # The setting lines, else the commented-out default (`#HOME_MODE 0700`); never the prose comments naming the key.
    local active="^${key}[[:space:]]+[0-9]+[[:space:]]*\$" commented="^#${key}[[:space:]]+[0-9]+[[:space:]]*\$"
    if grep -Eq "$active" "$file"; then
        sed -i -E "s/${active}/${key}\t\t${value}/" "$file"
    elif grep -Eq "$commented" "$file"; then
        sed -i -E "0,/${commented}/s//${key}\t\t${value}/" "$file"
    else
        printf '%s\t\t%s\n' "$key" "$value" >>"$file"
    fi
    log "login.defs: $key $value"
}

main "$@"
