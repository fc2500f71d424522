#!/usr/bin/env bash
# Shared code of the backup host scripts (backup.sh, restore.sh): settings, logging, the lock, and the old per-file
# layout's manifest (restore.sh still restores snapshots of that layout until they expire). Sourced, never run. Every
# path and user has an env override so tests run it unprivileged in temp dirs; the defaults are the host contract
# (docs/host-contract.md).
#
# The bucket (components/core/backup-layout.ts; backup.env carries the prefixes):
#   fulls/<TS>-<id8>.tar.zst.age   a daily full archive: tar + zstd, encrypted with age to BACKUP_RECIPIENT
#   diffs/<TS>-<id8>.tar.zst.age   an hourly cumulative diff: what changed since its full
#   meta/holds-snapshots           written by the first backup: a new server that finds no snapshot then fails
#   snapshots/<TS>/...             the old per-file layout (plaintext, MANIFEST last), restorable until it expires
# The archive format is cloud-init/backup-archive.js's. The host holds only the recipient (a public key): it can
# write archives but never read one back; choosing and unwrapping happen on the operator's machine.
set -euo pipefail

# --- settings --------------------------------------------------------------------------------------------------
# The host contract (components/core/host-contract.ts): shared paths and names (HOST_*), written by user data and the
# push. A HOST_* variable already set in the environment wins (tests point them at sandboxes).
readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"
OPENCLAW_VPS_ETC_DIR=${OPENCLAW_VPS_ETC_DIR:-$HOST_ETC_DIR}
OPENCLAW_VPS_LIB_DIR=${OPENCLAW_VPS_LIB_DIR:-$HOST_STATE_DIR}
BACKUP_ENV_FILE=${BACKUP_ENV_FILE:-$OPENCLAW_VPS_ETC_DIR/backup.env}

# Used by the scripts that source this library (backup.sh, restore.sh).
# shellcheck disable=SC2034
{
    readonly BACKUP_MANIFEST_VERSION="openclaw-vps-manifest v1"
    readonly SNAPSHOT_ID_PATTERN='^[0-9]{8}T[0-9]{6}Z$'
    readonly ARCHIVE_KEY_PATTERN='^(fulls|diffs)/[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}\.tar\.zst\.age$'
    readonly AGE_RECIPIENT_PATTERN='^age1[02-9ac-hj-np-z]{58}$'
}
# Top-level names in the OpenClaw state dir that a snapshot never carries and a restore never touches: secrets and
# config the deploy pushes again (.env, credentials, openclaw.json), plugin installs the deploy pins (npm,
# extensions), logs, and the workspace, which is its own part of the snapshot.
readonly DEFAULT_STATE_EXCLUDES=".env .env.* credentials openclaw.json openclaw.json.* npm extensions logs workspace"

# Reads KEY=value lines from backup.env without executing them. A variable already set in the environment wins, so
# an operator (or a test) can override one run.
load_backup_env() {
    local line key value
    [[ -f $BACKUP_ENV_FILE ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        [[ $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || die "unreadable line in $BACKUP_ENV_FILE: ${line%%=*}=..."
        key=${BASH_REMATCH[1]}
        value=${BASH_REMATCH[2]}
        # Optional surrounding quotes, as systemd EnvironmentFile= would accept them.
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
        if [[ -z ${!key+set} ]]; then
            printf -v "$key" '%s' "$value"
            export "${key?}"
        fi
    done <"$BACKUP_ENV_FILE"
}

# Call after load_backup_env: fills every remaining default from the host contract.
init_backup_settings() {
    AGENT_USER=${AGENT_USER:-$HOST_AGENT_USER}
    AGENT_HOME=${AGENT_HOME:-$HOST_AGENT_HOME}
    OPENCLAW_STATE_DIR=${OPENCLAW_STATE_DIR:-$AGENT_HOME/.openclaw}
    OPENCLAW_WORKSPACE_DIR=${OPENCLAW_WORKSPACE_DIR:-$OPENCLAW_STATE_DIR/workspace}
    OPENCLAW_BIN=${OPENCLAW_BIN:-openclaw}
    RCLONE_BIN=${RCLONE_BIN:-rclone}
    AGE_BIN=${AGE_BIN:-age}
    ZSTD_BIN=${ZSTD_BIN:-zstd}
    # Node: the current release's (on PATH); on a new server the first-boot restore runs before the push switches to
    # the release, so then the newest Node the release step staged side by side.
    if [[ -z ${NODE_BIN:-} ]]; then
        NODE_BIN=node
        if ! command -v node >/dev/null 2>&1; then
            local staged
            for staged in "${HOST_NODE_VERSIONS_DIR:-/nonexistent}"/v*/bin/node; do
                [[ -x $staged ]] && NODE_BIN=$staged
            done
        fi
    fi
    RCLONE_CONFIG_FILE=${RCLONE_CONFIG_FILE:-$OPENCLAW_VPS_ETC_DIR/rclone.conf}
    BACKUP_REMOTE=${BACKUP_REMOTE:-}
    BACKUP_RECIPIENT=${BACKUP_RECIPIENT:-}
    # The bucket layout comes from backup.env (rendered from components/core/backup-layout.ts), never retyped here.
    local name
    for name in BACKUP_FULL_PREFIX BACKUP_DIFF_PREFIX BACKUP_MARKER_KEY BACKUP_LEGACY_PREFIX BACKUP_ARCHIVE_SUFFIX \
        BACKUP_FULL_INTERVAL_SECONDS; do
        [[ -n ${!name:-} ]] || die "$name is not set (expected in $BACKUP_ENV_FILE, which the deploy writes)"
    done
    BACKUP_INCLUDE_STATE=${BACKUP_INCLUDE_STATE:-1}
    BACKUP_STATE_EXCLUDES=${BACKUP_STATE_EXCLUDES:-$DEFAULT_STATE_EXCLUDES}
    BACKUP_TRANSFERS=${BACKUP_TRANSFERS:-8}
    BACKUP_LOCK_WAIT_SECONDS=${BACKUP_LOCK_WAIT_SECONDS:-0}
    BACKUP_STATUS_FILE=${BACKUP_STATUS_FILE:-$OPENCLAW_VPS_LIB_DIR/backup.status}
    BACKUP_LOCK_FILE=${BACKUP_LOCK_FILE:-$OPENCLAW_VPS_LIB_DIR/backup.lock}
    BACKUP_INDEX_DIR=${BACKUP_INDEX_DIR:-$OPENCLAW_VPS_LIB_DIR/backup-index}
    # The archive tool is installed next to this library (whichever script sourced it).
    ARCHIVE_TOOL=${ARCHIVE_TOOL:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/backup-archive.js}
    [[ -n $BACKUP_REMOTE ]] || die "BACKUP_REMOTE is not set (expected r2:<bucket> in $BACKUP_ENV_FILE)"
    [[ $BACKUP_REMOTE =~ ^[A-Za-z0-9_-]+:[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$ ]] ||
        die "BACKUP_REMOTE must look like <remote>:<bucket>, got '$BACKUP_REMOTE'"
    # shellcheck disable=SC2034 # backup.sh binds each archive to it
    BACKUP_BUCKET=${BACKUP_REMOTE#*:}
    [[ $BACKUP_TRANSFERS =~ ^[1-9][0-9]?$ ]] || die "BACKUP_TRANSFERS must be 1-99, got '$BACKUP_TRANSFERS'"
    [[ $BACKUP_FULL_INTERVAL_SECONDS =~ ^[0-9]+$ ]] || die "BACKUP_FULL_INTERVAL_SECONDS must be a number of seconds"
    [[ -r $RCLONE_CONFIG_FILE ]] || die "rclone config $RCLONE_CONFIG_FILE is missing or unreadable"
    # rclone must not pick up a CA bundle meant for something else (and s3rver in tests is plain HTTP).
    unset AWS_CA_BUNDLE
    SNAPSHOTS_URL="${BACKUP_REMOTE%/}/${BACKUP_LEGACY_PREFIX%/}"
}

# Fails with the package to install when a tool the backups need is missing.
require_tool() { # tool package
    command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (apt-get install $2; provision.sh installs it on a new server)"
}

# --- logging ---------------------------------------------------------------------------------------------------
# stdout goes to the journal under systemd; the timestamp keeps it readable when run by hand or by the push.
log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${LOG_TAG:-backup}" "$*"; }
die() {
    log "ERROR: $*" >&2
    exit 1
}

# The comment block at the top of a script (after the shebang) is its help text.
print_script_help() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$1"; }

# --- rclone ----------------------------------------------------------------------------------------------------
# Credentials stay in the config file: only its path is ever on a command line.
rclone_run() { "$RCLONE_BIN" --config "$RCLONE_CONFIG_FILE" --retries 3 --low-level-retries 10 "$@"; }

# --- lock ------------------------------------------------------------------------------------------------------
# One lock for backup and restore: a restore never races a backup of the tree it is replacing.
take_backup_lock() {
    mkdir -p "$(dirname "$BACKUP_LOCK_FILE")"
    exec 9>>"$BACKUP_LOCK_FILE"
    flock -w "$BACKUP_LOCK_WAIT_SECONDS" 9 ||
        die "another backup or restore is running (lock $BACKUP_LOCK_FILE held)"
}

# --- the old per-file layout (restore only, until its snapshots expire) ------------------------------------------
# Manifest (snapshots/<TS>/MANIFEST), UTF-8 text, one entry per line, tab-separated, sorted by path:
#   <type> <mode> <size> <sha256> <path>
#   type F = regular file (sha256 of its bytes), L = symlink (stored by rclone as <path>.rclonelink; size and
#   sha256 of the link target text), D = directory (size 0, sha256 "-"). mode = octal permission bits.
#   path is relative to the snapshot root (workspace/..., state/...), with %, \, tab, CR and LF percent-encoded.
# Lines starting with '#' are comments (format version, snapshot id, totals).
legacy_snapshot_is_complete() {
    local id=$1 out
    out=$(rclone_run lsf --files-only "$SNAPSHOTS_URL/$id/MANIFEST") || die "cannot look up snapshot $id"
    [[ $out == MANIFEST ]]
}

# --- manifest --------------------------------------------------------------------------------------------------
encode_manifest_path() {
    local p=$1
    p=${p//'%'/%25}
    p=${p//\\/%5C}
    p=${p//$'\t'/%09}
    p=${p//$'\r'/%0D}
    p=${p//$'\n'/%0A}
    printf '%s' "$p"
}

decode_manifest_path() {
    local p=$1
    # Every backslash left after encoding came from a %XX escape, so printf %b only decodes what we encoded.
    p=${p//'%'/'\x'}
    printf '%b' "$p"
}

# Prints the manifest entries of DIR (no comments), sorted by path. Never follows a symlink: links are recorded by
# their target text, so a link to a root-only file cannot leak that file into a snapshot.
manifest_entries() {
    local dir=$1 type mode size path hash rel target
    (
        cd "$dir"
        declare -A file_hash=()
        # One sha256sum per batch of files, NUL-separated so any file name survives.
        while IFS= read -r -d '' line; do
            hash=${line%% *}
            rel=${line#* }
            rel=${rel#?} # sha256sum -z puts two characters (space + mode flag) between hash and name
            rel=${rel#./}
            file_hash[$rel]=$hash
        done < <(find . -type f -print0 | xargs -0 -r sha256sum -z --)
        while IFS= read -r -d '' line; do
            type=${line%%/*}
            line=${line#*/}
            mode=${line%%/*}
            line=${line#*/}
            size=${line%%/*}
            path=${line#*/}
            [[ -z $path ]] && continue
            mode=000$mode
            mode=${mode: -4}
            case $type in
                f)
                    hash=${file_hash[$path]:?no hash for $path}
                    printf 'F\t%s\t%s\t%s\t' "$mode" "$size" "$hash"
                    ;;
                l)
                    target=$(
                        readlink -- "$path"
                        printf x
                    )
                    target=${target%$'\nx'}
                    hash=$(printf '%s' "$target" | sha256sum)
                    hash=${hash%% *}
                    printf 'L\t0777\t%s\t%s\t' "$(printf '%s' "$target" | wc -c)" "$hash"
                    ;;
                d) printf 'D\t%s\t0\t-\t' "$mode" ;;
                *)
                    log "skipping special file $(encode_manifest_path "$path") (type $type)" >&2
                    continue
                    ;;
            esac
            encode_manifest_path "$path"
            printf '\n'
        done < <(find . -printf '%y/%m/%s/%P\0')
    ) | LC_ALL=C sort -t $'\t' -k5,5
}

# The comparable part of manifest lines: type, size, sha256, path (modes are not carried by object storage; the
# restore applies them from the manifest after verification).
manifest_comparable() { grep -v '^#' | awk -F'\t' 'BEGIN{OFS="\t"} $1=="F"||$1=="L"{print $1,$3,$4,$5}' | LC_ALL=C sort; }
