// Regenerates Pulumi.yaml and the README's configuration reference from the settings schema
// (components/settings.ts), so what a user reads always matches what the program validates.
// `--check` exits 1 when either file is stale (a test runs it).
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../components/core/pins";
import { renderPulumiYaml, withConfigReference } from "../components/project-file";

const targets = [
    { file: path.join(PROJECT_ROOT, "Pulumi.yaml"), render: () => renderPulumiYaml() },
    { file: path.join(PROJECT_ROOT, "README.md"), render: () => withConfigReference(fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8")) },
];

let stale = 0;
for (const { file, render } of targets) {
    const wanted = render();
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (current === wanted) continue;
    if (process.argv.includes("--check")) {
        console.error(`${path.basename(file)} is out of date with components/settings.ts: run \`npx tsx scripts/sync-pulumi-yaml.ts\``);
        stale++;
    } else {
        fs.writeFileSync(file, wanted);
        console.log(`wrote ${file}`);
    }
}
process.exit(stale ? 1 : 0);
