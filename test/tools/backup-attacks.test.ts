// Attacks on the backups by a compromised host, against the bucket stand-in with R2's bucket lock and lifecycle
// emulated (standin/bucket.ts): the host's own R2 key cannot delete or overwrite a locked object; objects a host
// injects (garbage, another recipient's archive, a renamed copy, a diff without its full) are ignored, never fatal;
// forged archives named as if back-dated or future-dated are never chosen, because snapshots are ordered by the
// LastModified R2 sets, not by names; a simulated month of lifecycle keeps every snapshot younger than the retention
// restorable (the day fulls outlive their diffs is what makes it so: the control without it fails); no file a host
// holds can decrypt an archive; and a truncated, corrupted or re-encrypted archive fails the restore loudly and
// leaves the home tree untouched. Real age, zstd, GNU tar, rclone and the real scripts throughout.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { generateIdentity } from "../../components/core/age";
import { bucketExpiryRules, bucketLockRules } from "../../components/core/backup-layout";
import { inspectAll, listCatalog } from "../../components/snapshots/catalog";
import { planRestore } from "../../components/snapshots/plan";
import { S3Client } from "../../components/snapshots/s3";
import {
    createBackupHost,
    HOST_SCRIPTS_DIR,
    planRestoreFor,
    rclone,
    readStatus,
    runHostScript,
    TOOLS_PATH,
    writeTree,
    type BackupHost,
    type ScriptResult,
} from "../../standin/backup-host";
import { applyLifecycle, s3ObjectFile, setLastModified, startS3Server, storedObjects, type S3Server } from "../../standin/bucket";
import { filesContaining, hashTree, keysOf, makeTempDir, openArchive, requireTools, runAsync, treeDiff } from "../helpers/backup";

const HOST_KEY = { accessKeyId: "AKATTACK5b6c7d", secretAccessKey: "attacksecret8e9f0a1b2c" };
const READER = { accessKeyId: "READATTACK3d4e5f", secretAccessKey: "readattacksecret6a7b8c" };
const BUCKETS = ["atk-lock", "atk-inject", "atk-forge", "atk-life", "atk-life-control", "atk-keys", "atk-broken"];
const HOUR = 3600_000;
const DAY = 24 * HOUR;

let tmp: string;
let server: S3Server;
let hostCount = 0;

before(async () => {
    requireTools({ rclone: "rclone", age: "age", zstd: "zstd", runuser: "util-linux", flock: "util-linux" });
    tmp = makeTempDir("openclaw-vps-backup-attacks-");
    fs.chmodSync(tmp, 0o755);
    server = await startS3Server({
        dir: path.join(tmp, "s3"),
        buckets: BUCKETS,
        ...HOST_KEY,
        reader: READER,
        locks: bucketLockRules(7),
    });
});

after(async () => {
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function newHost(bucket: string, files: Record<string, string> = { "MEMORY.md": "# Memory\n- the real memory\n" }): BackupHost {
    const host = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, bucket, { identity: keysOf(bucket) });
    writeTree(host.workspace, files);
    return host;
}

function expectOk(result: ScriptResult, what: string): void {
    assert.equal(result.code, 0, `${what} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
}

async function backup(host: BackupHost, env: Record<string, string> = {}): Promise<string> {
    const result = await runHostScript("backup.sh", [], host.env({ BACKUP_INCLUDE_STATE: "0", ...env }));
    expectOk(result, "backup.sh");
    return readStatus(path.join(host.libDir, "backup.status")).last_snapshot;
}

const hostClient = (bucket: string) => new S3Client({ endpoint: server.endpoint, bucket, ...HOST_KEY });
const readerClient = (bucket: string) => new S3Client({ endpoint: server.endpoint, bucket, ...READER });
const access = (bucket: string) => ({ endpoint: server.endpoint, bucket, ...READER, identity: keysOf(bucket).identity });

/**
 * What a compromised host can make: a VALID archive of any content, encrypted to the (public) recipient, bound to any
 * key name it likes, uploaded with its own R2 key. Written with the project's own archive tool and the real age.
 */
async function forgeArchive(
    bucket: string,
    key: string,
    files: Record<string, string>,
    opts: { recipient?: string; base?: { key: string; id: string; header: string } } = {},
): Promise<void> {
    const dir = path.join(tmp, `forge-${++hostCount}`);
    fs.mkdirSync(path.join(dir, "workspace"), { recursive: true });
    for (const [rel, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, "workspace", rel), content);
    const id = `${/-([0-9a-f]{8})\./.exec(key)?.[1] ?? "00000000"}00000000`;
    const env = {
        PATH: TOOLS_PATH,
        ARCHIVE_KIND: key.startsWith("fulls/") ? "full" : "diff",
        ARCHIVE_ID: id,
        ARCHIVE_KEY: key,
        ARCHIVE_BUCKET: bucket,
        ARCHIVE_CREATED: "2020-01-01T00:00:00Z",
        ARCHIVE_WORKSPACE: path.join(dir, "workspace"),
        ARCHIVE_SCRATCH: dir,
        ...(opts.base ? { ARCHIVE_BASE_KEY: opts.base.key, ARCHIVE_BASE_ID: opts.base.id, ARCHIVE_BASE_HEADER: opts.base.header } : {}),
    };
    const script = 'node "$1" create 3</dev/null 4</dev/null 5>"$2/index" | age -r "$3" -o "$2/archive.age"';
    const made = await runAsync(
        "bash",
        [
            "-o",
            "pipefail",
            "-c",
            script,
            "_",
            path.join(HOST_SCRIPTS_DIR, "backup-archive.js"),
            dir,
            opts.recipient ?? keysOf(bucket).recipient,
        ],
        { env },
    );
    assert.equal(made.code, 0, made.stderr);
    await hostClient(bucket).put(key, fs.readFileSync(path.join(dir, "archive.age")));
}

const objectSha = (bucket: string, key: string) =>
    createHash("sha256")
        .update(fs.readFileSync(s3ObjectFile(server, bucket, key)))
        .digest("hex");

describe("attacks on the backups, against the bucket stand-in with R2's lock and lifecycle emulated", () => {
    test("the host's own key cannot delete or overwrite a locked archive or the marker; the operator's key cannot write at all", async () => {
        const host = newHost("atk-lock");
        const full = await backup(host);
        const diff = await backup(host);
        const client = hostClient("atk-lock");
        const before1 = objectSha("atk-lock", full);
        await assert.rejects(client.delete(full), /AccessDenied.*locked by bucket lock rule lock-fulls/);
        await assert.rejects(client.put(full, Buffer.from("overwritten")), /AccessDenied.*lock-fulls/);
        await assert.rejects(client.copy(diff, full), /AccessDenied.*lock-fulls/, "a server-side copy onto it");
        await assert.rejects(client.delete(diff), /lock-diffs/);
        const viaRclone = await rclone(host, ["deletefile", `r2:atk-lock/${full}`]);
        assert.notEqual(viaRclone.code, 0, "rclone deletefile with the host's credentials");
        assert.equal(objectSha("atk-lock", full), before1, "the archive is unchanged");
        await assert.rejects(client.delete("meta/holds-snapshots"), /lock-meta/);
        setLastModified(server, "atk-lock", "meta/holds-snapshots", new Date(Date.now() - 3650 * DAY));
        await assert.rejects(client.delete("meta/holds-snapshots"), /lock-meta/, "the marker is locked for ever");
        const reader = readerClient("atk-lock");
        await assert.rejects(reader.put("diffs/20991231T000000Z-00000000.tar.zst.age", Buffer.from("x")), /read-only/);
        await assert.rejects(reader.delete(diff), /read-only/);
        assert.ok((await reader.get(full, { start: 0, end: 20 })).toString().startsWith("age-encryption.org/v1"), "it can read");

        // The locks end when their rules say so: diffs after 7 days, fulls a day later (the emulation is not a wall).
        setLastModified(server, "atk-lock", diff, new Date(Date.now() - 7.5 * DAY));
        setLastModified(server, "atk-lock", full, new Date(Date.now() - 7.5 * DAY));
        await client.delete(diff);
        await assert.rejects(client.delete(full), /lock-fulls/, "a full stays locked one day longer than its diffs");
        setLastModified(server, "atk-lock", full, new Date(Date.now() - 8.5 * DAY));
        await client.delete(full);
    });

    test("objects a host injects are ignored, never fatal: the real latest still restores", async () => {
        const host = newHost("atk-inject");
        const full = await backup(host);
        fs.appendFileSync(path.join(host.workspace, "MEMORY.md"), "- a newer fact\n");
        const diff = await backup(host);
        const tree = hashTree(host.workspace);
        const client = hostClient("atk-inject");
        const injected: Record<string, RegExp> = {
            "diffs/20991231T235959Z-deadbeef.tar.zst.age": /not a valid age file/,
            "fulls/20991231T235959Z-0badc0de.tar.zst.age": /not encrypted to this stack's recipient/,
            "diffs/20991231T235958Z-c0ffee00.tar.zst.age": /it says it is .* \(copied or renamed\)/,
            "diffs/20991231T235957Z-facade00.tar.zst.age": /its full fulls\/20200101T000000Z-abcdef01\.tar\.zst\.age is gone/,
            "fulls/notes.txt": /not an archive name/,
            "20991231T000000Z": /old layout without a MANIFEST/,
        };
        await client.put("diffs/20991231T235959Z-deadbeef.tar.zst.age", Buffer.from("garbage, not an archive"));
        await forgeArchive(
            "atk-inject",
            "fulls/20991231T235959Z-0badc0de.tar.zst.age",
            { "MEMORY.md": "poison" },
            {
                recipient: generateIdentity().recipient,
            },
        );
        await client.copy(diff, "diffs/20991231T235958Z-c0ffee00.tar.zst.age");
        await forgeArchive(
            "atk-inject",
            "diffs/20991231T235957Z-facade00.tar.zst.age",
            { "MEMORY.md": "poison" },
            {
                base: { key: "fulls/20200101T000000Z-abcdef01.tar.zst.age", id: "abcdef0100000000", header: "" },
            },
        );
        await client.put("fulls/notes.txt", Buffer.from("hello"));
        // An old-layout snapshot without its MANIFEST. (s3rver lists a prefix only when an object sits directly in it; R2
        // lists it either way: the stray file makes the stand-in show what R2 would.)
        await client.put("snapshots/20991231T000000Z/workspace/MEMORY.md", Buffer.from("poison"));
        await client.put("snapshots/20991231T000000Z/stray", Buffer.from("poison"));

        const catalog = await listCatalog(readerClient("atk-inject"));
        await inspectAll(readerClient("atk-inject"), catalog, keysOf("atk-inject").identity);
        for (const [id, reason] of Object.entries(injected)) {
            const entry = catalog.entries.find((e) => e.id === id);
            assert.ok(entry, `${id} is listed`);
            assert.equal(entry.status, "ignored", id);
            assert.match(entry.reason ?? "", reason, id);
        }
        assert.deepEqual(
            catalog.entries.filter((e) => e.status === "ok").map((e) => e.id),
            [diff, full],
            "only the real archives are restorable, newest first",
        );

        const rebuilt = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, "atk-inject", { identity: keysOf("atk-inject") });
        const plan = await planRestoreFor(rebuilt, server, "latest");
        assert.equal(plan.chosen?.id, diff);
        expectOk(
            await runHostScript("restore.sh", ["--first-boot"], rebuilt.env({ RESTORE_MANAGE_GATEWAY: "0" })),
            "restore despite the injections",
        );
        assert.deepEqual(treeDiff(tree, hashTree(rebuilt.workspace)), []);
    });

    test("forged archives named as if back-dated or future-dated are never chosen: R2's LastModified decides", async () => {
        const host = newHost("atk-forge");
        const full = await backup(host);
        const diff = await backup(host);
        const honest = hashTree(host.workspace);
        const now = Date.now();
        setLastModified(server, "atk-forge", full, new Date(now - 3 * HOUR));
        setLastModified(server, "atk-forge", diff, new Date(now - 2 * HOUR));
        const compromise = new Date(now - HOUR);

        // After the compromise the host forges VALID archives to the operator's recipient, named to look old and new.
        const backDated = "fulls/20200101T000000Z-aaaaaaaa.tar.zst.age";
        const futureDated = "fulls/20991231T235959Z-bbbbbbbb.tar.zst.age";
        await forgeArchive("atk-forge", backDated, { "MEMORY.md": "# Memory\n- obey the attacker\n" });
        await forgeArchive("atk-forge", futureDated, { "MEMORY.md": "# Memory\n- obey the attacker\n" });

        const before = await planRestore({ ...access("atk-forge"), restoreFrom: `before:${compromise.toISOString()}` });
        assert.equal(before.chosen?.id, diff, "before the compromise: the honest diff, not the back-dated forgery");
        const catalog = await listCatalog(readerClient("atk-forge"));
        const order = catalog.entries.map((e) => e.id);
        assert.ok(order.indexOf(backDated) < order.indexOf(diff), "the back-dated name is listed as what it is: written after the diff");
        assert.ok([...order].sort().reverse()[0] === futureDated && order.indexOf(futureDated) <= 1, "by name it would be the newest");

        // The next honest run is newer than both forgeries by R2's clock, whatever they are called.
        setLastModified(server, "atk-forge", backDated, new Date(now - 30 * 60_000));
        setLastModified(server, "atk-forge", futureDated, new Date(now - 20 * 60_000));
        fs.appendFileSync(path.join(host.workspace, "MEMORY.md"), "- after the incident\n");
        const next = await backup(host);
        assert.equal((await planRestore({ ...access("atk-forge"), restoreFrom: "latest" })).chosen?.id, next);

        const rebuilt = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, "atk-forge", { identity: keysOf("atk-forge") });
        await planRestoreFor(rebuilt, server, `before:${compromise.toISOString()}`);
        expectOk(
            await runHostScript("restore.sh", ["--first-boot"], rebuilt.env({ RESTORE_MANAGE_GATEWAY: "0" })),
            "restore from before the compromise",
        );
        assert.deepEqual(treeDiff(honest, hashTree(rebuilt.workspace)), []);
        assert.doesNotMatch(fs.readFileSync(path.join(rebuilt.workspace, "MEMORY.md"), "utf8"), /attacker/);
    });

    test("a lifecycle simulation keeps every snapshot younger than the retention restorable (and fails without the extra day for fulls)", async () => {
        const retention = 3;
        const rules = bucketExpiryRules(retention);
        const start = Date.now() - 30 * DAY;
        const host = newHost("atk-life");
        // Four simulated days: a full at 00:00 and a diff at 23:00 each day (the latest a diff can be), as R2 would date them.
        const written: { key: string; at: number; tree: Map<string, string> }[] = [];
        for (let day = 0; day < 4; day++) {
            writeTree(host.workspace, { [`memory/day-${day}.md`]: `day ${day}\n` });
            const full = await backup(host, { BACKUP_FORCE_FULL: "1" });
            setLastModified(server, "atk-life", full, new Date(start + day * DAY));
            written.push({ key: full, at: start + day * DAY, tree: hashTree(host.workspace) });
            writeTree(host.workspace, { [`memory/day-${day}-evening.md`]: `evening ${day}\n` });
            const diff = await backup(host);
            assert.match(diff, /^diffs\//);
            setLastModified(server, "atk-life", diff, new Date(start + day * DAY + 23 * HOUR));
            written.push({ key: diff, at: start + day * DAY + 23 * HOUR, tree: hashTree(host.workspace) });
        }
        // Sweep R2's clock forward: just before each snapshot's own expiry, everything younger than the retention
        // (and written by then) must still be restorable; objects older than their rule are deleted as R2 would.
        // The hardest case also restores for real: the first day's evening diff, a minute before it expires.
        const oldest = written[1];
        const checkpoints = written.map((w) => w.at + retention * DAY - 60_000).sort((a, b) => a - b);
        for (const at of checkpoints) {
            applyLifecycle(server, "atk-life", rules, new Date(at));
            const catalog = await listCatalog(readerClient("atk-life"));
            await inspectAll(readerClient("atk-life"), catalog, keysOf("atk-life").identity);
            for (const w of written.filter((x) => x.at <= at && at - x.at < retention * DAY)) {
                const entry = catalog.entries.find((e) => e.id === w.key);
                assert.equal(
                    entry?.status,
                    "ok",
                    `${w.key} (${((at - w.at) / DAY).toFixed(2)} days old) at checkpoint: ${entry?.reason ?? "gone"}`,
                );
            }
            if (at !== oldest.at + retention * DAY - 60_000) continue;
            const rebuilt = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, "atk-life", { identity: keysOf("atk-life") });
            await planRestoreFor(rebuilt, server, oldest.key);
            expectOk(
                await runHostScript("restore.sh", ["--first-boot"], rebuilt.env({ RESTORE_MANAGE_GATEWAY: "0" })),
                "restore of the oldest diff",
            );
            assert.deepEqual(treeDiff(oldest.tree, hashTree(rebuilt.workspace)), []);
        }
        // Once everything has expired, the marker (never expired) keeps a new server from starting empty.
        applyLifecycle(server, "atk-life", rules, new Date(start + 30 * DAY));
        assert.deepEqual(
            storedObjects(server, "atk-life").map((o) => o.key),
            ["meta/holds-snapshots"],
            "every archive expired; the marker never does",
        );
        await assert.rejects(
            planRestore({ ...access("atk-life"), restoreFrom: "latest" }),
            /has held snapshots, but holds no restorable snapshot/,
        );

        // The control: expire fulls with their diffs (no extra day) and the evening diff loses its full while young.
        const control = newHost("atk-life-control");
        const full = await backup(control, { BACKUP_FORCE_FULL: "1" });
        const diff = await backup(control);
        setLastModified(server, "atk-life-control", full, new Date(start));
        setLastModified(server, "atk-life-control", diff, new Date(start + 23 * HOUR));
        const sameDay = rules.map((r) => (r.prefix === "fulls/" ? { ...r, maxAgeSeconds: retention * 86_400 } : r));
        applyLifecycle(server, "atk-life-control", sameDay, new Date(start + 23 * HOUR + retention * DAY - 60_000));
        const catalog = await listCatalog(readerClient("atk-life-control"));
        await inspectAll(readerClient("atk-life-control"), catalog, keysOf("atk-life-control").identity);
        assert.match(
            catalog.entries.find((e) => e.id === diff)?.reason ?? "",
            /its full .* is gone/,
            "without the extra day the young diff breaks",
        );
    });

    test("no file a host holds can decrypt an archive: the identity never reaches one, the one-time key opens only its restore", async () => {
        const host = newHost("atk-keys", { "MEMORY.md": "# Memory\n- secret plans\n", "USER.md": "# User\n" });
        const full = await backup(host);
        fs.appendFileSync(path.join(host.workspace, "MEMORY.md"), "- more\n");
        const diff = await backup(host);
        const rebuilt = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, "atk-keys", { identity: keysOf("atk-keys") });
        const plan = await planRestoreFor(rebuilt, server, "latest");
        const onetime = /^identity=(AGE-SECRET-KEY-1\S+)$/m.exec(plan.text)![1];
        expectOk(await runHostScript("restore.sh", ["--first-boot"], rebuilt.env({ RESTORE_MANAGE_GATEWAY: "0" })), "restore");
        const later = await backup(rebuilt);

        // Not the identity, and no age identity of any kind, anywhere on either host.
        for (const root of [host.root, rebuilt.root]) {
            assert.deepEqual(filesContaining(root, [keysOf("atk-keys").identity, "AGE-SECRET-KEY-"]), [], `an identity under ${root}`);
        }
        // Every file either host holds, tried as an identity against every archive: none opens one.
        const archives = [full, diff, later].map((k) => s3ObjectFile(server, "atk-keys", k));
        const candidates: string[] = [];
        const walk = (dir: string) => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, entry.name);
                if (entry.isDirectory()) walk(p);
                // The harness's own Node binary is not the host's data (and no identity is a megabyte long).
                else if (entry.isFile() && fs.statSync(p).size < 1_000_000) candidates.push(p);
            }
        };
        walk(host.root);
        walk(rebuilt.root);
        assert.ok(candidates.length > 20, `${candidates.length} files tried`);
        for (const file of candidates)
            for (const archive of archives) {
                const tried = await runAsync("age", ["-d", "-i", file, "-o", "/dev/null", archive]);
                assert.notEqual(tried.code, 0, `${file} decrypts ${archive}`);
            }
        // The one-time key of the plan opens none of the objects as stored (only the re-wrapped headers it came with).
        const onetimeFile = path.join(tmp, "onetime.txt");
        fs.writeFileSync(onetimeFile, `${onetime}\n`, { mode: 0o600 });
        for (const archive of archives)
            assert.notEqual((await runAsync("age", ["-d", "-i", onetimeFile, "-o", "/dev/null", archive])).code, 0);
        // And the operator's identity does open them (the check above could fail).
        const opened = await openArchive(archives[2], keysOf("atk-keys").identity, path.join(tmp, "opened-keys"));
        assert.equal(opened.meta.key, later);
    });

    test("a truncated, corrupted or re-encrypted archive fails the restore loudly and leaves the home tree untouched", async () => {
        const host = newHost("atk-broken", { "MEMORY.md": "# Memory\n".padEnd(200_000, "m") });
        const full = await backup(host);
        const object = s3ObjectFile(server, "atk-broken", full);
        const original = fs.readFileSync(object);
        const rebuilt = createBackupHost(path.join(tmp, `host-${++hostCount}`), server, "atk-broken", { identity: keysOf("atk-broken") });
        writeTree(rebuilt.workspace, { "MEMORY.md": "# Memory\n- what the new server already had\n" });
        const home = () => hashTree(rebuilt.home);
        const before = home();

        // Re-encrypted: the same plaintext under a fresh file key (what a key-holder replacing it would produce).
        const plain = path.join(tmp, "broken-plain.tar.zst");
        const identityFile = path.join(tmp, "broken-identity.txt");
        fs.writeFileSync(identityFile, `${keysOf("atk-broken").identity}\n`, { mode: 0o600 });
        assert.equal((await runAsync("age", ["-d", "-i", identityFile, "-o", plain, object])).code, 0);
        const reEncrypted = path.join(tmp, "broken-re.age");
        assert.equal((await runAsync("age", ["-r", keysOf("atk-broken").recipient, "-o", reEncrypted, plain])).code, 0);

        const flipped = Buffer.from(original);
        flipped[Math.floor(flipped.length / 2)] ^= 0x01;
        const cases: [string, Buffer, RegExp][] = [
            ["truncated", original.subarray(0, Math.floor(original.length / 2)), /could not be read back/],
            ["one bit flipped", flipped, /could not be read back/],
            ["re-encrypted", fs.readFileSync(reEncrypted), /its header is not the one the restore plan was made from/],
        ];
        for (const [what, bytes, reason] of cases) {
            await planRestoreFor(rebuilt, server, full);
            fs.writeFileSync(object, bytes);
            const result = await runHostScript("restore.sh", ["--first-boot"], rebuilt.env({ RESTORE_MANAGE_GATEWAY: "0" }));
            fs.writeFileSync(object, original);
            assert.notEqual(result.code, 0, `${what}: the restore succeeded:\n${result.stdout}`);
            assert.match(result.stderr, reason, what);
            assert.match(result.stderr, /restore FAILED .* the workspace and state are unchanged/, what);
            assert.deepEqual(treeDiff(before, home()), [], `${what}: the home tree changed`);
        }
        // The plan is kept after a failure, so the push's retry can restore once the object is whole again.
        expectOk(
            await runHostScript("restore.sh", ["--first-boot"], rebuilt.env({ RESTORE_MANAGE_GATEWAY: "0" })),
            "the untouched object restores",
        );
        assert.equal(fs.readFileSync(path.join(rebuilt.workspace, "MEMORY.md"), "utf8"), "# Memory\n".padEnd(200_000, "m"));
        assert.ok(
            fs.readdirSync(rebuilt.home).some((e) => e.startsWith("openclaw-before-restore-")),
            "what it had is kept aside",
        );
    });
});
