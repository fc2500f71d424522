#!/usr/bin/env bash
# File integrity and rootkit scan of the host (issue 18; README "Host hardening"). Subcommands:
#   baseline       AIDE's new baseline (the end of every push: our own changes are legitimate); clears what earlier
#                  checks found and turns off the packages' own daily full-disk scans
#   check          AIDE check (openclaw-integrity.service, daily): records the paths changed since the baseline
#   dpkg-pre       apt's DPkg::Pre-Invoke hook: the check, so a change made before a package update is still reported
#   dpkg-post      apt's DPkg::Post-Invoke hook: a new baseline that keeps what the checks found (package updates
#                  legitimately change sshd's and PAM's config, unit symlinks, ...)
#   push-start PID the push is running (its PID): the hooks and the check leave it alone until its baseline
#   rootkit-scan   chkrootkit (openclaw-rootkit-scan.service, weekly), with the known false positives of this host
#                  filtered by name (KNOWN_FALSE_POSITIVES below), never wholesale
# Results go to status files in HOST_INTEGRITY_STATE, read by the watchdog's `integrity` check (audit-host.sh), which
# alerts through the watchdog's destinations: changed paths and finding lines only, never a file's content.
# Overrides for tests: INTEGRITY_AIDE_CONFIG, INTEGRITY_STATE_DIR, INTEGRITY_CHKROOTKIT (the scanner command),
# INTEGRITY_CHKROOTKIT_ROOT, INTEGRITY_PACKAGE_TIMERS=0, INTEGRITY_NOW (epoch seconds).
set -euo pipefail

readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"

AIDE_CONFIG=${INTEGRITY_AIDE_CONFIG:-$HOST_AIDE_CONFIG}
STATE_DIR=${INTEGRITY_STATE_DIR:-$HOST_INTEGRITY_STATE}
CHKROOTKIT=${INTEGRITY_CHKROOTKIT:-chkrootkit -q}
# Only the tests: the root a `chkrootkit -r ROOT` command scans, removed from the front of the paths it prints.
SCAN_ROOT=${INTEGRITY_CHKROOTKIT_ROOT:-}
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# What chkrootkit reports on every healthy host of ours, each with the reason it is harmless (extended regexes, whole
# lines). Anything else it prints is a finding.
KNOWN_FALSE_POSITIVES=(
    # fail2ban (the SSH jail) ships Apache test fixtures named .htaccess/.htpasswd; chkrootkit lists hidden files in /usr/lib.
    '^/usr/lib/python3/dist-packages/fail2ban/tests/files/config/apache-auth/[A-Za-z0-9_/]+/\.ht(access|passwd)$'
    # systemd-networkd's DHCP client holds a packet socket on the interface; chkrootkit's sniffer check names it.
    '^[[:alnum:]@._-]+: PACKET SNIFFER\(((/usr)?/lib/systemd/systemd-networkd\[[0-9]+\](, )?)+\)$'
    # ss's error where the kernel lacks a socket family's diagnostics (the stand-in's container: `ss -an` prints it with
    # no sandbox too); ifpromisc passes it on as its own output. An error of the tool, not a finding.
    '^RTNETLINK answers: Invalid argument$'
)

log() { printf 'integrity: %s\n' "$*"; }
now() { echo "${INTEGRITY_NOW:-$(date -u +%s)}"; }

# key=value status file, written atomically.
write_status() { # file key=value...
    local file=$1 tmp
    shift
    tmp="$file.tmp"
    printf '%s\n' "$@" >"$tmp"
    mv -f "$tmp" "$file"
}

# The push's PID while a push runs (push-start), else nothing.
push_running() {
    local pid
    pid=$(cat "$STATE_DIR/push.pid" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

with_lock() { # command...: one AIDE run at a time (the timer, apt's hooks, the push)
    exec 9>"$STATE_DIR/lock"
    flock -w 1800 9 || {
        log "another integrity run holds the lock"
        return 1
    }
    "$@"
}

have_aide() {
    command -v aide >/dev/null || {
        log "aide is not installed"
        return 1
    }
    [[ -r $AIDE_CONFIG ]] || {
        log "no AIDE configuration at $AIDE_CONFIG"
        return 1
    }
}

database() { sed -n 's/^database_in=file://p' "$AIDE_CONFIG" | head -n 1; }

do_baseline() { # keep-findings(0|1)
    local db started=$SECONDS
    db=$(database)
    [[ -n $db ]] || {
        log "no database_in in $AIDE_CONFIG"
        return 1
    }
    install -d -m 0700 "$(dirname "$db")"
    aide --init --config "$AIDE_CONFIG" >/dev/null
    chmod 0600 "$db.new"
    mv -f "$db.new" "$db"
    if [[ $1 == 0 || ! -s $STATE_DIR/aide.changed ]]; then
        : >"$STATE_DIR/aide.changed"
        write_status "$STATE_DIR/aide.status" result=clean "checked_at=$(now)" "baseline_at=$(now)" "detail=new baseline"
    fi
    log "new AIDE baseline in $((SECONDS - started)) s ($(wc -l <"$STATE_DIR/aide.changed") path(s) still reported)"
}

do_check() {
    local db out code=0 changed started=$SECONDS
    db=$(database)
    if [[ ! -s $db ]]; then
        log "no AIDE baseline yet (the push writes it)"
        return 0
    fi
    out=$(aide --check --config "$AIDE_CONFIG" 2>"$STATE_DIR/aide.err") || code=$?
    # AIDE's exit code: 0 no change, 1-7 a bit each for added/removed/changed entries, 14+ an error.
    if ((code >= 8)); then
        write_status "$STATE_DIR/aide.status" result=error "checked_at=$(now)" \
            "detail=aide --check exit $code: $(tail -n 1 "$STATE_DIR/aide.err" | tr -d '\t\n' | cut -c1-200)"
        log "AIDE check failed (exit $code)"
        return 1
    fi
    if ! changed=$(jq -r '[(.added // {}), (.removed // {}), (.changed // {})] | map(keys) | add | .[]' <<<"$out"); then
        write_status "$STATE_DIR/aide.status" result=error "checked_at=$(now)" "detail=unreadable AIDE report (exit $code)"
        return 1
    fi
    # Sticky: a path stays reported until a push (or the owner, with `integrity.sh baseline`) accepts it.
    {
        cat "$STATE_DIR/aide.changed" 2>/dev/null || true
        [[ -z $changed ]] || printf '%s\n' "$changed"
    } | LC_ALL=C sort -u | sed '/^$/d' >"$STATE_DIR/aide.changed.tmp"
    mv -f "$STATE_DIR/aide.changed.tmp" "$STATE_DIR/aide.changed"
    local count
    count=$(wc -l <"$STATE_DIR/aide.changed")
    if ((count > 0)); then
        write_status "$STATE_DIR/aide.status" result=changed "checked_at=$(now)" "detail=$count path(s) changed since the last baseline"
        log "$count watched path(s) changed since the last baseline (listed in $STATE_DIR/aide.changed)"
    else
        write_status "$STATE_DIR/aide.status" result=clean "checked_at=$(now)" "detail=no change since the last baseline"
        log "no change since the last baseline"
    fi
    log "AIDE check in $((SECONDS - started)) s"
}

# The packages' own schedules scan the whole disk every day (minutes of CPU and I/O on a 2 GB host) and mail root,
# which has no mail here: ours are scoped and alert through the watchdog. Masked, so an update cannot enable them.
disable_package_timers() {
    local unit
    [[ -d /run/systemd/system && ${INTEGRITY_PACKAGE_TIMERS:-1} == 1 ]] || return 0 # systemd is not PID 1 (a test)
    for unit in dailyaidecheck.timer chkrootkit.timer; do
        [[ -e /lib/systemd/system/$unit || -e /usr/lib/systemd/system/$unit ]] || continue
        [[ $(systemctl is-enabled "$unit" 2>/dev/null || true) == masked ]] && continue
        systemctl disable --now "$unit" >/dev/null 2>&1 || true
        systemctl mask "$unit" >/dev/null 2>&1 || true
        log "masked the package's own $unit (a full-disk run every day; ours is scoped)"
    done
}

rootkit_scan() {
    local out code=0 line pattern known findings=() ignored=0 header="" started=$SECONDS
    local scanner=()
    read -r -a scanner <<<"$CHKROOTKIT"
    # Findings are chkrootkit's stdout; its tools' errors (stderr) go to the journal, not to the owner.
    out=$(cd / && "${scanner[@]}" 2>"$STATE_DIR/rootkit.err") || code=$?
    if [[ -s $STATE_DIR/rootkit.err ]]; then
        log "chkrootkit's tools wrote $(wc -l <"$STATE_DIR/rootkit.err") error line(s), e.g. $(sort "$STATE_DIR/rootkit.err" | uniq -c | sort -rn | head -n 3 | tr -s ' \n' ' ')"
    fi
    while IFS= read -r line; do
        [[ -n ${line//[[:space:]]/} ]] || continue
        [[ -z $SCAN_ROOT ]] || line=${line//"${SCAN_ROOT%/}/"//}
        if [[ $line =~ ^WARNING:.*:$ ]]; then
            header=$line
            continue
        fi
        known=0
        for pattern in "${KNOWN_FALSE_POSITIVES[@]}"; do
            if [[ $line =~ $pattern ]]; then known=1 && break; fi
        done
        if ((known)); then
            ignored=$((ignored + 1))
        else
            findings+=("${header:+${header#WARNING: } }$line")
        fi
    done <<<"$out"
    printf '%s\n' "${findings[@]}" | sed '/^$/d' >"$STATE_DIR/rootkit.findings"
    if ((code != 0 && ${#findings[@]} == 0)); then
        write_status "$STATE_DIR/rootkit.status" result=error "scanned_at=$(now)" "detail=chkrootkit exit $code"
        log "chkrootkit failed (exit $code)"
        return 1
    fi
    if ((${#findings[@]})); then
        write_status "$STATE_DIR/rootkit.status" result=found "scanned_at=$(now)" "detail=${#findings[@]} finding(s), $ignored known false positive(s) left out"
    else
        write_status "$STATE_DIR/rootkit.status" result=clean "scanned_at=$(now)" "detail=nothing found, $ignored known false positive(s) left out"
    fi
    log "chkrootkit in $((SECONDS - started)) s: ${#findings[@]} finding(s), $ignored known false positive(s) left out"
}

main() {
    umask 077
    install -d -m 0700 "$STATE_DIR"
    case ${1:-} in
        baseline)
            have_aide || return 1
            disable_package_timers
            with_lock do_baseline 0
            rm -f "$STATE_DIR/push.pid"
            ;;
        check)
            have_aide || return 1
            if push_running; then
                log "a push is running; its baseline follows"
                return 0
            fi
            with_lock do_check
            ;;
        dpkg-pre)
            have_aide 2>/dev/null || return 0
            push_running || with_lock do_check || true
            ;;
        dpkg-post)
            have_aide 2>/dev/null || return 0
            [[ -s $(database) ]] || return 0
            push_running || with_lock do_baseline 1 || true
            ;;
        push-start)
            [[ ${2:-} =~ ^[0-9]+$ ]] || {
                echo "usage: integrity.sh push-start PID" >&2
                return 2
            }
            echo "$2" >"$STATE_DIR/push.pid"
            ;;
        rootkit-scan) rootkit_scan ;;
        *)
            echo "usage: integrity.sh baseline|check|dpkg-pre|dpkg-post|push-start PID|rootkit-scan" >&2
            return 2
            ;;
    esac
}

main "$@" </dev/null
