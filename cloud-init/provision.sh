#!/usr/bin/env bash
# First-boot provisioning of an openclaw-vps host (docs/host-contract.md, "Order of events", step 1). It owns
# the base system the host needs before the first push and never needs a secret: packages, UFW, SSH hardening check,
# brute-force protection, unattended upgrades, the agent user, swap, time zone, cloudflared, rclone. Node and
# OpenClaw are not here: the push installs them (upgrade-openclaw.sh), so a new version never needs a new server.
#
# cloud-init's runcmd runs it as `bash /opt/openclaw-vps/bin/provision.sh`; inputs come from
# /etc/openclaw-vps/provision.env (KEY=value, non-secret). Every step is safe to rerun: a second run changes nothing.
# Progress goes to the status file (sourceable key=value lines) that wait-provisioned.sh polls, and every step is
# logged to the log file and the serial console. Any failure ends with state=failed, the step's name and exit != 0.
#
# Usage: provision.sh [--only STEP[,STEP...]] [--list]
#   --only  runs just those steps (for tests and repairs); it leaves the status file alone.
#   --list  prints the step names in order.
# Overrides for tests (production sets none): PROVISION_ENV_FILE, PROVISION_LOG, PROVISION_STATUS,
# PROVISION_CONSOLE (where step lines are copied, default /dev/console), PROVISION_LOCK, PROVISION_APT_LOCK_WAIT
# (seconds apt may wait for another apt user, default 900), PROVISION_APT_RETRY_SECONDS (10).
set -Eeuo pipefail

# The host contract (components/core/host-contract.ts): shared paths and names (HOST_*), written by user data and the
# push. A HOST_* variable already set in the environment wins (tests point them at sandboxes).
readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"
readonly ENV_FILE="${PROVISION_ENV_FILE:-$HOST_ETC_DIR/provision.env}"
readonly LOG_FILE="${PROVISION_LOG:-$HOST_PROVISION_LOG}"
readonly STATUS_FILE="${PROVISION_STATUS:-$HOST_PROVISION_STATUS}"
readonly CONSOLE="${PROVISION_CONSOLE:-/dev/console}"
readonly LOCK_FILE="${PROVISION_LOCK:-/run/lock/openclaw-vps-provision.lock}"

readonly STATE_DIR=$HOST_STATE_DIR
readonly SSHD_DROPIN=$HOST_SSHD_HARDENING
readonly AGENT_USER=$HOST_AGENT_USER
readonly CLOUDFLARE_KEYRING=/usr/share/keyrings/cloudflare-main.gpg
# The link-local metadata service: it serves user data (and on some providers more) to every local process.
readonly METADATA_ADDRESS=169.254.169.254
# apt.systemd.daily (apt-daily, apt-daily-upgrade) takes this lock before it touches anything.
readonly APT_DAILY_LOCK=/var/lib/apt/daily_lock
readonly APT_LOCK_WAIT=${PROVISION_APT_LOCK_WAIT:-900}
readonly APT_RETRY_SECONDS=${PROVISION_APT_RETRY_SECONDS:-10}

# In order. The firewall and SSH come first so the host is closed before anything big is downloaded. Every step that
# uses apt comes before LAST_APT_STEP: from then on the status file says apt=free, and the deploy's browser stage
# (install-browser.sh --prefetch) fetches Chromium's packages while the remaining steps run.
readonly STEPS=(packages ufw ssh cloudflared agent_user bruteforce upgrades metadata swap timezone rclone)
readonly LAST_APT_STEP=cloudflared
readonly PACKAGES=(
    ca-certificates curl gnupg xz-utils jq tzdata
    ufw
    fail2ban python3-systemd # python3-systemd: fail2ban's journal backend (Ubuntu 24.04 logs sshd to the journal)
    unattended-upgrades
    rclone
    age zstd              # the backups: archives are zstd-compressed and encrypted with age to the operator's recipient
    libpam-tmpdir debsums # for baseline.sh (pushed): a private TMPDIR per session; package integrity checks on demand
    libpam-passwdqc       # a password set later must be a strong one (nobody logs in with one: key-only SSH)
    aide chkrootkit       # file integrity of the security-relevant files, a weekly rootkit scan (integrity.sh, pushed)
)

# cloud-init runs us with a bare environment: npm and apt need HOME, and nothing may ever prompt.
export HOME="${HOME:-/root}"
export DEBIAN_FRONTEND=noninteractive
# Ubuntu 24.04's needrestart restarts services after every dpkg run by itself, and has killed cloud-init's own units
# mid-run (cloud-init issue 5109). Suspended here (its apt hook then only says that it is); what needs a restart is
# reported at the end instead (report_restarts).
export NEEDRESTART_SUSPEND=1
export PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

CURRENT_STEP=config
STEP_INDEX=0
WRITE_STATUS=1
APT_STATE=busy

# Step lines go to the log and the serial console (the provider's console view shows them). They go to our stdout
# (fd 3) too when a person reads it (a terminal) or when a test redirected the console; not under cloud-init, which
# already copies our stdout to the console: every line would show twice. Step output itself goes only to the log.
log() {
    local line
    line="$(date -u +%Y-%m-%dT%H:%M:%SZ) [openclaw-vps provision] $*"
    printf '%s\n' "$line" >>"$LOG_FILE"
    if [[ -t 3 || $CONSOLE != /dev/console || ! -w $CONSOLE ]]; then printf '%s\n' "$line" >&3; fi
    if [[ -w $CONSOLE ]]; then printf '%s\n' "$line" >>"$CONSOLE" 2>/dev/null || true; fi
}

die() {
    log "ERROR: $*"
    return 1
}

write_status() { # state
    [[ $WRITE_STATUS == 1 ]] || return 0
    local tmp="$STATUS_FILE.tmp"
    printf 'step=%s/%s\nname=%s\nstate=%s\napt=%s\nupdated=%s\n' "$STEP_INDEX" "${#STEPS[@]}" "$CURRENT_STEP" "$1" \
        "$APT_STATE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$STATUS_FILE" # atomic: a reader never sees half a file
}

on_error() { # exit status, line
    local status=$1 line=$2
    # A failing command substitution or subshell also lands here: let its parent report, once.
    if [[ $BASHPID != "$$" ]]; then exit "$status"; fi
    trap - ERR
    write_status failed
    log "FAILED at step ${STEP_INDEX}/${#STEPS[@]} ${CURRENT_STEP} (exit ${status}, line ${line}); log: ${LOG_FILE}"
    # Always on stderr as well, so /var/log/cloud-init-output.log says why too.
    echo "openclaw-vps provision FAILED at step ${CURRENT_STEP} (exit ${status}); see ${LOG_FILE}" >&4
    if [[ -w $CONSOLE ]]; then tail -n 20 "$LOG_FILE" >>"$CONSOLE" 2>/dev/null || true; fi
    exit "$status"
}

# Writes stdin to PATH with MODE (root-owned) only when the content differs. Succeeds when it changed the file.
write_if_changed() { # path mode
    local path=$1 mode=$2 content tmp
    content="$(cat && echo .)" # the dot keeps trailing newlines through the command substitution
    content=${content%.}
    if [[ -f $path ]] && cmp -s "$path" <(printf '%s' "$content"); then
        chmod "$mode" "$path"
        return 1
    fi
    tmp="$(mktemp "$path.XXXXXX")"
    printf '%s' "$content" >"$tmp"
    chmod "$mode" "$tmp"
    chown root:root "$tmp"
    mv -f "$tmp" "$path"
    log "wrote $path"
}

link_if_needed() { # target link
    if [[ $(readlink "$2" 2>/dev/null || true) != "$1" ]]; then
        ln -sfn "$1" "$2"
        log "linked $2 -> $1"
    fi
}

APT_QUIESCED=0

# Cloud images run apt-daily and apt-daily-upgrade at boot when a run is due; both hold apt's locks for minutes.
# apt.systemd.daily takes APT_DAILY_LOCK before any work, so holding it (fd 8, until provision.sh exits) waits for a
# run in progress and keeps the next one from starting while we use apt. No timer is stopped: nothing to restore.
apt_quiesce() {
    ((APT_QUIESCED == 0)) || return 0
    install -d -m 0755 "$(dirname "$APT_DAILY_LOCK")"
    exec 8>>"$APT_DAILY_LOCK"
    if ! flock -n 8; then
        log "apt: apt-daily or apt-daily-upgrade is running; waiting up to ${APT_LOCK_WAIT} s for it to finish"
        flock -w "$APT_LOCK_WAIT" 8 ||
            die "apt's daily job still holds $APT_DAILY_LOCK after ${APT_LOCK_WAIT} s (journalctl -u apt-daily -u apt-daily-upgrade)"
        log "apt: the daily job finished"
    fi
    APT_QUIESCED=1
}

# apt-get, non-interactive, keeping our config files. DPkg::Lock::Timeout covers only dpkg's lock: apt-get update
# fails at once on the lists lock (and a download on the archives lock), so a run that failed on a lock someone else
# holds (packagekit, a person's apt) is retried until APT_LOCK_WAIT; any other failure fails at once.
apt_get() {
    apt_quiesce
    local deadline=$((SECONDS + APT_LOCK_WAIT)) status err lock
    err=$(mktemp)
    while :; do
        status=0
        apt-get -q -y -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" -o Dpkg::Options::=--force-confdef \
            -o Dpkg::Options::=--force-confold "$@" 2>"$err" || status=$?
        cat "$err" >&2
        lock=$(grep -m 1 -E 'Could not get lock|Unable to (lock|acquire)' "$err" || true)
        if ((status == 0)) || [[ -z $lock ]] || ((SECONDS >= deadline)); then break; fi
        log "apt: '$1' found apt locked (${lock#E: }); retrying in ${APT_RETRY_SECONDS} s"
        sleep "$APT_RETRY_SECONDS"
    done
    rm -f "$err"
    if ((status != 0)) && [[ -n $lock ]]; then log "apt: still locked after ${APT_LOCK_WAIT} s: $lock"; fi
    return "$status"
}

fetch() { # url [curl args...]
    local url=$1
    shift
    curl -fsSL --retry 5 --retry-delay 3 --retry-connrefused --connect-timeout 20 "$@" "$url"
}

in_container() {
    command -v systemd-detect-virt >/dev/null && systemd-detect-virt --container --quiet
}

systemd_running() {
    [[ -d /run/systemd/system ]]
}

# ---- configuration -------------------------------------------------------------------------------------------

# Parsed, not sourced: only the known keys are read, and each value is checked before any step uses it.
load_config() {
    [[ -r $ENV_FILE ]] || die "missing $ENV_FILE (user data writes it)"
    local line key value
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ -z $line || $line == \#* ]]; then continue; fi
        if [[ ! $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]]; then die "$ENV_FILE: not a KEY=value line: $line"; fi
        key=${BASH_REMATCH[1]}
        value=${BASH_REMATCH[2]}
        case $key in
            ADMIN_USER | SWAP_MB | TIMEZONE | NODE_DIST_URL | NPM_REGISTRY | \
                CLOUDFLARED_APT_URL | CLOUDFLARED_APT_KEY_URL | CLOUDFLARED_APT_KEY_FINGERPRINT)
                printf -v "$key" '%s' "$value"
                ;;
            *) log "warning: $ENV_FILE: ignoring unknown key $key" ;;
        esac
    done <"$ENV_FILE"

    SWAP_MB=${SWAP_MB:-2048}
    TIMEZONE=${TIMEZONE:-UTC}
    NODE_DIST_URL=${NODE_DIST_URL:-https://nodejs.org/dist}
    NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org/}
    CLOUDFLARED_APT_URL=${CLOUDFLARED_APT_URL:-https://pkg.cloudflare.com/cloudflared}
    CLOUDFLARED_APT_KEY_URL=${CLOUDFLARED_APT_KEY_URL:-https://pkg.cloudflare.com/cloudflare-main.gpg}
    CLOUDFLARED_APT_KEY_FINGERPRINT=${CLOUDFLARED_APT_KEY_FINGERPRINT:-}

    local user_re='^[a-z_][a-z0-9_-]{0,31}$' url_re='^(https?|file)://[A-Za-z0-9._~:/?#@!$&*+,;=%-]+$'
    [[ ${ADMIN_USER:-} =~ $user_re && $ADMIN_USER != root ]] || die "ADMIN_USER must be a user name other than root"
    [[ $AGENT_USER =~ $user_re && $AGENT_USER != root && $AGENT_USER != "$ADMIN_USER" ]] ||
        die "AGENT_USER must be a user name other than root and ADMIN_USER"
    [[ $SWAP_MB =~ ^[0-9]+$ ]] || die "SWAP_MB must be a number of MB (0 = no swap)"
    [[ $TIMEZONE =~ ^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$ ]] || die "TIMEZONE must be an IANA name such as Europe/Berlin"
    local name
    for name in NODE_DIST_URL NPM_REGISTRY CLOUDFLARED_APT_URL CLOUDFLARED_APT_KEY_URL; do
        [[ ${!name} =~ $url_re ]] || die "$name must be an http(s) URL"
    done
    [[ $CLOUDFLARED_APT_KEY_FINGERPRINT =~ ^[0-9A-F]{40}$ ]] ||
        die "CLOUDFLARED_APT_KEY_FINGERPRINT must be the 40-hex-digit fingerprint of Cloudflare's package signing key"
}

# ---- steps ---------------------------------------------------------------------------------------------------

step_packages() {
    apt_get update
    apt_get upgrade
    apt_get install --no-install-recommends "${PACKAGES[@]}"
}

step_ufw() {
    command -v ufw >/dev/null || die "ufw is not installed (the packages step installs it)"
    # Hetzner and DigitalOcean give the host a public IPv6 address: it must be filtered too.
    if ! grep -qx 'IPV6=yes' /etc/default/ufw; then
        sed -i 's/^IPV6=.*/IPV6=yes/' /etc/default/ufw
        log "ufw: IPv6 filtering on"
    fi
    # Each setting is changed only when it differs, so a rerun does not even reload the firewall.
    if ! grep -qx 'DEFAULT_INPUT_POLICY="DROP"' /etc/default/ufw; then ufw default deny incoming; fi
    if ! grep -qx 'DEFAULT_OUTPUT_POLICY="ACCEPT"' /etc/default/ufw; then ufw default allow outgoing; fi
    # allow, not limit: ufw's limit drops the 7th connection in 30 s from one address, which a deploy opening
    # several SSH sessions at once can reach. Brute force is fail2ban's job; the provider firewall admits only
    # adminCidrs to port 22 anyway.
    ufw allow 22/tcp comment 'SSH (openclaw-vps)'
    if ! ufw status | grep -qx 'Status: active'; then ufw --force enable; fi
    ufw status verbose
}

# The drop-in itself comes from user data (so sshd is hardened from its very first start); here we prove that the
# effective configuration is what we want and reload sshd when the drop-in changed.
step_ssh() {
    [[ -f $SSHD_DROPIN ]] || die "missing $SSHD_DROPIN (user data writes it)"
    grep -qx "AllowUsers $ADMIN_USER" "$SSHD_DROPIN" || die "$SSHD_DROPIN does not allow $ADMIN_USER"
    chmod 0644 "$SSHD_DROPIN"
    mkdir -p /run/sshd # sshd -t refuses to run without its privilege separation directory
    sshd -t || die "sshd rejects its configuration"
    local effective expected
    effective="$(sshd -T -C "user=$ADMIN_USER,host=localhost,addr=127.0.0.1")"
    for expected in 'passwordauthentication no' 'kbdinteractiveauthentication no' 'permitrootlogin no' \
        'pubkeyauthentication yes' "allowusers $ADMIN_USER" 'permitemptypasswords no' 'compression no' \
        'allowagentforwarding no' 'allowtcpforwarding local' 'loglevel VERBOSE'; do
        grep -qx "$expected" <<<"$effective" || die "effective sshd configuration lacks '$expected'"
    done
    local tries
    tries="$(sed -n 's/^maxauthtries //p' <<<"$effective")"
    ((tries <= 3)) || die "effective MaxAuthTries is $tries (want 3 or less)"

    local applied="$STATE_DIR/sshd-hardening.sha256" sum
    install -d -m 0755 "$STATE_DIR"
    sum="$(sha256sum "$SSHD_DROPIN" | cut -d' ' -f1)"
    if [[ $(cat "$applied" 2>/dev/null || true) != "$sum" ]]; then
        # Ubuntu 24.04 starts sshd on the first connection (ssh.socket): reload only a running daemon.
        if systemd_running && systemctl is-active --quiet ssh.service; then systemctl reload ssh.service; fi
        printf '%s\n' "$sum" >"$applied"
        log "sshd hardening applied"
    fi
}

# fail2ban with the journal backend: Ubuntu 24.04 and Debian 12 have no auth.log by default, and the file backend
# makes fail2ban refuse to start there.
step_bruteforce() {
    local changed=0
    if write_if_changed /etc/fail2ban/jail.d/openclaw-vps.local 0644 <<'EOF'; then changed=1; fi
# openclaw-vps: SSH brute-force protection (written by provision.sh)
[sshd]
enabled = true
backend = systemd
port = ssh
maxretry = 5
findtime = 10m
bantime = 1h
banaction = iptables-multiport
EOF
    fail2ban-client --test >/dev/null || die "fail2ban rejects its configuration"
    systemd_running || die "systemd is not running: fail2ban cannot be started"
    systemctl enable --quiet fail2ban.service
    if ((changed)) || ! systemctl is-active --quiet fail2ban.service; then systemctl restart fail2ban.service; fi

    for _ in $(seq 1 30); do
        if fail2ban-client status sshd >/dev/null 2>&1; then
            log "fail2ban: jail sshd is up"
            return 0
        fi
        sleep 1
    done
    journalctl -u fail2ban.service -n 30 --no-pager || true
    die "fail2ban's sshd jail did not come up"
}

# Security updates every day. Their reboots are ours to schedule: unattended-upgrades' own Automatic-Reboot ignores
# systemd inhibitors (it would reboot in the middle of a backup), so it stays off and the push's
# openclaw-reboot-window.timer reboots inside rebootWindow, after taking the backup lock. cloudflared comes from
# Cloudflare's repository (Origin: cloudflared, Codename: any) and is kept current the same way.
step_upgrades() {
    write_if_changed /etc/apt/apt.conf.d/20auto-upgrades 0644 <<'EOF' || true
// openclaw-vps: fetch package lists and install security updates every day (written by provision.sh)
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
EOF
    write_if_changed /etc/apt/apt.conf.d/52openclaw-vps-unattended-upgrades 0644 <<'EOF' || true
// openclaw-vps (written by provision.sh): no reboot from unattended-upgrades itself; openclaw-reboot-window.timer
// reboots inside rebootWindow when /run/reboot-required says so, never during a backup or an upgrade.
Unattended-Upgrade::Automatic-Reboot "false";
// cloudflared from Cloudflare's repository, kept current like the security updates.
Unattended-Upgrade::Origins-Pattern { "origin=cloudflared,codename=any"; };
EOF
    [[ $(apt-config shell value APT::Periodic::Unattended-Upgrade) == "value='1'" ]] ||
        die "another apt.conf.d file turns unattended upgrades off"
    [[ $(apt-config shell value Unattended-Upgrade::Automatic-Reboot) == "value='false'" ]] ||
        die "another apt.conf.d file turns unattended-upgrades' own reboot on (the reboot window owns reboots)"
    apt-config dump Unattended-Upgrade::Origins-Pattern | grep -qF '"origin=cloudflared,codename=any"' ||
        die "unattended-upgrades does not list cloudflared's origin"
    if systemd_running; then systemctl enable --quiet apt-daily.timer apt-daily-upgrade.timer; fi
}

step_agent_user() {
    if ! id -u "$AGENT_USER" >/dev/null 2>&1; then
        useradd --create-home --home-dir "$HOST_AGENT_HOME" --shell /usr/sbin/nologin --user-group \
            --comment "OpenClaw agent" "$AGENT_USER"
        log "created user $AGENT_USER"
    fi
    if [[ $(getent passwd "$AGENT_USER" | cut -d: -f7) != /usr/sbin/nologin ]]; then
        usermod --shell /usr/sbin/nologin "$AGENT_USER"
    fi
    local group
    for group in sudo admin wheel; do
        if id -nG "$AGENT_USER" | tr ' ' '\n' | grep -qx "$group"; then gpasswd -d "$AGENT_USER" "$group"; fi
    done
    install -d -o "$AGENT_USER" -g "$AGENT_USER" -m 0750 "$HOST_AGENT_HOME"
    install -d -o "$AGENT_USER" -g "$AGENT_USER" -m 0700 "$HOST_AGENT_STATE_DIR"
}

# The agent's processes (the gateway, its plugins, a headless browser, anything a prompt makes it run) must not read the
# metadata service: it serves user data to any local process. An owner-match rule in ufw's before.rules rejects every
# packet the agent user sends there, and ufw loads that file at every boot. Root (cloud-init, `npm run verify`) still
# reaches it. The rule names the user's uid, so this runs after the agent_user step.
step_metadata() {
    command -v ufw >/dev/null || die "ufw is not installed (the packages step installs it)"
    local rules=/etc/ufw/before.rules uid rule
    local begin="# openclaw-vps metadata block: begin (provision.sh)" end="# openclaw-vps metadata block: end"
    [[ -f $rules ]] || die "missing $rules (ufw's own rules file)"
    uid=$(id -u "$AGENT_USER")
    rule="-A ufw-before-output -d $METADATA_ADDRESS/32 -m owner --uid-owner $uid -j REJECT"
    # Our block, replaced whole, ahead of ufw's first rule: before its loopback and established-connection ACCEPTs.
    local updated
    updated=$(awk -v begin="$begin" -v end="$end" -v rule="$rule" '
        $0 == begin { skip = 1; next }
        $0 == end { skip = 0; next }
        skip { next }
        !done && /^-A / { print begin; print rule; print end; done = 1 }
        { print }
        END { if (!done) exit 1 }' "$rules") || die "$rules has no rule to put the metadata block before"
    if write_if_changed "$rules" 0640 <<<"$updated"; then
        if ufw status | grep -qx 'Status: active'; then ufw reload >/dev/null; fi
        log "metadata service: $AGENT_USER (uid $uid) may not reach $METADATA_ADDRESS"
    fi
    if ufw status | grep -qx 'Status: active'; then
        iptables -C ufw-before-output -d "$METADATA_ADDRESS/32" -m owner --uid-owner "$uid" -j REJECT ||
            die "ufw is active but the metadata block for $AGENT_USER is not loaded"
    fi
}

step_swap() {
    if ((SWAP_MB == 0)); then
        log "swap: SWAP_MB=0, none wanted"
        return 0
    fi
    if in_container; then
        log "swap: running in a container, where swap belongs to the host; skipped"
        return 0
    fi
    local swapfile=/swapfile
    if [[ ! -e $swapfile ]]; then
        if [[ -n $(swapon --noheadings --show=NAME) ]]; then
            log "swap: the host already has swap ($(swapon --noheadings --show=NAME | tr '\n' ' ')); none added"
            return 0
        fi
        log "swap: creating ${SWAP_MB} MB at $swapfile"
        fallocate -l "${SWAP_MB}M" "$swapfile.new" 2>/dev/null ||
            dd if=/dev/zero of="$swapfile.new" bs=1M count="$SWAP_MB" status=none
        chmod 0600 "$swapfile.new"
        mkswap "$swapfile.new" >/dev/null
        mv "$swapfile.new" "$swapfile"
    fi
    if ! swapon --noheadings --show=NAME | grep -qx "$swapfile"; then swapon "$swapfile"; fi
    if ! awk -v f="$swapfile" '$1 == f && $3 == "swap" { found = 1 } END { exit !found }' /etc/fstab; then
        printf '%s none swap sw 0 0\n' "$swapfile" >>/etc/fstab
        log "swap: added to /etc/fstab"
    fi
    # The gateway's idle pages may go to swap, but the agent should not crawl: swap late.
    if write_if_changed /etc/sysctl.d/60-openclaw-vps-swap.conf 0644 <<'EOF'; then
# openclaw-vps: prefer RAM, swap only under pressure (written by provision.sh)
vm.swappiness = 10
EOF
        sysctl -q -p /etc/sysctl.d/60-openclaw-vps-swap.conf
    fi
}

step_timezone() {
    local zone=/usr/share/zoneinfo/$TIMEZONE
    # Ubuntu 24.04 ships legacy names (US/Eastern, GB, Asia/Calcutta) only in tzdata-legacy. User data already carries
    # the zone such a name links to; a hand-edited provision.env gets the package where the distribution has it.
    if [[ ! -f $zone ]] && apt-cache show tzdata-legacy >/dev/null 2>&1; then
        log "time zone: $TIMEZONE is not in tzdata; installing tzdata-legacy"
        apt_get install --no-install-recommends tzdata-legacy
    fi
    [[ -f $zone ]] || die "unknown time zone $TIMEZONE (no $zone, and no tzdata-legacy package that has it)"
    link_if_needed "/usr/share/zoneinfo/$TIMEZONE" /etc/localtime
    if [[ $(cat /etc/timezone 2>/dev/null || true) != "$TIMEZONE" ]]; then printf '%s\n' "$TIMEZONE" >/etc/timezone; fi
    log "time zone: $TIMEZONE ($(date +%Z))"
}

# gpg in a throwaway home that starts no agent or keybox daemon, with our lock descriptors closed: a daemon left behind
# must never hold apt's daily lock (fd 8) or the provisioning lock (fd 9).
gpg_isolated() {
    local home status=0
    home=$(mktemp -d)
    GNUPGHOME=$home gpg --batch --quiet --no-autostart "$@" 8>&- 9>&- || status=$?
    rm -rf "$home"
    return "$status"
}

# Primary key fingerprints of an OpenPGP key file, one per line (binary or ASCII-armored), read without a keyring.
key_fingerprints() { # file
    [[ -s $1 ]] || return 0
    gpg_isolated --with-colons --show-keys "$1" 2>/dev/null |
        awk -F: '$1 == "pub" { want = 1; next } $1 == "fpr" && want { print $10; want = 0 }' || true
}

# Installed only: the tunnel token arrives later with the push, which also writes and starts cloudflared.service.
# The repository's signing key is trusted only if it is exactly the key pinned in the repository (its fingerprint in
# provision.env, from components/core/pins.ts): a key served by a compromised or spoofed mirror is refused before apt
# ever sees it. The suite is `any`, as Cloudflare recommends for every Debian-based distribution.
step_cloudflared() {
    if [[ $(key_fingerprints "$CLOUDFLARE_KEYRING") != "$CLOUDFLARED_APT_KEY_FINGERPRINT" ]]; then
        local key fingerprints
        key="$(mktemp)"
        fetch "$CLOUDFLARED_APT_KEY_URL" -o "$key"
        # The key is published binary; accept an ASCII-armored copy (e.g. from a mirror) too.
        if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$key"; then
            gpg_isolated --yes --dearmor --output "$key.gpg" "$key"
            mv -f "$key.gpg" "$key"
        fi
        fingerprints=$(key_fingerprints "$key")
        if [[ $fingerprints != "$CLOUDFLARED_APT_KEY_FINGERPRINT" ]]; then
            rm -f "$key"
            die "the key at $CLOUDFLARED_APT_KEY_URL is $(tr '\n' ' ' <<<"${fingerprints:-not an OpenPGP key}")not the pinned $CLOUDFLARED_APT_KEY_FINGERPRINT: refusing to trust it"
        fi
        install -D -m 0644 "$key" "$CLOUDFLARE_KEYRING"
        rm -f "$key"
        log "cloudflared: signing key $CLOUDFLARED_APT_KEY_FINGERPRINT (pinned) stored in $CLOUDFLARE_KEYRING"
    fi
    local list=/etc/apt/sources.list.d/cloudflared.list changed=0
    if write_if_changed "$list" 0644 <<EOF; then changed=1; fi
deb [signed-by=$CLOUDFLARE_KEYRING] ${CLOUDFLARED_APT_URL%/} any main
EOF
    if ((changed)) || ! dpkg-query -W -f='${Status}' cloudflared 2>/dev/null | grep -q 'install ok installed'; then
        # Refresh only Cloudflare's list: the packages step already refreshed the distribution's.
        apt_get update -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
        apt_get install --no-install-recommends cloudflared
    fi
    log "cloudflared: $(cloudflared --version 2>&1 | head -n 1) (not configured: the push brings the tunnel token)"
}

step_rclone() {
    command -v rclone >/dev/null || die "rclone is not installed (the packages step installs it)"
    log "rclone: $(rclone version 2>/dev/null | head -n 1) (the push brings its remote)"
}

# What needrestart would have restarted had it not been suspended (NEEDRESTART_SUSPEND), said at the end of the log and
# on the console instead of happening under cloud-init. Lists only: never restarts anything.
report_restarts() {
    command -v needrestart >/dev/null || return 0
    local out services kernel
    out=$(needrestart -b -r l 2>/dev/null) || return 0
    services=$(sed -n 's/^NEEDRESTART-SVC: //p' <<<"$out" | tr '\n' ' ')
    kernel=$(sed -n 's/^NEEDRESTART-KSTA: //p' <<<"$out")
    if [[ -n ${services// /} ]]; then
        log "needs a restart (not restarted during provisioning; \`sudo needrestart -r a\` or the next reboot does it): ${services% }"
    else
        log "needs a restart: no service"
    fi
    # 2: an ABI-compatible kernel update, 3: a newer kernel version is installed; either one needs a reboot.
    if [[ $kernel == 2 || $kernel == 3 ]]; then log "needs a restart: the kernel was updated; reboot to run it"; fi
}

# ---- main ----------------------------------------------------------------------------------------------------

run_step() { # name
    CURRENT_STEP=$1
    write_status running
    log "step ${STEP_INDEX}/${#STEPS[@]} ${CURRENT_STEP}: start"
    "step_$1" >>"$LOG_FILE" 2>&1 </dev/null
    log "step ${STEP_INDEX}/${#STEPS[@]} ${CURRENT_STEP}: ok"
    if [[ $1 == "$LAST_APT_STEP" ]]; then
        APT_STATE=free
        write_status running
    fi
}

main() {
    local only="" step
    while (($#)); do
        case $1 in
            --only)
                only=${2:?--only needs a step name}
                shift 2
                ;;
            --list)
                printf '%s\n' "${STEPS[@]}"
                return 0
                ;;
            *)
                echo "usage: provision.sh [--only STEP[,STEP...]] [--list]" >&2
                return 2
                ;;
        esac
    done
    if [[ -n $only ]]; then
        WRITE_STATUS=0
        local wanted
        IFS=, read -r -a wanted <<<"$only"
        for step in "${wanted[@]}"; do
            if [[ " ${STEPS[*]} " != *" $step "* ]]; then
                echo "unknown step: $step (steps: ${STEPS[*]})" >&2
                return 2
            fi
        done
    fi
    if [[ $(id -u) != 0 ]]; then
        echo "provision.sh must run as root" >&2
        return 1
    fi

    cd /
    exec 3>&1 4>&2 # our own stdout and stderr, kept while each step's output goes to the log
    install -d -m 0755 "$(dirname "$LOG_FILE")" "$(dirname "$STATUS_FILE")"
    touch "$LOG_FILE"
    chmod 0640 "$LOG_FILE"
    # One run at a time (cloud-init and an operator's rerun must not interleave apt and npm).
    exec 9>"$LOCK_FILE"
    flock -w 1800 9

    trap 'on_error $? $LINENO' ERR
    local started=$SECONDS
    write_status running
    log "provisioning ${only:+(only $only) }with $ENV_FILE"
    load_config
    for step in "${STEPS[@]}"; do
        STEP_INDEX=$((STEP_INDEX + 1))
        if [[ -n $only && ",$only," != *",$step,"* ]]; then continue; fi
        run_step "$step"
    done
    report_restarts
    CURRENT_STEP="done"
    write_status "done"
    log "provisioning done in $((SECONDS - started)) s"
}

main "$@"
