#!/usr/bin/env bash
# Lists the complete snapshots (those with a MANIFEST) in the backup bucket, newest first, one per line:
#   <snapshot id>  <UTC time>  [latest]
# "latest" marks the snapshot pointers/latest names. Incomplete snapshots (an interrupted upload) are never listed:
# restore.sh refuses them. Used by `npm run snapshots`. Prints nothing (and a note on stderr) for an empty bucket.
# Usage: list-snapshots.sh [--ids]   (--ids: only the ids)
set -euo pipefail
LOG_TAG=list-snapshots
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cloud-init/backup-lib.sh
source "$SCRIPT_DIR/backup-lib.sh"

IDS_ONLY=0
case ${1:-} in
    "") ;;
    --ids) IDS_ONLY=1 ;;
    -h | --help)
        print_script_help "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *) die "unknown argument '$1'" ;;
esac

load_backup_env
init_backup_settings

snapshots=$(list_complete_snapshots)
if [[ -z $snapshots ]]; then
    log "no complete snapshot in $BACKUP_REMOTE yet" >&2
    exit 0
fi
latest=$(resolve_latest_snapshot)
while IFS= read -r id; do
    if [[ $IDS_ONLY == 1 ]]; then
        printf '%s\n' "$id"
        continue
    fi
    when="${id:0:4}-${id:4:2}-${id:6:2}T${id:9:2}:${id:11:2}:${id:13:2}Z"
    printf '%s  %s%s\n' "$id" "$when" "$([[ $id == "$latest" ]] && printf '  latest')"
done <<<"$snapshots"
