#!/usr/bin/env bash
# The host audit behind `npm run verify`: one read-only pass over a deployed server that reports, check by check,
# whether it still matches docs/host-contract.md and the threat model (nothing but sshd on the network, the gateway
# on loopback only, UFW denying incoming, key-only SSH, services up, a recent backup, cloud-init done, OpenClaw's own
# security audit, disk/memory/swap headroom, and user data free of the secrets this host holds).
#
# Sent on stdin as root (`sudo -n bash -s`, components/verify/), never stored on the host; runs the same by hand:
#   ssh ops@HOST 'sudo -n bash -s' < cloud-init/audit-host.sh
# Output (stdout), one line per check, tab-separated, nothing else:
#   AUDIT <id> <pass|fail|skip> <critical|warning> <one-line summary>
# and a last line `AUDIT-END <number of checks>`. Progress goes to stderr. Secret values are compared in memory
# and never printed: a leak is reported by the file and key that holds the secret.
#
# Settings (environment; the verify command puts them at the top of the script; paths come from the host contract):
#   AUDIT_ADMIN_USER (provision.env's)  AUDIT_AGENT_USER (the contract's)  AUDIT_GATEWAY_PORT (openclaw.json's)
#   AUDIT_BACKUP_SCHEDULE (hourly)
#   AUDIT_METADATA_PATHS (space-separated paths where the provider serves user data, from its provider module)
#   AUDIT_METADATA_BASE (http://169.254.169.254)
#   AUDIT_SECURITY_AUDIT_TIMEOUT (240 s)  AUDIT_CHANNELS_TIMEOUT (180 s)
#   AUDIT_CGROUP_ROOT (/sys/fs/cgroup)
#   AUDIT_ONLY  comma list of check groups to run (default all): cloud-init sshd firewall sockets gateway-ready
#               services restarts gateway-memory units reboot tokens openclaw-audit channels backup resources userdata
#               integrity
#   AUDIT_DAILY_TOKENS (0 = off)  AUDIT_TIMEZONE (UTC)  AUDIT_RESTART_WINDOW_SECONDS (600)
#   AUDIT_REBOOT_PENDING_SECONDS (129600)
set -euo pipefail

# The host contract (components/core/host-contract.ts): shared paths and names (HOST_*), written by user data and the
# push. A HOST_* variable already set in the environment wins (tests point them at sandboxes).
readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"

# Run by hand without settings, the audit asks the host itself: the admin user from provision.env, the port from
# the pushed openclaw.json.
AUDIT_ADMIN_USER=${AUDIT_ADMIN_USER:-$(sed -n 's/^ADMIN_USER=//p' "$HOST_ETC_DIR/provision.env" 2>/dev/null || true)}
AUDIT_AGENT_USER=${AUDIT_AGENT_USER:-$HOST_AGENT_USER}
AUDIT_GATEWAY_PORT=${AUDIT_GATEWAY_PORT:-$(jq -r '.gateway.port // empty' "$HOST_AGENT_STATE_DIR/openclaw.json" 2>/dev/null || true)}
[[ -n $AUDIT_ADMIN_USER && $AUDIT_GATEWAY_PORT =~ ^[0-9]+$ ]] || {
    echo "audit: set AUDIT_ADMIN_USER and AUDIT_GATEWAY_PORT (not found on this host)" >&2
    exit 2
}
AUDIT_BACKUP_SCHEDULE=${AUDIT_BACKUP_SCHEDULE:-hourly}
AUDIT_METADATA_PATHS=${AUDIT_METADATA_PATHS:-}
AUDIT_METADATA_BASE=${AUDIT_METADATA_BASE:-http://169.254.169.254}
AUDIT_SECURITY_AUDIT_TIMEOUT=${AUDIT_SECURITY_AUDIT_TIMEOUT:-240}
AUDIT_CHANNELS_TIMEOUT=${AUDIT_CHANNELS_TIMEOUT:-180}
AUDIT_CGROUP_ROOT=${AUDIT_CGROUP_ROOT:-/sys/fs/cgroup}
AUDIT_ONLY=${AUDIT_ONLY:-}
# Alert when today's LLM tokens (in AUDIT_TIMEZONE) exceed this; 0 = the tokens check is skipped.
AUDIT_DAILY_TOKENS=${AUDIT_DAILY_TOKENS:-0}
AUDIT_TIMEZONE=${AUDIT_TIMEZONE:-UTC}
# A gateway that systemd restarted within this window counts as just restarted (a crash loop keeps it failing).
AUDIT_RESTART_WINDOW_SECONDS=${AUDIT_RESTART_WINDOW_SECONDS:-600}
# A pending reboot (/run/reboot-required) older than this fails (the reboot window should have taken it).
AUDIT_REBOOT_PENDING_SECONDS=${AUDIT_REBOOT_PENDING_SECONDS:-129600}

PROVISION_STATUS=$HOST_PROVISION_STATUS
BACKUP_STATUS=$HOST_BACKUP_STATUS
RESTORE_MARKER=$HOST_RESTORE_MARKER
TUNNEL_ENV=$HOST_TUNNEL_ENV
RCLONE_CONF=$HOST_RCLONE_CONFIG
CLOUD_INIT_USER_DATA=/var/lib/cloud/instance/user-data.txt
GATEWAY_UNIT=$HOST_GATEWAY_UNIT
# The backup timer adds up to 10 min of random delay; a run may take a while on a small host.
BACKUP_GRACE_SECONDS=1800

CHECKS=0
SECRET_NAMES=()
SECRET_VALUES=()

log() { printf '[audit] %s\n' "$*" >&2; }

wanted() { [[ -z $AUDIT_ONLY || ,$AUDIT_ONLY, == *,$1,* ]]; }

# One result line; tabs and line breaks in the summary become spaces so the line stays one record.
emit() { # id status severity summary
    local summary=$4
    summary=${summary//$'\t'/ }
    summary=${summary//$'\n'/ }
    printf 'AUDIT\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$summary"
    CHECKS=$((CHECKS + 1))
}

agent_home() { getent passwd "$AUDIT_AGENT_USER" | cut -d: -f6; }

# Runs a command as the agent user with a clean environment (its own HOME), from its state dir.
as_agent() {
    local home
    home=$(agent_home)
    (
        cd "$home/.openclaw" 2>/dev/null || cd /
        setpriv --reuid="$AUDIT_AGENT_USER" --regid="$(id -g "$AUDIT_AGENT_USER")" --init-groups -- \
            env -i HOME="$home" USER="$AUDIT_AGENT_USER" LANG=C.UTF-8 NO_COLOR=1 \
            PATH=/usr/local/bin:/usr/bin:/bin "$@"
    )
}

# ---- cloud-init and provisioning --------------------------------------------------------------------------------

check_cloud_init() {
    log "cloud-init status"
    local out code=0 status
    out=$(timeout 30 cloud-init status --long 2>&1) || code=$?
    status=$(sed -n 's/^status: //p' <<<"$out" | head -n 1)
    local provision=""
    if [[ -r $PROVISION_STATUS ]]; then
        provision=$(sed -n 's/^state=//p' "$PROVISION_STATUS" | tail -n 1)
    fi
    if [[ $status == "done" && $code -eq 0 && $provision == "done" ]]; then
        emit cloud-init pass critical "cloud-init: done; provision.sh: done"
    elif [[ $status == "done" && $code -eq 2 && $provision == "done" ]]; then
        # cloud-init 23.4+ exits 2 for "done, with recoverable errors" (deprecated keys, warnings).
        emit cloud-init fail warning "cloud-init: done with recoverable errors (see cloud-init status --long); provision.sh: done"
    elif [[ $status == running ]]; then
        emit cloud-init fail critical "cloud-init is still running (provision.sh: ${provision:-not started})"
    else
        emit cloud-init fail critical "cloud-init: ${status:-unknown} (exit $code); provision.sh: ${provision:-no status file}"
    fi
}

# ---- SSH ----------------------------------------------------------------------------------------------------------

SSHD_PORTS=()

check_sshd() {
    log "sshd effective configuration (sshd -T)"
    # sshd refuses -T without its privilege separation directory, which socket activation creates only on first use.
    [[ -d /run/sshd ]] || mkdir -p /run/sshd
    local effective
    if ! effective=$(sshd -T -C "user=$AUDIT_ADMIN_USER,host=audit.invalid,addr=198.51.100.7" 2>&1); then
        emit sshd fail critical "sshd -T failed: $(tail -n 1 <<<"$effective")"
        return
    fi
    mapfile -t SSHD_PORTS < <(sed -n 's/^port //p' <<<"$effective")
    local bad=() value tries
    for key in passwordauthentication kbdinteractiveauthentication permitemptypasswords; do
        value=$(sed -n "s/^$key //p" <<<"$effective" | head -n 1)
        [[ $value == no ]] || bad+=("$key ${value:-unset}")
    done
    value=$(sed -n 's/^permitrootlogin //p' <<<"$effective" | head -n 1)
    [[ $value == no ]] || bad+=("permitrootlogin ${value:-unset}")
    tries=$(sed -n 's/^maxauthtries //p' <<<"$effective" | head -n 1)
    if ! [[ $tries =~ ^[0-9]+$ ]] || ((tries > 3)); then bad+=("maxauthtries ${tries:-unset}"); fi
    if ((${#bad[@]})); then
        emit sshd fail critical "effective sshd settings: ${bad[*]} (expected passwordauthentication no, kbdinteractiveauthentication no, permitrootlogin no, maxauthtries <= 3)"
    else
        emit sshd pass critical "key-only login, no root login, maxauthtries $tries"
    fi
    if wanted sshd; then check_ssh_crypto "$effective"; fi
}

# The effective SSH cryptography and forwarding (issue 18): what ssh-audit would fail or warn about, read from sshd -T.
check_ssh_crypto() { # effective sshd -T output
    local effective=$1 bad=() kex hostkeys macs value
    kex=$(sed -n 's/^kexalgorithms //p' <<<"$effective")
    hostkeys=$(sed -n 's/^hostkeyalgorithms //p' <<<"$effective")
    macs=$(sed -n 's/^macs //p' <<<"$effective")
    [[ ,$kex, != *,ecdh-sha2-* && ,$kex, != *-sha1,* ]] || bad+=("kex offers NIST curves or SHA-1 ($kex)")
    [[ ,$hostkeys, != *,ecdsa-* && ,$hostkeys, != *,ssh-rsa,* ]] || bad+=("host keys offer ECDSA or ssh-rsa ($hostkeys)")
    local mac
    for mac in ${macs//,/ }; do [[ $mac == *-etm@openssh.com ]] || bad+=("MAC $mac is not encrypt-then-MAC"); done
    value=$(sed -n 's/^compression //p' <<<"$effective")
    [[ $value == no ]] || bad+=("compression ${value:-unset}")
    value=$(sed -n 's/^allowagentforwarding //p' <<<"$effective")
    [[ $value == no ]] || bad+=("allowagentforwarding ${value:-unset}")
    value=$(sed -n 's/^allowtcpforwarding //p' <<<"$effective")
    [[ $value == no || $value == local ]] || bad+=("allowtcpforwarding ${value:-unset}")
    if ((${#bad[@]})); then
        emit ssh-crypto fail warning "${bad[*]}"
    else
        emit ssh-crypto pass warning "modern key exchange, Ed25519/RSA-SHA2 host keys, ETM MACs only; no compression, no agent or remote forwarding"
    fi
}

# systemd's own rating of the system units we render, against the bound each unit states (X-OpenclawVps-ExposureBound,
# components/render/exposure.ts; README "Host hardening").
check_sandbox() {
    log "unit sandboxes (systemd-analyze security)"
    local unit text out exposure bound bad=() good=()
    for unit in "$GATEWAY_UNIT" "$HOST_BACKUP_SERVICE" openclaw-watchdog.service "$HOST_CLOUDFLARED_UNIT" "${HOST_INTEGRITY_SERVICE:-}" "${HOST_ROOTKIT_SERVICE:-}"; do
        [[ -n $unit ]] || continue
        text=$(systemctl cat "$unit" 2>/dev/null) || continue
        bound=$(sed -n 's/^X-OpenclawVps-ExposureBound=//p' <<<"$text" | tail -n 1)
        if [[ -z $bound ]]; then
            bad+=("$unit states no exposure bound")
            continue
        fi
        out=$(systemd-analyze security --no-pager "$unit" 2>&1) || true
        exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1)
        if [[ -z $exposure ]]; then
            bad+=("$unit unrated")
        elif awk -v e="$exposure" -v b="$bound" 'BEGIN { exit !(e > b) }'; then
            bad+=("$unit $exposure > $bound")
        else
            good+=("$unit $exposure")
        fi
    done
    if ((${#bad[@]})); then
        emit unit-sandbox fail warning "exposure above its bound: ${bad[*]}"
    else
        emit unit-sandbox pass warning "exposure: ${good[*]:-no unit}"
    fi
}

# ---- firewall -----------------------------------------------------------------------------------------------------

check_firewall() {
    log "ufw status"
    local out
    if ! out=$(ufw status verbose 2>&1); then
        emit firewall fail critical "ufw status failed: $(tail -n 1 <<<"$out")"
        return
    fi
    if ! grep -qx 'Status: active' <<<"$out"; then
        emit firewall fail critical "UFW is not active"
        return
    fi
    if ! grep -q '^Default: deny (incoming)' <<<"$out"; then
        emit firewall fail critical "UFW does not deny incoming by default: $(grep '^Default:' <<<"$out")"
        return
    fi
    # Rules that let something in, other than SSH.
    local allowed=() line target
    while IFS= read -r line; do
        [[ $line =~ ALLOW[[:space:]]+IN ]] || continue
        target=${line%%ALLOW*}
        target=${target%"${target##*[![:space:]]}"}
        case $target in
            22 | 22/tcp | "22 (v6)" | "22/tcp (v6)" | OpenSSH | "OpenSSH (v6)") ;;
            *) allowed+=("$target") ;;
        esac
    done <<<"$out"
    local gateway_open=0 rule
    for rule in "${allowed[@]}"; do
        [[ $rule =~ (^|[^0-9])$AUDIT_GATEWAY_PORT([^0-9]|$) ]] && gateway_open=1
    done
    if ((gateway_open)); then
        emit firewall fail critical "UFW allows the gateway port $AUDIT_GATEWAY_PORT in: ${allowed[*]}"
    elif ((${#allowed[@]})); then
        emit firewall fail warning "UFW is active and denies incoming, but also allows: ${allowed[*]}"
    else
        emit firewall pass critical "active, deny incoming, only SSH allowed"
    fi
}

# ---- listening sockets --------------------------------------------------------------------------------------------

# Splits an `ss` local address (0.0.0.0:22, [::1]:18789, 127.0.0.53%lo:53, [fe80::1%eth0]:546, *:22) into
# SOCK_ADDR, SOCK_IFACE and SOCK_PORT.
split_address() {
    local local_address=$1
    SOCK_PORT=${local_address##*:}
    SOCK_ADDR=${local_address%:*}
    SOCK_ADDR=${SOCK_ADDR#[}
    SOCK_ADDR=${SOCK_ADDR%]}
    SOCK_IFACE=""
    if [[ $SOCK_ADDR == *%* ]]; then
        SOCK_IFACE=${SOCK_ADDR#*%}
        SOCK_ADDR=${SOCK_ADDR%%\%*}
    fi
}

is_loopback() { [[ $SOCK_ADDR == 127.* || $SOCK_ADDR == ::1 || $SOCK_ADDR == ::ffff:127.* || $SOCK_IFACE == lo ]]; }

check_sockets() {
    log "listening sockets (ss)"
    local out
    if ! out=$(ss -H -l -n -t -u -p 2>&1); then
        emit sockets fail critical "ss failed: $(tail -n 1 <<<"$out")"
        emit gateway-bind fail critical "cannot list sockets"
        return
    fi
    local exposed=() gateway_loopback=0 gateway_public=() netid state recvq sendq local_address peer process name port
    ((${#SSHD_PORTS[@]})) || SSHD_PORTS=(22)
    while read -r netid state recvq sendq local_address peer process; do
        : "$state" "$recvq" "$sendq" "$peer"
        [[ -n $local_address ]] || continue
        split_address "$local_address"
        name=$(sed -n 's/^users:(("\([^"]*\)".*/\1/p' <<<"$process")
        if [[ $netid == tcp && $SOCK_PORT == "$AUDIT_GATEWAY_PORT" ]]; then
            if is_loopback; then gateway_loopback=1; else gateway_public+=("$local_address"); fi
        fi
        is_loopback && continue
        if [[ $netid == tcp ]]; then
            local ssh_port=0
            for port in "${SSHD_PORTS[@]}"; do [[ $SOCK_PORT == "$port" ]] && ssh_port=1; done
            # Ubuntu 24.04 socket-activates sshd: systemd itself holds port 22 until the first connection.
            if ((ssh_port)) && [[ $name == sshd || $name == systemd ]]; then continue; fi
        elif [[ $netid == udp ]]; then
            # DHCP clients (v4 port 68, v6 546) keep a socket for lease renewals: outgoing, not a service.
            if [[ $SOCK_PORT == 68 || $SOCK_PORT == 546 ]] && [[ $name =~ ^(systemd-network|dhclient|dhcpcd|NetworkManager)$ ]]; then continue; fi
        fi
        exposed+=("$netid/${SOCK_ADDR}${SOCK_IFACE:+%$SOCK_IFACE}:$SOCK_PORT(${name:-unknown})")
    done <<<"$out"
    if ((${#exposed[@]})); then
        emit sockets fail critical "listening on the network besides sshd: ${exposed[*]}"
    else
        emit sockets pass critical "nothing but sshd listens on a non-loopback address"
    fi

    local config bind="" cport=""
    config="$(agent_home)/.openclaw/openclaw.json"
    if [[ -r $config ]]; then
        read -r bind cport < <(python3 -c '
import json, sys
try:
    g = json.load(open(sys.argv[1])).get("gateway", {})
    print(g.get("bind", "unset"), g.get("port", "unset"))
except Exception as e:
    print("unreadable", "unset")
' "$config") || true
    fi
    if ((${#gateway_public[@]})); then
        emit gateway-bind fail critical "the gateway port $AUDIT_GATEWAY_PORT listens on ${gateway_public[*]} (config gateway.bind=${bind:-?})"
    elif [[ -n $bind && $bind != loopback ]]; then
        emit gateway-bind fail critical "openclaw.json has gateway.bind=$bind (must be loopback)"
    elif [[ -n $cport && $cport != "$AUDIT_GATEWAY_PORT" ]]; then
        emit gateway-bind fail critical "openclaw.json has gateway.port=$cport, expected $AUDIT_GATEWAY_PORT (the tunnel forwards there)"
    elif ((gateway_loopback == 0)); then
        emit gateway-bind fail critical "nothing listens on 127.0.0.1:$AUDIT_GATEWAY_PORT (gateway down?)"
    else
        emit gateway-bind pass critical "the gateway listens on loopback:$AUDIT_GATEWAY_PORT only (gateway.bind=${bind:-?})"
    fi
}

check_gateway_ready() {
    log "gateway /readyz"
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$AUDIT_GATEWAY_PORT/readyz" 2>/dev/null) || true
    if [[ $code == 200 ]]; then
        emit gateway-ready pass critical "http://127.0.0.1:$AUDIT_GATEWAY_PORT/readyz answers 200"
    else
        [[ $code != 000 ]] || code=""
        emit gateway-ready fail critical "http://127.0.0.1:$AUDIT_GATEWAY_PORT/readyz answers ${code:-nothing} (not ready)"
    fi
}

# ---- services -----------------------------------------------------------------------------------------------------

check_services() {
    log "services"
    local state
    local user enabled
    state=$(systemctl is-active "$GATEWAY_UNIT" 2>/dev/null) || true
    user=$(systemctl show -p User --value "$GATEWAY_UNIT" 2>/dev/null) || true
    enabled=$(systemctl is-enabled "$GATEWAY_UNIT" 2>/dev/null) || true
    if [[ $state != active ]]; then
        emit service-gateway fail critical "$GATEWAY_UNIT is ${state:-unknown}"
    elif [[ $user != "$AUDIT_AGENT_USER" ]]; then
        emit service-gateway fail critical "$GATEWAY_UNIT runs as '${user:-root}', not as $AUDIT_AGENT_USER"
    elif [[ $enabled != enabled ]]; then
        emit service-gateway fail critical "$GATEWAY_UNIT is active but ${enabled:-not enabled} (it does not start at boot)"
    else
        emit service-gateway pass critical "$GATEWAY_UNIT active as $AUDIT_AGENT_USER, enabled at boot"
    fi
    local unit
    for unit in "$HOST_CLOUDFLARED_UNIT" "$HOST_BACKUP_TIMER"; do
        state=$(systemctl is-active "$unit" 2>/dev/null) || true
        if [[ $state == active ]]; then
            emit "service-${unit%%.*}" pass critical "$unit active"
        else
            emit "service-${unit%%.*}" fail critical "$unit is ${state:-unknown}"
        fi
    done
}

# ---- restarts, failed units, pending reboot, token use ---------------------------------------------------------

check_restarts() {
    log "gateway restarts and exit status"
    local show restarts status result entered age
    show=$(systemctl show "$GATEWAY_UNIT" -p NRestarts -p ExecMainStatus -p Result -p ActiveEnterTimestamp --timestamp=unix 2>/dev/null) || true
    restarts=$(sed -n 's/^NRestarts=//p' <<<"$show")
    status=$(sed -n 's/^ExecMainStatus=//p' <<<"$show")
    result=$(sed -n 's/^Result=//p' <<<"$show")
    entered=$(sed -n 's/^ActiveEnterTimestamp=@//p' <<<"$show")
    if [[ -z $show ]]; then
        emit gateway-restarts skip critical "systemd does not answer for $GATEWAY_UNIT"
    elif [[ $status == 78 ]]; then
        emit gateway-restarts fail critical "the gateway exited 78 (a config error): systemd will not restart it; \`sudo journalctl -u $GATEWAY_UNIT -n 50\` shows why"
    elif [[ ${restarts:-0} =~ ^[0-9]+$ && ${restarts:-0} -gt 0 && -n $entered ]] && age=$(($(date -u +%s) - ${entered%%.*})) && ((age < AUDIT_RESTART_WINDOW_SECONDS)); then
        emit gateway-restarts fail warning "systemd restarted the gateway $((age / 60)) min ago ($restarts restarts since it was started; last result: ${result:-?})"
    else
        emit gateway-restarts pass critical "no automatic restart in the last $((AUDIT_RESTART_WINDOW_SECONDS / 60)) min (${restarts:-0} since the unit was started)"
    fi
}

check_units() {
    log "failed units"
    local failed
    failed=$(systemctl --failed --plain --no-legend 2>/dev/null | awk '{ print $1 }' | paste -sd ' ' -) || true
    if [[ -n $failed ]]; then
        emit failed-units fail warning "failed units: $failed"
    else
        emit failed-units pass warning "no failed units"
    fi
}

check_reboot() {
    log "pending reboot"
    local marker=/run/reboot-required age
    if [[ ! -e $marker ]]; then
        emit reboot-pending pass warning "no reboot pending"
        return
    fi
    age=$(($(date -u +%s) - $(stat -c %Y "$marker")))
    if ((age > AUDIT_REBOOT_PENDING_SECONDS)); then
        emit reboot-pending fail warning "a reboot has been pending for $(human_age "$age") ($(paste -sd ' ' /run/reboot-required.pkgs 2>/dev/null || echo 'packages unknown')): the reboot window did not take it"
    else
        emit reboot-pending pass warning "a reboot is pending since $(human_age "$age") ago (within $(human_age "$AUDIT_REBOOT_PENDING_SECONDS"))"
    fi
}

check_tokens() {
    ((AUDIT_DAILY_TOKENS > 0)) || return 0
    log "LLM tokens used today"
    local used
    if ! used=$(as_agent node "$HOST_BIN_DIR/token-usage.mjs" "$(agent_home)/.openclaw" "$AUDIT_TIMEZONE" 2>/dev/null); then
        emit tokens-today skip warning "could not read today's token use"
    elif ((used > AUDIT_DAILY_TOKENS)); then
        emit tokens-today fail warning "the agent used $used LLM tokens today, more than the $AUDIT_DAILY_TOKENS of alertDailyTokens"
    else
        emit tokens-today pass warning "$used LLM tokens today (alert above $AUDIT_DAILY_TOKENS)"
    fi
}

# ---- the gateway's memory (cgroup v2) -----------------------------------------------------------------------------

mib() { if [[ $1 =~ ^[0-9]+$ ]]; then printf '%d MiB' $(($1 / 1048576)); else printf '%s' "$1"; fi; }

# Ubuntu 24.04 is cgroup v2 only and enforces the unit's MemoryHigh/MemoryMax: memory.events counts, since the unit
# started, how often the gateway was squeezed at MemoryHigh (high), hit MemoryMax (max) and lost a process to the OOM
# killer (oom_kill). A system service lives at a fixed place in the tree.
check_gateway_memory() {
    log "gateway memory events (cgroup v2)"
    local dir events high=0 max=0 oom=0 key value current limit_high limit_max
    dir="$AUDIT_CGROUP_ROOT/system.slice/$GATEWAY_UNIT"
    events="$dir/memory.events"
    if [[ ! -r $events ]]; then
        emit gateway-memory skip warning "no $events (cgroup v1, or the gateway is not running): memory limits not checked"
        return
    fi
    while read -r key value; do
        case $key in
            high) high=$value ;;
            max) max=$value ;;
            oom_kill) oom=$value ;;
        esac
    done <"$events"
    current=$(cat "$dir/memory.current" 2>/dev/null || echo "?")
    limit_high=$(cat "$dir/memory.high" 2>/dev/null || echo "?")
    limit_max=$(cat "$dir/memory.max" 2>/dev/null || echo "?")
    local usage
    usage="using $(mib "$current") (MemoryHigh $(mib "$limit_high"), MemoryMax $(mib "$limit_max"))"
    if ((oom > 0 || max > 0)); then
        emit gateway-memory fail warning "since it started the gateway hit MemoryMax $max times and lost $oom process(es) to the OOM killer (high: $high); $usage"
    elif ((high > 0)); then
        emit gateway-memory fail warning "since it started the gateway was held at MemoryHigh $high times (no OOM kill); $usage"
    else
        emit gateway-memory pass warning "no MemoryHigh or MemoryMax event since it started; $usage"
    fi
}

# ---- backup age ---------------------------------------------------------------------------------------------------

# Seconds between two elapses of the schedule, from systemd's own calendar parser (0 when it cannot tell).
schedule_interval() {
    local out next second
    out=$(TZ=UTC systemd-analyze calendar --iterations=2 "$AUDIT_BACKUP_SCHEDULE" 2>/dev/null) || {
        echo 0
        return
    }
    next=$(sed -n 's/^ *Next elapse: [A-Za-z]* //p' <<<"$out" | head -n 1)
    second=$(sed -n 's/^ *Iter\. #2: [A-Za-z]* //p' <<<"$out" | head -n 1)
    if [[ -z $next || -z $second ]]; then
        echo 0
        return
    fi
    echo $(($(date -u -d "$second" +%s) - $(date -u -d "$next" +%s)))
}

status_value() { sed -n "s/^$1=//p" "$2" 2>/dev/null | tail -n 1; }

human_age() { # seconds
    local s=$1
    if ((s >= 86400)); then printf '%dd%dh' $((s / 86400)) $((s % 86400 / 3600)); elif ((s >= 3600)); then printf '%dh%dm' $((s / 3600)) $((s % 3600 / 60)); else printf '%dm' $((s / 60)); fi
}

check_backup() {
    log "backup age against the schedule ($AUDIT_BACKUP_SCHEDULE)"
    local interval allowed now last="" last_error="" deployed=""
    interval=$(schedule_interval)
    ((interval > 0)) || interval=86400
    # Two missed runs in a row is a failure; one can be a reboot or a slow upload.
    allowed=$((2 * interval + BACKUP_GRACE_SECONDS))
    now=$(date -u +%s)
    if [[ -r $BACKUP_STATUS ]]; then
        last=$(status_value last_success "$BACKUP_STATUS")
        last_error=$(status_value last_error "$BACKUP_STATUS")
    fi
    if [[ -n $last ]]; then
        local at age
        if ! at=$(date -u -d "$last" +%s 2>/dev/null); then
            emit backup fail critical "backup.status has an unreadable last_success"
            return
        fi
        age=$((now - at))
        if ((age <= allowed)); then
            emit backup pass critical "last snapshot $(human_age "$age") ago (schedule $AUDIT_BACKUP_SCHEDULE, allowed $(human_age "$allowed"))${last_error:+; a later run failed}"
        else
            emit backup fail critical "last successful snapshot $(human_age "$age") ago, more than $(human_age "$allowed") for schedule $AUDIT_BACKUP_SCHEDULE${last_error:+ (last error: ${last_error//\\/})}"
        fi
        return
    fi
    # No snapshot yet: fine on a server deployed less than two periods ago.
    [[ -r $RESTORE_MARKER ]] && deployed=$(status_value at "$RESTORE_MARKER")
    if [[ -n $deployed ]] && ((now - $(date -u -d "$deployed" +%s 2>/dev/null || echo 0) <= allowed)); then
        emit backup skip critical "no snapshot yet; the server was deployed $(human_age $((now - $(date -u -d "$deployed" +%s)))) ago and the first is due within $(human_age "$allowed")"
    else
        emit backup fail critical "no successful snapshot recorded in $BACKUP_STATUS${last_error:+ (last error: ${last_error//\\/})}"
    fi
}

# ---- OpenClaw's own audit -----------------------------------------------------------------------------------------

check_openclaw_audit() {
    log "openclaw security audit --json (as $AUDIT_AGENT_USER)"
    if ! command -v openclaw >/dev/null; then
        emit openclaw-audit fail critical "openclaw is not installed"
        return
    fi
    local out code=0 verdict
    out=$(as_agent timeout "$AUDIT_SECURITY_AUDIT_TIMEOUT" openclaw security audit --json 2>/dev/null) || code=$?
    # Only check ids, severities and titles leave this function: details may quote configuration.
    verdict=$(python3 -c '
import json, sys
text = sys.stdin.read()
try:
    report = json.loads(text[text.index("{"):])
except Exception:
    print("error no JSON report"); sys.exit(0)
findings = report.get("findings", [])
critical = [f.get("checkId", "?") for f in findings if f.get("severity") == "critical"]
warn = [f.get("checkId", "?") for f in findings if f.get("severity") == "warn"]
if critical:
    print("critical", len(critical), "critical finding(s):", " ".join(critical), ("; warnings: " + " ".join(warn)) if warn else "")
elif warn:
    print("warn", len(warn), "warning(s):", " ".join(warn))
else:
    print("ok no finding at warn or above", "(%d info)" % len(findings))
' <<<"$out")
    case ${verdict%% *} in
        ok) emit openclaw-audit pass critical "${verdict#ok }" ;;
        warn) emit openclaw-audit fail warning "${verdict#warn }" ;;
        critical) emit openclaw-audit fail critical "${verdict#critical }" ;;
        *) emit openclaw-audit fail critical "openclaw security audit failed (exit $code): ${verdict#error }" ;;
    esac
}

# ---- messaging channels -------------------------------------------------------------------------------------------

# One line per channel openclaw.json enables: connected, or failing with OpenClaw's own reason. Only a live probe
# shows a channel's error (`openclaw channels status --probe`; /readyz and `health` stay green while one fails), so
# this asks the running gateway. A failing channel is a warning: the agent is still reachable in the Control UI.
check_channels() {
    log "messaging channels (openclaw channels status --probe, as $AUDIT_AGENT_USER)"
    local config channels
    config="$(agent_home)/.openclaw/openclaw.json"
    channels=$(python3 -c '
import json, sys
try:
    c = json.load(open(sys.argv[1])).get("channels", {})
except Exception:
    c = {}
print(" ".join(k for k, v in c.items() if isinstance(v, dict) and v.get("enabled", True)))
' "$config" 2>/dev/null) || channels=""
    if [[ -z $channels ]]; then
        emit channels skip warning "no messaging channel configured (the Control UI only)"
        return
    fi
    local out code=0
    # The CLI finds the gateway and its token itself (openclaw.json, ~/.openclaw/.env); it waits up to --timeout ms.
    out=$(as_agent timeout "$AUDIT_CHANNELS_TIMEOUT" openclaw channels status --probe --json --timeout $(((AUDIT_CHANNELS_TIMEOUT - 30) * 1000)) 2>/dev/null) || code=$?
    # Tab-separated "id status summary" lines; only state and OpenClaw's error text leave this function.
    local verdicts channel status summary
    verdicts=$(python3 -c '
import json, sys
wanted = sys.argv[1].split()
code = sys.argv[2]
text = sys.stdin.read()
try:
    report = json.loads(text[text.index("{"):])
except Exception:
    for ch in wanted:
        print("%s\tfail\tno channel status from the gateway (openclaw channels status exit %s)" % (ch, code))
    sys.exit(0)
if report.get("gatewayReachable") is False:
    for ch in wanted:
        print("%s\tfail\tthe gateway is not reachable: state unknown" % ch)
    sys.exit(0)
accounts = report.get("channelAccounts") or {}
def reason(a):
    probe = a.get("probe") or {}
    for v in (a.get("lastError"), probe.get("error"), (a.get("lastDisconnect") or {}).get("error")):
        if v:
            return str(v)
    return "lifecycle %s" % a.get("lifecycle", "unknown")
for ch in wanted:
    rows = accounts.get(ch)
    if not rows:
        print("%s\tfail\tnot running in the gateway (is its plugin installed? openclaw plugins list)" % ch)
        continue
    for a in rows:
        name = a.get("accountId", "default")
        probe = a.get("probe") or {}
        if a.get("connected") or (probe.get("ok") and a.get("running")):
            bot = (probe.get("bot") or {}).get("username") or (probe.get("botInfo") or {}).get("username")
            print("%s\tpass\tconnected (account %s%s)" % (ch, name, ", bot @%s" % bot if bot else ""))
        else:
            print("%s\tfail\tfailing (account %s): %s" % (ch, name, reason(a)[:300]))
 ' "$channels" "$code" <<<"$out")
    while IFS=$'\t' read -r channel status summary; do
        [[ -n $channel ]] && emit "channel-$channel" "$status" warning "$summary"
    done <<<"$verdicts"
}

# ---- disk, memory, swap -------------------------------------------------------------------------------------------

meminfo_kb() { awk -v key="$1:" '$1 == key { print $2 }' /proc/meminfo; }

check_resources() {
    log "disk, memory and swap headroom"
    # The root filesystem by percentage and absolute room (snapshots and SQLite need space); every other real
    # filesystem by percentage (an attached volume, /boot, /run). Snaps' squashfs images are always full: not counted.
    local used avail_kb mount full=() tight=() root=""
    while read -r used avail_kb mount; do
        if [[ $mount == / ]]; then
            root="root filesystem ${used}% used, $((avail_kb / 1024)) MB free"
            if ((used >= 95 || avail_kb < 512 * 1024)); then full+=("/ ${used}% (${avail_kb}k free)"); elif ((used >= 85 || avail_kb < 2 * 1024 * 1024)); then tight+=("/ ${used}%"); fi
        elif ((used >= 95)); then
            full+=("$mount ${used}%")
        elif ((used >= 90)); then
            tight+=("$mount ${used}%")
        fi
    done < <(df -P -k -x squashfs -x iso9660 -x devtmpfs -x efivarfs 2>/dev/null | awk 'NR > 1 && $2 > 0 { sub("%", "", $5); print $5, $4, $6 }')
    if ((${#full[@]})); then
        emit disk fail critical "full: ${full[*]} (snapshots and SQLite writes fail when a disk fills)${tight[*]:+; tight: ${tight[*]}}"
    elif ((${#tight[@]})); then
        emit disk fail warning "tight: ${tight[*]}"
    else
        emit disk pass warning "${root:-root filesystem not found}; no other filesystem over 90%"
    fi

    local total avail swap_total swap_free
    total=$(meminfo_kb MemTotal)
    avail=$(meminfo_kb MemAvailable)
    swap_total=$(meminfo_kb SwapTotal)
    swap_free=$(meminfo_kb SwapFree)
    if ((avail * 100 < total * 10 || avail < 200 * 1024)); then
        emit memory fail warning "$((avail / 1024)) MB of $((total / 1024)) MB available"
    else
        emit memory pass warning "$((avail / 1024)) MB of $((total / 1024)) MB available"
    fi
    if ((swap_total == 0)); then
        # The gateway idles near 1 GB: without swap a 2-4 GB host is one browser tab from the OOM killer.
        if ((total <= 4 * 1024 * 1024)); then
            emit swap fail warning "no swap on a $((total / 1024)) MB host"
        else
            emit swap pass warning "no swap, $((total / 1024)) MB of memory"
        fi
    elif ((swap_free * 100 < swap_total * 20)); then
        emit swap fail warning "swap $(((swap_total - swap_free) / 1024)) of $((swap_total / 1024)) MB used"
    else
        emit swap pass warning "swap $(((swap_total - swap_free) / 1024)) of $((swap_total / 1024)) MB used"
    fi
}

# ---- secrets in user data -----------------------------------------------------------------------------------------

# Collects KEY=value secrets of an env-style file (names only are ever printed). Values under 8 characters are too
# short to search for without false alarms.
collect_env_secrets() { # file label
    local file=$1 label=$2 line key value
    [[ -r $file ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
        key=${BASH_REMATCH[2]}
        value=${BASH_REMATCH[3]}
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
        ((${#value} >= 8)) || continue
        SECRET_NAMES+=("$key from $label")
        SECRET_VALUES+=("$value")
    done <"$file"
}

collect_secrets() {
    collect_env_secrets "$(agent_home)/.openclaw/.env" "~$AUDIT_AGENT_USER/.openclaw/.env"
    collect_env_secrets "$TUNNEL_ENV" "$TUNNEL_ENV"
    # rclone.conf is `key = value`; only its credentials count.
    if [[ -r $RCLONE_CONF ]]; then
        local key value
        while IFS='=' read -r key value; do
            key=${key//[[:space:]]/}
            value=${value#"${value%%[![:space:]]*}"}
            case $key in access_key_id | secret_access_key)
                ((${#value} >= 8)) || continue
                SECRET_NAMES+=("$key from $RCLONE_CONF")
                SECRET_VALUES+=("$value")
                ;;
            esac
        done <"$RCLONE_CONF"
    fi
}

# Prints what of this host's secrets (by name) or of the well-known secret shapes the text contains.
leaks_in() { # text
    local text=$1 i found=()
    for i in "${!SECRET_VALUES[@]}"; do
        [[ $text == *"${SECRET_VALUES[$i]}"* ]] && found+=("${SECRET_NAMES[$i]}")
    done
    [[ $text =~ -----BEGIN[A-Z\ ]*PRIVATE\ KEY----- ]] && found+=("a private key block")
    [[ $text =~ sk-ant-[A-Za-z0-9_-]{16,} ]] && found+=("an Anthropic API key")
    [[ $text =~ (OPENCLAW_GATEWAY_TOKEN|OPENCLAW_GATEWAY_PASSWORD|TUNNEL_TOKEN)=[A-Za-z0-9+/=_.-]{8,} ]] && found+=("a ${BASH_REMATCH[1]} assignment")
    local IFS=,
    printf '%s' "${found[*]}"
}

# User data with every encoded write_files content decoded and appended (provision.sh travels gz+b64): a secret must not
# hide in the compression. cloud-init's own Python and YAML loader; the text alone when it is not YAML.
expand_user_data() {
    python3 -c '
import base64, gzip, sys
text = sys.stdin.read()
print(text)
try:
    import yaml
    for f in (yaml.safe_load(text) or {}).get("write_files") or []:
        encoding, content = str(f.get("encoding", "")), str(f.get("content", ""))
        if encoding in ("gz+b64", "gzip+b64", "gz+base64", "gzip+base64"):
            print(gzip.decompress(base64.b64decode(content)).decode("utf-8", "replace"))
        elif encoding in ("b64", "base64"):
            print(base64.b64decode(content).decode("utf-8", "replace"))
except Exception:
    pass
'
}

METADATA_TEXT=""
METADATA_URL=""

fetch_metadata_user_data() {
    local paths=() path
    read -r -a paths <<<"$AUDIT_METADATA_PATHS"
    for path in "${paths[@]}"; do
        # gzip -dcf passes plain text through and unpacks gzipped user data.
        if METADATA_TEXT=$(curl -fsS --connect-timeout 2 --max-time 5 "${AUDIT_METADATA_BASE%/}$path" 2>/dev/null | gzip -dcf 2>/dev/null); then
            METADATA_URL="${AUDIT_METADATA_BASE%/}$path"
            return 0
        fi
    done
    return 1
}

check_user_data() {
    log "user data free of this host's secrets"
    collect_secrets
    local secrets=${#SECRET_VALUES[@]} leaks
    if ((secrets == 0)); then
        emit userdata-metadata fail critical "found none of the host's secrets to compare with (.env, tunnel.env, rclone.conf missing?)"
    elif fetch_metadata_user_data; then
        leaks=$(leaks_in "$(expand_user_data <<<"$METADATA_TEXT")")
        if [[ -n $leaks ]]; then
            emit userdata-metadata fail critical "the user data served by $METADATA_URL contains: $leaks"
        else
            emit userdata-metadata pass critical "user data from $METADATA_URL ($(wc -c <<<"$METADATA_TEXT") bytes) holds none of the $secrets secrets on this host"
        fi
    else
        emit userdata-metadata skip critical "no metadata service answered at $AUDIT_METADATA_BASE; not checked there"
    fi
    # cloud-init's own copy of what the provider handed over (root-only, but kept on disk for the server's life).
    if [[ ! -r $CLOUD_INIT_USER_DATA ]]; then
        emit userdata-cloud-init skip critical "$CLOUD_INIT_USER_DATA is missing"
    elif ((secrets == 0)); then
        emit userdata-cloud-init fail critical "no host secrets to compare with"
    else
        leaks=$(leaks_in "$(gzip -dcf <"$CLOUD_INIT_USER_DATA" 2>/dev/null | expand_user_data || true)")
        if [[ -n $leaks ]]; then
            emit userdata-cloud-init fail critical "$CLOUD_INIT_USER_DATA contains: $leaks"
        else
            emit userdata-cloud-init pass critical "cloud-init's copy of the user data holds none of the $secrets secrets on this host"
        fi
    fi
}

# ---- file integrity and rootkit scan (integrity.sh's status files) --------------------------------------------------

# The daily AIDE check and the weekly chkrootkit scan write status files; this reads them (cheap: every watchdog run),
# so a finding becomes an alert within one watchdog interval. Paths and finding lines only, never a file's content.
check_integrity() {
    log "file integrity (AIDE) and rootkit scan (chkrootkit)"
    local dir=${HOST_INTEGRITY_STATE:-} status result at age paths count now
    now=$(date -u +%s)
    [[ -n $dir ]] || return 0 # a host pushed before the integrity check existed
    status=$dir/aide.status
    if [[ ! -r $status ]]; then
        emit file-integrity skip critical "no AIDE check yet (the push writes the first baseline)"
    else
        result=$(status_value result "$status")
        at=$(status_value checked_at "$status")
        age=$((now - ${at:-0}))
        case $result in
            changed)
                count=$(wc -l <"$dir/aide.changed")
                paths=$(head -n 8 "$dir/aide.changed" | paste -sd ' ')
                ((count <= 8)) || paths+=" and $((count - 8)) more"
                emit file-integrity fail critical "$count watched path(s) changed since the last push: $paths (sudo cat $dir/aide.changed; the next push, or sudo $HOST_BIN_DIR/integrity.sh baseline, accepts them)"
                ;;
            clean)
                if ((age > 2 * 86400 + 7200)); then
                    emit file-integrity fail warning "no AIDE check for $((age / 3600)) h (is $HOST_INTEGRITY_SERVICE's timer running?)"
                else
                    emit file-integrity pass critical "AIDE: no watched file changed since the last baseline (checked $((age / 3600)) h ago)"
                fi
                ;;
            *) emit file-integrity fail warning "AIDE check failed: $(status_value detail "$status")" ;;
        esac
    fi
    status=$dir/rootkit.status
    if [[ ! -r $status ]]; then
        emit rootkit-scan skip critical "no chkrootkit scan yet (weekly)"
        return
    fi
    result=$(status_value result "$status")
    at=$(status_value scanned_at "$status")
    age=$((now - ${at:-0}))
    case $result in
        found)
            emit rootkit-scan fail critical "chkrootkit: $(head -n 5 "$dir/rootkit.findings" | paste -sd ';') (sudo cat $dir/rootkit.findings)"
            ;;
        clean)
            if ((age > 8 * 86400 + 7200)); then
                emit rootkit-scan fail warning "no chkrootkit scan for $((age / 86400)) days (is $HOST_ROOTKIT_SERVICE's timer running?)"
            else
                emit rootkit-scan pass critical "chkrootkit: $(status_value detail "$status")"
            fi
            ;;
        *) emit rootkit-scan fail warning "chkrootkit scan failed: $(status_value detail "$status")" ;;
    esac
}

main() {
    ((EUID == 0)) || {
        log "must run as root (sudo -n bash -s)"
        exit 2
    }
    [[ $AUDIT_GATEWAY_PORT =~ ^[0-9]+$ ]] || {
        log "AUDIT_GATEWAY_PORT must be a number"
        exit 2
    }
    id -u "$AUDIT_AGENT_USER" >/dev/null 2>&1 || emit agent-user fail critical "user $AUDIT_AGENT_USER does not exist (provisioning not finished?)"
    if wanted cloud-init; then check_cloud_init; fi
    # sshd -T also tells the socket check which ports are sshd's.
    if wanted sshd || wanted sockets; then check_sshd; fi
    if wanted firewall; then check_firewall; fi
    if wanted sockets; then check_sockets; fi
    if wanted gateway-ready; then check_gateway_ready; fi
    if id -u "$AUDIT_AGENT_USER" >/dev/null 2>&1; then
        if wanted services; then check_services; fi
        if wanted restarts; then check_restarts; fi
        if wanted gateway-memory; then check_gateway_memory; fi
        if wanted units; then check_units; fi
        if wanted tokens; then check_tokens; fi
        if wanted openclaw-audit; then check_openclaw_audit; fi
        if wanted channels; then check_channels; fi
    fi
    if wanted backup; then check_backup; fi
    if wanted resources; then check_resources; fi
    if wanted reboot; then check_reboot; fi
    if wanted sandbox; then check_sandbox; fi
    if wanted userdata; then check_user_data; fi
    if wanted integrity; then check_integrity; fi
    printf 'AUDIT-END\t%d\n' "$CHECKS"
}

# Everything runs from functions with stdin closed: nothing can swallow the rest of a script that arrives on stdin.
main "$@" </dev/null
