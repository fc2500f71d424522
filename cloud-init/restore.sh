#!/usr/bin/env bash
# Restores a snapshot made by backup.sh: downloads it into a staging dir next to the OpenClaw state dir, verifies
# every file against its MANIFEST (size + SHA-256, nothing missing, nothing extra), and only then swaps the workspace
# and the state entries the snapshot carries into place (renames on one file system). What it replaces is moved
# aside to <home>/openclaw-before-restore-<UTC time>/, never deleted.
# A missing, incomplete or corrupt snapshot fails (exit 1) and leaves everything as it was. Secrets and pushed config
# (.env, credentials/, openclaw.json), installed plugins (npm/, extensions/) and logs are never touched.
# Usage: restore.sh --snapshot latest|none|<YYYYMMDDTHHMMSSZ> [--first-boot]
#   --first-boot  the push runs it before the gateway ever started: "latest" with an empty bucket is success, and
#                 the gateway is left alone. Without it (operator restore) the gateway user service is stopped for
#                 the swap and started again afterwards (RESTORE_MANAGE_GATEWAY=0 turns that off).
set -euo pipefail
LOG_TAG=restore
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cloud-init/backup-lib.sh
source "$SCRIPT_DIR/backup-lib.sh"

usage() { print_script_help "${BASH_SOURCE[0]}"; }

REQUESTED=""
FIRST_BOOT=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --snapshot)
            [[ $# -ge 2 ]] || die "--snapshot needs a value"
            REQUESTED=$2
            shift 2
            ;;
        --snapshot=*)
            REQUESTED=${1#--snapshot=}
            shift
            ;;
        --first-boot)
            FIRST_BOOT=1
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument '$1'"
            ;;
    esac
done
[[ -n $REQUESTED ]] || {
    usage >&2
    die "--snapshot is required"
}
[[ $REQUESTED == latest || $REQUESTED == none || $REQUESTED =~ $SNAPSHOT_ID_PATTERN ]] ||
    die "--snapshot must be latest, none or a snapshot id like 20260102T030405Z, got '$REQUESTED'"

if [[ $REQUESTED == none ]]; then
    log "restore disabled (--snapshot none): nothing to do"
    exit 0
fi

load_backup_env
# A restore waits for a running backup rather than failing (a backup takes seconds to minutes).
BACKUP_LOCK_WAIT_SECONDS=${BACKUP_LOCK_WAIT_SECONDS:-900}
init_backup_settings
GATEWAY_UNIT=${GATEWAY_UNIT:-$HOST_GATEWAY_UNIT}
SYSTEMCTL_BIN=${SYSTEMCTL_BIN:-systemctl}
RESTORE_MANAGE_GATEWAY=${RESTORE_MANAGE_GATEWAY:-1}

STAGING=""
GATEWAY_STOPPED=0
declare -a MOVES=() # pairs: from, to (for rollback in reverse order)

gateway_ctl() { "$SYSTEMCTL_BIN" --user --machine="$AGENT_USER@" "$@" "$GATEWAY_UNIT"; }

rollback_moves() {
    local i
    for ((i = ${#MOVES[@]} - 2; i >= 0; i -= 2)); do
        mv -T -- "${MOVES[i + 1]}" "${MOVES[i]}" || log "ROLLBACK FAILED: could not move ${MOVES[i + 1]} back to ${MOVES[i]}" >&2
    done
    MOVES=()
}

on_exit() {
    local rc=$?
    trap - EXIT
    if [[ $rc -ne 0 && ${#MOVES[@]} -gt 0 ]]; then
        log "restore failed during the swap: putting the previous files back" >&2
        rollback_moves
    fi
    [[ -z $STAGING ]] || rm -rf -- "$STAGING"
    if [[ $GATEWAY_STOPPED == 1 ]]; then
        log "starting $GATEWAY_UNIT again"
        gateway_ctl start || log "WARNING: could not start $GATEWAY_UNIT" >&2
    fi
    [[ $rc -eq 0 ]] || log "restore FAILED (exit $rc): the workspace and state are unchanged" >&2
    exit "$rc"
}

move() {
    mkdir -p -- "$(dirname "$2")"
    mv -T -- "$1" "$2"
    MOVES+=("$1" "$2")
}

is_state_excluded() {
    local name=$1 pattern
    for pattern in $BACKUP_STATE_EXCLUDES; do
        # shellcheck disable=SC2053 # the pattern is a glob on purpose
        [[ $name == $pattern ]] && return 0
    done
    return 1
}

resolve_requested() {
    local id
    if [[ $REQUESTED == latest ]]; then
        id=$(resolve_latest_snapshot)
        if [[ -z $id ]]; then
            if [[ $FIRST_BOOT == 1 ]]; then
                log "nothing to restore yet: no complete snapshot in $BACKUP_REMOTE (first deploy)" >&2
                return 0
            fi
            die "no complete snapshot in $BACKUP_REMOTE to restore"
        fi
        printf '%s\n' "$id"
        return 0
    fi
    snapshot_is_complete "$REQUESTED" ||
        die "snapshot $REQUESTED does not exist or is incomplete (no MANIFEST) in $BACKUP_REMOTE; see list-snapshots.sh"
    printf '%s\n' "$REQUESTED"
}

# Directories come from the manifest (object storage has no empty directories), then the downloaded tree must
# match the manifest exactly; only then are the recorded modes applied.
verify_staged() {
    local id=$1 tree=$2 manifest=$3 type mode size hash path differences
    head -n 1 "$manifest" | grep -qx "# $BACKUP_MANIFEST_VERSION" || die "snapshot $id has an unknown MANIFEST format"
    while IFS=$'\t' read -r type mode size hash path; do
        [[ $type == D ]] || continue
        path=$(decode_manifest_path "$path")
        mkdir -p -- "$tree/$path"
    done < <(grep -v '^#' "$manifest")
    differences=$(diff <(manifest_comparable <"$manifest") <(manifest_entries "$tree" | manifest_comparable) || true)
    if [[ -n $differences ]]; then
        printf '%s\n' "$differences" | grep '^[<>]' | head -n 10 | sed 's/^</  expected:/; s/^>/  found:   /' >&2
        die "snapshot $id failed verification ($(printf '%s\n' "$differences" | grep -c '^[<>]') differing entries): it is corrupt or incomplete"
    fi
    while IFS=$'\t' read -r type mode size hash path; do
        [[ $type == F || $type == D ]] || continue
        path=$(decode_manifest_path "$path")
        chmod -- "$mode" "$tree/$path"
    done < <(grep -v '^#' "$manifest")
    : "$size" "$hash"
}

main() {
    local snapshot_id state_dir workspace parent aside name entry count
    trap on_exit EXIT
    take_backup_lock

    snapshot_id=$(resolve_requested)
    [[ -n $snapshot_id ]] || exit 0
    log "restoring snapshot $snapshot_id from $BACKUP_REMOTE"

    state_dir=$OPENCLAW_STATE_DIR
    workspace=$OPENCLAW_WORKSPACE_DIR
    parent=$(dirname "$state_dir")
    [[ -d $parent ]] || die "$parent does not exist (is the agent user $AGENT_USER created?)"
    if [[ ! -d $state_dir ]]; then
        mkdir -m 0700 -- "$state_dir"
        [[ $(id -un) == "$AGENT_USER" ]] || chown "$AGENT_USER:" "$state_dir"
    fi
    [[ $(stat -c %d "$parent") == $(stat -c %d "$state_dir") && $(stat -c %d "$parent") == $(stat -c %d "$(dirname "$workspace")") ]] ||
        die "$state_dir, $workspace and $parent must be on one filesystem for an atomic swap"

    # Next to the target (one filesystem, so the swap is a rename) and root-only until it is verified.
    STAGING="$parent/.openclaw-restore-$snapshot_id"
    rm -rf -- "$STAGING"
    mkdir -m 0700 -- "$STAGING"
    rclone_run copyto "$SNAPSHOTS_URL/$snapshot_id/MANIFEST" "$STAGING/MANIFEST" || die "cannot download the MANIFEST of $snapshot_id"
    [[ -s $STAGING/MANIFEST ]] || die "snapshot $snapshot_id has no MANIFEST"
    log "downloading snapshot $snapshot_id"
    mkdir -m 0700 -- "$STAGING/snapshot"
    rclone_run copy "$SNAPSHOTS_URL/$snapshot_id" "$STAGING/snapshot" --exclude /MANIFEST --links --fast-list \
        --transfers "$BACKUP_TRANSFERS" --checkers "$((BACKUP_TRANSFERS * 2))" || die "download of snapshot $snapshot_id failed"
    log "verifying every file of $snapshot_id against its MANIFEST"
    verify_staged "$snapshot_id" "$STAGING/snapshot" "$STAGING/MANIFEST"
    [[ $(id -un) == "$AGENT_USER" ]] || chown -R "$AGENT_USER:" "$STAGING/snapshot"
    count=$(grep -c '^[FL]' "$STAGING/MANIFEST" || true)
    log "snapshot $snapshot_id verified: $count files"

    if [[ $FIRST_BOOT == 0 && $RESTORE_MANAGE_GATEWAY == 1 ]] && gateway_ctl is-active --quiet 2>/dev/null; then
        log "stopping $GATEWAY_UNIT for the swap"
        gateway_ctl stop
        GATEWAY_STOPPED=1
    fi

    aside="$parent/openclaw-before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    if [[ -d "$STAGING/snapshot/workspace" ]]; then
        if [[ -e $workspace || -L $workspace ]]; then move "$workspace" "$aside/workspace"; fi
        move "$STAGING/snapshot/workspace" "$workspace"
    fi
    if [[ -d "$STAGING/snapshot/state" ]]; then
        # Only what the snapshot carries is replaced (with the -wal/-shm/-journal of a replaced database, which
        # would otherwise be replayed into it); anything else in the state dir (installed plugins, logs, secrets)
        # stays as it is.
        while IFS= read -r -d '' name; do
            if is_state_excluded "$name"; then
                log "WARNING: snapshot carries excluded state entry '$name': left out" >&2
                continue
            fi
            for entry in "$name" "$name-wal" "$name-shm" "$name-journal"; do
                if [[ -e "$state_dir/$entry" || -L "$state_dir/$entry" ]]; then move "$state_dir/$entry" "$aside/state/$entry"; fi
            done
            move "$STAGING/snapshot/state/$name" "$state_dir/$name"
        done < <(find "$STAGING/snapshot/state" -mindepth 1 -maxdepth 1 -printf '%f\0')
    else
        log "snapshot $snapshot_id has no OpenClaw state: the state is left as it is"
    fi
    MOVES=() # swap complete: nothing to roll back any more

    if [[ -d $aside ]]; then
        chmod 0700 "$aside"
        [[ $(id -un) == "$AGENT_USER" ]] || chown "$AGENT_USER:" "$aside" "$aside"/* 2>/dev/null || true
        log "the replaced files are kept in $aside"
    fi
    for entry in "$STAGING/snapshot/state" "$STAGING/snapshot"; do [[ ! -d $entry ]] || rmdir -- "$entry" 2>/dev/null || true; done
    log "restore of snapshot $snapshot_id done"
}

main
