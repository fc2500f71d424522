// `npm run sync`: regenerates what the project derives from its single sources: Pulumi.yaml and the README's
// configuration reference (from the settings schema), the README's provider table and the CI workflows' provider
// tokens (from the provider registry). `--check` writes nothing and exits 1 when a file is stale (a test runs it).
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../components/core/pins";
import { renderPulumiYaml, withConfigReference, withProviderTable, withWorkflowCredentials } from "../components/project-file";

const readme = (text: string) => withProviderTable(withConfigReference(text));
const workflows = fs
    .readdirSync(path.join(PROJECT_ROOT, ".github", "workflows"))
    .filter((f) => f.endsWith(".yml"))
    .map((f) => ({ file: path.join(PROJECT_ROOT, ".github", "workflows", f), render: withWorkflowCredentials }));
const targets: { file: string; render: (current: string) => string }[] = [
    { file: path.join(PROJECT_ROOT, "Pulumi.yaml"), render: () => renderPulumiYaml() },
    { file: path.join(PROJECT_ROOT, "README.md"), render: readme },
    ...workflows,
];

let stale = 0;
for (const { file, render } of targets) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const wanted = render(current);
    if (current === wanted) continue;
    if (process.argv.includes("--check")) {
        console.error(`${path.relative(PROJECT_ROOT, file)} is out of date (settings schema or provider registry): run \`npm run sync\``);
        stale++;
    } else {
        fs.writeFileSync(file, wanted);
        console.log(`wrote ${path.relative(PROJECT_ROOT, file)}`);
    }
}
process.exit(stale ? 1 : 0);
