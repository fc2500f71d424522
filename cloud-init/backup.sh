#!/usr/bin/env bash
# One backup run (openclaw-backup.service, as root): stage a consistent copy of the agent workspace and of OpenClaw's
# state (`openclaw backup create`, run as the agent user; secrets and pushed config left out), write a manifest,
# upload to a NEW prefix snapshots/<TS>/ (unchanged files are server-side copied from the previous snapshot, so only
# changes travel), then MANIFEST, then pointers/latest. Records the outcome in backup.status. Never changes the
# agent's files and never writes into an existing snapshot (the bucket lock forbids overwrites).
# Usage: backup.sh            (settings: /etc/openclaw-vps/backup.env; see backup-lib.sh for the env overrides)
set -euo pipefail
LOG_TAG=backup
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cloud-init/backup-lib.sh
source "$SCRIPT_DIR/backup-lib.sh"

if [[ $# -gt 0 ]]; then
    case $1 in
        -h | --help)
            print_script_help "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *) die "unknown argument '$1' (backup.sh takes none)" ;;
    esac
fi

load_backup_env
init_backup_settings
BACKUP_STAGING_DIR=${BACKUP_STAGING_DIR:-$OPENCLAW_VPS_LIB_DIR/backup-staging}
CURRENT_STEP=start
SNAPSHOT_ID=""
STARTED_AT=$(date +%s)

status_value() { sed -n "s/^$1=//p" "$BACKUP_STATUS_FILE" 2>/dev/null | tail -n 1; }

# Sourceable key=value lines, replaced atomically so a reader never sees half a file.
write_status() {
    local tmp="$BACKUP_STATUS_FILE.tmp.$$" kv
    mkdir -p "$(dirname "$BACKUP_STATUS_FILE")"
    for kv in "$@"; do printf '%s=%q\n' "${kv%%=*}" "${kv#*=}"; done >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$BACKUP_STATUS_FILE"
}

on_exit() {
    local rc=$?
    trap - EXIT
    if [[ $rc -ne 0 ]]; then
        # Keep the last success visible next to the new error: "when did it last work" is the question asked.
        write_status "last_success=$(status_value last_success)" "last_snapshot=$(status_value last_snapshot)" \
            "last_error=$(date -u +%Y-%m-%dT%H:%M:%SZ) step ${CURRENT_STEP} failed (exit $rc)" \
            "last_attempt=$(date -u +%Y-%m-%dT%H:%M:%SZ)" || true
        log "backup FAILED at step ${CURRENT_STEP} (exit $rc); the previous snapshot $(status_value last_snapshot) stays the latest" >&2
    fi
    # The staging copy holds the agent's data (and briefly an archive with secrets): never leave it behind.
    [[ -z ${BACKUP_STAGING_DIR:-} ]] || rm -rf -- "$BACKUP_STAGING_DIR"
    exit "$rc"
}

step() {
    CURRENT_STEP=$1
    log "step: $*"
}

# Runs a command as the agent user with a clean environment (nothing of root's, and no lock fd).
as_agent() {
    local -a clean_env=(env -i "HOME=$AGENT_HOME" "PATH=$PATH" "LANG=C.UTF-8" "OPENCLAW_STATE_DIR=$OPENCLAW_STATE_DIR")
    if [[ $(id -un) == "$AGENT_USER" ]]; then
        (cd / && "${clean_env[@]}" "$@") 9>&-
    else
        (cd / && runuser -u "$AGENT_USER" -- "${clean_env[@]}" "$@") 9>&-
    fi
}

is_sqlite_file() { [[ -f $1 && $(head -c 15 -- "$1" 2>/dev/null) == "SQLite format 3" ]]; }

# A SQLite database in the workspace (written by some tool the agent runs) is copied again with SQLite's online
# backup API (Node's node:sqlite, as the agent user, read-only), so the copy is consistent and includes committed WAL
# pages (all pages in one step, so a busy writer cannot restart it forever); -wal/-shm/-journal sidecars of a
# database never enter a snapshot.
snapshot_workspace_sqlite() {
    local staged_root=$1 source_root=$2 file db rel scratch
    local -A databases=()
    while IFS= read -r -d '' file; do
        case $file in
            *-wal | *-shm | *-journal)
                db=${file%-*}
                is_sqlite_file "$db" || continue
                rm -f -- "$file"
                ;;
            *)
                db=$file
                is_sqlite_file "$db" || continue
                ;;
        esac
        databases[${db#"$staged_root"/}]=1
    done < <(find "$staged_root" -type f \( -name '*-wal' -o -name '*-shm' -o -name '*-journal' \
        -o -name '*.sqlite' -o -name '*.sqlite3' -o -name '*.db' \) -print0)
    for rel in "${!databases[@]}"; do
        [[ -f "$source_root/$rel" ]] || continue
        scratch="$BACKUP_STAGING_DIR/agent-scratch/workspace-db.sqlite"
        rm -f -- "$scratch"
        as_agent env "SOURCE_DB=$source_root/$rel" "COPY_DB=$scratch" node -e '
            const sqlite = require("node:sqlite");
            const db = new sqlite.DatabaseSync(process.env.SOURCE_DB, { readOnly: true, timeout: 15000 });
            sqlite.backup(db, process.env.COPY_DB, { rate: 2147483647 }).then(() => db.close(), (e) => { console.error(String(e)); process.exit(1); });' ||
            die "consistent copy of the workspace database $rel failed"
        cat -- "$scratch" >"$staged_root/$rel"
        rm -f -- "$scratch"
        log "workspace database $rel copied with SQLite's online backup API"
    done
}

stage_workspace() {
    local target=$1 attempt
    if [[ ! -d $OPENCLAW_WORKSPACE_DIR ]]; then
        log "no workspace at $OPENCLAW_WORKSPACE_DIR yet: the snapshot carries an empty workspace"
        mkdir -m 0700 "$target"
        return 0
    fi
    # The agent may delete a file while we copy it: retry the whole copy rather than keep a half-copied tree.
    for attempt in 1 2 3; do
        rm -rf -- "$target"
        if cp -a --reflink=auto -- "$OPENCLAW_WORKSPACE_DIR" "$target"; then
            snapshot_workspace_sqlite "$target" "$OPENCLAW_WORKSPACE_DIR"
            return 0
        fi
        log "workspace changed while copying (attempt $attempt), copying again"
        sleep 1
    done
    die "could not copy the workspace $OPENCLAW_WORKSPACE_DIR after 3 attempts"
}

# OpenClaw's own consistent copy of its state (SQLite through the online backup API, never the live files),
# extracted without the secrets and pushed config, so the state is stored file by file and deduplicated like the
# workspace.
stage_state() {
    local target=$1 archive_dir="$BACKUP_STAGING_DIR/agent-scratch" result archive root state_real payload pattern
    local -a excludes=()
    if [[ $BACKUP_INCLUDE_STATE != 1 ]]; then
        log "BACKUP_INCLUDE_STATE=$BACKUP_INCLUDE_STATE: OpenClaw state left out of this snapshot"
        return 0
    fi
    if [[ ! -d $OPENCLAW_STATE_DIR ]]; then
        log "no OpenClaw state dir at $OPENCLAW_STATE_DIR yet: snapshot has the workspace only"
        return 0
    fi
    result="$BACKUP_STAGING_DIR/openclaw-backup.json"
    if ! as_agent "$OPENCLAW_BIN" backup create --no-include-workspace --output "$archive_dir" --verify --json \
        >"$result" 2>"$result.err"; then
        if grep -q 'No local OpenClaw state was found' "$result" "$result.err"; then
            log "OpenClaw has no state yet (never onboarded): snapshot has the workspace only"
            return 0
        fi
        sed 's/^/openclaw: /' "$result.err" | tail -n 20 >&2
        die "openclaw backup create failed"
    fi
    archive=$(find "$archive_dir" -maxdepth 1 -type f -name '*.tar.gz' -print)
    [[ -n $archive && $archive != *$'\n'* ]] || die "openclaw backup create did not leave exactly one archive in $archive_dir"
    root=$(tar -tzf "$archive" | awk -F/ 'NR == 1 { print $1 }')
    state_real=$(realpath -e -- "$OPENCLAW_STATE_DIR")
    payload="$root/payload/posix/${state_real#/}"
    for pattern in $BACKUP_STATE_EXCLUDES; do excludes+=("--exclude=$payload/$pattern"); done
    mkdir -m 0700 "$BACKUP_STAGING_DIR/extract"
    # Secrets are filtered while extracting, so they never land in the root staging area.
    tar -xzf "$archive" -C "$BACKUP_STAGING_DIR/extract" --no-same-owner --anchored "${excludes[@]}" -- "$payload" ||
        die "cannot extract the state from $(basename "$archive")"
    rm -f -- "$archive"
    [[ -d "$BACKUP_STAGING_DIR/extract/$payload" ]] || die "the OpenClaw archive has no state payload for $state_real"
    mv -- "$BACKUP_STAGING_DIR/extract/$payload" "$target"
    for pattern in $BACKUP_STATE_EXCLUDES; do
        # shellcheck disable=SC2086 # the pattern is a glob on purpose
        if compgen -G "$target/$pattern" >/dev/null; then die "excluded state entry '$pattern' is still staged"; fi
    done
    # The workspace's own SQLite rules apply to any opaque database OpenClaw copied raw (e.g. a plugin's).
    find "$target" -type f \( -name '*-wal' -o -name '*-shm' -o -name '*-journal' \) -print0 |
        while IFS= read -r -d '' sidecar; do
            if is_sqlite_file "${sidecar%-*}"; then
                log "WARNING: OpenClaw copied the sidecar ${sidecar#"$target"/} raw; dropping it from the snapshot"
                rm -f -- "$sidecar"
            fi
        done
}

# A new, never used snapshot id: the bucket lock forbids writing into an existing prefix.
choose_snapshot_id() {
    local previous=$1 id attempt existing
    for attempt in 1 2 3 4 5; do
        id=$(date -u +%Y%m%dT%H%M%SZ)
        if [[ $id != "$previous" ]]; then
            existing=$(rclone_run lsf -R --fast-list --files-only "$SNAPSHOTS_URL/$id") || die "cannot look up $id"
            [[ -n $existing ]] || {
                printf '%s\n' "$id"
                return 0
            }
        fi
        log "snapshot id $id is taken (attempt $attempt), waiting a second" >&2
        sleep 1
    done
    die "no free snapshot id after 5 attempts"
}

main() {
    local previous snap uploaded copied files bytes upload_log
    step lock
    take_backup_lock
    # From here on a failure is recorded in backup.status (a lock conflict is not: the other run reports).
    trap on_exit EXIT
    # Lock before clearing: the staging dir of a running restore or backup is never pulled from under it.
    rm -rf -- "$BACKUP_STAGING_DIR"
    mkdir -p "$(dirname "$BACKUP_STAGING_DIR")"
    # 0711: the agent may reach its own scratch dir inside, but cannot list or read the staged copy.
    mkdir -m 0711 "$BACKUP_STAGING_DIR"
    mkdir -m 0700 "$BACKUP_STAGING_DIR/agent-scratch"
    [[ $(id -un) == "$AGENT_USER" ]] || chown "$AGENT_USER:" "$BACKUP_STAGING_DIR/agent-scratch"
    snap="$BACKUP_STAGING_DIR/snapshot"
    mkdir -m 0700 "$snap"

    step previous-snapshot
    previous=$(resolve_latest_snapshot)
    log "previous complete snapshot: ${previous:-none (this is the first)}"
    SNAPSHOT_ID=$(choose_snapshot_id "$previous")
    log "new snapshot: $SNAPSHOT_ID"

    step stage-workspace
    stage_workspace "$snap/workspace"
    step stage-state
    stage_state "$snap/state"

    step manifest
    write_manifest "$snap" "$SNAPSHOT_ID" "$BACKUP_STAGING_DIR/MANIFEST"
    files=$(grep -c '^[FL]' "$BACKUP_STAGING_DIR/MANIFEST" || true)
    bytes=$(awk -F'\t' '$1 == "F" { s += $3 } END { printf "%d", s }' "$BACKUP_STAGING_DIR/MANIFEST")
    log "staged $files files, $bytes bytes"

    step upload
    local -a copy_dest=()
    [[ -z $previous ]] || copy_dest=(--copy-dest "$SNAPSHOTS_URL/$previous")
    upload_log="$BACKUP_STAGING_DIR/upload.log"
    if ! rclone_run copy "$snap" "$SNAPSHOTS_URL/$SNAPSHOT_ID" --links --checksum "${copy_dest[@]}" \
        --transfers "$BACKUP_TRANSFERS" --checkers "$((BACKUP_TRANSFERS * 2))" \
        --stats 0 --stats-log-level DEBUG -v 2>"$upload_log"; then
        grep -E 'ERROR|NOTICE' "$upload_log" | tail -n 20 >&2 || true
        die "upload of snapshot $SNAPSHOT_ID failed (it has no MANIFEST, so it is never used)"
    fi
    uploaded=$(grep -c ': Copied (new)$' "$upload_log" || true)
    copied=$(grep -c ': Copied (server-side copy)$' "$upload_log" || true)
    log "uploaded $uploaded changed files, server-side copied $copied unchanged files from ${previous:-nothing}"

    step verify-upload
    rclone_run check --one-way --links --fast-list "$snap" "$SNAPSHOTS_URL/$SNAPSHOT_ID" 2>"$BACKUP_STAGING_DIR/check.log" || {
        grep -E 'ERROR|NOTICE' "$BACKUP_STAGING_DIR/check.log" | tail -n 20 >&2 || true
        die "snapshot $SNAPSHOT_ID differs from what was staged"
    }

    step manifest-upload
    rclone_run copyto "$BACKUP_STAGING_DIR/MANIFEST" "$SNAPSHOTS_URL/$SNAPSHOT_ID/MANIFEST"

    step pointer
    printf '%s\n' "$SNAPSHOT_ID" >"$BACKUP_STAGING_DIR/latest"
    rclone_run copyto --ignore-times "$BACKUP_STAGING_DIR/latest" "$POINTER_URL"

    step status
    write_status "last_success=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "last_snapshot=$SNAPSHOT_ID" "last_error=" \
        "last_attempt=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "last_files=$files" "last_bytes=$bytes" \
        "last_uploaded=$uploaded" "last_server_side_copies=$copied" \
        "last_duration_seconds=$(($(date +%s) - STARTED_AT))"
    log "backup done: snapshot $SNAPSHOT_ID ($files files, $bytes bytes; $uploaded uploaded, $copied copied server-side)"
}

main
