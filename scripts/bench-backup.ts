// Benchmark of the host backup scripts (cloud-init/backup.sh, restore.sh) with real rclone against s3rver on
// loopback: a full backup of a large workspace (default 10,000 files / 500 MB), an incremental backup after one file
// changed, and a first-boot restore on a new server. Prints seconds, MB/s and objects uploaded.
// Run: npx tsx scripts/bench-backup.ts [--files N] [--megabytes M] [--dir DIR]
// Other bench scripts call runBackupBenchmark() and formatBackupBenchmark().
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { agentIds, createBackupHost, readStatus, runHostScript, writeTree } from "../standin/backup-host";
import { serverSideCopiesUnder, startS3Server, uploadsUnder } from "../standin/bucket";
import { requireTools } from "../standin/prerequisites";

export interface BackupBenchOptions {
    files?: number;
    megabytes?: number;
    /** Parent of the working dir (needs about 5x the workspace size free); default the OS temp dir. */
    dir?: string;
    /** Parallel transfers for rclone (backup.env BACKUP_TRANSFERS). */
    transfers?: number;
}

export interface BackupBenchPhase {
    name: string;
    seconds: number;
    megabytes: number;
    objectsUploaded: number;
    serverSideCopies: number;
    /** Seconds per step of backup.sh, from its log (second resolution). */
    steps: Record<string, number>;
}

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
    machine: { cpus: number; memoryGiB: number; disk: string; rclone: string };
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
    const rclone = spawnSync("rclone", ["version"], { encoding: "utf8" }).stdout.split("\n")[0];
    return { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), disk: df.replace(/\s+/g, " "), rclone };
}

export async function runBackupBenchmark(opts: BackupBenchOptions = {}): Promise<BackupBenchResult> {
    requireTools(
        { rclone: "rclone", runuser: "util-linux", flock: "util-linux" },
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
    });
    const phases: BackupBenchPhase[] = [];
    try {
        const host = createBackupHost(path.join(root, "host"), server, bucket);
        fillWorkspace(host.workspace, files, megabytes * 1_000_000);
        // The workspace alone: OpenClaw's state adds a few seconds and a few MB, independent of the workspace size.
        const env = host.env({ BACKUP_INCLUDE_STATE: "0", BACKUP_TRANSFERS: String(opts.transfers ?? 8) });

        const timedBackup = async (name: string): Promise<void> => {
            const mark = server.requests().length;
            const started = process.hrtime.bigint();
            const result = await runHostScript("backup.sh", [], env);
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            if (result.code !== 0) throw new Error(`${name} failed:\n${result.stdout}\n${result.stderr}`);
            const status = readStatus(path.join(host.libDir, "backup.status"));
            const requests = server.requests().slice(mark);
            phases.push({
                name,
                seconds,
                megabytes: Number(status.last_bytes) / 1e6,
                objectsUploaded: uploadsUnder(requests, bucket, "").length,
                serverSideCopies: serverSideCopiesUnder(requests, bucket, "").length,
                steps: stepDurations(result.stdout),
            });
        };

        await timedBackup("full backup");
        fs.appendFileSync(path.join(host.workspace, "MEMORY.md"), "- one more fact\n");
        await timedBackup("incremental backup (1 file changed)");

        const rebuilt = createBackupHost(path.join(root, "rebuilt"), server, bucket);
        writeTree(rebuilt.stateDir, {});
        const started = process.hrtime.bigint();
        const result = await runHostScript(
            "restore.sh",
            ["--snapshot", "latest", "--first-boot"],
            rebuilt.env({ BACKUP_TRANSFERS: String(opts.transfers ?? 8) }),
        );
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (result.code !== 0) throw new Error(`restore failed:\n${result.stdout}\n${result.stderr}`);
        phases.push({
            name: "restore on a new server (verified)",
            seconds,
            megabytes: phases[0].megabytes,
            objectsUploaded: 0,
            serverSideCopies: 0,
            steps: {},
        });
        return { files, megabytes, phases, machine: machine(root) };
    } finally {
        await server.stop();
        fs.rmSync(root, { recursive: true, force: true });
    }
}

export function formatBackupBenchmark(result: BackupBenchResult): string {
    const rows = [
        ["phase", "seconds", "MB", "MB/s", "objects uploaded", "server-side copies"],
        ...result.phases.map((p) => [
            p.name,
            p.seconds.toFixed(1),
            p.megabytes.toFixed(0),
            (p.megabytes / p.seconds).toFixed(1),
            String(p.objectsUploaded),
            String(p.serverSideCopies),
        ]),
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
    return [
        `Backup benchmark: ${result.files} files, ${result.megabytes} MB, s3rver on loopback`,
        `Machine: ${result.machine.cpus} CPUs, ${result.machine.memoryGiB} GiB RAM, disk ${result.machine.disk}; ${result.machine.rclone}`,
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
    ].join("\n");
}

function parseArgs(argv: string[]): BackupBenchOptions {
    const opts: BackupBenchOptions = {};
    for (let i = 0; i < argv.length; i += 2) {
        const value = argv[i + 1];
        if (argv[i] === "--files") opts.files = Number(value);
        else if (argv[i] === "--megabytes") opts.megabytes = Number(value);
        else if (argv[i] === "--dir") opts.dir = value;
        else if (argv[i] === "--transfers") opts.transfers = Number(value);
        else throw new Error(`unknown option ${argv[i]} (use --files N --megabytes M --dir DIR --transfers N)`);
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
