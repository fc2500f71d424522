#!/usr/bin/env node
// The archive half of the backups (plain Node 24, no dependencies; the other half is `age`, `zstd` and GNU tar).
//
//   create    run AS THE AGENT USER by backup.sh: walks the live workspace and the staged OpenClaw state, never
//             following a symlink, and writes ONE tar archive to stdout, zstd-compressed in two frames (the first
//             holds only SNAPSHOT.json, so the operator can read it from the first 64 KiB of the encrypted object):
//               SNAPSHOT.json   format, kind (full|diff), random id, object key, bucket, host time, base full (diff)
//               workspace/..., state/...   a full: everything; a diff: only what changed since its full
//               MANIFEST        a full: every entry; a diff: changed entries and removals (see below)
//             SQLite databases in the workspace enter through SQLite's online backup API (node:sqlite), never as
//             live files; -wal/-shm/-journal sidecars of a database never enter. Files whose size, mtime, ctime and
//             inode match the previous run's index keep their hash without being read again.
//             Env: ARCHIVE_KIND, ARCHIVE_ID, ARCHIVE_KEY, ARCHIVE_BUCKET, ARCHIVE_CREATED, ARCHIVE_WORKSPACE,
//             ARCHIVE_STATE (optional), ARCHIVE_SCRATCH (agent-owned), ARCHIVE_BASE_KEY/_ID/_HEADER (diff).
//             fd 3: the full's index (diff), fd 4: the previous run's index, fd 5: this run's index (written).
//   assemble  run as root by restore.sh on extracted archives DIR/a0 (full) [DIR/a1 (diff)]: checks each
//             SNAPSHOT.json against the plan (key, id, kind, the diff's full), applies the diff, then verifies the
//             tree EXACTLY against the resulting manifest (type, mode, size, SHA-256; nothing missing, nothing extra).
//             Usage: assemble DIR KEY0 ID0 [KEY1 ID1]
//   header    prints the base64 of an age file's header (backup.sh records its full's, for the diffs).
//
// MANIFEST (UTF-8 text; `#` lines are comments: version, kind, id, base, totals of the whole tree):
//   <type>\t<mode>\t<size>\t<sha256>\t<path>     sorted by path
//   type F file (sha256 of its bytes), L symlink (size and sha256 of its target), D directory (size 0, sha256 "-"),
//   X removed since the full (diff only; mode, size, sha256 "-"). mode: octal permission bits (4 digits).
//   path: relative to the archive root (workspace/..., state/...); bytes outside printable ASCII, "%" and "\" are
//   %XX-encoded, so any file name survives and the manifest stays one line per entry.
"use strict";
const fs = require("node:fs");
const { createHash } = require("node:crypto");
const zlib = require("node:zlib");
const { once } = require("node:events");
const { spawn } = require("node:child_process");

/** Shared with components/core/backup-layout.ts (a unit test checks they agree). */
const LAYOUT = {
    archiveFormat: "openclaw-vps-archive/1",
    manifestVersion: "openclaw-vps-manifest v2",
    metaMember: "SNAPSHOT.json",
    manifestMember: "MANIFEST",
};

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");
const SIDECARS = ["-wal", "-shm", "-journal"];
const READ_CHUNK = 1024 * 1024;

function log(message) {
    process.stderr.write(`archive: ${message}\n`);
}

function fail(message) {
    log(`ERROR: ${message}`);
    process.exit(1);
}

// --- paths and manifest lines ----------------------------------------------------------------------------------

function encodePath(buf) {
    let out = "";
    for (const b of buf) {
        if (b >= 0x20 && b <= 0x7e && b !== 0x25 && b !== 0x5c) out += String.fromCharCode(b);
        else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    return out;
}

function decodePath(text) {
    const bytes = [];
    for (let i = 0; i < text.length; i++) {
        if (text[i] === "%") {
            const hex = text.slice(i + 1, i + 3);
            if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`bad escape in manifest path ${JSON.stringify(text)}`);
            bytes.push(parseInt(hex, 16));
            i += 2;
        } else {
            bytes.push(text.charCodeAt(i));
        }
    }
    return Buffer.from(bytes);
}

const join = (a, b) => Buffer.concat([a, Buffer.from("/"), b]);
const modeText = (mode) => mode.toString(8).padStart(4, "0");

function manifestLine(e) {
    return [e.type, e.type === "X" ? "-" : modeText(e.mode), e.type === "X" ? "-" : String(e.size), e.sha || "-", e.path].join("\t");
}

/** { comments: Map, entries: Map<encodedPath, entry> } of a MANIFEST or index text. */
function parseEntries(text, what) {
    const comments = new Map();
    const entries = new Map();
    for (const line of text.split("\n")) {
        if (line === "") continue;
        if (line.startsWith("#")) {
            const m = /^# (\S+) ?(.*)$/.exec(line);
            if (m) comments.set(m[1], m[2]);
            continue;
        }
        const f = line.split("\t");
        if (f.length < 5 || !/^[FLDX]$/.test(f[0])) throw new Error(`${what}: unreadable line ${JSON.stringify(line.slice(0, 120))}`);
        const path = f[f.length - 1];
        decodePath(path);
        entries.set(path, {
            type: f[0],
            mode: f[0] === "X" ? 0 : parseInt(f[1], 8),
            size: f[0] === "X" ? 0 : Number(f[2]),
            sha: f[3] === "-" ? "" : f[3],
            stat: f.length >= 6 ? f[4] : "",
            path,
        });
    }
    return { comments, entries };
}

function readFd(fd) {
    try {
        return fs.readFileSync(fd, "utf8");
    } catch (err) {
        if (err.code === "EBADF") return "";
        throw err;
    }
}

// --- tar (POSIX pax) -------------------------------------------------------------------------------------------

function octal(value, width) {
    return Buffer.from(`${value.toString(8).padStart(width - 1, "0")}\0`, "latin1");
}

function paxRecord(key, value) {
    const body = Buffer.concat([Buffer.from(` ${key}=`, "latin1"), value, Buffer.from("\n")]);
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length = String(length).length + body.length;
    return Buffer.concat([Buffer.from(String(length), "latin1"), body]);
}

const isPlainAscii = (buf) => buf.every((b) => b >= 0x20 && b <= 0x7e);

function ustarHeader({ name, typeflag, mode, size, mtime, linkname }) {
    const block = Buffer.alloc(512);
    name.copy(block, 0, 0, Math.min(name.length, 100));
    octal(mode, 8).copy(block, 100);
    octal(0, 8).copy(block, 108);
    octal(0, 8).copy(block, 116);
    octal(size, 12).copy(block, 124);
    octal(mtime, 12).copy(block, 136);
    block.fill(0x20, 148, 156);
    block.write(typeflag, 156, "latin1");
    if (linkname) linkname.copy(block, 157, 0, Math.min(linkname.length, 100));
    block.write("ustar\0", 257, "latin1");
    block.write("00", 263, "latin1");
    let sum = 0;
    for (const b of block) sum += b;
    Buffer.from(`${sum.toString(8).padStart(6, "0")}\0 `, "latin1").copy(block, 148);
    return block;
}

function padding(size) {
    return Buffer.alloc((512 - (size % 512)) % 512);
}

/** The header block(s) of one member: a pax extended header first when the name or target does not fit ustar. */
function tarHeader(entry) {
    const records = [];
    if (entry.name.length > 100 || !isPlainAscii(entry.name)) records.push(paxRecord("path", entry.name));
    if (entry.linkname && (entry.linkname.length > 100 || !isPlainAscii(entry.linkname)))
        records.push(paxRecord("linkpath", entry.linkname));
    if (entry.size > 0o77777777777) records.push(paxRecord("size", Buffer.from(String(entry.size))));
    // Names are bytes, not text: BINARY keeps GNU tar from converting them through the locale (C on a host).
    // (no hdrcharset: GNU tar 1.34 ignores it with a warning and keeps the bytes as they are, whatever the locale)
    const main = ustarHeader({
        ...entry,
        name: isPlainAscii(entry.name) ? entry.name : Buffer.from(encodePath(entry.name).slice(0, 100), "latin1"),
        linkname: entry.linkname && !isPlainAscii(entry.linkname) ? Buffer.from("-") : entry.linkname,
        size: Math.min(entry.size, 0o77777777777),
    });
    if (!records.length) return main;
    const data = Buffer.concat(records);
    const pax = ustarHeader({ name: Buffer.from("PaxHeader"), typeflag: "x", mode: 0o644, size: data.length, mtime: entry.mtime });
    return Buffer.concat([pax, data, padding(data.length), main]);
}

// --- create ----------------------------------------------------------------------------------------------------

class Output {
    constructor(stream) {
        this.stream = stream;
    }
    async write(buf) {
        if (buf.length && !this.stream.write(buf)) await once(this.stream, "drain");
    }
}

function openNoFollow(file) {
    const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
    try {
        // O_NOATIME: reading for a backup leaves the agent's access times alone (allowed: we run as the owner).
        return fs.openSync(file, flags | fs.constants.O_NOATIME);
    } catch (err) {
        if (err.code !== "EPERM") throw err;
        return fs.openSync(file, flags);
    }
}

/** One read buffer for hashing (synchronous use only: the archive stream gets its own buffers). */
const HASH_BUFFER = Buffer.allocUnsafe(READ_CHUNK);

function hashFile(file) {
    const fd = openNoFollow(file);
    try {
        const hash = createHash("sha256");
        const buf = HASH_BUFFER;
        let size = 0;
        for (;;) {
            const n = fs.readSync(fd, buf, 0, buf.length, null);
            if (n === 0) break;
            hash.update(buf.subarray(0, n));
            size += n;
        }
        return { sha: hash.digest("hex"), size };
    } finally {
        fs.closeSync(fd);
    }
}

const isSqlite = (file) => {
    let fd;
    try {
        fd = openNoFollow(file);
        const head = Buffer.alloc(16);
        return fs.readSync(fd, head, 0, 16, 0) === 16 && head.equals(SQLITE_MAGIC);
    } catch {
        return false;
    } finally {
        if (fd !== undefined) fs.closeSync(fd);
    }
};

async function sqliteCopy(source, scratch, n) {
    const sqlite = require("node:sqlite");
    const copy = `${scratch}/db-${process.pid}-${n}.sqlite`;
    fs.rmSync(copy, { force: true });
    const db = new sqlite.DatabaseSync(source, { readOnly: true, timeout: 15000 });
    try {
        // All pages in one step, so a busy writer cannot restart the copy forever.
        await sqlite.backup(db, copy, { rate: 2147483647 });
    } finally {
        db.close();
    }
    return copy;
}

async function create() {
    const env = process.env;
    const kind = env.ARCHIVE_KIND;
    if (kind !== "full" && kind !== "diff") fail("ARCHIVE_KIND must be full or diff");
    for (const name of ["ARCHIVE_ID", "ARCHIVE_KEY", "ARCHIVE_BUCKET", "ARCHIVE_CREATED", "ARCHIVE_WORKSPACE", "ARCHIVE_SCRATCH"])
        if (!env[name]) fail(`${name} is not set`);
    const base = kind === "diff" ? parseEntries(readFd(3), "the full's index").entries : new Map();
    if (kind === "diff" && !env.ARCHIVE_BASE_ID) fail("a diff needs ARCHIVE_BASE_KEY, ARCHIVE_BASE_ID and ARCHIVE_BASE_HEADER");
    const cache = parseEntries(readFd(4), "the previous index").entries;
    const index = [];
    const manifest = [];
    const seen = new Set();
    let carried = 0;
    let carriedBytes = 0;
    let copies = 0;
    const now = Math.floor(Date.now() / 1000);

    const meta = {
        format: LAYOUT.archiveFormat,
        kind,
        id: env.ARCHIVE_ID,
        key: env.ARCHIVE_KEY,
        bucket: env.ARCHIVE_BUCKET,
        created: env.ARCHIVE_CREATED,
        ...(kind === "diff" ? { base: { key: env.ARCHIVE_BASE_KEY, id: env.ARCHIVE_BASE_ID, header: env.ARCHIVE_BASE_HEADER } } : {}),
    };
    const metaBytes = Buffer.from(`${JSON.stringify(meta)}\n`);
    const first = Buffer.concat([
        tarHeader({ name: Buffer.from(LAYOUT.metaMember), typeflag: "0", mode: 0o600, size: metaBytes.length, mtime: now }),
        metaBytes,
        padding(metaBytes.length),
    ]);
    // Frame 1: SNAPSHOT.json alone, so the operator reads it from the first 64 KiB. Frame 2: everything else, by the
    // zstd binary (an order of magnitude faster than node:zlib's zstd on incompressible data). Decoders read
    // concatenated frames as one stream.
    fs.writeSync(1, zlib.zstdCompressSync(first, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } }));
    const zstd = spawn(env.ZSTD_BIN || "zstd", ["-q", "-3", "-c"], { stdio: ["pipe", 1, "inherit"] });
    const zstdExit = new Promise((resolve, reject) => {
        zstd.on("error", (err) => reject(new Error(`cannot run zstd: ${err.message}`)));
        zstd.on("close", (code, signal) => resolve(code === 0 ? 0 : (code ?? signal)));
    });
    zstd.stdin.on("error", (err) => fail(`the compressor stopped reading (${err.code || err.message}): did the encryption stop?`));
    const out = new Output(zstd.stdin);

    const record = (entry, stat, carry) => {
        seen.add(entry.path);
        index.push(`${manifestLine(entry).split("\t").slice(0, 4).join("\t")}\t${stat}\t${entry.path}`);
        if (kind === "full" || carry) manifest.push(entry);
    };

    const emitDir = async (rel, mode, mtime) => {
        const path = encodePath(rel);
        const entry = { type: "D", mode, size: 0, sha: "", path };
        const b = base.get(path);
        const carry = kind === "full" || !b || b.type !== "D" || b.mode !== mode;
        if (carry) await out.write(tarHeader({ name: Buffer.concat([rel, Buffer.from("/")]), typeflag: "5", mode, size: 0, mtime }));
        record(entry, "-", carry);
    };

    const emitLink = async (rel, abs, mtime) => {
        const target = fs.readlinkSync(abs, { encoding: "buffer" });
        const path = encodePath(rel);
        const entry = { type: "L", mode: 0o777, size: target.length, sha: createHash("sha256").update(target).digest("hex"), path };
        const b = base.get(path);
        const carry = kind === "full" || !b || b.type !== "L" || b.sha !== entry.sha;
        if (carry) {
            await out.write(tarHeader({ name: rel, typeflag: "2", mode: 0o777, size: 0, mtime, linkname: target }));
            carried++;
        }
        record(entry, "-", carry);
    };

    /** Writes one file member, hashing exactly the bytes written; reports whether the file changed meanwhile. */
    const writeFile = async (rel, source, mode, mtime) => {
        const fd = openNoFollow(source);
        try {
            const before = fs.fstatSync(fd, { bigint: true });
            const size = Number(before.size);
            await out.write(tarHeader({ name: rel, typeflag: "0", mode, size, mtime }));
            const hash = createHash("sha256");
            let remaining = size;
            let changed = false;
            while (remaining > 0) {
                // A fresh buffer per chunk: the compressor may still hold the previous one.
                const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, remaining));
                const n = fs.readSync(fd, buf, 0, buf.length, null);
                if (n === 0) {
                    // Shrunk while we read: pad, and let the next run (its mtime changed) carry it again.
                    buf.fill(0);
                    changed = true;
                }
                const part = n === 0 ? buf : buf.subarray(0, n);
                hash.update(part);
                await out.write(part);
                remaining -= part.length;
            }
            await out.write(padding(size));
            const after = fs.fstatSync(fd, { bigint: true });
            if (after.size !== before.size || after.mtimeNs !== before.mtimeNs) changed = true;
            carried++;
            carriedBytes += size;
            return { sha: hash.digest("hex"), size, changed };
        } finally {
            fs.closeSync(fd);
        }
    };

    const emitFile = async (rel, abs, st, root, isDb) => {
        const path = encodePath(rel);
        const mode = Number(st.mode & 0o777n);
        const mtime = Math.max(0, Number(st.mtimeMs / 1000n));
        let source = abs;
        let statKey = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
        if (isDb) {
            source = await sqliteCopy(abs, env.ARCHIVE_SCRATCH, ++copies);
            statKey = "0";
            log(`workspace database ${path} copied with SQLite's online backup API`);
        }
        const cached = root.cache && statKey !== "0" ? cache.get(path) : undefined;
        let known = cached && cached.type === "F" && cached.stat === statKey ? { sha: cached.sha, size: cached.size } : undefined;
        try {
            if (kind === "diff") {
                const b = base.get(path);
                if (b && b.type === "F" && b.mode === mode) {
                    known ??= hashFile(source);
                    if (known.sha === b.sha && known.size === b.size) {
                        record({ type: "F", mode, size: known.size, sha: known.sha, path }, statKey, false);
                        return;
                    }
                }
            }
            const written = await writeFile(rel, source, mode, mtime);
            record({ type: "F", mode, size: written.size, sha: written.sha, path }, written.changed ? "0" : statKey, true);
        } catch (err) {
            if (err.code === "ENOENT") return log(`${path} disappeared while the backup ran: left out`);
            if (err.code === "ELOOP") return log(`${path} became a symlink while the backup ran: left out (the next run takes it)`);
            throw err;
        } finally {
            if (isDb) fs.rmSync(source, { force: true });
        }
    };

    const walk = async (rel, abs, root) => {
        const st = fs.lstatSync(abs, { bigint: true });
        const mtime = Math.max(0, Number(st.mtimeMs / 1000n));
        await emitDir(rel, Number(st.mode & 0o777n), mtime);
        const names = fs.readdirSync(abs, { encoding: "buffer" }).sort(Buffer.compare);
        const databases = new Set();
        if (root.sqlite || root.dropSidecars) {
            const texts = new Set(names.map((n) => n.toString("latin1")));
            for (const name of names) {
                const text = name.toString("latin1");
                const candidate = /\.(sqlite3?|db)$/.test(text) || SIDECARS.some((s) => texts.has(text + s));
                if (candidate && isSqlite(join(abs, name))) databases.add(text);
            }
        }
        for (const name of names) {
            const text = name.toString("latin1");
            const childRel = join(rel, name);
            const childAbs = join(abs, name);
            const sidecarOf = SIDECARS.find((s) => text.endsWith(s) && databases.has(text.slice(0, -s.length)));
            if (sidecarOf) {
                if (root.dropSidecars && !root.sqlite) log(`WARNING: ${encodePath(childRel)} is a raw SQLite sidecar: left out`);
                continue;
            }
            let child;
            try {
                child = fs.lstatSync(childAbs, { bigint: true });
            } catch (err) {
                if (err.code === "ENOENT") continue;
                throw err;
            }
            const childMtime = Math.max(0, Number(child.mtimeMs / 1000n));
            if (child.isDirectory()) await walk(childRel, childAbs, root);
            else if (child.isSymbolicLink()) await emitLink(childRel, childAbs, childMtime);
            else if (child.isFile()) await emitFile(childRel, childAbs, child, root, root.sqlite && databases.has(text));
            else log(`skipping special file ${encodePath(childRel)}`);
        }
    };

    const roots = [{ name: "workspace", dir: env.ARCHIVE_WORKSPACE, cache: true, sqlite: true, dropSidecars: true }];
    if (env.ARCHIVE_STATE) roots.push({ name: "state", dir: env.ARCHIVE_STATE, cache: false, sqlite: false, dropSidecars: true });
    for (const root of roots) {
        const rel = Buffer.from(root.name);
        try {
            fs.lstatSync(root.dir);
        } catch (err) {
            // Only a workspace that does not exist is empty; one we cannot read is an error, never an empty snapshot.
            if (err.code !== "ENOENT") throw new Error(`cannot read ${root.dir} (${err.code}): nothing was backed up`, { cause: err });
            if (root.name !== "workspace") continue;
            log(`no workspace at ${root.dir} yet: the archive carries an empty one`);
            await emitDir(rel, 0o700, now);
            continue;
        }
        await walk(rel, Buffer.from(root.dir), root);
    }

    const removed = kind === "diff" ? [...base.keys()].filter((p) => !seen.has(p)) : [];
    for (const path of removed) manifest.push({ type: "X", mode: 0, size: 0, sha: "", path });
    manifest.sort((a, b) => Buffer.compare(Buffer.from(a.path, "latin1"), Buffer.from(b.path, "latin1")));
    const files = index.filter((l) => l[0] === "F" || l[0] === "L").length;
    const bytes = index.filter((l) => l[0] === "F").reduce((s, l) => s + Number(l.split("\t")[2]), 0);
    const manifestText = Buffer.from(
        [
            `# ${LAYOUT.manifestVersion}`,
            `# kind ${kind}`,
            `# id ${env.ARCHIVE_ID}`,
            ...(kind === "diff" ? [`# base ${env.ARCHIVE_BASE_ID}`] : []),
            `# entries ${files} bytes ${bytes}`,
            "# type\tmode\tsize\tsha256\tpath",
            ...manifest.map(manifestLine),
            "",
        ].join("\n"),
    );
    await out.write(
        tarHeader({ name: Buffer.from(LAYOUT.manifestMember), typeflag: "0", mode: 0o600, size: manifestText.length, mtime: now }),
    );
    await out.write(manifestText);
    await out.write(padding(manifestText.length));
    await out.write(Buffer.alloc(1024));
    zstd.stdin.end();
    const code = await zstdExit;
    if (code !== 0) fail(`zstd failed (${code})`);
    fs.writeFileSync(
        5,
        `# summary files=${files} bytes=${bytes} carried=${carried} carried_bytes=${carriedBytes} removed=${removed.length}\n${index.join("\n")}\n`,
    );
    log(`${kind}: ${files} files, ${bytes} bytes; carried ${carried} (${carriedBytes} bytes), removed ${removed.length}`);
}

// --- assemble (restore) ----------------------------------------------------------------------------------------

function readMeta(dir, expect) {
    const file = `${dir}/${LAYOUT.metaMember}`;
    let meta;
    try {
        meta = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        fail(`${expect.key}: no readable ${LAYOUT.metaMember} (${err.code || err.message})`);
    }
    if (meta.format !== LAYOUT.archiveFormat) fail(`${expect.key}: unknown archive format ${JSON.stringify(meta.format)}`);
    if (meta.kind !== expect.kind) fail(`${expect.key}: is a ${meta.kind}, expected a ${expect.kind}`);
    if (meta.key !== expect.key) fail(`${expect.key}: the archive says it is ${JSON.stringify(meta.key)} (copied or replaced?)`);
    if (meta.id !== expect.id) fail(`${expect.key}: archive id ${JSON.stringify(meta.id)} is not the planned ${expect.id}`);
    return meta;
}

function readManifest(dir, key, kind, id) {
    const text = fs.readFileSync(`${dir}/${LAYOUT.manifestMember}`, "utf8");
    const parsed = parseEntries(text, `${key}: MANIFEST`);
    if (!text.startsWith(`# ${LAYOUT.manifestVersion}\n`)) fail(`${key}: unknown MANIFEST version`);
    if (parsed.comments.get("kind") !== kind || parsed.comments.get("id") !== id) fail(`${key}: its MANIFEST belongs to another archive`);
    return parsed;
}

/** Every entry under dir/workspace and dir/state, as the manifest would describe it (never following links). */
function describeTree(dir) {
    const found = new Map();
    const visit = (rel, abs) => {
        const st = fs.lstatSync(abs);
        const path = encodePath(rel);
        if (st.isDirectory()) {
            found.set(path, { type: "D", mode: st.mode & 0o777, size: 0, sha: "" });
            for (const name of fs.readdirSync(abs, { encoding: "buffer" })) visit(join(rel, name), join(abs, name));
        } else if (st.isSymbolicLink()) {
            const target = fs.readlinkSync(abs, { encoding: "buffer" });
            found.set(path, { type: "L", mode: 0o777, size: target.length, sha: createHash("sha256").update(target).digest("hex") });
        } else if (st.isFile()) {
            const { sha, size } = hashFile(abs);
            found.set(path, { type: "F", mode: st.mode & 0o777, size, sha });
        } else {
            found.set(path, { type: "?", mode: 0, size: 0, sha: "" });
        }
    };
    for (const top of ["workspace", "state"]) {
        const abs = Buffer.from(`${dir}/${top}`);
        if (fs.existsSync(abs)) visit(Buffer.from(top), abs);
    }
    return found;
}

function assemble(args) {
    const [dir, key0, id0, key1, id1] = args;
    if (!dir || !key0 || !id0 || (key1 && !id1)) fail("usage: assemble DIR KEY0 ID0 [KEY1 ID1]");
    const full = `${dir}/a0`;
    readMeta(full, { key: key0, id: id0, kind: "full" });
    const expected = readManifest(full, key0, "full", id0).entries;
    if (key1) {
        const diffDir = `${dir}/a1`;
        const meta = readMeta(diffDir, { key: key1, id: id1, kind: "diff" });
        if (!meta.base || meta.base.id !== id0 || meta.base.key !== key0)
            fail(`${key1}: is a diff of ${JSON.stringify(meta.base && meta.base.key)}, not of ${key0}`);
        const diff = readManifest(diffDir, key1, "diff", id1);
        if (diff.comments.get("base") !== id0) fail(`${key1}: its MANIFEST is based on another full`);
        const changes = [...diff.entries.values()].sort((a, b) => Buffer.compare(decodePath(a.path), decodePath(b.path)));
        for (const e of changes.filter((c) => c.type === "X").reverse()) {
            expected.delete(e.path);
            fs.rmSync(Buffer.concat([Buffer.from(`${full}/`), decodePath(e.path)]), { recursive: true, force: true });
        }
        for (const e of changes.filter((c) => c.type !== "X")) {
            expected.set(e.path, e);
            const target = Buffer.concat([Buffer.from(`${full}/`), decodePath(e.path)]);
            let existing;
            try {
                existing = fs.lstatSync(target);
            } catch {
                existing = undefined;
            }
            if (e.type === "D") {
                if (existing && !existing.isDirectory()) fs.rmSync(target, { force: true });
                if (!existing || !existing.isDirectory()) fs.mkdirSync(target, { mode: 0o700 });
                fs.chmodSync(target, e.mode);
            } else {
                if (existing) fs.rmSync(target, { recursive: true, force: true });
                fs.renameSync(Buffer.concat([Buffer.from(`${diffDir}/`), decodePath(e.path)]), target);
            }
        }
        fs.rmSync(diffDir, { recursive: true, force: true });
    }
    const found = describeTree(full);
    const problems = [];
    for (const [path, e] of expected) {
        const f = found.get(path);
        if (!f) problems.push(`missing: ${path}`);
        else if (f.type !== e.type || f.mode !== e.mode || f.size !== e.size || f.sha !== e.sha)
            problems.push(
                `differs: ${path} (expected ${e.type} ${modeText(e.mode)} ${e.size}, found ${f.type} ${modeText(f.mode)} ${f.size})`,
            );
    }
    for (const path of found.keys()) if (!expected.has(path)) problems.push(`not in the manifest: ${path}`);
    for (const name of fs.readdirSync(full))
        if (![LAYOUT.metaMember, LAYOUT.manifestMember, "workspace", "state"].includes(name))
            problems.push(`unexpected top-level entry: ${name}`);
    if (problems.length) {
        for (const p of problems.slice(0, 10)) log(`  ${p}`);
        fail(
            `the restored tree does not match its manifest (${problems.length} differences): the archive is corrupt, incomplete or forged`,
        );
    }
    fs.renameSync(`${full}/${LAYOUT.metaMember}`, `${dir}/${LAYOUT.metaMember}`);
    fs.renameSync(`${full}/${LAYOUT.manifestMember}`, `${dir}/${LAYOUT.manifestMember}`);
    const files = [...expected.values()].filter((e) => e.type === "F" || e.type === "L").length;
    const bytes = [...expected.values()].filter((e) => e.type === "F").reduce((s, e) => s + e.size, 0);
    process.stdout.write(`verified ${files} files, ${bytes} bytes\n`);
}

// --- header ----------------------------------------------------------------------------------------------------

function header(file) {
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.alloc(65536);
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        const text = buf.subarray(0, n);
        const mark = text.indexOf("\n--- ");
        const end = mark < 0 ? -1 : text.indexOf("\n", mark + 1);
        if (!text.subarray(0, 22).equals(Buffer.from("age-encryption.org/v1\n")) || end < 0) fail(`${file} is not an age file`);
        process.stdout.write(`${text.subarray(0, end + 1).toString("base64")}\n`);
    } finally {
        fs.closeSync(fd);
    }
}

if (require.main === module) {
    const [command, ...args] = process.argv.slice(2);
    const run = { create: () => create(), assemble: () => assemble(args), header: () => header(args[0]) }[command];
    if (!run) fail("usage: backup-archive.js create|assemble DIR KEY0 ID0 [KEY1 ID1]|header FILE");
    Promise.resolve()
        .then(run)
        .catch((err) => fail(err && err.stack ? err.stack : String(err)));
}

module.exports = { LAYOUT, encodePath, decodePath, parseEntries, tarHeader };
