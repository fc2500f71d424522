// `npm run backup [-- --stack NAME]`: take a snapshot now. `npm run snapshots`: list the complete snapshots, newest
// first (their ids are what `restoreFrom` and `npm run restore -- --snapshot ID` take).
import { parseArgs } from "node:util";
import { connectTarget, TARGET_OPTIONS } from "./lib/target";
import { listSnapshots, runBackup } from "./lib/operations";

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { ...TARGET_OPTIONS, list: { type: "boolean", default: false } } });
    const remote = await connectTarget(values);
    try {
        if (values.list) {
            const snapshots = await listSnapshots(remote);
            if (!snapshots.length) console.log("no complete snapshot yet");
            for (const s of snapshots) console.log(`${s.id}  ${s.time}${s.latest ? "  (latest)" : ""}`);
        } else {
            const status = await runBackup(remote);
            console.log(`snapshot ${status.last_snapshot ?? "?"} taken (last success ${status.last_success ?? "?"})`);
        }
    } finally {
        remote.dispose();
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
