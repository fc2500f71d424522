#!/usr/bin/env bash
# One backup run (openclaw-backup.service, as root): ONE encrypted object per run. A full archive when the last full
# is a day old (or there is none on this server), else a cumulative diff: what changed since that full. The archive
# is written by backup-archive.js run as the agent user (the live workspace, SQLite through its online backup API,
# and OpenClaw's state from `openclaw backup create` without secrets or pushed config), piped through `age` to the
# operator's recipient (a public key: this host can never read an archive back), and uploaded with a single PUT to
# a new key under fulls/ or diffs/. The first backup also writes meta/holds-snapshots. Records the outcome in
# backup.status; the local index (BACKUP_INDEX_DIR) remembers the full and every file's hash, so an hourly run reads
# only what changed. Never changes the agent's files, and never writes an existing key (the bucket lock forbids it).
# Usage: backup.sh [--full]   (--full: a full archive now; settings: /etc/openclaw-vps/backup.env, see backup-lib.sh)
set -euo pipefail
LOG_TAG=backup
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cloud-init/backup-lib.sh
source "$SCRIPT_DIR/backup-lib.sh"

FORCE_FULL=${BACKUP_FORCE_FULL:-0}
if [[ $# -gt 0 ]]; then
    case $1 in
        -h | --help)
            print_script_help "${BASH_SOURCE[0]}"
            exit 0
            ;;
        --full) FORCE_FULL=1 ;;
        *) die "unknown argument '$1' (backup.sh takes --full or nothing)" ;;
    esac
fi

load_backup_env
init_backup_settings
[[ $BACKUP_RECIPIENT =~ $AGE_RECIPIENT_PATTERN ]] ||
    die "BACKUP_RECIPIENT must be an age X25519 recipient (age1...), got '${BACKUP_RECIPIENT:0:12}...'"
BACKUP_STAGING_DIR=${BACKUP_STAGING_DIR:-$OPENCLAW_VPS_LIB_DIR/backup-staging}
CURRENT_STEP=start
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
            "last_attempt=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "last_full=$(status_value last_full)" || true
        log "backup FAILED at step ${CURRENT_STEP} (exit $rc); the previous snapshot $(status_value last_snapshot) stays the latest" >&2
    fi
    # The staging dir holds the agent's state copy (and briefly an archive with secrets): never leave it behind.
    [[ -z ${BACKUP_STAGING_DIR:-} ]] || rm -rf -- "$BACKUP_STAGING_DIR"
    exit "$rc"
}

step() {
    CURRENT_STEP=$1
    log "step: $*"
}

# Runs a command as the agent user with a clean environment (nothing of root's, and no lock fd). Extra variables
# come as NAME=value words before the command (passed through `env`).
as_agent() {
    local -a clean_env=(env -i "HOME=$AGENT_HOME" "PATH=$PATH" "LANG=C.UTF-8" "OPENCLAW_STATE_DIR=$OPENCLAW_STATE_DIR")
    if [[ $(id -un) == "$AGENT_USER" ]]; then
        (cd / && "${clean_env[@]}" "$@") 9>&-
    else
        (cd / && runuser -u "$AGENT_USER" -- "${clean_env[@]}" "$@") 9>&-
    fi
}

# OpenClaw's own consistent copy of its state (SQLite through the online backup API, never the live files),
# extracted by the agent user into its scratch dir without the secrets and pushed config.
stage_state() {
    local target=$1 scratch=$2 result archive root state_real payload pattern
    local -a excludes=()
    if [[ $BACKUP_INCLUDE_STATE != 1 ]]; then
        log "BACKUP_INCLUDE_STATE=$BACKUP_INCLUDE_STATE: OpenClaw state left out of this snapshot"
        return 1
    fi
    if [[ ! -d $OPENCLAW_STATE_DIR ]]; then
        log "no OpenClaw state dir at $OPENCLAW_STATE_DIR yet: the snapshot has the workspace only"
        return 1
    fi
    result="$BACKUP_STAGING_DIR/openclaw-backup.json"
    if ! as_agent "$OPENCLAW_BIN" backup create --no-include-workspace --output "$scratch" --verify --json \
        >"$result" 2>"$result.err"; then
        if grep -q 'No local OpenClaw state was found' "$result" "$result.err"; then
            log "OpenClaw has no state yet (never onboarded): the snapshot has the workspace only"
            return 1
        fi
        sed 's/^/openclaw: /' "$result.err" | tail -n 20 >&2
        die "openclaw backup create failed"
    fi
    archive=$(find "$scratch" -maxdepth 1 -type f -name '*.tar.gz' -print)
    [[ -n $archive && $archive != *$'\n'* ]] || die "openclaw backup create did not leave exactly one archive in $scratch"
    root=$(tar -tzf "$archive" | awk -F/ 'NR == 1 { print $1 }')
    state_real=$(realpath -e -- "$OPENCLAW_STATE_DIR")
    payload="$root/payload/posix/${state_real#/}"
    for pattern in $BACKUP_STATE_EXCLUDES; do excludes+=("--exclude=$payload/$pattern"); done
    # Secrets are filtered while extracting, so they never land in the staging area.
    as_agent mkdir -m 0700 "$scratch/extract"
    as_agent tar -xzf "$archive" -C "$scratch/extract" --no-same-owner --anchored "${excludes[@]}" -- "$payload" ||
        die "cannot extract the state from $(basename "$archive")"
    as_agent rm -f -- "$archive"
    [[ -d "$scratch/extract/$payload" ]] || die "the OpenClaw archive has no state payload for $state_real"
    as_agent mv -- "$scratch/extract/$payload" "$target"
    for pattern in $BACKUP_STATE_EXCLUDES; do
        # shellcheck disable=SC2086 # the pattern is a glob on purpose
        if compgen -G "$target/$pattern" >/dev/null; then die "excluded state entry '$pattern' is still staged"; fi
    done
    return 0
}

# KEY=value lines of the local index's base.env, read as data.
base_value() { sed -n "s/^$1=//p" "$BACKUP_INDEX_DIR/base.env" 2>/dev/null | tail -n 1; }

# full or diff: a diff needs this server's own full (its index and header), to the same recipient, less than a day
# old. Diffs are therefore never more than a day younger than their full, which R2's one-day-longer lock and
# lifecycle on fulls/ rely on.
choose_kind() {
    local taken age
    if [[ $FORCE_FULL == 1 ]]; then
        echo "full:requested (--full)"
        return
    fi
    if [[ ! -s $BACKUP_INDEX_DIR/base.index || ! -s $BACKUP_INDEX_DIR/base.env ]]; then
        echo "full:no full on this server yet"
        return
    fi
    if [[ $(base_value recipient) != "$BACKUP_RECIPIENT" ]]; then
        echo "full:the recipient changed"
        return
    fi
    taken=$(base_value taken)
    [[ $taken =~ ^[0-9]+$ ]] || taken=0
    age=$(($(date +%s) - taken))
    if ((age < 0 || age >= BACKUP_FULL_INTERVAL_SECONDS)); then
        echo "full:the last full is $((age / 3600)) h old"
        return
    fi
    echo "diff:the full $(base_value key) is $((age / 60)) min old"
}

# meta/holds-snapshots: from now on an empty-looking bucket is an error, not a fresh start. Looked up once per server.
ensure_marker() {
    local key=$1 found
    # One or two HEADs (a LIST when absent): rclone's --stat answers a directory entry when there is no such object.
    found=$(rclone_run lsjson --stat "$BACKUP_REMOTE/$BACKUP_MARKER_KEY") || die "cannot look up $BACKUP_MARKER_KEY"
    if [[ $found != *'"IsDir": false'* ]]; then
        printf 'this bucket holds snapshots of openclaw-vps: the first is %s (%s)\n' "$key" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
            >"$BACKUP_STAGING_DIR/marker"
        rclone_run copyto --no-check-dest --s3-no-head "$BACKUP_STAGING_DIR/marker" "$BACKUP_REMOTE/$BACKUP_MARKER_KEY" ||
            die "cannot write $BACKUP_MARKER_KEY"
        log "wrote $BACKUP_MARKER_KEY: a new server that finds no snapshot in this bucket will now fail instead of starting empty"
    fi
    : >"$BACKUP_INDEX_DIR/marker.done"
}

main() {
    local decision kind reason id ts key prefix scratch state_dir summary header archive_bytes files bytes carried
    local -a archive_env=()
    step lock
    take_backup_lock
    # From here on a failure is recorded in backup.status (a lock conflict is not: the other run reports).
    trap on_exit EXIT
    require_tool "$AGE_BIN" age
    require_tool "$NODE_BIN" nodejs
    [[ -r $ARCHIVE_TOOL ]] || die "missing $ARCHIVE_TOOL (the push installs it)"
    # Lock before clearing: the staging dir of a running restore or backup is never pulled from under it.
    rm -rf -- "$BACKUP_STAGING_DIR"
    mkdir -p "$(dirname "$BACKUP_STAGING_DIR")" "$BACKUP_INDEX_DIR"
    chmod 0700 "$BACKUP_INDEX_DIR"
    # 0711: the agent may reach its own scratch dir inside, but cannot list or read the rest.
    mkdir -m 0711 "$BACKUP_STAGING_DIR"
    scratch="$BACKUP_STAGING_DIR/agent-scratch"
    mkdir -m 0700 "$scratch"
    [[ $(id -un) == "$AGENT_USER" ]] || chown "$AGENT_USER:" "$scratch"

    step plan
    decision=$(choose_kind)
    kind=${decision%%:*}
    reason=${decision#*:}
    id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    ts=$(date -u +%Y%m%dT%H%M%SZ)
    prefix=$BACKUP_FULL_PREFIX
    [[ $kind == full ]] || prefix=$BACKUP_DIFF_PREFIX
    key="${prefix}${ts}-${id:0:8}${BACKUP_ARCHIVE_SUFFIX}"
    log "this run: a $kind ($reason) -> $key"

    step stage-state
    state_dir="$scratch/state"
    archive_env=(ARCHIVE_KIND="$kind" ARCHIVE_ID="$id" ARCHIVE_KEY="$key" ARCHIVE_BUCKET="$BACKUP_BUCKET"
        ARCHIVE_CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" ARCHIVE_WORKSPACE="$OPENCLAW_WORKSPACE_DIR" ARCHIVE_SCRATCH="$scratch")
    if stage_state "$state_dir" "$scratch"; then archive_env+=(ARCHIVE_STATE="$state_dir"); fi
    if [[ $kind == diff ]]; then
        archive_env+=(ARCHIVE_BASE_KEY="$(base_value key)" ARCHIVE_BASE_ID="$(base_value id)" ARCHIVE_BASE_HEADER="$(base_value header)")
    fi
    [[ -e $BACKUP_INDEX_DIR/cache.index ]] || : >"$BACKUP_INDEX_DIR/cache.index"

    step archive
    # The agent user writes the plaintext archive into a pipe; only `age` (root) sees it, and only to encrypt it.
    if ! as_agent "${archive_env[@]}" "$NODE_BIN" /dev/fd/6 create 6<"$ARCHIVE_TOOL" \
        3<"$([[ $kind == diff ]] && echo "$BACKUP_INDEX_DIR/base.index" || echo /dev/null)" \
        4<"$BACKUP_INDEX_DIR/cache.index" 5>"$BACKUP_STAGING_DIR/index" 2>"$BACKUP_STAGING_DIR/archive.log" |
        "$AGE_BIN" -r "$BACKUP_RECIPIENT" -o "$BACKUP_STAGING_DIR/archive.age"; then
        sed 's/^/  /' "$BACKUP_STAGING_DIR/archive.log" | tail -n 20 >&2
        die "writing the archive failed"
    fi
    grep -v '^archive: ERROR' "$BACKUP_STAGING_DIR/archive.log" | sed 's/^/  /' || true
    summary=$(head -n 1 "$BACKUP_STAGING_DIR/index")
    [[ $summary == '# summary '* ]] || die "the archive tool wrote no index"
    files=$(sed -n 's/.* files=\([0-9]*\).*/\1/p' <<<"$summary")
    bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$summary")
    carried=$(sed -n 's/.* carried=\([0-9]*\).*/\1/p' <<<"$summary")
    archive_bytes=$(stat -c %s "$BACKUP_STAGING_DIR/archive.age")
    log "archive: $archive_bytes bytes encrypted ($files files, $bytes bytes in the tree; $carried carried)"

    step upload
    # One PUT (no multipart below 4 GiB), no lookup of the key first: it is new (time + random id). No MD5 pass
    # over the file first: age's authenticated encryption already makes any corruption fail the restore loudly.
    rclone_run copyto "$BACKUP_STAGING_DIR/archive.age" "$BACKUP_REMOTE/$key" --no-check-dest --s3-no-head \
        --s3-disable-checksum --s3-upload-cutoff 4G --s3-chunk-size 64M --s3-upload-concurrency 2 ||
        die "upload of $key failed (nothing else changed: the next run tries again)"

    if [[ ! -e $BACKUP_INDEX_DIR/marker.done ]]; then
        step marker
        ensure_marker "$key"
    fi

    step index
    # Only now does the local index move on: a failed run leaves the previous full and hashes in place.
    if [[ $kind == full ]]; then
        header=$("$NODE_BIN" "$ARCHIVE_TOOL" header "$BACKUP_STAGING_DIR/archive.age")
        cp -- "$BACKUP_STAGING_DIR/index" "$BACKUP_INDEX_DIR/base.index.tmp"
        printf 'key=%s\nid=%s\ntaken=%s\nrecipient=%s\nheader=%s\n' "$key" "$id" "$(date +%s)" "$BACKUP_RECIPIENT" "$header" \
            >"$BACKUP_INDEX_DIR/base.env.tmp"
        mv -f -- "$BACKUP_INDEX_DIR/base.index.tmp" "$BACKUP_INDEX_DIR/base.index"
        mv -f -- "$BACKUP_INDEX_DIR/base.env.tmp" "$BACKUP_INDEX_DIR/base.env"
    fi
    mv -f -- "$BACKUP_STAGING_DIR/index" "$BACKUP_INDEX_DIR/cache.index"

    step status
    write_status "last_success=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "last_snapshot=$key" "last_error=" \
        "last_attempt=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "last_files=$files" "last_bytes=$bytes" \
        "last_uploaded=$carried" "last_server_side_copies=0" \
        "last_duration_seconds=$(($(date +%s) - STARTED_AT))" "last_kind=$kind" "last_archive_bytes=$archive_bytes" \
        "last_full=$(base_value key)"
    log "backup done: $key ($kind, $archive_bytes bytes uploaded; $files files, $bytes bytes)"
}

main
