// `npm run restore -- --snapshot ID|latest|before:TIME [--before TIME] [--stack NAME] [--access FILE]`: put a
// snapshot back on the live host. The snapshot is chosen and unwrapped HERE (read-only token, age identity); the
// host receives only a one-time key for that snapshot's archives. Its current workspace and state are moved aside on
// the host (never deleted); a missing, truncated or corrupt snapshot changes nothing.
import { parseArgs } from "node:util";
import { parseBeforeTime } from "../components/core/backup-layout";
import { readStackConfig } from "./lib/stack-config";
import { parseSettings } from "../components/settings";
import { connectTarget, TARGET_OPTIONS } from "./lib/target";
import { bucketAccess } from "./lib/backup-access";
import { restoreSnapshot } from "./lib/operations";

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: { ...TARGET_OPTIONS, snapshot: { type: "string" }, before: { type: "string" }, access: { type: "string" } },
    });
    if (values.before && !parseBeforeTime(values.before))
        throw new Error(`--before ${JSON.stringify(values.before)}: expected an ISO time with a zone, e.g. 2026-11-20T03:00:00Z`);
    const request = values.before ? `before:${values.before}` : values.snapshot;
    if (!request)
        throw new Error(
            "usage: npm run restore -- --snapshot <a snapshot from npm run snapshots | latest> | --before <ISO time> [--stack NAME]",
        );
    const port = parseSettings(readStackConfig(values.stack).config).settings.gatewayPort;
    const access = await bucketAccess(values);
    const remote = await connectTarget(values);
    try {
        const { plan, output } = await restoreSnapshot(remote, access, request, port);
        console.error(`restored: ${plan.summary}`);
        process.stdout.write(output);
    } finally {
        remote.dispose();
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
