// `npm run plan -- [--stack NAME] [--json] [--out DIR] [--set KEY=VALUE]... [--secret KEY=VALUE]...`
// The offline plan: runs the real program (index.ts) under Pulumi's mock engine with the stack's config. No
// credentials, no Pulumi CLI, no cloud. Prints the resource tree (or JSON), and with --out writes every file the
// server will get, so you can review exactly what lands on your host. Invalid config exits 2 and plans nothing.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, parseSettings } from "../components/settings";
import { PlannedResource, planProgram, SECRET } from "./lib/mock-engine";
import { readStackConfig } from "./lib/stack-config";

const USAGE = "usage: npm run plan -- [--stack NAME] [--json] [--out DIR] [--set KEY=VALUE]... [--secret KEY=VALUE]...";

interface HostFile {
    path: string;
    owner: string;
    group?: string;
    mode: string;
    policy: string;
    content: string;
}

function summarize(value: unknown): string {
    if (value === SECRET) return SECRET;
    if (typeof value === "string") {
        if (value.length > 90)
            return `<${value.length} bytes, sha256 ${crypto.createHash("sha256").update(value).digest("hex").slice(0, 12)}>`;
        return JSON.stringify(value);
    }
    const json = JSON.stringify(value);
    return json.length > 110 ? `${json.slice(0, 107)}...` : json;
}

export function renderTree(resources: PlannedResource[]): string {
    const children = new Map<string | undefined, PlannedResource[]>();
    for (const r of resources) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const lines: string[] = [];
    const walk = (parent: string | undefined, prefix: string) => {
        const list = children.get(parent) ?? [];
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            const flags = [
                r.protect ? "protect" : "",
                r.retainOnDelete ? "retainOnDelete" : "",
                r.deleteBeforeReplace ? "deleteBeforeReplace" : "",
                r.import ? `import=${r.import}` : "",
                r.dependsOn.length ? `dependsOn=${r.dependsOn.join(",")}` : "",
            ].filter(Boolean);
            lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${flags.length ? `  [${flags.join(" ")}]` : ""}`);
            const inner = prefix + (last ? "   " : "│  ");
            if (r.custom) {
                for (const [k, v] of Object.entries(r.inputs)) lines.push(`${inner}    ${k}: ${summarize(v)}`);
            }
            walk(r.name, inner);
        });
    };
    walk(undefined, "");
    return lines.join("\n");
}

/** Write user data and every host file under DIR; secret contents are written as [secret]. */
export function writeOut(dir: string, resources: PlannedResource[]): string[] {
    const written: string[] = [];
    fs.mkdirSync(dir, { recursive: true });
    for (const r of resources) {
        if (typeof r.inputs.userData === "string") {
            const file = path.join(dir, "user-data.yaml");
            fs.writeFileSync(file, r.inputs.userData);
            written.push(file);
        }
    }
    const host = resources.find((r) => r.type === "openclaw-vps:index:AgentHost");
    const files = (host?.inputs.files ?? []) as HostFile[];
    const manifest = ["# path\towner:group\tmode\tpolicy\tsha256"];
    for (const f of files) {
        const target = path.join(dir, "host", f.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, f.content);
        written.push(target);
        const sha = f.content === SECRET ? SECRET : crypto.createHash("sha256").update(f.content).digest("hex");
        manifest.push(`${f.path}\t${f.owner}:${f.group ?? f.owner}\t${f.mode}\t${f.policy}\t${sha}`);
    }
    const manifestFile = path.join(dir, "host-files.tsv");
    fs.writeFileSync(manifestFile, `${manifest.join("\n")}\n`);
    written.push(manifestFile);
    return written;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "prod" },
            json: { type: "boolean", default: false },
            out: { type: "string" },
            set: { type: "string", multiple: true, default: [] },
            secret: { type: "string", multiple: true, default: [] },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const stack = readStackConfig(values.stack!, { set: values.set, secret: values.secret });
    for (const w of stack.warnings) console.error(`warning: ${w}`);

    // Validate first, with the same rules the program applies, so a bad config plans nothing. (Its warnings are
    // printed by the program itself, as `pulumi up` would.)
    try {
        parseSettings(stack.config, { secretKeys: new Set(stack.secretKeys) });
    } catch (err) {
        if (err instanceof ConfigError) {
            console.error(err.message);
            process.exit(2);
        }
        throw err;
    }

    // Quiet the program's own pulumi.log warnings (already printed above) by loading it only now.
    const program = (await import("../index")).default;
    const plan = await planProgram(program, stack.config, stack.secretKeys, { stack: values.stack });

    if (values.json) {
        const rows = plan.resources.map((r) => ({
            type: r.type,
            name: r.name,
            parent: r.parent ?? null,
            inputs: r.inputs,
            dependsOn: r.dependsOn,
            protect: r.protect,
            retainOnDelete: r.retainOnDelete,
        }));
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else {
        console.log(renderTree(plan.resources));
        console.log("\nOutputs:");
        for (const [k, v] of Object.entries(plan.outputs)) console.log(`    ${k}: ${summarize(v)}`);
        console.log(
            `\n${plan.resources.filter((r) => r.custom).length} resources would be created (offline plan: mock engine, no cloud calls).`,
        );
    }
    if (values.out) {
        const written = writeOut(values.out, plan.resources);
        console.error(`wrote ${written.length} files under ${values.out}`);
    }
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        console.error(USAGE);
        process.exit(1);
    });
}
