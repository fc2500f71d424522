// `npm run restore -- --snapshot ID|latest [--stack NAME]`: put a snapshot back on the live host. The current
// workspace and state are moved aside on the host (never deleted); a missing or corrupt snapshot changes nothing.
import { parseArgs } from "node:util";
import { readStackConfig } from "./lib/stack-config";
import { parseSettings } from "../components/settings";
import { connectTarget, TARGET_OPTIONS } from "./lib/target";
import { restoreSnapshot } from "./lib/operations";

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { ...TARGET_OPTIONS, snapshot: { type: "string" } } });
    if (!values.snapshot) throw new Error("usage: npm run restore -- --snapshot <id from npm run snapshots | latest> [--stack NAME]");
    const port = parseSettings(readStackConfig(values.stack).config).settings.gatewayPort;
    const remote = await connectTarget(values);
    try {
        process.stdout.write(await restoreSnapshot(remote, values.snapshot, port));
    } finally {
        remote.dispose();
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
