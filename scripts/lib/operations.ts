// Operator actions on a live host, over SSH as the admin user with sudo: take a backup now, list the snapshots in
// the bucket, restore a chosen snapshot. They call the host's own scripts (installed by the push in
// /opt/openclaw-vps/bin), so what an operator runs is what the timer and the first boot run.
import { HOST_DIRS } from "../../components/core/host-contract";
import { RemoteHost, RunResult } from "../../components/remote";
import { SNAPSHOT_ID } from "../../components/render/rclone";

export const HOST_BIN = HOST_DIRS.bin;

export class OperationError extends Error {}

function check(result: RunResult, what: string): RunResult {
    if (result.code !== 0) throw new OperationError(`${what} failed (exit ${result.code}):\n${(result.stderr || result.stdout).trim()}`);
    return result;
}

/** Runs the backup service now (same unit as the timer) and returns the status file it left. */
export async function runBackup(remote: RemoteHost): Promise<Record<string, string>> {
    const script = [
        "set -uo pipefail",
        "if ! systemctl start openclaw-backup.service; then",
        "  journalctl -u openclaw-backup.service -n 40 --no-pager >&2",
        "  exit 1",
        "fi",
        "cat /var/lib/openclaw-vps/backup.status",
    ].join("\n");
    const result = check(await remote.runScript(script, { sudo: true }), "backup");
    return Object.fromEntries(
        result.stdout
            .split("\n")
            .filter((l) => l.includes("="))
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
}

export interface SnapshotEntry {
    id: string;
    time: string;
    latest: boolean;
}

/** Complete snapshots, newest first (list-snapshots.sh prints `<id>  <time>  [latest]`). */
export async function listSnapshots(remote: RemoteHost): Promise<SnapshotEntry[]> {
    const result = check(await remote.runScript(`exec ${HOST_BIN}/list-snapshots.sh`, { sudo: true }), "listing snapshots");
    return result.stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => SNAPSHOT_ID.test(f[0] ?? ""))
        .map((f) => ({ id: f[0], time: f[1] ?? "", latest: f.includes("latest") }));
}

/** Restore `snapshot` (an id or "latest"): restore.sh stops the gateway, swaps verified files in, starts it again. */
export async function restoreSnapshot(
    remote: RemoteHost,
    snapshot: string,
    gatewayPort: number,
    readyTimeoutSeconds = 180,
): Promise<string> {
    if (snapshot !== "latest" && !SNAPSHOT_ID.test(snapshot)) {
        throw new OperationError(
            `--snapshot must be latest or a snapshot id such as 20261126T050000Z (see npm run snapshots), got ${JSON.stringify(snapshot)}`,
        );
    }
    const script = [
        "set -euo pipefail",
        `${HOST_BIN}/restore.sh --snapshot ${snapshot}`,
        `for _ in $(seq ${readyTimeoutSeconds}); do`,
        `  curl -fsS -o /dev/null http://127.0.0.1:${gatewayPort}/readyz && { echo "gateway ready"; exit 0; }`,
        "  sleep 1",
        "done",
        `echo "the gateway did not become ready within ${readyTimeoutSeconds}s after the restore" >&2`,
        "exit 1",
    ].join("\n");
    return check(await remote.runScript(script, { sudo: true }), `restoring ${snapshot}`).stdout;
}
