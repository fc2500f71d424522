// The memory bucket's layout, stated once: where full archives and diffs live (the prefixes R2's lock and lifecycle
// rules act on), the marker that says the bucket has held a snapshot, the old per-file layout still restorable until
// it expires, the archive's format names, and what `restoreFrom` accepts. Used by the BackupStore's rules, the
// settings schema, the host's backup.env (the host scripts read the prefixes from there) and the operator's snapshot
// catalog. No imports.

export const BACKUP_LAYOUT = {
    /** Daily full archives: locked backupLockDays + 1, expired at backupRetentionDays + 1. */
    fullPrefix: "fulls/",
    /** Hourly cumulative diffs (changes since their full): locked and expired one day earlier than fulls. */
    diffPrefix: "diffs/",
    /** Objects that must outlive every expiry: locked indefinitely, never expired. */
    metaPrefix: "meta/",
    /** Written by the first successful backup: from then on a new server that finds no snapshot fails loudly. */
    markerKey: "meta/holds-snapshots",
    /** The per-file layout of the first design (snapshots/<TS>/..., MANIFEST last): restorable until it expires. */
    legacyPrefix: "snapshots/",
    /** Every archive's object name ends so. */
    archiveSuffix: ".tar.zst.age",
    /** First tar member of every archive: what it is, for which bucket and key, and (a diff) its full. */
    metaMember: "SNAPSHOT.json",
    /** Last tar member: every entry with size and SHA-256 (a full) or what changed since the full (a diff). */
    manifestMember: "MANIFEST",
    archiveFormat: "openclaw-vps-archive/1",
    manifestVersion: "openclaw-vps-manifest v2",
} as const;

/** An archive's object key: fulls/ or diffs/, the host's UTC time, 8 hex digits of its random id. */
export const ARCHIVE_KEY = /^(fulls|diffs)\/\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.zst\.age$/;
/** A snapshot of the old per-file layout (snapshots/<id>/). */
export const LEGACY_SNAPSHOT_ID = /^\d{8}T\d{6}Z$/;

/** The host takes a full instead of a diff once its last full is this old (a day, less the timer's jitter). */
export const FULL_INTERVAL_SECONDS = 23 * 3600 + 30 * 60;
/** A diff is trusted only this long after its full (by R2's LastModified): a full always outlives its diffs. */
export const DIFF_MAX_DISTANCE_SECONDS = 24 * 3600;

export type RestoreRequest =
    | { kind: "latest" }
    | { kind: "none" }
    | { kind: "before"; time: Date }
    | { kind: "archive"; key: string }
    | { kind: "legacy"; id: string };

/** An ISO 8601 time with an explicit zone (Z or ±hh:mm), so "before" never depends on the machine's time zone. */
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseBeforeTime(value: string): Date | undefined {
    if (!ZONED_TIME.test(value)) return undefined;
    const time = new Date(value);
    return Number.isNaN(time.getTime()) ? undefined : time;
}

/** What `restoreFrom` (and `--snapshot`) accept, described once. */
export const RESTORE_FROM_EXPECTED =
    "latest, none, before:<ISO time with zone> (e.g. before:2026-11-20T03:00:00Z), an archive from `npm run snapshots` (e.g. diffs/20261120T020512Z-1a2b3c4d.tar.zst.age) or an old-layout snapshot id (e.g. 20261120T020000Z)";

export function parseRestoreFrom(value: string): RestoreRequest | undefined {
    if (value === "latest") return { kind: "latest" };
    if (value === "none") return { kind: "none" };
    if (value.startsWith("before:")) {
        const time = parseBeforeTime(value.slice("before:".length));
        return time ? { kind: "before", time } : undefined;
    }
    if (ARCHIVE_KEY.test(value)) return { kind: "archive", key: value };
    if (LEGACY_SNAPSHOT_ID.test(value)) return { kind: "legacy", id: value };
    return undefined;
}

const DAY = 86_400;

/** A rule R2 applies to every object under a prefix by its age (maxAgeSeconds undefined: indefinitely). */
export interface PrefixRule {
    id: string;
    prefix: string;
    maxAgeSeconds?: number;
}

/**
 * Bucket lock: no delete, no overwrite while younger than maxAgeSeconds. Fulls one day longer than diffs, so no
 * protected diff loses its full (a diff is at most a day younger than its full); the marker forever; the old layout
 * as before, until it expires.
 */
export function bucketLockRules(lockDays: number): PrefixRule[] {
    return [
        { id: "lock-fulls", prefix: BACKUP_LAYOUT.fullPrefix, maxAgeSeconds: (lockDays + 1) * DAY },
        { id: "lock-diffs", prefix: BACKUP_LAYOUT.diffPrefix, maxAgeSeconds: lockDays * DAY },
        { id: "lock-meta", prefix: BACKUP_LAYOUT.metaPrefix },
        { id: "lock-snapshots", prefix: BACKUP_LAYOUT.legacyPrefix, maxAgeSeconds: lockDays * DAY },
    ];
}

/** Lifecycle: objects deleted once older than maxAgeSeconds. Fulls one day after their diffs; meta/ never. */
export function bucketExpiryRules(retentionDays: number): PrefixRule[] {
    return [
        { id: "expire-fulls", prefix: BACKUP_LAYOUT.fullPrefix, maxAgeSeconds: (retentionDays + 1) * DAY },
        { id: "expire-diffs", prefix: BACKUP_LAYOUT.diffPrefix, maxAgeSeconds: retentionDays * DAY },
        { id: "expire-snapshots", prefix: BACKUP_LAYOUT.legacyPrefix, maxAgeSeconds: retentionDays * DAY },
    ];
}
