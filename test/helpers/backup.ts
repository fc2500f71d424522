// Test utilities of the backup area: a real OpenClaw state made by the pinned `openclaw onboard` (installed into a
// throwaway host of standin/backup-host.ts), tree hashing to prove byte-identical round trips, and searching files
// for secret sentinels. The bucket and the throwaway host themselves are stand-ins: standin/bucket.ts, backup-host.ts.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { agentIds, chownTree, OPENCLAW_BIN, TOOLS_PATH, type BackupHost } from "../../standin/backup-host";

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
    const copied = spawnSync("cp", ["-a", path.join(templateHome, ".openclaw"), host.stateDir], { encoding: "utf8" });
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
    const walk = (rel: string): void => {
        const full = rel === "" ? dir : path.join(dir, rel);
        const st = fs.lstatSync(full);
        const owner = opts.owners === false ? "" : ` ${st.uid}:${st.gid}`;
        const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
        if (rel !== "" && opts.exclude?.(rel)) return;
        if (st.isSymbolicLink()) {
            out.set(rel, `link${owner} -> ${fs.readlinkSync(full)}`);
        } else if (st.isDirectory()) {
            if (rel !== "") out.set(rel, `dir ${mode}${owner}`);
            for (const entry of fs.readdirSync(full).sort()) walk(rel === "" ? entry : path.join(rel, entry));
        } else if (st.isFile()) {
            out.set(rel, `file ${mode}${owner} ${st.size} ${createHash("sha256").update(fs.readFileSync(full)).digest("hex")}`);
        }
    };
    walk("");
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
    const walk = (full: string): void => {
        const st = fs.lstatSync(full);
        if (st.isDirectory()) for (const entry of fs.readdirSync(full)) walk(path.join(full, entry));
        else if (st.isFile()) {
            const bytes = fs.readFileSync(full);
            if (needles.some((n) => bytes.includes(n))) hits.push(full);
        }
    };
    if (fs.existsSync(dir)) walk(dir);
    return hits;
}

export function makeTempDir(prefix: string): string {
    const base = process.env.OPENCLAW_VPS_TEST_TMP ?? os.tmpdir();
    return fs.mkdtempSync(path.join(base, prefix));
}
