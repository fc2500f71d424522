// `npm run upgrade -- --to VERSION [--dry-run] [--keep-only] [--stack NAME]`: moves the project to another OpenClaw
// release. It locks VERSION the way the project locks everything (npm resolves it once, into package-lock.json, in a
// scratch copy of the project), derives the host's release from that lock, and shows what a deploy would do with it
// (the offline plan, before and after: the server, the tunnel and the gateway token stay; the push changes).
//   --dry-run    shows all of that and changes nothing in the repository.
//   --keep-only  keeps VERSION's release in releases/ (a version `openclawVersion` may name) without pinning it.
//   (default)    pins VERSION in package.json and the lock, keeps the outgoing pin's release in releases/ (the one
//                previous release a host can go back to by config), `npm ci`, `npm run sync`, runs the config tests
//                against VERSION and shows the plan. `npm run deploy` then upgrades the host in place.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as semver from "semver";
import { PROJECT_ROOT } from "../components/core/pins";
import {
    HostRelease,
    KEPT_RELEASES_DIR,
    OPENCLAW_PACKAGE,
    readKeptRelease,
    readProjectRelease,
    writeKeptRelease,
    type ProjectLock,
} from "../components/render/openclaw-release";

const USAGE = "usage: npm run upgrade -- --to VERSION [--dry-run] [--keep-only] [--stack NAME]";

function say(line = ""): void {
    console.log(line);
}

function sh(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; quiet?: boolean } = {}) {
    const result = spawnSync(command, args, {
        cwd: options.cwd ?? PROJECT_ROOT,
        env: { ...process.env, ...options.env },
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        stdio: options.quiet ? "pipe" : ["ignore", "pipe", "inherit"],
    });
    if (result.error) throw result.error;
    return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** VERSION resolved by npm in a scratch copy of the project: its package.json and lock, with nothing else changed. */
export function lockVersion(version: string): { dir: string; release: HostRelease } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-vps-upgrade-"));
    for (const file of ["package.json", "package-lock.json", ".npmrc"]) {
        if (fs.existsSync(path.join(PROJECT_ROOT, file))) fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(dir, file));
    }
    const result = sh(
        "npm",
        ["install", "--package-lock-only", "--save-exact", "--ignore-scripts", "--no-audit", "--no-fund", `${OPENCLAW_PACKAGE}@${version}`],
        { cwd: dir, quiet: true },
    );
    if (result.status !== 0) throw new Error(`npm could not lock ${OPENCLAW_PACKAGE}@${version}:\n${result.stderr}`);
    return { dir, release: readProjectRelease(dir) };
}

/** Packages added, removed and changed between two releases' locks. */
function lockDiff(from: HostRelease, to: HostRelease): { added: string[]; removed: string[]; changed: string[] } {
    const a = (JSON.parse(from.lockJson) as ProjectLock).packages;
    const b = (JSON.parse(to.lockJson) as ProjectLock).packages;
    const name = (p: string) => p.slice(p.lastIndexOf("node_modules/") + "node_modules/".length);
    const added = Object.keys(b).filter((p) => p && !(p in a));
    const removed = Object.keys(a).filter((p) => p && !(p in b));
    const changed = Object.keys(b).filter((p) => p && p in a && a[p]!.version !== b[p]!.version);
    return {
        added: added.map((p) => `${name(p)}@${b[p]!.version}`),
        removed: removed.map((p) => `${name(p)}@${a[p]!.version}`),
        changed: changed.map((p) => `${name(p)} ${a[p]!.version} -> ${b[p]!.version}`),
    };
}

interface Row {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

function plan(stack: string, set: string[], env: NodeJS.ProcessEnv = {}): Row[] {
    const args = ["--import", "tsx", "scripts/plan.ts", "--json", "--stack", stack, ...set.flatMap((s) => ["--set", s])];
    const result = sh(process.execPath, args, { env, quiet: true });
    if (result.status !== 0) throw new Error(`the offline plan failed:\n${result.stderr}`);
    return JSON.parse(result.stdout) as Row[];
}

/** Which resources of the plan change between two versions (inputs that differ), by name. */
export function planDiff(before: Row[], after: Row[]): { changed: Row[]; same: Row[]; added: Row[]; removed: Row[] } {
    const byName = new Map(before.map((r) => [r.name, r]));
    const afterNames = new Set(after.map((r) => r.name));
    const changed: Row[] = [];
    const same: Row[] = [];
    const added: Row[] = [];
    for (const r of after) {
        const old = byName.get(r.name);
        if (!old) added.push(r);
        else if (JSON.stringify(old.inputs) === JSON.stringify(r.inputs)) same.push(r);
        else changed.push(r);
    }
    return { changed, same, added, removed: before.filter((r) => !afterNames.has(r.name)) };
}

function nodeMajorFor(release: HostRelease): number {
    return semver.minVersion(release.nodeEngines)?.major ?? 24;
}

function showPreview(stack: string, from: HostRelease, to: HostRelease, extraReleases?: string): void {
    const env = extraReleases ? { OPENCLAW_VPS_RELEASES_DIR: extraReleases } : {};
    const before = plan(stack, [`openclawVersion=${from.version}`, `nodeMajor=${nodeMajorFor(from)}`], env);
    const after = plan(stack, [`openclawVersion=${to.version}`, `nodeMajor=${nodeMajorFor(to)}`], env);
    const diff = planDiff(before, after);
    say(`The deploy (offline plan of stack ${stack}, openclaw ${from.version} -> ${to.version}):`);
    for (const r of diff.changed) {
        const keys = Object.keys(r.inputs).filter(
            (k) => JSON.stringify(r.inputs[k]) !== JSON.stringify(before.find((b) => b.name === r.name)!.inputs[k]),
        );
        say(`  ~ update  ${r.name} (${r.type}): ${keys.join(", ")}`);
    }
    for (const r of diff.added) say(`  + create  ${r.name} (${r.type})`);
    for (const r of diff.removed) say(`  - delete  ${r.name} (${r.type})`);
    const servers = diff.same.filter((r) => /:(Server|Droplet)$/.test(r.type)).map((r) => r.name);
    say(`  = unchanged: ${diff.same.length} resources, among them ${[...servers, "the tunnel", "the gateway token"].join(", ")}`);
    const replaced = diff.changed.filter((r) => /:(Server|Droplet)$|TunnelCloudflared:|RandomPassword/.test(r.type));
    if (replaced.length) say(`  ! WARNING: ${replaced.map((r) => r.name).join(", ")} would change: that is not an in-place upgrade`);
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            to: { type: "string" },
            "dry-run": { type: "boolean", default: false },
            "keep-only": { type: "boolean", default: false },
            stack: { type: "string", default: "prod" },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) return say(USAGE);
    const version = values.to;
    if (!version || !semver.valid(version)) throw new Error(`--to needs an exact version such as 2026.9.6\n${USAGE}`);
    const current = readProjectRelease();
    if (version === current.version && !values["keep-only"]) {
        say(`openclaw ${version} is already the pin: nothing to do`);
        return;
    }

    say(`Locking ${OPENCLAW_PACKAGE}@${version} (npm resolves it once, in a scratch copy of the project)...`);
    const { dir, release } = lockVersion(version);
    try {
        const diff = lockDiff(current, release);
        say(`openclaw ${current.version} -> ${release.version}: Node ${current.nodeEngines} -> ${release.nodeEngines}`);
        say(
            `  the host's tree: ${release.packages} packages (${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed versions)`,
        );
        for (const line of diff.changed.slice(0, 15)) say(`    ${line}`);
        if (diff.changed.length > 15) say(`    ... and ${diff.changed.length - 15} more`);
        const packages = (JSON.parse(release.lockJson) as ProjectLock).packages;
        const decided = JSON.parse(release.packageJson).allowScripts ?? {};
        const undecided = Object.entries(packages)
            .filter(([p, e]) => p && e.hasInstallScript && !e.optional)
            .map(([p, e]) => e.name ?? p.slice(p.lastIndexOf("node_modules/") + "node_modules/".length))
            .filter((name) => !(name in decided));
        if (undecided.length) {
            say(`  install scripts nobody decided yet (npm will not run them): ${[...new Set(undecided)].join(", ")}`);
            say('  decide each in package.json `allowScripts` (README, "What npm ci runs") and run this again');
        }
        if (nodeMajorFor(release) !== nodeMajorFor(current)) {
            say(
                `  Node: ${release.version} needs Node ${nodeMajorFor(release)}: the host gets it side by side (nodeMajor follows the pin)`,
            );
        }

        if (values["keep-only"]) {
            const kept = writeKeptRelease(release);
            say(`kept ${path.relative(PROJECT_ROOT, kept)}: \`pulumi config set openclawVersion ${version}\` deploys it in place`);
            return;
        }
        if (values["dry-run"]) {
            const extra = path.join(dir, "releases");
            writeKeptRelease(release, extra);
            showPreview(values.stack!, current, release, extra);
            say("\n--dry-run: nothing was changed. Without it: pin it, `npm ci`, `npm run sync`, config tests, then `npm run deploy`.");
            return;
        }

        // Pin it; the outgoing pin becomes the one kept release (a host can go back to it by config).
        for (const entry of fs.existsSync(KEPT_RELEASES_DIR) ? fs.readdirSync(KEPT_RELEASES_DIR) : []) {
            const kept = readKeptRelease(path.join(KEPT_RELEASES_DIR, entry));
            if (kept.version !== current.version) fs.rmSync(path.join(KEPT_RELEASES_DIR, entry), { recursive: true, force: true });
        }
        writeKeptRelease(current);
        for (const file of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(dir, file), path.join(PROJECT_ROOT, file));
        say(`pinned openclaw ${version}; kept releases/openclaw-${current.version}`);
        for (const [what, command, args] of [
            ["npm ci (the new tree, for the tests)", "npm", ["ci", "--no-audit", "--no-fund"]],
            ["npm run sync (openclawVersion and nodeMajor defaults follow the pin)", "npm", ["run", "sync"]],
            [
                "the config tests against the new version",
                process.execPath,
                ["--import", "tsx", "--test", "test/unit/openclaw-config.test.ts", "test/tools/openclaw-validate.test.ts"],
            ],
        ] as const) {
            say(`- ${what}`);
            const result = spawnSync(command, [...args], { cwd: PROJECT_ROOT, stdio: "inherit" });
            if (result.status !== 0) {
                throw new Error(
                    `${what} failed. Undo with: git checkout package.json package-lock.json releases/ Pulumi.yaml README.md && npm ci`,
                );
            }
        }
        showPreview(values.stack!, readKeptRelease(path.join(KEPT_RELEASES_DIR, `${OPENCLAW_PACKAGE}-${current.version}`)), release);
        say(
            "\nNext: `npm run test:all` (the stand-in VPS upgrades too), then `npm run deploy`: the host upgrades in place, rolled back on failure.",
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    main().catch((error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
    });
}
