// Test utilities of the backup area: a real OpenClaw state made by the pinned `openclaw onboard` (installed into a
// throwaway host of standin/backup-host.ts), tree hashing to prove byte-identical round trips, and searching files
// for secret sentinels. The bucket and the throwaway host themselves are stand-ins: standin/bucket.ts, backup-host.ts.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generateIdentity } from "../../components/core/age";
import { agentIds, chownTree, OPENCLAW_BIN, TOOLS_PATH, type BackupHost } from "../../standin/backup-host";

/** The operator's age key pair per bucket (what `npm run deploy` generates per stack), made once per test process. */
const OPERATOR_KEYS = new Map<string, { identity: string; recipient: string }>();
export function keysOf(bucket: string): { identity: string; recipient: string } {
    if (!OPERATOR_KEYS.has(bucket)) OPERATOR_KEYS.set(bucket, generateIdentity());
    return OPERATOR_KEYS.get(bucket)!;
}

/** Fails (never skips) when a tool the tests need is missing, naming the package that provides it. */
export function requireTools(tools: Record<string, string>): void {
    const missing = Object.entries(tools).filter(([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
    if (missing.length > 0) {
        throw new Error(`missing tools: ${missing.map(([tool, pkg]) => `${tool} (apt-get install ${pkg})`).join(", ")}`);
    }
}

// --- OpenClaw state ---------------------------------------------------------------------------------------------

/**
 * A real OpenClaw state dir (config, state/openclaw.sqlite in WAL mode, default workspace) made by the pinned
 * `openclaw onboard` in `templateHome`; copy it into each host with installOpenClawState.
 */
export function onboardOpenClaw(templateHome: string): void {
    fs.mkdirSync(templateHome, { recursive: true });
    const result = spawnSync(
        OPENCLAW_BIN,
        [
            "onboard",
            "--non-interactive",
            "--accept-risk",
            "--mode",
            "local",
            "--gateway-bind",
            "loopback",
            "--gateway-port",
            "18789",
            "--gateway-auth",
            "token",
            "--gateway-token-ref-env",
            "OPENCLAW_GATEWAY_TOKEN",
            "--workspace",
            path.join(templateHome, ".openclaw", "workspace"),
            "--skip-channels",
            "--skip-skills",
            "--skip-ui",
            "--skip-health",
            "--json",
        ],
        {
            env: { PATH: TOOLS_PATH, HOME: templateHome, LANG: "C.UTF-8", OPENCLAW_GATEWAY_TOKEN: "onboarding-only" },
            encoding: "utf8",
            timeout: 120_000,
        },
    );
    if (result.status !== 0 || !fs.existsSync(path.join(templateHome, ".openclaw", "state", "openclaw.sqlite"))) {
        throw new Error(`openclaw onboard failed (${result.status}): ${result.stderr}\n${result.stdout}`);
    }
}

/** Copies the onboarded state into the host and rewrites its paths (OpenClaw records absolute workspace paths). */
export function installOpenClawState(templateHome: string, host: BackupHost): void {
    const { uid, gid } = agentIds();
    // cp -a keeps the modes OpenClaw chose (its state/ is 0700; it would tighten a looser one during a backup).
    const copied = spawnSync("cp", ["-a", `${path.join(templateHome, ".openclaw")}/.`, host.stateDir], { encoding: "utf8" });
    if (copied.status !== 0) throw new Error(`cp -a of the OpenClaw state failed: ${copied.stderr}`);
    const configPath = path.join(host.stateDir, "openclaw.json");
    fs.writeFileSync(configPath, fs.readFileSync(configPath, "utf8").split(templateHome).join(host.home));
    chownTree(host.stateDir, uid, gid);
}

// --- trees ------------------------------------------------------------------------------------------------------

export interface TreeOptions {
    /** Relative paths (or prefixes ending in /) to leave out. */
    exclude?: (rel: string) => boolean;
    /** Include owner uid:gid in each entry (default true). */
    owners?: boolean;
}

/**
 * Every entry under dir as "rel -> kind mode [owner] digest": file bytes hashed, link targets as text, dirs by mode.
 * Two equal maps mean two byte-identical trees (modes and owners included).
 */
export function hashTree(dir: string, opts: TreeOptions = {}): Map<string, string> {
    const out = new Map<string, string>();
    // File names are bytes (not necessarily UTF-8): walk with Buffers, key by the latin1 reading of the bytes.
    const walk = (rel: Buffer): void => {
        const full = rel.length === 0 ? Buffer.from(dir) : Buffer.concat([Buffer.from(`${dir}/`), rel]);
        const key = rel.toString("latin1");
        const st = fs.lstatSync(full);
        const owner = opts.owners === false ? "" : ` ${st.uid}:${st.gid}`;
        const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
        if (key !== "" && opts.exclude?.(key)) return;
        if (st.isSymbolicLink()) {
            out.set(key, `link${owner} -> ${fs.readlinkSync(full, { encoding: "buffer" }).toString("latin1")}`);
        } else if (st.isDirectory()) {
            if (key !== "") out.set(key, `dir ${mode}${owner}`);
            for (const entry of fs.readdirSync(full, { encoding: "buffer" }).sort(Buffer.compare))
                walk(rel.length === 0 ? entry : Buffer.concat([rel, Buffer.from("/"), entry]));
        } else if (st.isFile()) {
            out.set(key, `file ${mode}${owner} ${st.size} ${createHash("sha256").update(fs.readFileSync(full)).digest("hex")}`);
        }
    };
    walk(Buffer.alloc(0));
    return out;
}

/** Differences between two tree maps, as readable lines (empty when identical). */
export function treeDiff(before: Map<string, string>, after: Map<string, string>): string[] {
    const lines: string[] = [];
    for (const [rel, value] of before) if (after.get(rel) !== value) lines.push(`${rel}: ${value} => ${after.get(rel) ?? "(missing)"}`);
    for (const [rel, value] of after) if (!before.has(rel)) lines.push(`${rel}: (new) ${value}`);
    return lines;
}

/** Every file under dir whose bytes contain one of the needles (for secret sentinels). */
export function filesContaining(dir: string, needles: string[]): string[] {
    const hits: string[] = [];
    const walk = (full: Buffer): void => {
        const st = fs.lstatSync(full);
        if (st.isDirectory())
            for (const entry of fs.readdirSync(full, { encoding: "buffer" })) walk(Buffer.concat([full, Buffer.from("/"), entry]));
        else if (st.isFile()) {
            const bytes = fs.readFileSync(full);
            if (needles.some((n) => bytes.includes(n))) hits.push(full.toString("latin1"));
        }
    };
    if (fs.existsSync(dir)) walk(Buffer.from(dir));
    return hits;
}

export function makeTempDir(prefix: string): string {
    const base = process.env.OPENCLAW_VPS_TEST_TMP ?? os.tmpdir();
    return fs.mkdtempSync(path.join(base, prefix));
}

// --- archives (the operator's view, for independent checks) -----------------------------------------------------

/** Runs a command, collecting its output, without blocking the event loop (the bucket stand-in logs meanwhile). */
export function runAsync(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Buffer | string } = {}) {
    return new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve, reject) => {
        const child = spawn(command, args, { env: opts.env ?? { PATH: TOOLS_PATH }, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
        // A command that exits without reading its stdin (age refusing an identity file) closes the pipe early: its
        // exit code says what happened, the EPIPE does not.
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}

export interface OpenedArchive {
    meta: Record<string, unknown> & { kind: string; id: string; key: string; base?: { key: string; id: string; header: string } };
    manifest: string;
    /** Where the archive was unpacked (SNAPSHOT.json, MANIFEST, workspace/, state/). */
    dir: string;
}

/**
 * Decrypts an archive object with the operator's identity and the real age, zstd and GNU tar (what a person would do
 * by hand), into `dir`. The identity file lives in `dir`'s parent, never on a host.
 */
export async function openArchive(objectFile: string, identity: string, dir: string): Promise<OpenedArchive> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const identityFile = path.join(path.dirname(dir), `identity-${path.basename(dir)}.txt`);
    fs.writeFileSync(identityFile, `${identity}\n`, { mode: 0o600 });
    const script = 'age -d -i "$1" "$2" | zstd -d -q -c | tar -x -C "$3" --no-same-owner';
    const result = await runAsync("bash", ["-o", "pipefail", "-c", script, "_", identityFile, objectFile, dir]);
    fs.rmSync(identityFile, { force: true });
    if (result.code !== 0) throw new Error(`cannot open ${objectFile}: ${result.stderr}`);
    return {
        meta: JSON.parse(fs.readFileSync(path.join(dir, "SNAPSHOT.json"), "utf8")),
        manifest: fs.readFileSync(path.join(dir, "MANIFEST"), "utf8"),
        dir,
    };
}

export interface ManifestEntry {
    type: string;
    mode: string;
    size: number;
    sha: string;
}

/** A v2 MANIFEST's entries by encoded path (comments skipped). */
export function manifestEntries(text: string): Map<string, ManifestEntry> {
    const out = new Map<string, ManifestEntry>();
    for (const line of text.split("\n")) {
        if (line === "" || line.startsWith("#")) continue;
        const [type, mode, size, sha, p] = line.split("\t");
        out.set(p, { type, mode, size: Number(size), sha });
    }
    return out;
}

/** The whole tree a diff describes: its full's entries, minus removals (X), plus changes. */
export function treeOf(fullManifest: string, diffManifest?: string): Map<string, ManifestEntry> {
    const tree = manifestEntries(fullManifest);
    for (const [p, e] of diffManifest ? manifestEntries(diffManifest) : []) {
        if (e.type === "X") tree.delete(p);
        else tree.set(p, e);
    }
    return tree;
}

/** Bytes of a manifest path (%XX escapes decoded). */
export function decodeManifestPath(p: string): Buffer {
    const bytes: number[] = [];
    for (let i = 0; i < p.length; i++) {
        if (p[i] === "%") {
            bytes.push(parseInt(p.slice(i + 1, i + 3), 16));
            i += 2;
        } else bytes.push(p.charCodeAt(i));
    }
    return Buffer.from(bytes);
}

/**
 * Checks a restored tree against manifest entries independently of backup-archive.js: every entry exists with its
 * type, mode, size and SHA-256 (links by their target), and nothing else exists under the roots. Returns the count.
 */
export function assertTreeMatches(
    expected: Map<string, ManifestEntry>,
    roots: Record<string, string>,
    /** Paths (relative to a root) that are never backed up by design, such as the secrets the deploy pushes. */
    notBackedUp: (top: string, rel: string) => boolean = () => false,
): number {
    const found = new Set<string>();
    for (const [p, e] of expected) {
        const rel = decodeManifestPath(p);
        const slash = rel.indexOf(0x2f);
        const top = (slash < 0 ? rel : rel.subarray(0, slash)).toString();
        const root = roots[top];
        if (!root) throw new Error(`manifest entry outside ${Object.keys(roots).join(", ")}: ${p}`);
        const file = slash < 0 ? Buffer.from(root) : Buffer.concat([Buffer.from(root), rel.subarray(slash)]);
        const st = fs.lstatSync(file);
        const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
        if (e.type === "F") {
            if (!st.isFile()) throw new Error(`${p}: not a file`);
            const bytes = fs.readFileSync(file);
            if (bytes.length !== e.size || createHash("sha256").update(bytes).digest("hex") !== e.sha || mode !== e.mode)
                throw new Error(`${p}: content or mode differs from the manifest`);
        } else if (e.type === "L") {
            const target = fs.readlinkSync(file, { encoding: "buffer" });
            if (createHash("sha256").update(target).digest("hex") !== e.sha) throw new Error(`${p}: link target differs`);
        } else if (e.type === "D") {
            if (!st.isDirectory() || mode !== e.mode) throw new Error(`${p}: not a directory with mode ${e.mode}`);
        }
        found.add(file.toString("latin1"));
    }
    const walk = (top: string, root: Buffer, dir: Buffer) => {
        for (const name of fs.readdirSync(dir, { encoding: "buffer" })) {
            const full = Buffer.concat([dir, Buffer.from("/"), name]);
            if (notBackedUp(top, full.subarray(root.length + 1).toString("latin1"))) continue;
            if (!found.has(full.toString("latin1"))) throw new Error(`${full.toString("latin1")} is not in the manifest`);
            if (fs.lstatSync(full).isDirectory()) walk(top, root, full);
        }
    };
    for (const [top, root] of Object.entries(roots))
        if ([...expected.keys()].some((k) => k === top)) walk(top, Buffer.from(root), Buffer.from(root));
    return [...expected.values()].filter((e) => e.type === "F" || e.type === "L").length;
}
