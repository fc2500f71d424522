// Operator actions. A backup runs on the live host (over SSH as the admin user with sudo: the same unit the timer
// starts). Listing and choosing snapshots run HERE, on the operator's machine, with the stack's read-only token and
// the age identity (scripts/lib/backup-access.ts), never through the host, which could lie. A restore onto the live
// host is planned here too; only the plan (a one-time key for the chosen archives) goes to the host, on stdin.
import { HOST_DIRS } from "../../components/core/host-contract";
import { RemoteHost, RunResult } from "../../components/remote";
import { Catalog, CatalogEntry, inspectAll, listCatalog, newestRestorable } from "../../components/snapshots/catalog";
import { planRestore, RestorePlan } from "../../components/snapshots/plan";
import { S3Client } from "../../components/snapshots/s3";
import type { BucketAccess } from "./backup-access";

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
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).replace(/^'(.*)'$/, "$1")]),
    );
}

/** Every object of the bucket, inspected with the identity, newest first by R2's LastModified. */
export async function snapshotCatalog(access: BucketAccess): Promise<Catalog> {
    const client = new S3Client(access);
    const catalog = await listCatalog(client);
    await inspectAll(client, catalog, access.identity);
    return catalog;
}

/** The newest restorable snapshot by R2's LastModified (what `restoreFrom: latest` would restore), reading as few
 *  archives as it takes (one ranged GET for a valid newest one; forged or foreign objects are skipped). */
export async function newestSnapshot(access: BucketAccess): Promise<{ newest?: CatalogEntry; heldSnapshots: boolean }> {
    const client = new S3Client(access);
    const catalog = await listCatalog(client);
    const newest = await newestRestorable(client, catalog, access.identity, () => true);
    return { newest, heldSnapshots: catalog.heldSnapshots };
}

function size(bytes: number): string {
    if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
    if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
    return `${(bytes / 1e3).toFixed(1)} kB`;
}

const when = (e: CatalogEntry) => e.lastModified.toISOString().replace(/\.\d{3}Z$/, "Z");

/** The table `npm run snapshots` prints: restorable snapshots (newest first, the latest marked), then what is ignored. */
export function formatCatalog(catalog: Catalog, bucket: string): string {
    const ok = catalog.entries.filter((e) => e.status === "ok");
    const ignored = catalog.entries.filter((e) => e.status !== "ok");
    const lines: string[] = [];
    if (!ok.length) {
        lines.push(
            catalog.heldSnapshots
                ? `bucket ${bucket} has held snapshots but holds no restorable one now (a new server would refuse to start empty)`
                : `bucket ${bucket} holds no snapshot yet`,
        );
    } else {
        lines.push(`written (R2, UTC)      kind    size       snapshot (a restoreFrom value)`);
        ok.forEach((e, i) =>
            lines.push(
                `${when(e).padEnd(22)} ${e.kind.padEnd(7)} ${size(e.size).padStart(9)}  ${e.id}${e.kind === "diff" ? ` (on ${e.base?.key})` : ""}${i === 0 ? "  (latest)" : ""}`,
            ),
        );
    }
    if (ignored.length) {
        lines.push("", `ignored (${ignored.length}: not a valid snapshot of this bucket, never restored):`);
        for (const e of ignored) lines.push(`${when(e).padEnd(22)} ${e.id}: ${e.reason}`);
    }
    return lines.join("\n");
}

/**
 * Restore onto the live host: plan here (`request` is any restoreFrom value but none), then restore.sh on the host
 * with the plan on stdin; it stops the gateway, swaps verified files in, starts it again, and we wait for /readyz.
 */
export async function restoreSnapshot(
    remote: RemoteHost,
    access: BucketAccess,
    request: string,
    gatewayPort: number,
    readyTimeoutSeconds = 180,
): Promise<{ plan: RestorePlan; output: string }> {
    if (request === "none") throw new OperationError("--snapshot none restores nothing");
    const plan = await planRestore({ ...access, restoreFrom: request });
    if (plan.mode === "empty") throw new OperationError(`bucket ${access.bucket} holds no snapshot to restore`);
    const script = [
        "set -euo pipefail",
        `${HOST_BIN}/restore.sh --plan - <<'OPENCLAW_VPS_RESTORE_PLAN_EOF'`,
        plan.text.trimEnd(),
        "OPENCLAW_VPS_RESTORE_PLAN_EOF",
        `for _ in $(seq ${readyTimeoutSeconds}); do`,
        `  curl -fsS -o /dev/null http://127.0.0.1:${gatewayPort}/readyz && { echo "gateway ready"; exit 0; }`,
        "  sleep 1",
        "done",
        `echo "the gateway did not become ready within ${readyTimeoutSeconds}s after the restore" >&2`,
        "exit 1",
    ].join("\n");
    const result = check(await remote.runScript(script, { sudo: true }), `restoring ${plan.chosen?.id ?? request}`);
    return { plan, output: result.stdout };
}
