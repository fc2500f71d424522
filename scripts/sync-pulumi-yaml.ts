// Regenerates Pulumi.yaml from the settings schema (components/settings.ts), so the `config:` block a user reads
// always matches what the program validates. `--check` exits 1 when the file is stale (a test runs it).
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../components/pins";
import { renderPulumiYaml } from "../components/project-file";

const file = path.join(PROJECT_ROOT, "Pulumi.yaml");
const wanted = renderPulumiYaml();
if (process.argv.includes("--check")) {
    const current = fs.readFileSync(file, "utf8");
    if (current !== wanted) {
        console.error("Pulumi.yaml is out of date with components/settings.ts: run `npx tsx scripts/sync-pulumi-yaml.ts`");
        process.exit(1);
    }
    console.log("Pulumi.yaml matches the settings schema");
} else {
    fs.writeFileSync(file, wanted);
    console.log(`wrote ${file}`);
}
