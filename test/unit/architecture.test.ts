// The module graph: imports flow one way (scripts → index → components → render and providers → core), the policy
// pack depends on nothing in scripts/, the stand-in host on nothing in scripts/ or test/, and no production file
// imports test/. Read from the source files themselves, so a new import against the flow fails here.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";

type Layer = "core" | "render" | "providers" | "components" | "policy" | "index" | "standin" | "scripts" | "test";

/** Which layers each layer may import (itself included). Everything not listed is against the flow. */
export const ALLOWED: Record<Layer, readonly Layer[]> = {
    core: ["core"],
    render: ["core", "render"],
    providers: ["core", "providers"],
    components: ["core", "render", "providers", "components"],
    policy: ["core", "render", "providers", "components", "policy"],
    index: ["core", "render", "providers", "components"],
    standin: ["core", "render", "providers", "components", "standin"],
    scripts: ["core", "render", "providers", "components", "policy", "index", "standin", "scripts"],
    test: ["core", "render", "providers", "components", "policy", "index", "standin", "scripts", "test"],
};

function layerOf(file: string): Layer | undefined {
    const rel = path.relative(PROJECT_ROOT, file).split(path.sep).join("/");
    if (rel === "index.ts") return "index";
    if (rel.startsWith("components/core/")) return "core";
    if (rel.startsWith("components/render/")) return "render";
    if (rel.startsWith("components/providers/")) return "providers";
    if (rel.startsWith("components/")) return "components";
    for (const top of ["policy", "standin", "scripts", "test"] as const) if (rel.startsWith(`${top}/`)) return top;
    return undefined;
}

function sourceFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(full);
        return entry.name.endsWith(".ts") ? [full] : [];
    });
}

const IMPORT =
    /(?:^|\n)\s*(?:import|export)\s(?:[^"';]*?\sfrom\s)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)|\brequire\(\s*["']([^"']+)["']\s*\)|\brequire\.resolve\(\s*["']([^"']+)["']/g;

/** Relative imports of a file (its text given, or read), resolved to files of the repository. */
export function localImports(file: string, text = fs.readFileSync(file, "utf8")): string[] {
    const found: string[] = [];
    for (const match of text.matchAll(IMPORT)) {
        const spec = match[1] ?? match[2] ?? match[3] ?? match[4];
        if (!spec.startsWith(".")) continue;
        const base = path.resolve(path.dirname(file), spec);
        const candidates = [base, `${base}.ts`, path.join(base, "index.ts")];
        const target = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
        if (target) found.push(target);
    }
    return found;
}

function violations(files: string[], texts: Record<string, string> = {}): string[] {
    const problems: string[] = [];
    for (const file of files) {
        const from = layerOf(file);
        if (!from) continue;
        for (const target of localImports(file, texts[file])) {
            const to = layerOf(target);
            if (to && !ALLOWED[from].includes(to)) {
                problems.push(`${path.relative(PROJECT_ROOT, file)} (${from}) imports ${path.relative(PROJECT_ROOT, target)} (${to})`);
            }
        }
    }
    return problems;
}

const ALL_FILES = ["components", "policy", "standin", "scripts", "test"]
    .flatMap((d) => sourceFiles(path.join(PROJECT_ROOT, d)))
    .concat(path.join(PROJECT_ROOT, "index.ts"));

test("every import follows the flow: scripts → index → components → render/providers → core; nothing production imports test/", () => {
    assert.deepEqual(violations(ALL_FILES), []);
});

test("the check sees imports against the flow (import, export-from, require, dynamic import)", () => {
    // A renderer that would import settings, scripts and tests (checked as text: nothing is written to the tree).
    const probe = path.join(PROJECT_ROOT, "components", "render", "flow-probe.ts");
    const text = [
        'import { parseSettings } from "../settings";',
        'export { AGENT_USER } from "../core/host-contract";',
        'const x = require("../../scripts/lib/setup");',
        'const y = import("../../test/helpers/plan");',
    ].join("\n");
    const found = violations([probe], { [probe]: text });
    assert.equal(found.length, 3, found.join("\n"));
    assert.match(found.join("\n"), /imports components\/settings\/index\.ts \(components\)/);
    assert.match(found.join("\n"), /imports scripts\/lib\/setup\.ts \(scripts\)/);
    assert.match(found.join("\n"), /imports test\/helpers\/plan\.ts \(test\)/);
});
