// The restore plan, made on the operator's machine: which snapshot a new (or the live) server restores, chosen from
// the catalog by R2's LastModified, and the keys to read exactly that snapshot. The operator's identity unwraps the
// chosen archives' file keys here; they are re-wrapped under new age headers for a one-time identity that goes to the
// server inside the plan. So the server can decrypt the one or two archives it restores (whose content it is about
// to hold anyway) and nothing else in the bucket, and the identity itself never reaches a server.
// The plan is KEY=value text, read as data by cloud-init/restore.sh; it is a secret (it holds the one-time identity).
import { generateIdentity, wrapFileKey } from "../core/age";
import { parseRestoreFrom, RESTORE_FROM_EXPECTED, RestoreRequest } from "../core/backup-layout";
import { Catalog, CatalogEntry, inspectArchive, listCatalog, newestRestorable, resolveBase } from "./catalog";
import { S3Client, S3Credentials, S3Error } from "./s3";

export const PLAN_FORMAT = "openclaw-vps-restore-plan/1";

export class PlanError extends Error {}

export interface RestorePlan {
    mode: "none" | "empty" | "archives" | "legacy";
    request: string;
    chosen?: CatalogEntry;
    /** KEY=value lines for restore.sh (secret). */
    text: string;
    /** One line for people (never secret). */
    summary: string;
}

function describe(entry: CatalogEntry): string {
    return `${entry.id} (${entry.kind}, written ${entry.lastModified.toISOString()})`;
}

function render(lines: Record<string, string | string[]>): string {
    const out = ["# openclaw-vps restore plan: secret (a one-time identity); read by restore.sh, removed after the restore"];
    for (const [key, value] of Object.entries(lines)) for (const v of Array.isArray(value) ? value : [value]) out.push(`${key}=${v}`);
    return `${out.join("\n")}\n`;
}

/** The plan for a chosen, restorable entry. */
export function planFor(entry: CatalogEntry, request: string): RestorePlan {
    const common = { format: PLAN_FORMAT, request, chosen: entry.id, chosen_time: entry.lastModified.toISOString() };
    if (entry.layout === "legacy") {
        return {
            mode: "legacy",
            request,
            chosen: entry,
            text: render({ ...common, mode: "legacy", legacy: entry.id }),
            summary: `restore the old-layout snapshot ${describe(entry)}`,
        };
    }
    if (entry.status !== "ok" || !entry.meta || !entry.header || !entry.fileKey) throw new PlanError(`${entry.id} is not restorable`);
    const onetime = generateIdentity();
    const line = (kind: string, key: string, id: string, header: Buffer, fileKey: Buffer) =>
        [kind, key, id, header.toString("base64"), wrapFileKey(fileKey, onetime.recipient).toString("base64")].join(" ");
    const archives =
        entry.meta.kind === "full"
            ? [line("full", entry.id, entry.meta.id, entry.header, entry.fileKey)]
            : [
                  line("full", entry.base!.key, entry.base!.id, entry.base!.header, entry.base!.fileKey),
                  line("diff", entry.id, entry.meta.id, entry.header, entry.fileKey),
              ];
    return {
        mode: "archives",
        request,
        chosen: entry,
        text: render({ ...common, mode: "archives", identity: onetime.identity, archive: archives }),
        summary: `restore ${describe(entry)}${entry.base ? ` on its full ${entry.base.key}` : ""}`,
    };
}

/** The plan for a bucket that never held a snapshot (a first deploy), or for restoreFrom none. */
export const emptyPlan = (request: string, mode: "none" | "empty", summary: string): RestorePlan => ({
    mode,
    request,
    text: render({ format: PLAN_FORMAT, request, mode }),
    summary,
});

/** Chooses what `request` names in a listed catalog. Never silently empty: see the errors below. */
export async function choose(
    client: S3Client,
    catalog: Catalog,
    identity: string,
    request: RestoreRequest,
    raw: string,
): Promise<RestorePlan> {
    switch (request.kind) {
        case "none":
            return emptyPlan(raw, "none", "restoreFrom none: the new server starts with a fresh workspace");
        case "legacy": {
            const entry = catalog.entries.find((e) => e.layout === "legacy" && e.id === request.id);
            if (!entry || entry.status !== "ok")
                throw new PlanError(`restoreFrom ${raw}: no complete old-layout snapshot ${request.id} in bucket ${client.bucket}`);
            return planFor(entry, raw);
        }
        case "archive": {
            const entry = catalog.entries.find((e) => e.id === request.key);
            if (!entry) throw new PlanError(`restoreFrom ${raw}: there is no ${request.key} in bucket ${client.bucket} (expired?)`);
            await inspectArchive(client, entry, identity);
            const base = entry.meta?.base && catalog.entries.find((e) => e.id === entry.meta!.base!.key);
            if (base) await inspectArchive(client, base, identity);
            const byKey = new Map(catalog.entries.filter((e) => e.layout === "archive").map((e) => [e.id, e]));
            if (base) resolveBase(base, byKey, identity);
            resolveBase(entry, byKey, identity);
            if (entry.status !== "ok") throw new PlanError(`restoreFrom ${raw}: ${request.key} is not restorable: ${entry.reason}`);
            return planFor(entry, raw);
        }
        case "latest":
        case "before": {
            const before = request.kind === "before" ? request.time : undefined;
            const entry = await newestRestorable(client, catalog, identity, (e) => !before || e.lastModified.getTime() < before.getTime());
            if (entry) return planFor(entry, raw);
            if (!catalog.heldSnapshots && !before)
                return emptyPlan(
                    raw,
                    "empty",
                    `bucket ${client.bucket} has never held a snapshot: the new server starts fresh (first deploy)`,
                );
            const ignored = catalog.entries.filter((e) => e.status === "ignored").length;
            throw new PlanError(
                `restoreFrom ${raw}: bucket ${client.bucket} ${catalog.heldSnapshots ? "has held snapshots" : "is empty"}, but holds no restorable snapshot` +
                    `${before ? ` written before ${before.toISOString()}` : ""} (${catalog.entries.length} objects listed, ${ignored} ignored). ` +
                    "Refusing to start the agent with an empty memory. `npm run snapshots` shows what is there; set restoreFrom to one of them, " +
                    "or to none to start empty on purpose.",
            );
        }
    }
}

export interface PlanInput extends S3Credentials {
    /** The operator's age identity (AGE-SECRET-KEY-1...). */
    identity: string;
    /** The `restoreFrom` value. */
    restoreFrom: string;
    /** Keep retrying a refused first listing this long: a token Cloudflare minted seconds ago may not work yet. */
    waitForTokenSeconds?: number;
}

async function listWhenTokenWorks(client: S3Client, seconds: number): Promise<Catalog> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        try {
            return await listCatalog(client);
        } catch (err) {
            const refused = err instanceof S3Error && (err.status === 401 || err.status === 403);
            if (!refused || Date.now() >= deadline) throw err;
            await new Promise((resolve) => setTimeout(resolve, 5000));
        }
    }
}

/** Lists the bucket with the read-only credentials and chooses (the whole planning step). */
export async function planRestore(input: PlanInput): Promise<RestorePlan> {
    const request = parseRestoreFrom(input.restoreFrom);
    if (!request) throw new PlanError(`restoreFrom ${JSON.stringify(input.restoreFrom)}: expected ${RESTORE_FROM_EXPECTED}`);
    if (request.kind === "none")
        return emptyPlan(input.restoreFrom, "none", "restoreFrom none: the new server starts with a fresh workspace");
    const client = new S3Client(input);
    const catalog = await listWhenTokenWorks(client, input.waitForTokenSeconds ?? 0);
    return choose(client, catalog, input.identity, request, input.restoreFrom);
}
