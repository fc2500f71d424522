// `npm run backup [-- --stack NAME]`: take a snapshot now, on the live host (the unit the timer starts).
// `npm run snapshots [-- --stack NAME | --access FILE] [--json]`: list the bucket FROM THIS MACHINE with the stack's
// read-only token and age identity, newest first by R2's LastModified (never by name, never through the host); the
// first column is what `restoreFrom`, `npm run restore -- --snapshot` and `npm run deploy -- --rebuild --before` use.
import { parseArgs } from "node:util";
import { connectTarget, TARGET_OPTIONS } from "./lib/target";
import { bucketAccess } from "./lib/backup-access";
import { formatCatalog, runBackup, snapshotCatalog } from "./lib/operations";

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            ...TARGET_OPTIONS,
            list: { type: "boolean", default: false },
            access: { type: "string" },
            json: { type: "boolean", default: false },
        },
    });
    if (values.list) {
        const access = await bucketAccess(values);
        const catalog = await snapshotCatalog(access);
        if (values.json) {
            const entries = catalog.entries.map((e) => ({
                id: e.id,
                kind: e.kind,
                size: e.size,
                lastModified: e.lastModified.toISOString(),
                status: e.status,
                reason: e.reason,
                base: e.base?.key,
            }));
            console.log(JSON.stringify({ bucket: access.bucket, heldSnapshots: catalog.heldSnapshots, entries }, null, 2));
        } else {
            console.log(formatCatalog(catalog, access.bucket));
        }
        return;
    }
    const remote = await connectTarget(values);
    try {
        const status = await runBackup(remote);
        console.log(
            `snapshot ${status.last_snapshot ?? "?"} taken (${status.last_kind ?? "?"}, last success ${status.last_success ?? "?"})`,
        );
    } finally {
        remote.dispose();
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
