// Round trips of the backups (cloud-init/backup.sh, restore.sh, backup-archive.js, and the operator's planner in
// components/snapshots/) with real age 1.1.1, zstd, GNU tar and rclone 1.60 against the bucket stand-in (s3rver with
// R2's bucket lock and a read-only key emulated), a real OpenClaw state made by the pinned `openclaw onboard`, and the
// real privilege split (the agent user is `nobody`; the scripts run as root). Proves: a daily full and an hourly
// diff are ONE object each, the diff carries only what changed and reads only changed files, a new server restores
// byte for byte (checked independently against the archive's own manifest, decrypted here with the operator's
// identity), SQLite stays consistent under writes, an older snapshot can be chosen by key or by R2's LastModified,
// the old per-file layout still restores, a bucket that held snapshots never silently yields an empty agent, and no
// secret reaches an argv, a log, the status file or the bucket. The attacks are in backup-attacks.test.ts.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { bucketLockRules } from "../../components/core/backup-layout";
import { planRestore } from "../../components/snapshots/plan";
import {
    agentIds,
    createBackupHost,
    planRestoreFor,
    rclone,
    readStatus,
    runHostScript,
    writeTree,
    type BackupHost,
    type ScriptResult,
} from "../../standin/backup-host";
import { countRequests, s3ObjectFile, setLastModified, startS3Server, type S3Server } from "../../standin/bucket";
import {
    assertTreeMatches,
    filesContaining,
    hashTree,
    installOpenClawState,
    keysOf,
    makeTempDir,
    manifestEntries,
    onboardOpenClaw,
    openArchive,
    requireTools,
    treeDiff,
    treeOf,
} from "../helpers/backup";

const SENTINEL = {
    accessKeyId: "AKSENTINEL7f3a9c0d1e",
    secretAccessKey: "r2secretSENTINEL91b2c3d4e5f6",
    readerKeyId: "READERSENTINEL4e5f6a",
    readerSecret: "readersecretSENTINEL0a9b8c7d",
    llmKey: "sk-ant-SENTINEL-llm-key-4d2e8a",
    oauth: "SENTINEL-oauth-refresh-8c1f77",
};
const ALL_SENTINELS = Object.values(SENTINEL);
const ARCHIVE = /^(fulls|diffs)\/\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.zst\.age$/;
const BUCKETS = ["bk-roundtrip", "bk-diff", "bk-sqlite", "bk-older", "bk-empty", "bk-secrets", "bk-lock", "bk-legacy"];

/** The operator's workspace plus what an agent writes: nested memory, a skill with an executable, odd names (one
 *  not even UTF-8), a symlink and an empty folder. */
const WORKSPACE_FILES = {
    "SOUL.md": "# Soul\nNever run destructive commands.\n",
    "USER.md": "# User\nTime zone: Europe/Berlin\n",
    "MEMORY.md": "# Memory\n- The VPS runs Ubuntu 24.04.\n",
    "memory/2026-11-25.md": "Set up the backups.\n",
    "memory/2026-11-26.md": "Tested a restore.\n",
    "memory/today.md": { link: "2026-11-26.md" },
    "skills/weather/SKILL.md": "---\nname: weather\n---\n",
    "skills/weather/scripts/fetch.sh": { content: "#!/bin/sh\necho sunny\n", mode: 0o700 },
    "notes/with space & ünïcode back\\slash\ttab 100%.md": "odd names survive\n",
    "notes/large.bin": "x".repeat(300_000),
};

let tmp: string;
let template: string;
let server: S3Server;
let hostCount = 0;

before(async () => {
    requireTools({
        rclone: "rclone",
        age: "age",
        zstd: "zstd",
        sqlite3: "sqlite3",
        strace: "strace",
        runuser: "util-linux",
        flock: "util-linux",
        sha256sum: "coreutils",
    });
    tmp = makeTempDir("openclaw-vps-backup-");
    fs.chmodSync(tmp, 0o755);
    server = await startS3Server({
        dir: path.join(tmp, "s3"),
        buckets: BUCKETS,
        accessKeyId: SENTINEL.accessKeyId,
        secretAccessKey: SENTINEL.secretAccessKey,
        reader: { accessKeyId: SENTINEL.readerKeyId, secretAccessKey: SENTINEL.readerSecret },
        locks: bucketLockRules(7),
    });
    template = path.join(tmp, "onboarded");
    onboardOpenClaw(template);
});

after(async () => {
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A host with a real OpenClaw state (unless state: false), the workspace above, and the secrets the push writes. */
function newHost(bucket: string, opts: { state?: boolean } = {}): BackupHost {
    const host = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, bucket, { identity: keysOf(bucket) });
    if (opts.state !== false) installOpenClawState(template, host);
    writeTree(host.workspace, WORKSPACE_FILES);
    fs.mkdirSync(path.join(host.workspace, "inbox"), { mode: 0o700 });
    fs.chownSync(path.join(host.workspace, "inbox"), agentIds().uid, agentIds().gid);
    writeTree(host.stateDir, {
        ".env": `ANTHROPIC_API_KEY=${SENTINEL.llmKey}\n`,
        "credentials/oauth.json": JSON.stringify({ refresh: SENTINEL.oauth }),
    });
    // A file name that is not UTF-8 at all: bytes, not text, must survive.
    const odd = Buffer.concat([Buffer.from(`${host.workspace}/notes/latin1-`), Buffer.from([0xe9, 0xff]), Buffer.from(".md")]);
    fs.writeFileSync(odd, "not utf-8\n", { mode: 0o600 });
    fs.chownSync(odd, agentIds().uid, agentIds().gid);
    return host;
}

/** A brand-new server for the same bucket: only what the push writes before the first-boot restore. */
function newServer(bucket: string): BackupHost {
    const host = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, bucket, { identity: keysOf(bucket) });
    writeTree(host.stateDir, {
        ".env": `ANTHROPIC_API_KEY=${SENTINEL.llmKey}\n`,
        "openclaw.json": fs
            .readFileSync(path.join(template, ".openclaw", "openclaw.json"), "utf8")
            .split(template)
            .join(host.home),
    });
    return host;
}

function expectOk(result: ScriptResult, what: string): void {
    assert.equal(result.code, 0, `${what} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
}

async function backup(host: BackupHost, env: Record<string, string> = {}): Promise<Record<string, string>> {
    const result = await runHostScript("backup.sh", [], host.env(env));
    expectOk(result, "backup.sh");
    const status = readStatus(path.join(host.libDir, "backup.status"));
    assert.match(status.last_snapshot, ARCHIVE);
    assert.equal(status.last_error, "");
    return status;
}

function restore(host: BackupHost, args: string[], env: Record<string, string> = {}): Promise<ScriptResult> {
    return runHostScript("restore.sh", args, host.env({ RESTORE_MANAGE_GATEWAY: "0", ...env }));
}

/** What a new server does: the operator's planner (read-only key), the plan on the host, the first-boot restore. */
async function firstBoot(host: BackupHost, restoreFrom = "latest"): Promise<{ result: ScriptResult; chosen?: string }> {
    const plan = await planRestoreFor(host, server, restoreFrom);
    return { result: await restore(host, ["--snapshot", restoreFrom, "--first-boot"]), chosen: plan.chosen?.id };
}

/** The archive as the operator reads it by hand: decrypted with the identity (in the test's own dir, never a host's). */
let opened = 0;
function open(host: BackupHost, key: string) {
    return openArchive(s3ObjectFile(server, host.bucket, key), keysOf(host.bucket).identity, path.join(tmp, `opened-${++opened}`));
}

/** The non-secret, non-database part of the state dir: what must survive byte for byte. */
const STATE_COMPARABLE = (rel: string): boolean =>
    rel === "workspace" ||
    rel.startsWith("workspace/") ||
    rel === ".env" ||
    rel.startsWith("credentials") ||
    rel.startsWith("openclaw.json") ||
    /\.sqlite(-wal|-shm|-journal)?$/.test(rel);

function sqliteIntegrity(file: string): string {
    const result = spawnSync("sqlite3", ["-readonly", file, "PRAGMA integrity_check;"], { encoding: "utf8" });
    assert.equal(result.status, 0, `sqlite3 failed on ${file}: ${result.stderr}`);
    return result.stdout.trim();
}

/** Rows written by the probe writer, and how many of them are inconsistent (a row in one table but not the other,
 *  or a digest that does not match its payload). */
function probeRows(file: string): { rows: number; inconsistent: number } {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
        const a = db.prepare("SELECT id, payload FROM backup_probe_a").all() as { id: number; payload: string }[];
        const b = new Map(
            (db.prepare("SELECT id, digest FROM backup_probe_b").all() as { id: number; digest: string }[]).map((r) => [r.id, r.digest]),
        );
        let inconsistent = Math.abs(a.length - b.size);
        for (const row of a) if (b.get(row.id) !== createHash("sha256").update(row.payload).digest("hex")) inconsistent++;
        return { rows: a.length, inconsistent };
    } finally {
        db.close();
    }
}

const WRITER = `
const { DatabaseSync } = require("node:sqlite");
const { createHash } = require("node:crypto");
const db = new DatabaseSync(process.argv[1], { timeout: 10000 });
db.exec("PRAGMA journal_mode=WAL");
db.exec("CREATE TABLE IF NOT EXISTS backup_probe_a (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
db.exec("CREATE TABLE IF NOT EXISTS backup_probe_b (id INTEGER PRIMARY KEY, digest TEXT NOT NULL)");
const insertA = db.prepare("INSERT INTO backup_probe_a (payload) VALUES (?)");
const insertB = db.prepare("INSERT INTO backup_probe_b (id, digest) VALUES (?, ?)");
let n = 0;
const burst = () => {
    for (let k = 0; k < 10; k++, n++) {
        db.exec("BEGIN IMMEDIATE");
        const payload = "row " + n + " " + "m".repeat(300);
        const id = insertA.run(payload).lastInsertRowid;
        insertB.run(id, createHash("sha256").update(payload).digest("hex"));
        db.exec("COMMIT");
    }
    process.stdout.write("rows " + n + "\\n");
    setTimeout(burst, 5);
};
burst();
`;

/** A process of the agent user that keeps committing paired rows into a WAL-mode database. */
async function startWriter(host: BackupHost, dbFile: string): Promise<{ child: ChildProcess; rows: () => number }> {
    const { uid, gid } = agentIds();
    const child = spawn(path.join(host.path.split(":")[0], "node"), ["-e", WRITER, dbFile], {
        uid,
        gid,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let rows = 0;
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
        const m = /rows (\d+)\n$/.exec(d.toString());
        if (m) rows = Number(m[1]);
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    while (rows < 300) {
        if (child.exitCode !== null) throw new Error(`writer exited: ${stderr}`);
        if (Date.now() - started > 200_000) throw new Error(`writer too slow: ${rows} rows; ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    return { child, rows: () => rows };
}

function stopProcess(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
    });
}

describe("backups v2 with age, zstd, GNU tar and rclone against the bucket stand-in", () => {
    test("a full, then a diff, each ONE object; a new server restores the latest byte for byte", async () => {
        const host = newHost("bk-roundtrip");
        const full = await backup(host);
        assert.equal(full.last_kind, "full");
        assert.match(full.last_snapshot, /^fulls\//);

        writeTree(host.workspace, { "memory/2026-11-27.md": "A new day.\n" });
        fs.appendFileSync(path.join(host.workspace, "MEMORY.md"), "- learned something\n");
        fs.rmSync(path.join(host.workspace, "memory", "2026-11-25.md"));
        await server.settled();
        const mark = server.requests().length;
        const diff = await backup(host);
        await server.settled();
        const requests = countRequests(server.requests().slice(mark));
        assert.equal(diff.last_kind, "diff");
        assert.match(diff.last_snapshot, /^diffs\//);
        assert.equal(diff.last_full, full.last_snapshot);
        assert.equal(requests.puts, 1, "the diff is one PUT");
        assert.equal(requests.classA, 1);
        assert.equal(requests.classB, 0);

        const workspaceBefore = hashTree(host.workspace);
        const stateBefore = hashTree(host.stateDir, { exclude: STATE_COMPARABLE });
        const rebuilt = newServer("bk-roundtrip");
        const envBefore = fs.readFileSync(path.join(rebuilt.stateDir, ".env"), "utf8");
        const { result, chosen } = await firstBoot(rebuilt);
        expectOk(result, "restore.sh --first-boot");
        assert.equal(chosen, diff.last_snapshot, "latest is the diff (on its full)");
        assert.match(result.stdout, new RegExp(`restore of ${diff.last_snapshot.replace(/\./g, "\\.")} done`));

        assert.deepEqual(treeDiff(workspaceBefore, hashTree(rebuilt.workspace)), [], "restored workspace differs (content, mode or owner)");
        assert.deepEqual(treeDiff(stateBefore, hashTree(rebuilt.stateDir, { exclude: STATE_COMPARABLE })), [], "restored state differs");
        const db = path.join(rebuilt.stateDir, "state", "openclaw.sqlite");
        assert.equal(sqliteIntegrity(db), "ok");
        assert.ok(
            Number(spawnSync("sqlite3", ["-readonly", db, "SELECT count(*) FROM sqlite_master"], { encoding: "utf8" }).stdout) > 10,
            "state database has its schema",
        );
        // The pushed secrets and config of the new server are untouched; the old server's secrets never travelled.
        assert.equal(fs.readFileSync(path.join(rebuilt.stateDir, ".env"), "utf8"), envBefore);
        assert.equal(fs.existsSync(path.join(rebuilt.stateDir, "credentials")), false);

        // Independently of restore.sh: the archives as the operator opens them by hand (age, zstd, tar).
        const fullArchive = await open(host, full.last_snapshot);
        const diffArchive = await open(host, diff.last_snapshot);
        assert.equal(fullArchive.meta.kind, "full");
        assert.equal(fullArchive.meta.key, full.last_snapshot, "an archive names its own key");
        assert.equal(fullArchive.meta.bucket, "bk-roundtrip");
        assert.equal(diffArchive.meta.base?.key, full.last_snapshot);
        assert.equal(diffArchive.meta.base?.id, fullArchive.meta.id);
        const changes = [...manifestEntries(diffArchive.manifest).entries()].map(([p, e]) => `${e.type} ${p}`).sort();
        assert.deepEqual(changes, [
            // OpenClaw records each backup run in its own database: that file changes every time.
            "F state/state/openclaw.sqlite",
            "F workspace/MEMORY.md",
            "F workspace/memory/2026-11-27.md",
            "X workspace/memory/2026-11-25.md",
        ]);
        // The new server's pushed secrets and config are its own, never in an archive; everything else is exactly the manifest.
        const checked = assertTreeMatches(
            treeOf(fullArchive.manifest, diffArchive.manifest),
            { workspace: rebuilt.workspace, state: rebuilt.stateDir },
            (top, rel) => top === "state" && (rel === ".env" || rel === "openclaw.json"),
        );
        assert.ok(checked >= Object.keys(WORKSPACE_FILES).length, `the manifest covers the files (${checked})`);
        assert.match(fullArchive.manifest, /^D\t0700\t0\t-\tworkspace\/inbox$/m, "empty folders are recorded");
        assert.match(fullArchive.manifest, /^L\t0777\t13\t[0-9a-f]{64}\tworkspace\/memory\/today\.md$/m, "symlinks are recorded as links");
        assert.match(fullArchive.manifest, /^F\t0600\t10\t[0-9a-f]{64}\tworkspace\/notes\/latin1-%E9%FF\.md$/m, "bytes, not text");
        assert.doesNotMatch(fullArchive.manifest, /\.env|credentials|openclaw\.json/, "no secret or pushed config in an archive");

        // Nothing is left behind: no staging dir, no plan, no "before-restore" dir when nothing was replaced.
        assert.deepEqual(
            fs.readdirSync(rebuilt.home).filter((e) => e !== ".openclaw"),
            [],
        );
        assert.equal(fs.existsSync(rebuilt.planFile), false, "the spent plan is removed");
        assert.deepEqual(fs.readdirSync(host.libDir).sort(), ["backup-index", "backup.lock", "backup.status"]);
    });

    test("the hourly diff reads only changed files, carries everything changed since its full, and never changes a local file", async () => {
        const host = newHost("bk-diff", { state: false });
        const view = () => hashTree(host.home);
        const before1 = view();
        await backup(host);
        assert.deepEqual(treeDiff(before1, view()), [], "the full changed local files");

        const idle = await backup(host);
        assert.equal(idle.last_kind, "diff");
        assert.equal(idle.last_uploaded, "0", "nothing changed: the diff carries nothing");

        fs.appendFileSync(path.join(host.workspace, "memory", "2026-11-26.md"), "Learned: diffs work.\n");
        const trace = path.join(host.root, "open.trace");
        const before2 = view();
        const traced = await runHostScript("backup.sh", [], host.env(), {
            wrap: ["strace", "-f", "-qq", "-e", "trace=openat", "-e", "signal=none", "-o", trace],
        });
        expectOk(traced, "backup.sh under strace");
        assert.deepEqual(treeDiff(before2, view()), [], "the diff changed local files");
        const opened = fs
            .readFileSync(trace, "utf8")
            .split("\n")
            .filter((l) => l.includes(host.workspace) && /O_RDONLY/.test(l) && !/O_DIRECTORY/.test(l))
            .map((l) => /"([^"]+)"/.exec(l)![1].slice(host.workspace.length + 1));
        assert.deepEqual([...new Set(opened)], ["memory/2026-11-26.md"], "only the changed file was read");
        assert.equal(readStatus(path.join(host.libDir, "backup.status")).last_uploaded, "1");

        fs.appendFileSync(path.join(host.workspace, "SOUL.md"), "- be brief\n");
        const cumulative = await backup(host);
        const carried = [...manifestEntries((await open(host, cumulative.last_snapshot)).manifest).keys()].sort();
        assert.deepEqual(carried, ["workspace/SOUL.md", "workspace/memory/2026-11-26.md"], "cumulative: every change since the full");

        // A full again once the last one is a day old (here: the interval shortened for the test).
        const next = await backup(host, { BACKUP_FULL_INTERVAL_SECONDS: "0" });
        assert.equal(next.last_kind, "full");
        assert.notEqual(next.last_full, cumulative.last_full);
    });

    test("a backup taken while SQLite databases are being written restores to databases that pass integrity_check", async () => {
        const host = newHost("bk-sqlite");
        const stateDb = path.join(host.stateDir, "state", "openclaw.sqlite");
        const workspaceDb = path.join(host.workspace, "tools", "scratch.sqlite");
        writeTree(path.join(host.workspace, "tools"), {});
        const writers = [await startWriter(host, stateDb), await startWriter(host, workspaceDb)];
        let key: string;
        try {
            assert.ok(fs.existsSync(`${workspaceDb}-wal`), "the workspace database is in WAL mode with a live -wal file");
            key = (await backup(host)).last_snapshot;
        } finally {
            await Promise.all(writers.map((w) => stopProcess(w.child)));
        }
        const manifest = (await open(host, key)).manifest;
        assert.doesNotMatch(manifest, /\.sqlite-(wal|shm|journal)$/m, "no live sidecar files in an archive");

        const rebuilt = newServer("bk-sqlite");
        // What the new server already has must survive: installed plugins and logs are not the snapshot's business;
        // a stale WAL next to the database being replaced must not be replayed into it.
        writeTree(rebuilt.stateDir, {
            "npm/projects/voyage-provider/package.json": '{"name":"@openclaw/voyage-provider"}',
            "logs/openclaw.log": "gateway log line\n",
            "state/openclaw.sqlite-wal": "stale wal bytes that are not a WAL",
        });
        expectOk((await firstBoot(rebuilt, key)).result, "restore");
        assert.equal(
            fs.readFileSync(path.join(rebuilt.stateDir, "npm/projects/voyage-provider/package.json"), "utf8"),
            '{"name":"@openclaw/voyage-provider"}',
        );
        assert.equal(fs.readFileSync(path.join(rebuilt.stateDir, "logs/openclaw.log"), "utf8"), "gateway log line\n");
        assert.equal(fs.existsSync(path.join(rebuilt.stateDir, "state/openclaw.sqlite-wal")), false, "the stale WAL was moved aside");
        const aside = fs.readdirSync(rebuilt.home).filter((e) => e.startsWith("openclaw-before-restore-"));
        assert.equal(
            fs.readFileSync(path.join(rebuilt.home, aside[0], "state", "state", "openclaw.sqlite-wal"), "utf8"),
            "stale wal bytes that are not a WAL",
        );
        for (const db of [
            path.join(rebuilt.stateDir, "state", "openclaw.sqlite"),
            path.join(rebuilt.workspace, "tools", "scratch.sqlite"),
        ]) {
            assert.equal(sqliteIntegrity(db), "ok", `integrity of ${db}`);
            const probe = probeRows(db);
            assert.ok(probe.rows >= 300, `${db} has the rows committed before the backup (${probe.rows})`);
            assert.equal(probe.inconsistent, 0, `${db} holds half-written transactions`);
        }
    });

    test("an operator restore of an older snapshot, by key or by R2's LastModified (before:TIME): gateway stopped and started, old files kept aside", async () => {
        const host = newHost("bk-older", { state: false });
        const first = (await backup(host)).last_snapshot;
        const treeAtFirst = hashTree(host.workspace);
        writeTree(host.workspace, { "MEMORY.md": "# Memory\n- poisoned by a prompt injection\n", "memory/2026-11-27.md": "later note\n" });
        const second = (await backup(host)).last_snapshot;
        // R2 records when each object was written: an hour apart (the stand-in ages the first).
        const now = Date.now();
        setLastModified(server, host.bucket, first, new Date(now - 3600_000));
        setLastModified(server, host.bucket, second, new Date(now - 60_000));

        const access = {
            endpoint: server.endpoint,
            bucket: host.bucket,
            accessKeyId: SENTINEL.readerKeyId,
            secretAccessKey: SENTINEL.readerSecret,
            identity: keysOf(host.bucket).identity,
        };
        const byTime = await planRestore({ ...access, restoreFrom: `before:${new Date(now - 1800_000).toISOString()}` });
        assert.equal(byTime.chosen?.id, first, "before:TIME picks the newest written before TIME");
        assert.equal((await planRestore({ ...access, restoreFrom: "latest" })).chosen?.id, second);

        // A stand-in systemctl records what the restore asks of the gateway's unit.
        const calls = path.join(host.root, "systemctl.calls");
        const fake = path.join(host.root, "systemctl");
        fs.writeFileSync(fake, `#!/bin/sh\necho "$*" >> ${calls}\nexit 0\n`, { mode: 0o755 });
        const result = await runHostScript("restore.sh", ["--plan", "-"], host.env({ SYSTEMCTL_BIN: fake }), { input: byTime.text });
        expectOk(result, "restore.sh --plan - (before:TIME)");
        assert.deepEqual(treeDiff(treeAtFirst, hashTree(host.workspace)), []);
        assert.deepEqual(fs.readFileSync(calls, "utf8").trim().split("\n"), [
            "is-active --quiet openclaw-gateway.service",
            "stop openclaw-gateway.service",
            "start openclaw-gateway.service",
        ]);
        const aside = fs.readdirSync(host.home).filter((e) => e.startsWith("openclaw-before-restore-"));
        assert.equal(aside.length, 1);
        assert.equal(
            fs.readFileSync(path.join(host.home, aside[0], "workspace", "MEMORY.md"), "utf8"),
            "# Memory\n- poisoned by a prompt injection\n",
        );
        assert.equal(fs.statSync(path.join(host.home, aside[0])).uid, agentIds().uid);
        assert.match(fs.readFileSync(path.join(host.stateDir, ".env"), "utf8"), /ANTHROPIC_API_KEY=/, "secrets untouched");

        // By key: the diff, back again.
        const byKey = await planRestore({ ...access, restoreFrom: second });
        expectOk(await runHostScript("restore.sh", ["--plan", "-"], host.env({ SYSTEMCTL_BIN: fake }), { input: byKey.text }), "by key");
        assert.equal(fs.readFileSync(path.join(host.workspace, "memory/2026-11-27.md"), "utf8"), "later note\n");
        // An operator restore needs a plan: the host cannot choose by itself.
        const noPlan = await restore(host, ["--snapshot", "latest"]);
        assert.notEqual(noPlan.code, 0);
        assert.match(noPlan.stderr, /an operator restore needs --plan/);
    });

    test("never silently empty: a new bucket starts fresh, one that held snapshots refuses, none is a no-op", async () => {
        const fresh = newServer("bk-empty");
        const treeBefore = hashTree(fresh.home);
        const first = await firstBoot(fresh);
        expectOk(first.result, "first boot on a bucket that never held a snapshot");
        assert.match(first.result.stdout, /nothing to restore yet: r2:bk-empty has never held a snapshot/);
        assert.deepEqual(treeDiff(treeBefore, hashTree(fresh.home)), []);

        // A first backup marks the bucket (meta/holds-snapshots, locked for ever) ...
        const host = newHost("bk-empty", { state: false });
        const only = (await backup(host)).last_snapshot;
        assert.ok(fs.existsSync(s3ObjectFile(server, "bk-empty", "meta/holds-snapshots")));
        // ... so once its snapshots are gone (here: deleted behind the bucket's back), a new server refuses to start empty.
        for (const suffix of ["object", "object.md5", "metadata.json"])
            fs.rmSync(`${s3ObjectFile(server, "bk-empty", only).slice(0, -"object".length)}${suffix}`, { force: true });
        const rebuilt = newServer("bk-empty");
        await assert.rejects(
            planRestoreFor(rebuilt, server, "latest"),
            /has held snapshots, but holds no restorable snapshot.*Refusing to start the agent with an empty memory/s,
        );
        await assert.rejects(
            planRestoreFor(rebuilt, server, "before:2020-01-01T00:00:00Z"),
            /no restorable snapshot written before 2020-01-01/,
        );
        // Without a plan the push's restore fails too, rather than start blank.
        const noPlan = await restore(rebuilt, ["--snapshot", "latest", "--first-boot"]);
        assert.notEqual(noPlan.code, 0);
        assert.match(noPlan.stderr, /no restore plan at/);
        // restoreFrom none: the deliberate way to start empty.
        const none = await firstBoot(rebuilt, "none");
        expectOk(none.result, "restoreFrom none");
        assert.match(none.result.stdout, /restore disabled \(--snapshot none\): nothing to do/);
        expectOk(await restore(rebuilt, ["--snapshot", "none"]), "--snapshot none");
    });

    test("no secret in any argv, log, status file or bucket object; the identity never on a host", async () => {
        const host = newHost("bk-secrets");
        const trace = path.join(host.root, "execve.trace");
        const wrap = (file: string) => ["strace", "-f", "-qq", "-s", "65535", "-e", "trace=execve", "-o", file];
        const backupRun = await runHostScript("backup.sh", [], host.env(), { wrap: wrap(trace) });
        expectOk(backupRun, "backup.sh under strace");
        const rebuilt = newServer("bk-secrets");
        const plan = await planRestoreFor(rebuilt, server, "latest");
        const onetime = /^identity=(AGE-SECRET-KEY-1\S+)$/m.exec(plan.text)![1];
        const traceRestore = path.join(host.root, "execve-restore.trace");
        const restoreRun = await runHostScript(
            "restore.sh",
            ["--snapshot", "latest", "--first-boot"],
            rebuilt.env({ RESTORE_MANAGE_GATEWAY: "0" }),
            {
                wrap: wrap(traceRestore),
            },
        );
        expectOk(restoreRun, "restore.sh under strace");

        const traced = fs.readFileSync(trace, "utf8") + fs.readFileSync(traceRestore, "utf8");
        assert.match(traced, /execve\("[^"]*rclone"/, "the trace saw rclone run");
        assert.match(traced, /execve\("[^"]*age", \["age", "-r", "age1/, "the trace saw age encrypt to the recipient");
        assert.match(traced, /"backup", "create"/, "the trace saw openclaw backup create run");
        const secrets = [...ALL_SENTINELS, keysOf("bk-secrets").identity, onetime];
        for (const secret of secrets) {
            assert.equal(traced.includes(secret), false, "a secret appeared in a command line");
            for (const run of [backupRun, restoreRun])
                assert.equal((run.stdout + run.stderr).includes(secret), false, "a secret appeared in a log");
        }
        assert.deepEqual(filesContaining(host.libDir, secrets), [], "status, index or lock files hold a secret");
        assert.deepEqual(
            filesContaining(path.join(server.dataDir, "bk-secrets"), [...secrets, "Never run destructive"]),
            [],
            "the bucket holds a secret or plaintext",
        );
        // The operator's keys (identity, read-only token) never reach either host; the one-time key is gone after the restore.
        const operatorKeys = [keysOf("bk-secrets").identity, onetime, SENTINEL.readerKeyId, SENTINEL.readerSecret];
        assert.deepEqual(filesContaining(host.root, operatorKeys), [], "an operator key is on the host");
        assert.deepEqual(filesContaining(rebuilt.root, operatorKeys), [], "the new server keeps a key after its restore");
        assert.equal(fs.statSync(host.rcloneConfig).mode & 0o777, 0o600);
    });

    test("overlapping runs are refused by the lock, and a failed run is recorded next to the last success", async () => {
        const host = newHost("bk-lock", { state: false });
        const key = (await backup(host)).last_snapshot;
        const lockFile = path.join(host.libDir, "backup.lock");
        // Its own process group, so stopping it also ends the sleep that inherits the locked fd.
        const holder = spawn("flock", [lockFile, "sleep", "600"], { stdio: "ignore", detached: true });
        try {
            const started = Date.now();
            while (spawnSync("flock", ["-n", lockFile, "true"]).status === 0) {
                if (Date.now() - started > 50_000) throw new Error("the lock holder did not take the lock");
                await new Promise((r) => setTimeout(r, 20));
            }
            const overlapping = await runHostScript("backup.sh", [], host.env());
            assert.notEqual(overlapping.code, 0);
            assert.match(overlapping.stderr, /another backup or restore is running/);
            const plan = await planRestore({
                endpoint: server.endpoint,
                bucket: host.bucket,
                accessKeyId: SENTINEL.readerKeyId,
                secretAccessKey: SENTINEL.readerSecret,
                identity: keysOf(host.bucket).identity,
                restoreFrom: key,
            });
            const restoring = await runHostScript("restore.sh", ["--plan", "-"], host.env({ RESTORE_MANAGE_GATEWAY: "0" }), {
                input: plan.text,
            });
            assert.notEqual(restoring.code, 0);
            assert.match(restoring.stderr, /another backup or restore is running/);
        } finally {
            const exited = new Promise((resolve) => holder.on("exit", resolve));
            process.kill(-holder.pid!, "SIGTERM");
            await exited;
        }
        assert.equal(readStatus(path.join(host.libDir, "backup.status")).last_snapshot, key, "a refused run changes nothing");

        // The bucket vanishes (or the token was revoked): the failure is visible, the last success stays.
        const failed = await runHostScript("backup.sh", [], host.env({ BACKUP_REMOTE: "r2:bk-no-such-bucket" }));
        assert.notEqual(failed.code, 0);
        assert.match(failed.stderr, /backup FAILED at step upload/);
        const status = readStatus(path.join(host.libDir, "backup.status"));
        assert.equal(status.last_snapshot, key);
        assert.match(status.last_success, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        assert.match(status.last_error, /step upload failed/);
        assert.deepEqual(
            fs.readdirSync(host.libDir).sort(),
            ["backup-index", "backup.lock", "backup.status"],
            "the staging copy is removed",
        );
        // A failed run leaves the index as it was: the next diff still builds on the full that exists.
        assert.equal((await backup(host)).last_full, key);
    });

    test("snapshots of the old per-file layout stay restorable until they expire (and are ordered with the new ones)", async () => {
        const host = newHost("bk-legacy", { state: false });
        // The first design stored file names as object keys: keep to the names it handled (no %, valid UTF-8).
        fs.rmSync(path.join(host.workspace, "notes"), { recursive: true });
        // An old-layout snapshot as the first design wrote it: files under snapshots/<TS>/, MANIFEST (v1) last.
        const id = "20261101T030000Z";
        const tree = path.join(host.root, "legacy");
        fs.mkdirSync(tree, { recursive: true });
        assert.equal(spawnSync("cp", ["-a", host.workspace, path.join(tree, "workspace")]).status, 0);
        const manifest = spawnSync(
            "bash",
            [
                "-c",
                `source "$1/backup-lib.sh"; { printf '# openclaw-vps-manifest v1\\n# snapshot ${id}\\n'; manifest_entries "$2"; } >"$3"`,
                "_",
                path.join(__dirname, "..", "..", "cloud-init"),
                tree,
                path.join(host.root, "MANIFEST"),
            ],
            { env: host.env(), encoding: "utf8" },
        );
        assert.equal(manifest.status, 0, manifest.stderr);
        expectOk(await rclone(host, ["copy", "--links", tree, `r2:${host.bucket}/snapshots/${id}`]), "upload the old layout");
        expectOk(
            await rclone(host, ["copyto", path.join(host.root, "MANIFEST"), `r2:${host.bucket}/snapshots/${id}/MANIFEST`]),
            "MANIFEST last",
        );

        const rebuilt = newServer("bk-legacy");
        const latest = await firstBoot(rebuilt);
        expectOk(latest.result, "restore of the newest (an old-layout snapshot: the first v2 backup has not run yet)");
        assert.equal(latest.chosen, id);
        assert.deepEqual(treeDiff(hashTree(host.workspace), hashTree(rebuilt.workspace)), []);

        // Once a v2 backup exists it is newer by LastModified; the old snapshot stays restorable by its id.
        const v2 = (await backup(host)).last_snapshot;
        const again = newServer("bk-legacy");
        assert.equal((await planRestoreFor(again, server, "latest")).chosen?.id, v2);
        const old = await firstBoot(again, id);
        expectOk(old.result, "restore of the old layout by id");
        assert.deepEqual(treeDiff(hashTree(host.workspace), hashTree(again.workspace)), []);
    });
});
