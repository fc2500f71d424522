// Benchmark of the backups (cloud-init/backup.sh, restore.sh, and the operator's restore planner) with real age, zstd,
// GNU tar and rclone against the bucket stand-in on loopback, which counts every request by R2's operation classes:
// a daily full of a large workspace (default 10,000 files / 500 MB), an hourly diff after one file changed, and a
// restore on a new server (plan on the operator's side with the read-only key, then the host's download, decryption,
// verification and swap), checked byte for byte. Prints seconds, requests and bytes per phase, and the targets.
// Run: npx tsx scripts/bench-backup.ts [--files N] [--megabytes M] [--dir DIR]
// Other bench scripts call runBackupBenchmark() and formatBackupBenchmark().
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bucketLockRules } from "../components/core/backup-layout";
import { agentIds, createBackupHost, planRestoreFor, readStatus, runHostScript, writeTree } from "../standin/backup-host";
import { countRequests, startS3Server, type RequestCount } from "../standin/bucket";
import { requireTools } from "../standin/prerequisites";

export interface BackupBenchOptions {
    files?: number;
    megabytes?: number;
    /** Parent of the working dir (needs about 3x the workspace size free); default the OS temp dir. */
    dir?: string;
}

export interface BackupBenchPhase {
    name: string;
    seconds: number;
    /** Size of the agent's tree the phase covered. */
    megabytes: number;
    requests: RequestCount;
    /** Seconds per step of the host script, from its log (second resolution). */
    steps: Record<string, number>;
    /** The restore phase: the restored tree equals the original byte for byte (content, mode, owner). */
    identical?: boolean;
}

/** The issue's targets, checked against each phase. */
export const BACKUP_TARGETS = {
    diff: { classA: 3, classB: 3, bytesUploaded: 1_000_000, seconds: 10 },
    full: { classA: 10, seconds: 30 },
    restore: { gets: 3, seconds: 20 },
} as const;

/** Durations of the "step: NAME" lines of a host script log (timestamps have second resolution). */
function stepDurations(log: string): Record<string, number> {
    const marks = [...log.matchAll(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) \S+: step: (\S+)/gm)].map((m) => ({
        at: Date.parse(m[1]),
        step: m[2],
    }));
    const end = [...log.matchAll(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) /gm)].map((m) => Date.parse(m[1])).pop() ?? 0;
    const steps: Record<string, number> = {};
    marks.forEach((mark, i) => (steps[mark.step] = ((marks[i + 1]?.at ?? end) - mark.at) / 1000));
    return steps;
}

export interface BackupBenchResult {
    files: number;
    megabytes: number;
    phases: BackupBenchPhase[];
    machine: { cpus: number; memoryGiB: number; load: string; disk: string; tools: string };
}

function fillWorkspace(workspace: string, files: number, totalBytes: number): void {
    const { uid, gid } = agentIds();
    writeTree(workspace, { "MEMORY.md": "# Memory\n" });
    const size = Math.floor(totalBytes / files);
    const buffer = Buffer.alloc(size);
    const perDir = 100;
    for (let i = 0; i < files - 1; i++) {
        const dir = path.join(workspace, "memory", `d${String(Math.floor(i / perDir)).padStart(3, "0")}`);
        if (i % perDir === 0) {
            fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
            fs.chownSync(path.dirname(dir), uid, gid);
            fs.chownSync(dir, uid, gid);
        }
        const file = path.join(dir, `note-${i}.md`);
        randomFillSync(buffer);
        fs.writeFileSync(file, buffer, { mode: 0o600 });
        fs.chownSync(file, uid, gid);
    }
}

function machine(dir: string): BackupBenchResult["machine"] {
    const df =
        spawnSync("df", ["-h", "--output=source,fstype,size,avail", dir], { encoding: "utf8" }).stdout.trim().split("\n").pop() ?? "";
    const version = (cmd: string, args: string[]) => (spawnSync(cmd, args, { encoding: "utf8" }).stdout || "").split("\n")[0].trim();
    return {
        cpus: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        load: os.loadavg()[0].toFixed(1),
        disk: df.replace(/\s+/g, " "),
        tools: `age ${version("age", ["--version"])}, ${version("rclone", ["version"])}, ${version("zstd", ["--version"]).replace(/^\*+ /, "")}`,
    };
}

/** Every entry of a tree as "path type mode size sha256" lines (sha256sum, so this does not load 500 MB into Node). */
function treeFingerprint(dir: string): string {
    const result = spawnSync(
        "bash",
        [
            "-c",
            'cd "$1" && find . -printf "%p %y %m %U:%G %s %l\\n" | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum',
            "_",
            dir,
        ],
        { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
    );
    if (result.status !== 0) throw new Error(`fingerprint of ${dir} failed: ${result.stderr}`);
    return result.stdout;
}

export async function runBackupBenchmark(opts: BackupBenchOptions = {}): Promise<BackupBenchResult> {
    requireTools(
        { rclone: "rclone", age: "age", zstd: "zstd", runuser: "util-linux", flock: "util-linux" },
        { what: "the backup benchmark", rerun: "npm run bench -- --backup" },
    );
    const files = opts.files ?? 10_000;
    const megabytes = opts.megabytes ?? 500;
    const root = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), "openclaw-vps-bench-backup-"));
    fs.chmodSync(root, 0o755);
    const bucket = "bench-memory";
    const server = await startS3Server({
        dir: path.join(root, "s3"),
        buckets: [bucket],
        accessKeyId: "BENCHKEY",
        secretAccessKey: "BENCHSECRET",
        reader: { accessKeyId: "BENCHREADER", secretAccessKey: "BENCHREADERSECRET" },
        locks: bucketLockRules(7),
    });
    const phases: BackupBenchPhase[] = [];
    try {
        const host = createBackupHost(path.join(root, "host"), server, bucket);
        fillWorkspace(host.workspace, files, megabytes * 1_000_000);
        // The workspace alone: OpenClaw's state adds a few seconds and a few MB, independent of the workspace size.
        const env = host.env({ BACKUP_INCLUDE_STATE: "0" });

        const timedBackup = async (name: string): Promise<void> => {
            await server.settled();
            const mark = server.requests().length;
            const started = process.hrtime.bigint();
            const result = await runHostScript("backup.sh", [], env);
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            if (result.code !== 0) throw new Error(`${name} failed:\n${result.stdout}\n${result.stderr}`);
            const status = readStatus(path.join(host.libDir, "backup.status"));
            await server.settled();
            phases.push({
                name,
                seconds,
                megabytes: Number(status.last_bytes) / 1e6,
                requests: countRequests(server.requests().slice(mark)),
                steps: stepDurations(result.stdout),
            });
        };

        await timedBackup("daily full");
        fs.appendFileSync(path.join(host.workspace, "MEMORY.md"), "- one more fact\n");
        await timedBackup("hourly diff (1 file changed)");

        const rebuilt = createBackupHost(path.join(root, "rebuilt"), server, bucket, {
            identity: { identity: host.identity, recipient: host.recipient },
        });
        writeTree(rebuilt.stateDir, {});
        await server.settled();
        const mark = server.requests().length;
        const started = process.hrtime.bigint();
        await planRestoreFor(rebuilt, server, "latest");
        const result = await runHostScript("restore.sh", ["--snapshot", "latest", "--first-boot"], rebuilt.env());
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (result.code !== 0) throw new Error(`restore failed:\n${result.stdout}\n${result.stderr}`);
        await server.settled();
        phases.push({
            name: "restore on a new server (plan + download + verify)",
            seconds,
            megabytes: phases[1].megabytes,
            requests: countRequests(server.requests().slice(mark)),
            steps: {},
            identical: treeFingerprint(host.workspace) === treeFingerprint(rebuilt.workspace),
        });
        return { files, megabytes, phases, machine: machine(root) };
    } finally {
        await server.stop();
        fs.rmSync(root, { recursive: true, force: true });
    }
}

/** Each phase against its target, as "ok" or what is over. */
export function checkTargets(result: BackupBenchResult): string[] {
    const [full, diff, restore] = result.phases;
    const over: string[] = [];
    const check = (what: string, value: number, limit: number) => {
        if (value > limit) over.push(`${what}: ${value} > ${limit}`);
    };
    check("full Class A", full.requests.classA, BACKUP_TARGETS.full.classA);
    check("full seconds", Number(full.seconds.toFixed(1)), BACKUP_TARGETS.full.seconds);
    check("diff Class A", diff.requests.classA, BACKUP_TARGETS.diff.classA);
    check("diff Class B", diff.requests.classB, BACKUP_TARGETS.diff.classB);
    check("diff bytes uploaded", diff.requests.bytesUploaded, BACKUP_TARGETS.diff.bytesUploaded);
    check("diff seconds", Number(diff.seconds.toFixed(1)), BACKUP_TARGETS.diff.seconds);
    check("restore GETs", restore.requests.gets, BACKUP_TARGETS.restore.gets);
    check("restore seconds", Number(restore.seconds.toFixed(1)), BACKUP_TARGETS.restore.seconds);
    if (!restore.identical) over.push("restore: the restored tree is not byte-identical");
    return over;
}

export function formatBackupBenchmark(result: BackupBenchResult): string {
    const rows = [
        ["phase", "seconds", "tree MB", "Class A", "Class B", "GETs", "uploaded bytes"],
        ...result.phases.map((p) => [
            p.name,
            p.seconds.toFixed(1),
            p.megabytes.toFixed(0),
            String(p.requests.classA),
            String(p.requests.classB),
            String(p.requests.gets),
            String(p.requests.bytesUploaded),
        ]),
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
    const over = checkTargets(result);
    const restore = result.phases[2];
    return [
        `Backup benchmark: ${result.files} files, ${result.megabytes} MB, bucket stand-in (s3rver) on loopback`,
        `Machine: ${result.machine.cpus} CPUs, ${result.machine.memoryGiB} GiB RAM, load ${result.machine.load}, disk ${result.machine.disk}; ${result.machine.tools}`,
        line(rows[0]),
        line(widths.map((w) => "-".repeat(w))),
        ...rows.slice(1).map(line),
        ...result.phases
            .filter((p) => Object.keys(p.steps).length > 0)
            .map(
                (p) =>
                    `${p.name} steps (s): ${Object.entries(p.steps)
                        .map(([step, sec]) => `${step} ${sec}`)
                        .join(", ")}`,
            ),
        `restore: ${restore.requests.lists} listings, ${restore.requests.heads} HEADs, ${restore.requests.gets} GETs; byte-identical: ${restore.identical ? "yes" : "NO"}`,
        `targets (diff <= 3 A, <= 3 B, <= 1 MB, <= 10 s; full <= 10 A, <= 30 s; restore <= 3 GETs, <= 20 s): ${over.length ? `MISSED: ${over.join("; ")}` : "all met"}`,
        "",
        "Monthly cost (R2: Class A $4.50/M, Class B $0.36/M, $0.015/GB-month; free 1 M A, 10 M B, 10 GB; 10 files changed an hour):",
        formatCostTable(),
    ].join("\n");
}

// ---- the monthly cost model (README "Cost") ------------------------------------------------------------------

/** R2's prices and free tier (per month). */
export const R2_PRICING = { classAPerMillion: 4.5, classBPerMillion: 0.36, storagePerGbMonth: 0.015, freeA: 1e6, freeB: 10e6, freeGb: 10 };

export interface CostRow {
    files: number;
    schedule: "hourly" | "daily";
    classA: number;
    classB: number;
    gbMonth: number;
    dollars: number;
}

/**
 * A month (30 days) of backups v2 at steady state: per run one PUT (Class A) and no read; hourly = a full and 23
 * cumulative diffs a day, daily = a full a day. Storage: fulls kept retention + 1 days, diffs retention days, archives
 * as large as the data (incompressible, like the benchmark; text compresses 3-4x with zstd). Assumptions: files of
 * `fileBytes` (the benchmark's 50 kB), `changedPerHour` of them changed each hour (a diff carries every change since
 * its full).
 */
export function backupCosts(
    files: number,
    schedule: "hourly" | "daily",
    opts: { fileBytes?: number; changedPerHour?: number; retentionDays?: number } = {},
): CostRow {
    const fileBytes = opts.fileBytes ?? 50_000;
    const changed = Math.min(opts.changedPerHour ?? 10, files);
    const retention = opts.retentionDays ?? 30;
    const full = files * fileBytes;
    const runsPerDay = schedule === "hourly" ? 24 : 1;
    let diffBytesPerDay = 0;
    for (let hour = 1; hour < runsPerDay; hour++) diffBytesPerDay += Math.min(hour * changed, files) * fileBytes;
    const storedBytes = (retention + 1) * full + retention * diffBytesPerDay;
    const classA = 30 * runsPerDay;
    const classB = 0;
    const gbMonth = storedBytes / 1e9;
    const dollars =
        (Math.max(0, classA - R2_PRICING.freeA) / 1e6) * R2_PRICING.classAPerMillion +
        (Math.max(0, classB - R2_PRICING.freeB) / 1e6) * R2_PRICING.classBPerMillion +
        Math.max(0, gbMonth - R2_PRICING.freeGb) * R2_PRICING.storagePerGbMonth;
    return { files, schedule, classA, classB, gbMonth, dollars };
}

/** The first design, for comparison: every snapshot complete on its own, unchanged files copied inside R2. */
export function firstDesignCosts(files: number, schedule: "hourly" | "daily", fileBytes = 50_000): CostRow {
    const runs = 30 * (schedule === "hourly" ? 24 : 1);
    // Per run and file: a CopyObject (A) and two HEADs (B), plus listings; the README's measured figures.
    const classA = runs * files;
    const classB = runs * files * 2;
    const gbMonth = (runs * files * fileBytes) / 1e9;
    const dollars =
        (Math.max(0, classA - R2_PRICING.freeA) / 1e6) * R2_PRICING.classAPerMillion +
        (Math.max(0, classB - R2_PRICING.freeB) / 1e6) * R2_PRICING.classBPerMillion +
        Math.max(0, gbMonth - R2_PRICING.freeGb) * R2_PRICING.storagePerGbMonth;
    return { files, schedule, classA, classB, gbMonth, dollars };
}

export function formatCostTable(): string {
    const rows: string[] = [
        "| files (50 kB each) | schedule | Class A / month | Class B / month | storage (GB-month) | dollars / month | the first design |",
        "|---|---|---|---|---|---|---|",
    ];
    for (const files of [100, 1000, 10_000])
        for (const schedule of ["hourly", "daily"] as const) {
            const v2 = backupCosts(files, schedule);
            const old = firstDesignCosts(files, schedule);
            rows.push(
                `| ${files.toLocaleString("en-US")} | ${schedule} | ${v2.classA} | ${v2.classB} | ${v2.gbMonth.toFixed(1)} | $${v2.dollars.toFixed(2)} | $${old.dollars.toFixed(2)} (${(old.classA / 1e6).toFixed(2)} M A, ${old.gbMonth.toFixed(0)} GB-month) |`,
            );
        }
    return rows.join("\n");
}

function parseArgs(argv: string[]): BackupBenchOptions {
    const opts: BackupBenchOptions = {};
    for (let i = 0; i < argv.length; i += 2) {
        const value = argv[i + 1];
        if (argv[i] === "--files") opts.files = Number(value);
        else if (argv[i] === "--megabytes") opts.megabytes = Number(value);
        else if (argv[i] === "--dir") opts.dir = value;
        else throw new Error(`unknown option ${argv[i]} (use --files N --megabytes M --dir DIR)`);
    }
    return opts;
}

if (require.main === module) {
    runBackupBenchmark(parseArgs(process.argv.slice(2))).then(
        (result) => console.log(formatBackupBenchmark(result)),
        (error: Error) => {
            console.error(error.message);
            process.exit(1);
        },
    );
}
