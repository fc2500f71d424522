// Round trips of the host backup scripts (cloud-init/backup.sh, restore.sh, list-snapshots.sh) with real rclone
// 1.60 against a local S3 server (s3rver), a real OpenClaw state made by the pinned `openclaw onboard`, and the real
// privilege split (the agent user is `nobody`; the scripts run as root). Proves: byte-identical restore on a new
// server (rclone check + the manifest), incremental uploads, consistent SQLite under concurrent writes, restore of an
// older snapshot, loud failures that leave the workspace untouched, read-only backups, and no secret in any log,
// argv or bucket object.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { DatabaseSync } from "node:sqlite";
import {
    agentIds,
    createBackupHost,
    rclone,
    readStatus,
    runHostScript,
    THROWAWAY_AGENT_USER,
    writeTree,
    type BackupHost,
    type ScriptResult,
} from "../../standin/backup-host";
import { s3ObjectFile, serverSideCopiesUnder, startS3Server, uploadsUnder, type S3Server } from "../../standin/bucket";
import { filesContaining, hashTree, installOpenClawState, makeTempDir, onboardOpenClaw, requireTools, treeDiff } from "../helpers/backup";

const SENTINEL = {
    accessKeyId: "AKSENTINEL7f3a9c0d1e",
    secretAccessKey: "r2secretSENTINEL91b2c3d4e5f6",
    llmKey: "sk-ant-SENTINEL-llm-key-4d2e8a",
    oauth: "SENTINEL-oauth-refresh-8c1f77",
};
const ALL_SENTINELS = Object.values(SENTINEL);
const SNAPSHOT_ID = /^\d{8}T\d{6}Z$/;
const BUCKETS = ["bk-roundtrip", "bk-incremental", "bk-sqlite", "bk-older", "bk-corrupt", "bk-empty", "bk-secrets", "bk-lock"];

/** The operator's workspace plus what an agent writes: nested memory, a skill with an executable, odd names,
 *  a symlink and an empty folder. */
const WORKSPACE_FILES = {
    "SOUL.md": "# Soul\nNever run destructive commands.\n",
    "USER.md": "# User\nTime zone: Europe/Berlin\n",
    "MEMORY.md": "# Memory\n- The VPS runs Ubuntu 24.04.\n",
    "memory/2026-11-25.md": "Set up the backups.\n",
    "memory/2026-11-26.md": "Tested a restore.\n",
    "memory/today.md": { link: "2026-11-26.md" },
    "skills/weather/SKILL.md": "---\nname: weather\n---\n",
    "skills/weather/scripts/fetch.sh": { content: "#!/bin/sh\necho sunny\n", mode: 0o700 },
    // No "%" here: s3rver ignores encoding-type=url in listings, so rclone mis-decodes such keys (R2 encodes them).
    "notes/with space & ünïcode back\\slash\ttab.md": "odd names survive\n",
    "notes/large.bin": "x".repeat(300_000),
};

let tmp: string;
let template: string;
let server: S3Server;
let hostCount = 0;

before(async () => {
    requireTools({
        rclone: "rclone",
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
    const host = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, bucket);
    if (opts.state !== false) installOpenClawState(template, host);
    else writeTree(host.stateDir, {});
    writeTree(host.workspace, WORKSPACE_FILES);
    fs.mkdirSync(path.join(host.workspace, "inbox"), { mode: 0o700 });
    fs.chownSync(path.join(host.workspace, "inbox"), agentIds().uid, agentIds().gid);
    writeTree(host.stateDir, {
        ".env": `ANTHROPIC_API_KEY=${SENTINEL.llmKey}\n`,
        "credentials/oauth.json": JSON.stringify({ refresh: SENTINEL.oauth }),
    });
    return host;
}

/** A brand-new server for the same bucket: only what the push writes before the first-boot restore. */
function newServer(bucket: string): BackupHost {
    const host = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, bucket);
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

async function backup(host: BackupHost, env: Record<string, string> = {}): Promise<string> {
    const result = await runHostScript("backup.sh", [], host.env(env));
    expectOk(result, "backup.sh");
    const status = readStatus(path.join(host.libDir, "backup.status"));
    assert.match(status.last_snapshot, SNAPSHOT_ID);
    assert.equal(status.last_error, "");
    return status.last_snapshot;
}

function restore(host: BackupHost, args: string[], env: Record<string, string> = {}): Promise<ScriptResult> {
    return runHostScript("restore.sh", args, host.env({ RESTORE_MANAGE_GATEWAY: "0", ...env }));
}

async function manifestOf(host: BackupHost, id: string): Promise<string> {
    const result = await rclone(host, ["cat", `r2:${host.bucket}/snapshots/${id}/MANIFEST`]);
    expectOk(result, "rclone cat MANIFEST");
    return result.stdout;
}

function decodeManifestPath(p: string): string {
    return p.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Checks every file entry of a manifest against a restored tree, independently of restore.sh's own check. */
function assertTreeMatchesManifest(manifest: string, roots: Record<string, string>): number {
    let checked = 0;
    for (const line of manifest.split("\n")) {
        if (line === "" || line.startsWith("#")) continue;
        const [type, , size, sha, encoded] = line.split("\t");
        const rel = decodeManifestPath(encoded);
        const [top, ...rest] = rel.split("/");
        const root = roots[top];
        assert.ok(root, `manifest entry outside workspace/ and state/: ${rel}`);
        const file = path.join(root, ...rest);
        if (type === "F") {
            const bytes = fs.readFileSync(file);
            assert.equal(bytes.length, Number(size), `size of ${rel}`);
            assert.equal(createHash("sha256").update(bytes).digest("hex"), sha, `sha256 of ${rel}`);
            checked++;
        } else if (type === "L") {
            assert.equal(createHash("sha256").update(fs.readlinkSync(file)).digest("hex"), sha, `link target of ${rel}`);
            checked++;
        } else {
            assert.equal(type, "D", `entry type of ${rel}`);
            assert.ok(fs.statSync(file).isDirectory(), `${rel} is a directory`);
        }
    }
    return checked;
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
        if (Date.now() - started > 20_000) throw new Error(`writer too slow: ${rows} rows; ${stderr}`);
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

describe("backup and restore with real rclone against a local S3 server", () => {
    test("backup, then a new server restores byte-identical files (rclone check and the manifest agree)", async () => {
        const host = newHost("bk-roundtrip");
        const workspaceBefore = hashTree(host.workspace);
        const stateBefore = hashTree(host.stateDir, { exclude: STATE_COMPARABLE });
        const id = await backup(host);

        // What is in the bucket equals the local workspace, file for file (both directions).
        const check = await rclone(host, [
            "check",
            "--links",
            "--fast-list",
            host.workspace,
            `r2:${host.bucket}/snapshots/${id}/workspace`,
        ]);
        expectOk(check, "rclone check workspace vs bucket");
        assert.match(check.stderr, /0 differences found/);
        const pointer = await rclone(host, ["cat", `r2:${host.bucket}/pointers/latest`]);
        assert.equal(pointer.stdout.trim(), id);

        const rebuilt = newServer("bk-roundtrip");
        const envBefore = fs.readFileSync(path.join(rebuilt.stateDir, ".env"), "utf8");
        const result = await restore(rebuilt, ["--snapshot", "latest", "--first-boot"]);
        expectOk(result, "restore.sh latest --first-boot");
        assert.match(result.stdout, new RegExp(`restore of snapshot ${id} done`));

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

        const manifest = await manifestOf(host, id);
        const checked = assertTreeMatchesManifest(manifest, { workspace: rebuilt.workspace, state: rebuilt.stateDir });
        assert.ok(checked >= Object.keys(WORKSPACE_FILES).length, `manifest covers the files (${checked})`);
        assert.match(manifest, /^D\t0700\t0\t-\tworkspace\/inbox$/m, "empty folders are recorded");
        assert.match(manifest, /^L\t0777\t13\t[0-9a-f]{64}\tworkspace\/memory\/today\.md$/m, "symlinks are recorded as links");
        const check2 = await rclone(rebuilt, [
            "check",
            "--links",
            "--fast-list",
            rebuilt.workspace,
            `r2:${host.bucket}/snapshots/${id}/workspace`,
        ]);
        expectOk(check2, "rclone check restored workspace vs bucket");

        // Nothing is left behind: no staging dir, and no "before-restore" dir when nothing was replaced.
        assert.deepEqual(
            fs.readdirSync(rebuilt.home).filter((e) => e !== ".openclaw"),
            [],
        );
        assert.deepEqual(fs.readdirSync(path.join(host.libDir)).sort(), ["backup.lock", "backup.status"]);
    });

    test("a second backup uploads only the changed file; the rest is server-side copied; local files never change", async () => {
        const host = newHost("bk-incremental");
        const readOnlyView = () => hashTree(host.stateDir, { exclude: (rel) => /^state\/openclaw\.sqlite/.test(rel) });
        const before1 = readOnlyView();
        const first = await backup(host);
        assert.deepEqual(treeDiff(before1, readOnlyView()), [], "backup changed local files");

        fs.appendFileSync(path.join(host.workspace, "memory", "2026-11-26.md"), "Learned: incremental backups work.\n");
        const mark = server.requests().length;
        const before2 = readOnlyView();
        const second = await backup(host);
        assert.notEqual(second, first);
        assert.deepEqual(treeDiff(before2, readOnlyView()), [], "backup changed local files");

        const requests = server.requests().slice(mark);
        const uploads = uploadsUnder(requests, host.bucket, `snapshots/${second}/`);
        assert.deepEqual(
            uploads.filter((k) => k.startsWith("workspace/")),
            ["workspace/memory/2026-11-26.md"],
        );
        // OpenClaw records each backup run in its own database, so that one file changes every time; no other state does.
        assert.deepEqual(
            uploads.filter((k) => k.startsWith("state/")).filter((k) => k !== "state/state/openclaw.sqlite"),
            [],
        );
        assert.ok(uploads.includes("MANIFEST"));
        assert.deepEqual(uploadsUnder(requests, host.bucket, "pointers/"), ["latest"]);
        const copies = serverSideCopiesUnder(requests, host.bucket, `snapshots/${second}/`);
        const entries = (await manifestOf(host, second)).split("\n").filter((l) => /^[FL]\t/.test(l)).length;
        assert.equal(copies.length + uploads.length - 1, entries, "every other file is a server-side copy");
        assert.ok(copies.length >= Object.keys(WORKSPACE_FILES).length - 1);
        const status = readStatus(path.join(host.libDir, "backup.status"));
        assert.equal(Number(status.last_uploaded), uploads.length - 1);
        assert.equal(Number(status.last_server_side_copies), copies.length);

        // Both snapshots stay self-contained: the first one still matches its own manifest in the bucket.
        const older = await rclone(host, ["cat", `r2:${host.bucket}/snapshots/${first}/workspace/memory/2026-11-26.md`]);
        assert.equal(older.stdout, "Tested a restore.\n");

        // Nothing changed in the workspace: no workspace file is uploaded at all.
        const mark3 = server.requests().length;
        const third = await backup(host);
        assert.deepEqual(
            uploadsUnder(server.requests().slice(mark3), host.bucket, `snapshots/${third}/`).filter((k) => k.startsWith("workspace/")),
            [],
        );
    });

    test("a backup taken while SQLite databases are being written restores to databases that pass integrity_check", async () => {
        const host = newHost("bk-sqlite");
        const stateDb = path.join(host.stateDir, "state", "openclaw.sqlite");
        const workspaceDb = path.join(host.workspace, "tools", "scratch.sqlite");
        writeTree(path.join(host.workspace, "tools"), {});
        const writers = [await startWriter(host, stateDb), await startWriter(host, workspaceDb)];
        let id: string;
        try {
            assert.ok(fs.existsSync(`${workspaceDb}-wal`), "the workspace database is in WAL mode with a live -wal file");
            id = await backup(host);
        } finally {
            await Promise.all(writers.map((w) => stopProcess(w.child)));
        }
        const manifest = await manifestOf(host, id);
        assert.doesNotMatch(manifest, /\.sqlite-(wal|shm|journal)$/m, "no live sidecar files in a snapshot");

        const rebuilt = newServer("bk-sqlite");
        // What the new server already has must survive: installed plugins and logs are not the snapshot's business;
        // a stale WAL next to the database being replaced must not be replayed into it.
        writeTree(rebuilt.stateDir, {
            "npm/projects/voyage-provider/package.json": '{"name":"@openclaw/voyage-provider"}',
            "logs/openclaw.log": "gateway log line\n",
            "state/openclaw.sqlite-wal": "stale wal bytes that are not a WAL",
        });
        expectOk(await restore(rebuilt, ["--snapshot", id, "--first-boot"]), "restore");
        assert.equal(
            fs.readFileSync(path.join(rebuilt.stateDir, "npm/projects/voyage-provider/package.json"), "utf8"),
            '{"name":"@openclaw/voyage-provider"}',
        );
        assert.equal(fs.readFileSync(path.join(rebuilt.stateDir, "logs/openclaw.log"), "utf8"), "gateway log line\n");
        assert.equal(
            fs.existsSync(path.join(rebuilt.stateDir, "state/openclaw.sqlite-wal")),
            false,
            "the stale WAL was moved aside with the old state/",
        );
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

    test("restore of an older chosen snapshot (operator restore: gateway stopped and started, old files kept aside)", async () => {
        const host = newHost("bk-older", { state: false });
        const first = await backup(host);
        const treeAtFirst = hashTree(host.workspace);
        writeTree(host.workspace, { "MEMORY.md": "# Memory\n- poisoned by a prompt injection\n", "memory/2026-11-27.md": "later note\n" });
        const second = await backup(host);

        const listed = await runHostScript("list-snapshots.sh", [], host.env());
        expectOk(listed, "list-snapshots.sh");
        assert.deepEqual(
            listed.stdout
                .trim()
                .split("\n")
                .map((l) => l.split(/\s+/)),
            [
                [
                    second,
                    `${second.slice(0, 4)}-${second.slice(4, 6)}-${second.slice(6, 8)}T${second.slice(9, 11)}:${second.slice(11, 13)}:${second.slice(13, 15)}Z`,
                    "latest",
                ],
                [
                    first,
                    `${first.slice(0, 4)}-${first.slice(4, 6)}-${first.slice(6, 8)}T${first.slice(9, 11)}:${first.slice(11, 13)}:${first.slice(13, 15)}Z`,
                ],
            ],
        );

        // A stand-in systemctl records what the restore asks of the gateway's user unit.
        const calls = path.join(host.root, "systemctl.calls");
        const fake = path.join(host.root, "systemctl");
        fs.writeFileSync(fake, `#!/bin/sh\necho "$*" >> ${calls}\nexit 0\n`, { mode: 0o755 });
        const result = await runHostScript("restore.sh", ["--snapshot", first], host.env({ SYSTEMCTL_BIN: fake }));
        expectOk(result, "restore.sh --snapshot FIRST");
        assert.deepEqual(treeDiff(treeAtFirst, hashTree(host.workspace)), []);
        assert.deepEqual(fs.readFileSync(calls, "utf8").trim().split("\n"), [
            `--user --machine=${THROWAWAY_AGENT_USER}@ is-active --quiet openclaw-gateway.service`,
            `--user --machine=${THROWAWAY_AGENT_USER}@ stop openclaw-gateway.service`,
            `--user --machine=${THROWAWAY_AGENT_USER}@ start openclaw-gateway.service`,
        ]);
        const aside = fs.readdirSync(host.home).filter((e) => e.startsWith("openclaw-before-restore-"));
        assert.equal(aside.length, 1);
        assert.equal(
            fs.readFileSync(path.join(host.home, aside[0], "workspace", "MEMORY.md"), "utf8"),
            "# Memory\n- poisoned by a prompt injection\n",
        );
        assert.equal(fs.statSync(path.join(host.home, aside[0])).uid, agentIds().uid);
        // Secrets were not touched by the state swap.
        assert.match(fs.readFileSync(path.join(host.stateDir, ".env"), "utf8"), /ANTHROPIC_API_KEY=/);
    });

    test("a missing, incomplete or corrupt snapshot fails loudly and leaves the workspace as it was", async () => {
        const host = newHost("bk-corrupt", { state: false });
        const good = await backup(host);
        writeTree(host.workspace, { "MEMORY.md": "# Memory\n- newer than the snapshot\n" });
        const unchanged = () => hashTree(host.home);
        const treeBefore = unchanged();
        const expectFailure = async (args: string[], message: RegExp, what: string) => {
            const result = await restore(host, args);
            assert.notEqual(result.code, 0, `${what}: restore should fail:\n${result.stdout}`);
            assert.match(result.stderr, message, what);
            assert.match(result.stderr, /the workspace and state are unchanged/);
            assert.deepEqual(treeDiff(treeBefore, unchanged()), [], `${what}: local files changed`);
        };

        await expectFailure(
            ["--snapshot", "20200101T000000Z"],
            /snapshot 20200101T000000Z does not exist or is incomplete/,
            "missing snapshot",
        );

        // An interrupted upload: files but no MANIFEST, and even pointers/latest naming it.
        const incomplete = "20991231T235959Z";
        expectOk(
            await rclone(host, ["copy", "--links", host.workspace, `r2:${host.bucket}/snapshots/${incomplete}/workspace`]),
            "seed incomplete",
        );
        expectOk(
            await rclone(host, ["copyto", path.join(host.workspace, "SOUL.md"), `r2:${host.bucket}/snapshots/${incomplete}/stray`]),
            "stray",
        );
        const pointerFile = path.join(host.root, "pointer");
        fs.writeFileSync(pointerFile, `${incomplete}\n`);
        expectOk(await rclone(host, ["copyto", "--ignore-times", pointerFile, `r2:${host.bucket}/pointers/latest`]), "pointer");
        await expectFailure(["--snapshot", incomplete], /does not exist or is incomplete \(no MANIFEST\)/, "snapshot without MANIFEST");
        const listed = await runHostScript("list-snapshots.sh", [], host.env());
        expectOk(listed, "list-snapshots.sh");
        assert.equal(
            listed.stdout.trim(),
            `${good}  ${good.slice(0, 4)}-${good.slice(4, 6)}-${good.slice(6, 8)}T${good.slice(9, 11)}:${good.slice(11, 13)}:${good.slice(13, 15)}Z  latest`,
            "an incomplete snapshot is never listed nor latest",
        );

        // Bit rot in the bucket: one byte flipped in a stored object.
        const object = s3ObjectFile(server, host.bucket, `snapshots/${good}/workspace/MEMORY.md`);
        const original = fs.readFileSync(object);
        const flipped = Buffer.from(original);
        flipped[3] ^= 0x20;
        fs.writeFileSync(object, flipped);
        await expectFailure(["--snapshot", good], /download of snapshot|failed verification/, "byte flipped in the bucket");
        fs.writeFileSync(object, original);

        // An object replaced through the S3 API (consistent ETag, wrong content): only the manifest catches it.
        const forged = path.join(host.root, "forged.md");
        fs.writeFileSync(forged, "# Memory\n- forged\n");
        expectOk(await rclone(host, ["copyto", forged, `r2:${host.bucket}/snapshots/${good}/workspace/MEMORY.md`]), "forge");
        await expectFailure(["--snapshot", good], /snapshot \S+ failed verification/, "replaced object");

        // An extra object slipped into the snapshot is refused too.
        fs.writeFileSync(forged, "# Memory\n- The VPS runs Ubuntu 24.04.\n");
        const originalMemory = path.join(host.root, "MEMORY.md");
        fs.writeFileSync(originalMemory, WORKSPACE_FILES["MEMORY.md"]);
        expectOk(await rclone(host, ["copyto", originalMemory, `r2:${host.bucket}/snapshots/${good}/workspace/MEMORY.md`]), "repair");
        expectOk(await rclone(host, ["copyto", forged, `r2:${host.bucket}/snapshots/${good}/workspace/skills/evil/SKILL.md`]), "inject");
        await expectFailure(["--snapshot", good], /failed verification/, "extra object");
        assert.deepEqual(
            fs.readdirSync(host.home).filter((e) => e !== ".openclaw"),
            [],
            "no staging or aside dir is left",
        );
    });

    test("first boot with an empty bucket succeeds; an operator restore from it fails; none is a no-op", async () => {
        const host = newHost("bk-empty", { state: false });
        const treeBefore = hashTree(host.home);
        const firstBoot = await restore(host, ["--snapshot", "latest", "--first-boot"]);
        expectOk(firstBoot, "first boot on an empty bucket");
        assert.match(firstBoot.stderr + firstBoot.stdout, /nothing to restore yet/);
        const operator = await restore(host, ["--snapshot", "latest"]);
        assert.notEqual(operator.code, 0);
        assert.match(operator.stderr, /no complete snapshot in r2:bk-empty/);
        expectOk(await restore(host, ["--snapshot", "none"]), "none");
        const bad = await restore(host, ["--snapshot", "yesterday"]);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /--snapshot must be latest, none or a snapshot id/);
        const listed = await runHostScript("list-snapshots.sh", [], host.env());
        expectOk(listed, "list-snapshots.sh on an empty bucket");
        assert.equal(listed.stdout, "");
        assert.deepEqual(treeDiff(treeBefore, hashTree(host.home)), []);
    });

    test("no secret in any argv, log, status file or bucket object", async () => {
        const host = newHost("bk-secrets");
        const trace = path.join(host.root, "execve.trace");
        const wrap = ["strace", "-f", "-qq", "-s", "65535", "-e", "trace=execve", "-o", trace];
        const backupRun = await runHostScript("backup.sh", [], host.env(), { wrap });
        expectOk(backupRun, "backup.sh under strace");
        const rebuilt = newServer("bk-secrets");
        const traceRestore = path.join(host.root, "execve-restore.trace");
        const restoreRun = await runHostScript("restore.sh", ["--snapshot", "latest", "--first-boot"], rebuilt.env(), {
            wrap: ["strace", "-f", "-qq", "-s", "65535", "-e", "trace=execve", "-o", traceRestore],
        });
        expectOk(restoreRun, "restore.sh under strace");

        const traced = fs.readFileSync(trace, "utf8") + fs.readFileSync(traceRestore, "utf8");
        assert.match(traced, /execve\("[^"]*rclone"/, "the trace saw rclone run");
        assert.match(traced, /"backup", "create"/, "the trace saw openclaw backup create run");
        for (const secret of ALL_SENTINELS) {
            assert.equal(traced.includes(secret), false, `a secret appeared in a command line`);
            for (const run of [backupRun, restoreRun])
                assert.equal((run.stdout + run.stderr).includes(secret), false, "a secret appeared in a log");
        }
        assert.deepEqual(filesContaining(host.libDir, ALL_SENTINELS), [], "status or lock files hold a secret");
        assert.deepEqual(filesContaining(path.join(server.dataDir, "bk-secrets"), ALL_SENTINELS), [], "the bucket holds a secret");
        assert.deepEqual(filesContaining(rebuilt.workspace, ALL_SENTINELS), []);
        assert.equal(fs.statSync(host.rcloneConfig).mode & 0o777, 0o600);
    });

    test("overlapping runs are refused by the lock, and a failed run is recorded next to the last success", async () => {
        const host = newHost("bk-lock", { state: false });
        const id = await backup(host);
        const lockFile = path.join(host.libDir, "backup.lock");
        // Its own process group, so stopping it also ends the sleep that inherits the locked fd.
        const holder = spawn("flock", [lockFile, "sleep", "60"], { stdio: "ignore", detached: true });
        try {
            const started = Date.now();
            while (spawnSync("flock", ["-n", lockFile, "true"]).status === 0) {
                if (Date.now() - started > 5000) throw new Error("the lock holder did not take the lock");
                await new Promise((r) => setTimeout(r, 20));
            }
            const overlapping = await runHostScript("backup.sh", [], host.env());
            assert.notEqual(overlapping.code, 0);
            assert.match(overlapping.stderr, /another backup or restore is running/);
            const restoring = await restore(host, ["--snapshot", id]);
            assert.notEqual(restoring.code, 0);
            assert.match(restoring.stderr, /another backup or restore is running/);
        } finally {
            const exited = new Promise((resolve) => holder.on("exit", resolve));
            process.kill(-holder.pid!, "SIGTERM");
            await exited;
        }
        assert.equal(readStatus(path.join(host.libDir, "backup.status")).last_snapshot, id, "a refused run changes nothing");

        // The bucket vanishes (or the token was revoked): the failure is visible, the last success stays.
        const failed = await runHostScript("backup.sh", [], host.env({ BACKUP_REMOTE: "r2:bk-no-such-bucket" }));
        assert.notEqual(failed.code, 0);
        assert.match(failed.stderr, /backup FAILED at step/);
        const status = readStatus(path.join(host.libDir, "backup.status"));
        assert.equal(status.last_snapshot, id);
        assert.match(status.last_success, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        assert.match(status.last_error, /step \S+ failed/);
        assert.deepEqual(
            fs.readdirSync(host.libDir).sort(),
            ["backup.lock", "backup.status"],
            "the staging copy is removed after a failure",
        );
    });
});
