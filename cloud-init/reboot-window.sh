#!/usr/bin/env bash
# Reboots the host when unattended upgrades need it (/run/reboot-required), only inside the reboot window, and only
# while holding the upgrade lock and the backup lock: never during a backup, a restore or an OpenClaw upgrade.
# openclaw-reboot-window.timer starts it at the window's start (in the operator's time zone); it waits for a running
# backup or upgrade until the window ends, then gives up until tomorrow. unattended-upgrades' own reboot is off.
#
# Usage: reboot-window.sh HH:MM-HH:MM|off      (local time: TZ, which the unit sets to `timezone`)
# Test overrides (production sets none): REBOOT_REQUIRED_FILE, REBOOT_COMMAND, BACKUP_LOCK_FILE, UPGRADE_LOCK.
set -euo pipefail

readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"

readonly REQUIRED_FILE=${REBOOT_REQUIRED_FILE:-/run/reboot-required}
readonly BACKUP_LOCK=${BACKUP_LOCK_FILE:-$HOST_BACKUP_LOCK}
readonly UPGRADE_LOCK_FILE=${UPGRADE_LOCK:-/run/lock/openclaw-vps-upgrade.lock}
readonly REBOOT=${REBOOT_COMMAND:-systemctl reboot}

log() { printf '%s reboot-window: %s\n' "$(date +%Y-%m-%dT%H:%M:%S%z)" "$*"; }

window=${1:-}
if [[ $window == off ]]; then
    log "the reboot window is off (rebootWindow: off): no automatic reboot"
    exit 0
fi
[[ $window =~ ^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$ ]] || {
    log "usage: reboot-window.sh HH:MM-HH:MM|off" >&2
    exit 2
}
start=$((10#${BASH_REMATCH[1]} * 60 + 10#${BASH_REMATCH[2]}))
end=$((10#${BASH_REMATCH[3]} * 60 + 10#${BASH_REMATCH[4]}))
length=$(((end - start + 1440) % 1440))

# Seconds left in the window now (0 when outside it).
seconds_left() {
    local now into
    now=$((10#$(date +%H) * 60 + 10#$(date +%M)))
    into=$(((now - start + 1440) % 1440))
    if ((into >= length)); then echo 0; else echo $(((length - into) * 60 - 10#$(date +%S))); fi
}

if [[ ! -e $REQUIRED_FILE ]]; then
    log "no reboot required"
    exit 0
fi
why=$(tr '\n' ' ' <"$REQUIRED_FILE.pkgs" 2>/dev/null || true)
left=$(seconds_left)
if ((left <= 0)); then
    log "a reboot is required (${why:-no package list}) but it is outside the window $window: waiting for the next one"
    exit 0
fi
log "a reboot is required (${why:-no package list}); window $window, ${left} s left: waiting for any upgrade and backup to finish"
mkdir -p "$(dirname -- "$UPGRADE_LOCK_FILE")" "$(dirname -- "$BACKUP_LOCK")"
exec 7>>"$UPGRADE_LOCK_FILE" 8>>"$BACKUP_LOCK"
if ! flock -w "$left" 7; then
    log "an OpenClaw upgrade ran until the window closed: no reboot today"
    exit 0
fi
left=$(seconds_left)
if ((left <= 0)) || ! flock -w "$left" 8; then
    log "a backup or restore ran until the window closed: no reboot today"
    exit 0
fi
if (($(seconds_left) <= 0)); then
    log "the window closed while waiting: no reboot today"
    exit 0
fi
log "rebooting now (holding the backup and upgrade locks)"
read -r -a reboot <<<"$REBOOT"
"${reboot[@]}"
