#!/usr/bin/env bash
# Restores what a restore PLAN names. The plan is made on the operator's machine (components/snapshots/plan.ts): it
# lists the bucket with a read-only token, orders snapshots by R2's LastModified, unwraps the chosen archives' file
# keys with the operator's identity, and re-wraps them under new age headers for a ONE-TIME identity. This host gets
# only that: it can decrypt the one or two archives it restores and nothing else, and the operator's identity never
# leaves the operator's machine.
# Each archive is downloaded (one GET), its header checked byte for byte against the one the plan was made from and
# replaced by the re-wrapped one, decrypted by `age`, decompressed by `zstd` and unpacked by GNU tar into a staging
# dir next to the OpenClaw state dir; backup-archive.js applies the diff to its full and verifies the tree EXACTLY
# against the manifest (type, mode, size, SHA-256, nothing missing or extra). Only then are the workspace and the
# state entries the snapshot carries swapped into place (renames on one file system); what they replace is moved to
# <home>/openclaw-before-restore-<UTC time>/, never deleted. A truncated, re-encrypted, replaced or corrupt archive
# fails (exit 1) and leaves everything as it was. Secrets and pushed config (.env, credentials/, openclaw.json),
# installed plugins (npm/, extensions/) and logs are never touched. Old-layout snapshots (snapshots/<TS>/, plaintext)
# are restored file by file as before, until they expire.
# Usage: restore.sh --first-boot [--snapshot FROM]   the push, before the gateway ever started: the plan is the file
#                                                    HOST_RESTORE_PLAN (written by the deploy); removed on success
#        restore.sh --plan FILE|-                    an operator restore on the live server (`npm run restore`): the
#                                                    gateway service is stopped for the swap and started again
#                                                    (RESTORE_MANAGE_GATEWAY=0 turns that off)
#        restore.sh --snapshot none                  nothing to do
set -euo pipefail
LOG_TAG=restore
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cloud-init/backup-lib.sh
source "$SCRIPT_DIR/backup-lib.sh"

usage() { print_script_help "${BASH_SOURCE[0]}"; }

REQUESTED=""
FIRST_BOOT=0
PLAN_SOURCE=""
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
        --plan)
            [[ $# -ge 2 ]] || die "--plan needs a file (or - for stdin)"
            PLAN_SOURCE=$2
            shift 2
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

if [[ $REQUESTED == none ]]; then
    log "restore disabled (--snapshot none): nothing to do"
    exit 0
fi
if [[ -z $PLAN_SOURCE ]]; then
    [[ $FIRST_BOOT == 1 ]] || {
        usage >&2
        die "an operator restore needs --plan (npm run restore makes one on your machine)"
    }
    PLAN_SOURCE=${RESTORE_PLAN_FILE:-$HOST_RESTORE_PLAN}
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
declare -a PLAN_ARCHIVES=()
PLAN_MODE=""
PLAN_REQUEST=""
PLAN_CHOSEN=""
PLAN_IDENTITY=""
PLAN_LEGACY=""

gateway_ctl() { "$SYSTEMCTL_BIN" "$@" "$GATEWAY_UNIT"; }

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
    # The staging dir holds the one-time identity and the decrypted snapshot: it never outlives the run.
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

# The plan: KEY=value lines, read as data (never sourced). It is a secret (a one-time identity): only root reads it.
read_plan() {
    local text line
    if [[ $PLAN_SOURCE == - ]]; then
        text=$(cat)
    else
        [[ -f $PLAN_SOURCE ]] ||
            die "no restore plan at $PLAN_SOURCE: the deploy writes it before the push (components/host.ts, restore-plan); run pulumi up again"
        text=$(cat -- "$PLAN_SOURCE")
    fi
    while IFS= read -r line; do
        case $line in
            '' | '#'*) ;;
            format=*) [[ ${line#format=} == openclaw-vps-restore-plan/1 ]] || die "unknown restore plan format '${line#format=}'" ;;
            mode=*) PLAN_MODE=${line#mode=} ;;
            request=*) PLAN_REQUEST=${line#request=} ;;
            chosen=*) PLAN_CHOSEN=${line#chosen=} ;;
            chosen_time=*) ;;
            identity=*) PLAN_IDENTITY=${line#identity=} ;;
            archive=*) PLAN_ARCHIVES+=("${line#archive=}") ;;
            legacy=*) PLAN_LEGACY=${line#legacy=} ;;
            *) die "unreadable restore plan line '${line%%=*}=...'" ;;
        esac
    done <<<"$text"
    case $PLAN_MODE in
        none | empty) ;;
        archives)
            [[ ${#PLAN_ARCHIVES[@]} -ge 1 && ${#PLAN_ARCHIVES[@]} -le 2 ]] || die "the restore plan names ${#PLAN_ARCHIVES[@]} archives"
            [[ $PLAN_IDENTITY == AGE-SECRET-KEY-1* ]] || die "the restore plan has no one-time identity"
            ;;
        legacy) [[ $PLAN_LEGACY =~ $SNAPSHOT_ID_PATTERN ]] || die "the restore plan names no old-layout snapshot" ;;
        *) die "the restore plan has no mode (mode=${PLAN_MODE})" ;;
    esac
    if [[ -n $REQUESTED && $REQUESTED != "$PLAN_REQUEST" ]]; then
        log "note: the push asked for '$REQUESTED'; the plan was made for '$PLAN_REQUEST' (the plan wins)"
    fi
}

# stdin: an archive object. Checks that it starts with exactly the header the plan was made from, then writes the
# re-wrapped header and the untouched payload. A replaced or re-encrypted object stops here.
swap_header() { # original-header-file new-header-file label
    local size
    size=$(stat -c %s "$1")
    dd bs="$size" count=1 iflag=fullblock status=none of="$1.found" || true
    if ! cmp -s "$1" "$1.found"; then
        log "$3: its header is not the one the restore plan was made from (the object was replaced or re-encrypted since)" >&2
        return 1
    fi
    cat -- "$2" -
}

# Downloads, checks, decrypts and unpacks archive number N of the plan into $STAGING/aN.
unpack_archive() { # n "kind key id original-header new-header"
    local n=$1 kind key id original rewrapped dir
    read -r kind key id original rewrapped <<<"$2"
    [[ $key =~ $ARCHIVE_KEY_PATTERN ]] || die "the restore plan names '$key', which is not an archive key"
    [[ $id =~ ^[0-9a-f]{16}$ ]] || die "the restore plan's id for $key is malformed"
    dir="$STAGING/a$n"
    mkdir -m 0700 -- "$dir"
    base64 -d <<<"$original" >"$STAGING/h$n.orig" || die "the restore plan's header for $key is not base64"
    base64 -d <<<"$rewrapped" >"$STAGING/h$n.new" || die "the restore plan's header for $key is not base64"
    log "downloading, decrypting and unpacking the $kind $key"
    if ! rclone_run cat "$BACKUP_REMOTE/$key" 2>"$STAGING/err.rclone" |
        swap_header "$STAGING/h$n.orig" "$STAGING/h$n.new" "$key" 2>"$STAGING/err.header" |
        "$AGE_BIN" -d -i "$STAGING/identity" 2>"$STAGING/err.age" |
        "$ZSTD_BIN" -d -q -c 2>"$STAGING/err.zstd" |
        LC_ALL=C.UTF-8 tar -x -C "$dir" --no-same-owner 2>"$STAGING/err.tar"; then
        cat -- "$STAGING"/err.header "$STAGING"/err.rclone "$STAGING"/err.age "$STAGING"/err.zstd "$STAGING"/err.tar 2>/dev/null |
            grep -v '^$' | head -n 12 | sed 's/^/  /' >&2 || true
        die "archive $key could not be read back: missing, truncated, corrupt or not the one planned"
    fi
}

restore_archives() {
    local i fields kind key id
    local -a assemble_args=()
    printf '%s\n' "$PLAN_IDENTITY" >"$STAGING/identity"
    chmod 0600 "$STAGING/identity"
    for i in "${!PLAN_ARCHIVES[@]}"; do
        fields=${PLAN_ARCHIVES[i]}
        read -r kind key id _ <<<"$fields"
        [[ ($i == 0 && $kind == full) || ($i == 1 && $kind == diff) ]] || die "the restore plan must name a full, then at most one diff"
        unpack_archive "$i" "$fields"
        assemble_args+=("$key" "$id")
    done
    rm -f -- "$STAGING/identity"
    log "applying and verifying every entry against the manifest"
    "$NODE_BIN" "$ARCHIVE_TOOL" assemble "$STAGING" "${assemble_args[@]}" ||
        die "snapshot $PLAN_CHOSEN failed verification: it is corrupt, incomplete or forged"
    SNAPSHOT_TREE="$STAGING/a0"
}

# --- the old per-file layout (snapshots/<TS>/, plaintext), until its last snapshot expires ---------------------------
verify_legacy_staged() {
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

restore_legacy() {
    local id=$PLAN_LEGACY
    legacy_snapshot_is_complete "$id" || die "old-layout snapshot $id does not exist or is incomplete (no MANIFEST)"
    rclone_run copyto "$SNAPSHOTS_URL/$id/MANIFEST" "$STAGING/MANIFEST" || die "cannot download the MANIFEST of $id"
    [[ -s $STAGING/MANIFEST ]] || die "snapshot $id has no MANIFEST"
    log "downloading old-layout snapshot $id"
    mkdir -m 0700 -- "$STAGING/snapshot"
    rclone_run copy "$SNAPSHOTS_URL/$id" "$STAGING/snapshot" --exclude /MANIFEST --links --fast-list \
        --transfers "$BACKUP_TRANSFERS" --checkers "$((BACKUP_TRANSFERS * 2))" || die "download of snapshot $id failed"
    log "verifying every file of $id against its MANIFEST"
    verify_legacy_staged "$id" "$STAGING/snapshot" "$STAGING/MANIFEST"
    SNAPSHOT_TREE="$STAGING/snapshot"
}

main() {
    local state_dir workspace parent aside name entry
    trap on_exit EXIT
    read_plan
    case $PLAN_MODE in
        none)
            log "restore plan: none (restoreFrom none): nothing to restore"
            [[ $FIRST_BOOT == 0 || $PLAN_SOURCE == - ]] || rm -f -- "$PLAN_SOURCE"
            return 0
            ;;
        empty)
            [[ $FIRST_BOOT == 1 ]] || die "the restore plan says the bucket has never held a snapshot: nothing to restore"
            log "nothing to restore yet: $BACKUP_REMOTE has never held a snapshot (first deploy)"
            [[ $PLAN_SOURCE == - ]] || rm -f -- "$PLAN_SOURCE"
            return 0
            ;;
    esac
    require_tool "$AGE_BIN" age
    require_tool "$ZSTD_BIN" zstd
    take_backup_lock
    log "restoring $PLAN_CHOSEN (plan for '$PLAN_REQUEST') from $BACKUP_REMOTE"

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
    STAGING="$parent/.openclaw-restore-$$"
    rm -rf -- "$STAGING"
    mkdir -m 0700 -- "$STAGING"
    SNAPSHOT_TREE=""
    if [[ $PLAN_MODE == legacy ]]; then restore_legacy; else restore_archives; fi
    [[ $(id -un) == "$AGENT_USER" ]] || chown -R "$AGENT_USER:" "$SNAPSHOT_TREE"
    log "snapshot $PLAN_CHOSEN verified"

    if [[ $FIRST_BOOT == 0 && $RESTORE_MANAGE_GATEWAY == 1 ]] && gateway_ctl is-active --quiet 2>/dev/null; then
        log "stopping $GATEWAY_UNIT for the swap"
        gateway_ctl stop
        GATEWAY_STOPPED=1
    fi

    aside="$parent/openclaw-before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    # Two restores within one second must not share (and collide in) one aside dir.
    if [[ -e $aside ]]; then aside="$aside-$$"; fi
    if [[ -d "$SNAPSHOT_TREE/workspace" ]]; then
        if [[ -e $workspace || -L $workspace ]]; then move "$workspace" "$aside/workspace"; fi
        move "$SNAPSHOT_TREE/workspace" "$workspace"
    fi
    if [[ -d "$SNAPSHOT_TREE/state" ]]; then
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
            move "$SNAPSHOT_TREE/state/$name" "$state_dir/$name"
        done < <(find "$SNAPSHOT_TREE/state" -mindepth 1 -maxdepth 1 -printf '%f\0')
    else
        log "snapshot $PLAN_CHOSEN has no OpenClaw state: the state is left as it is"
    fi
    MOVES=() # swap complete: nothing to roll back any more

    if [[ -d $aside ]]; then
        chmod 0700 "$aside"
        [[ $(id -un) == "$AGENT_USER" ]] || chown "$AGENT_USER:" "$aside" "$aside"/* 2>/dev/null || true
        log "the replaced files are kept in $aside"
    fi
    # A first-boot plan is spent: its one-time identity goes with it.
    [[ $FIRST_BOOT == 0 || $PLAN_SOURCE == - ]] || rm -f -- "$PLAN_SOURCE"
    log "restore of $PLAN_CHOSEN done"
}

main
