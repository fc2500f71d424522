// The snapshot catalog, built on the operator's machine with the read-only token and the operator's age identity,
// never through a host: every object under fulls/ and diffs/ (and the old layout's snapshots/<TS>/), ordered by the
// LastModified R2 set when it was written — never by key names, which the host chooses. An archive counts only when
// its first 64 KiB decrypt with the identity and its SNAPSHOT.json names this bucket and exactly this object key
// (a copied or renamed archive does not); a diff counts only when its full is listed, was written before it and less
// than a day earlier. Everything else is listed as ignored, never fatal.
import * as zlib from "node:zlib";
import { AGE_CHUNK_SIZE, AGE_NONCE_SIZE, AGE_TAG_SIZE, decryptChunk, parseHeader, payloadKey, unwrapFileKey } from "../core/age";
import { ARCHIVE_KEY, BACKUP_LAYOUT, DIFF_MAX_DISTANCE_SECONDS, LEGACY_SNAPSHOT_ID } from "../core/backup-layout";
import { S3Client, S3Object } from "./s3";

export interface ArchiveMeta {
    format: string;
    kind: "full" | "diff";
    id: string;
    key: string;
    bucket: string;
    created: string;
    base?: { key: string; id: string; header: string };
}

export interface CatalogEntry {
    /** The object key of an archive, or the id of an old-layout snapshot: what `restoreFrom` takes. */
    id: string;
    layout: "archive" | "legacy";
    kind: "full" | "diff" | "legacy" | "unknown";
    size: number;
    /** Server-set (R2's LastModified of the object, or of an old-layout snapshot's MANIFEST). */
    lastModified: Date;
    /** ok: restorable; ignored: not a valid snapshot of this bucket (reason says why). */
    status: "ok" | "ignored" | "unchecked";
    reason?: string;
    meta?: ArchiveMeta;
    /** The archive's own age header and its unwrapped file key. */
    header?: Buffer;
    fileKey?: Buffer;
    /** A diff's full: its key, id, header (from the diff's SNAPSHOT.json) and unwrapped file key. */
    base?: { key: string; id: string; header: Buffer; fileKey: Buffer; lastModified: Date };
}

export interface Catalog {
    /** Newest first, by LastModified. */
    entries: CatalogEntry[];
    /** The bucket has held a snapshot (meta/holds-snapshots exists, or any snapshot object does). */
    heldSnapshots: boolean;
}

/** Bytes fetched to read an archive's SNAPSHOT.json: its header (small) and the first payload chunk. */
const PREFIX_BYTES = 4096 + AGE_NONCE_SIZE + AGE_CHUNK_SIZE + AGE_TAG_SIZE;

/** The first zstd frame of `data` (SNAPSHOT.json is alone in it), without reading further. */
export function firstZstdFrame(data: Buffer): Buffer {
    if (data.length < 6 || data.readUInt32LE(0) !== 0xfd2fb528) throw new Error("not a zstd stream");
    const descriptor = data[4];
    const singleSegment = (descriptor >> 5) & 1;
    const checksum = (descriptor >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][descriptor & 3];
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
    let pos = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
    for (;;) {
        if (pos + 3 > data.length) throw new Error("the first zstd frame is incomplete");
        const header = data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16);
        const last = header & 1;
        const type = (header >> 1) & 3;
        const size = header >> 3;
        if (type === 3) throw new Error("reserved zstd block type");
        pos += 3 + (type === 1 ? 1 : size);
        if (last) break;
    }
    pos += checksum ? 4 : 0;
    if (pos > data.length) throw new Error("the first zstd frame is incomplete");
    return data.subarray(0, pos);
}

/** The first tar member's name and content. */
function firstTarMember(tar: Buffer): { name: string; content: Buffer } {
    if (tar.length < 512) throw new Error("no tar header");
    const name = tar.subarray(0, 100).toString("latin1").replace(/\0.*$/s, "");
    const size = parseInt(tar.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim(), 8);
    if (!Number.isFinite(size) || 512 + size > tar.length) throw new Error("truncated tar member");
    return { name, content: tar.subarray(512, 512 + size) };
}

function checkMeta(meta: ArchiveMeta, object: S3Object, bucket: string): string | undefined {
    const prefixKind = object.key.startsWith(BACKUP_LAYOUT.fullPrefix) ? "full" : "diff";
    if (meta.format !== BACKUP_LAYOUT.archiveFormat) return `unknown format ${JSON.stringify(meta.format)}`;
    if (meta.kind !== prefixKind) return `a ${meta.kind} stored under ${prefixKind}s`;
    if (meta.key !== object.key) return `it says it is ${JSON.stringify(meta.key)} (copied or renamed)`;
    if (meta.bucket !== bucket) return `made for bucket ${JSON.stringify(meta.bucket)}`;
    if (!/^[0-9a-f]{16}$/.test(meta.id) || !object.key.includes(`-${meta.id.slice(0, 8)}.`)) return "its id does not match its key";
    if (meta.kind === "diff" && (!meta.base || !ARCHIVE_KEY.test(meta.base.key) || !/^[0-9a-f]{16}$/.test(meta.base.id)))
        return "a diff without a valid full";
    return undefined;
}

/** Reads and checks one archive's SNAPSHOT.json (one ranged GET), filling meta, header and fileKey, or a reason. */
export async function inspectArchive(client: S3Client, entry: CatalogEntry, identity: string): Promise<void> {
    if (!ARCHIVE_KEY.test(entry.id)) return ignore(entry, "not an archive name");
    const object = { key: entry.id, size: entry.size, lastModified: entry.lastModified, etag: "" };
    let prefix: Buffer;
    try {
        prefix = await client.get(entry.id, { start: 0, end: Math.min(entry.size, PREFIX_BYTES) - 1 });
    } catch (err) {
        return ignore(entry, `cannot be read (${(err as Error).message})`);
    }
    try {
        const header = parseHeader(prefix);
        const fileKey = unwrapFileKey(header, identity);
        const start = header.length + AGE_NONCE_SIZE;
        const key = payloadKey(fileKey, prefix.subarray(header.length, start));
        const sealed = prefix.subarray(start, start + AGE_CHUNK_SIZE + AGE_TAG_SIZE);
        const last = entry.size <= start + AGE_CHUNK_SIZE + AGE_TAG_SIZE;
        const plain = decryptChunk(key, 0, sealed, last);
        const member = firstTarMember(zlib.zstdDecompressSync(firstZstdFrame(plain)));
        if (member.name !== BACKUP_LAYOUT.metaMember) return ignore(entry, `its first member is ${JSON.stringify(member.name)}`);
        const meta = JSON.parse(member.content.toString("utf8")) as ArchiveMeta;
        const problem = checkMeta(meta, object, client.bucket);
        if (problem) return ignore(entry, problem);
        entry.meta = meta;
        entry.kind = meta.kind;
        entry.header = prefix.subarray(0, header.length);
        entry.fileKey = fileKey;
        entry.status = "unchecked";
    } catch (err) {
        const message = (err as Error).message;
        if (/not encrypted to this identity/.test(message)) return ignore(entry, "not encrypted to this stack's recipient");
        return ignore(entry, /^age: /.test(message) ? `not a valid age file (${message.slice(5)})` : message);
    }
}

function ignore(entry: CatalogEntry, reason: string): void {
    entry.status = "ignored";
    entry.reason = reason;
}

/** A diff's full, from the listing and the diff's own SNAPSHOT.json (no extra request). */
export function resolveBase(entry: CatalogEntry, byKey: Map<string, CatalogEntry>, identity: string): void {
    if (entry.status === "ignored" || !entry.meta) return;
    if (entry.meta.kind === "full") {
        entry.status = "ok";
        return;
    }
    const base = entry.meta.base!;
    const full = byKey.get(base.key);
    if (!full) return ignore(entry, `its full ${base.key} is gone`);
    if (full.status === "ignored") return ignore(entry, `its full ${base.key} is ignored (${full.reason})`);
    const distance = (entry.lastModified.getTime() - full.lastModified.getTime()) / 1000;
    if (distance < 0) return ignore(entry, `its full ${base.key} was written after it (replaced?)`);
    if (distance > DIFF_MAX_DISTANCE_SECONDS) return ignore(entry, `its full ${base.key} is ${Math.round(distance / 3600)} h older`);
    if (full.meta && full.meta.id !== base.id) return ignore(entry, `its full ${base.key} is another archive (id)`);
    const header = Buffer.from(base.header, "base64");
    if (full.header && !full.header.equals(header)) return ignore(entry, `its full ${base.key} has another header (re-encrypted?)`);
    try {
        const fileKey = unwrapFileKey(parseHeader(header), identity);
        entry.base = { key: base.key, id: base.id, header, fileKey, lastModified: full.lastModified };
    } catch (err) {
        return ignore(entry, `its full's header does not open: ${(err as Error).message}`);
    }
    entry.status = "ok";
    entry.reason = `on ${base.key}`;
}

/** Lists the bucket (without reading any archive yet): archives, old-layout snapshots, the marker. */
export async function listCatalog(client: S3Client): Promise<Catalog> {
    const [fulls, diffs, legacy, marker] = await Promise.all([
        client.list(BACKUP_LAYOUT.fullPrefix),
        client.list(BACKUP_LAYOUT.diffPrefix),
        client.list(BACKUP_LAYOUT.legacyPrefix, "/"),
        client.head(BACKUP_LAYOUT.markerKey),
    ]);
    const entries: CatalogEntry[] = [...fulls.objects, ...diffs.objects].map((o) => ({
        id: o.key,
        layout: "archive",
        kind: o.key.startsWith(BACKUP_LAYOUT.fullPrefix) ? "full" : "diff",
        size: o.size,
        lastModified: o.lastModified,
        status: "unchecked",
    }));
    // The old layout: one HEAD per snapshot's MANIFEST (written last) gives the time R2 recorded for it.
    const ids = legacy.prefixes.map((p) => p.slice(BACKUP_LAYOUT.legacyPrefix.length).replace(/\/$/, ""));
    const heads = await mapLimit(ids, 16, (id) =>
        LEGACY_SNAPSHOT_ID.test(id) ? client.head(`${BACKUP_LAYOUT.legacyPrefix}${id}/MANIFEST`) : Promise.resolve(undefined),
    );
    ids.forEach((id, i) => {
        const head = heads[i];
        entries.push({
            id,
            layout: "legacy",
            kind: "legacy",
            size: head?.size ?? 0,
            lastModified: head?.lastModified ?? new Date(0),
            status: head && LEGACY_SNAPSHOT_ID.test(id) ? "ok" : "ignored",
            reason: head ? "old layout (plaintext, per file)" : "old layout without a MANIFEST (incomplete)",
        });
    });
    entries.sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.id < b.id ? 1 : -1));
    return { entries, heldSnapshots: marker !== undefined || entries.length > 0 };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

/** Inspects every archive (one ranged GET each) and resolves every diff: the full picture `npm run snapshots` prints. */
export async function inspectAll(client: S3Client, catalog: Catalog, identity: string): Promise<void> {
    const archives = catalog.entries.filter((e) => e.layout === "archive");
    await mapLimit(archives, 8, (e) => inspectArchive(client, e, identity));
    const byKey = new Map(archives.map((e) => [e.id, e]));
    for (const e of archives) if (e.kind === "full") resolveBase(e, byKey, identity);
    for (const e of archives) if (e.kind !== "full") resolveBase(e, byKey, identity);
}

/**
 * The newest restorable entry accepted by `accept`, inspecting archives lazily (newest first), so a restore of the
 * latest snapshot reads one archive's first 64 KiB (its full's header travels inside a diff).
 */
export async function newestRestorable(
    client: S3Client,
    catalog: Catalog,
    identity: string,
    accept: (e: CatalogEntry) => boolean,
): Promise<CatalogEntry | undefined> {
    const byKey = new Map(catalog.entries.filter((e) => e.layout === "archive").map((e) => [e.id, e]));
    for (const entry of catalog.entries) {
        if (!accept(entry) || entry.status === "ignored") continue;
        if (entry.layout === "legacy") return entry;
        if (entry.status === "unchecked" && !entry.meta) await inspectArchive(client, entry, identity);
        resolveBase(entry, byKey, identity);
        if (entry.status === "ok") return entry;
    }
    return undefined;
}
