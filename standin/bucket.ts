// The R2 bucket stand-in: s3rver (npm) in a child process, optionally inside a stand-in instance's network namespace,
// behind a small front that logs every request (method, key, access key, bytes: to count R2's Class A and Class B
// operations) and emulates what s3rver lacks and R2 has:
//   - bucket lock rules by prefix and age: a DELETE, an overwriting PUT, a copy onto or a multipart completion onto an
//     object younger than its rule is refused (403 AccessDenied), as R2 refuses it;
//   - read-only key pairs (R2's "Object Read" token): anything but GET and HEAD is refused;
//   - lifecycle expiry by prefix and age: applyLifecycle() deletes what R2 would, at a given time;
//   - time: an object's LastModified is its file's mtime, so setLastModified() ages it (what R2 sets, tests can fake).
// Key pairs go in on stdin, never in argv. Used by the stand-in deploy, `npm run try`, the backup bench and tests.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PrefixRule } from "../components/core/backup-layout";
import { PROJECT_ROOT } from "../components/core/pins";

const S3RVER_MODULE = path.join(PROJECT_ROOT, "node_modules", "s3rver");
/** This Node first (s3rver runs on it), then the system's tools (the launcher: setpriv, nsenter). */
const S3RVER_PATH = [path.dirname(process.execPath), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(
    ":",
);

export interface S3Request {
    method: string;
    /** Path and query as received, e.g. /bucket/fulls/20261126T050000Z-1a2b3c4d.tar.zst.age */
    url: string;
    /** x-amz-copy-source: set on a server-side copy. */
    copySource: string;
    /** The access key id that signed it. */
    accessKey: string;
    /** Range header of a GET. */
    range: string;
    /** Content-Length of the request body (bytes uploaded). */
    bytesIn: number;
    /** Set when the front refused it (lock, read-only key). */
    refused?: string;
}

export interface S3KeyPair {
    accessKeyId: string;
    secretAccessKey: string;
}

export interface S3Server {
    endpoint: string;
    dataDir: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** The read-only key pair (R2's Object Read token), when one was asked for. */
    reader?: S3KeyPair;
    /** Every request so far (a copy). */
    requests(): S3Request[];
    /**
     * Resolves once every request answered before the call is in requests(): the log comes from the server's child
     * process over a pipe, so a request can be answered before its record arrives here. Call it before taking a mark
     * (it reaches the server from this process's network namespace: not for a bucket started in an instance's).
     */
    settled(): Promise<void>;
    stop(): Promise<void>;
}

const S3RVER_MAIN = `
const fs = require("fs");
const http = require("http");
const path = require("path");
const S3rver = require(process.env.S3RVER_MODULE);
const Account = require(process.env.S3RVER_MODULE + "/lib/models/account");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
for (const k of input.keys) Account.DUMMY_ACCOUNT.createKeyPair(k.accessKeyId, k.secretAccessKey);
const readOnly = new Set(input.keys.filter((k) => k.readOnly).map((k) => k.accessKeyId));
const locks = input.locks || [];
const dir = process.env.S3RVER_DIR;
const server = new S3rver({ silent: true, directory: dir, configureBuckets: JSON.parse(process.env.S3RVER_BUCKETS).map((name) => ({ name })) });
const accessKeyOf = (req) => {
  const m = /Credential=([^/,\\s]+)\\//.exec(req.headers.authorization || "") || /X-Amz-Credential=([^%&/]+)/.exec(req.url);
  return m ? m[1] : "";
};
const refuse = (res, code, message) => {
  res.writeHead(403, { "content-type": "application/xml" });
  res.end('<?xml version="1.0" encoding="UTF-8"?>\\n<Error><Code>' + code + "</Code><Message>" + message + "</Message></Error>");
};
/** The lock rule that protects bucket/key now, if any (R2: by prefix and the object's age). */
const lockOf = (bucket, key) => {
  let stat;
  try { stat = fs.statSync(path.join(dir, bucket, key + "._S3rver_object")); } catch { return undefined; }
  const age = (Date.now() - stat.mtimeMs) / 1000;
  return locks.find((r) => key.startsWith(r.prefix) && (r.maxAgeSeconds === undefined || age < r.maxAgeSeconds));
};
server.configureBuckets().then(() => {
  const handler = server.callback();
  const front = http.createServer((req, res) => {
    const url = new URL(req.url, "http://stand-in");
    // The parent's settled(): a marker after every record written so far (records are written on arrival, in order).
    const barrier = url.pathname.startsWith("/__log-barrier/") ? url.pathname.slice("/__log-barrier/".length) : undefined;
    if (barrier !== undefined && req.method === "POST") {
      process.stdout.write("BARRIER " + barrier + "\\n");
      res.writeHead(204);
      return res.end();
    }
    const parts = url.pathname.split("/").slice(1);
    const bucket = decodeURIComponent(parts[0] || "");
    const key = parts.slice(1).map(decodeURIComponent).join("/");
    const record = { method: req.method, url: req.url, copySource: req.headers["x-amz-copy-source"] || "", accessKey: accessKeyOf(req),
      range: req.headers.range || "", bytesIn: Number(req.headers["content-length"] || 0) };
    let refused;
    if (readOnly.has(record.accessKey) && req.method !== "GET" && req.method !== "HEAD") refused = "AccessDenied: a read-only token";
    const writesObject = key !== "" && ((req.method === "PUT" && !url.searchParams.has("partNumber")) ||
      (req.method === "DELETE" && !url.searchParams.has("uploadId")) || (req.method === "POST" && url.searchParams.has("uploadId")));
    const rule = !refused && writesObject ? lockOf(bucket, key) : undefined;
    if (rule) refused = "AccessDenied: object locked by bucket lock rule " + rule.id;
    if (!refused && req.method === "POST" && url.searchParams.has("delete")) refused = "NotImplemented: DeleteObjects under a bucket lock";
    if (refused) record.refused = refused;
    process.stdout.write(JSON.stringify(record) + "\\n");
    if (refused) return refuse(res, refused.split(":")[0], refused.split(": ")[1]);
    handler(req, res);
  });
  front.listen(Number(process.env.S3RVER_PORT), process.env.S3RVER_ADDRESS, () => process.stdout.write("LISTEN " + front.address().port + "\\n"));
});
`;

export interface S3ServerOptions {
    dir: string;
    buckets: string[];
    accessKeyId: string;
    secretAccessKey: string;
    /** A second key pair that may only read (GET, HEAD). */
    reader?: S3KeyPair;
    /** Bucket lock rules (components/core/backup-layout.ts bucketLockRules); none by default. */
    locks?: PrefixRule[];
    /** Listen address (default 127.0.0.1) and port (default 0: a free one). */
    address?: string;
    port?: number;
    /** Command prefix that must exec its argument (e.g. `nsenter --net=/run/netns/NS --`: the stand-in VPS's bucket). */
    launcher?: string[];
}

/** Starts s3rver (default: a free loopback port). The key pairs go in on stdin: never in argv, where `ps` shows them. */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
    fs.mkdirSync(opts.dir, { recursive: true });
    const address = opts.address ?? "127.0.0.1";
    const launcher = opts.launcher ?? [];
    // s3rver signs listing continuation tokens with DES, which Node 24's OpenSSL 3 only has in its legacy provider:
    // without it every listing longer than 1000 keys fails with InternalError.
    const argv = [...launcher, process.execPath, "--openssl-legacy-provider", "-e", S3RVER_MAIN];
    const child = spawn(argv[0], argv.slice(1), {
        env: {
            PATH: S3RVER_PATH,
            S3RVER_MODULE,
            S3RVER_DIR: opts.dir,
            S3RVER_BUCKETS: JSON.stringify(opts.buckets),
            S3RVER_ADDRESS: address,
            S3RVER_PORT: String(opts.port ?? 0),
        },
        stdio: ["pipe", "pipe", "pipe"],
    });
    const keys = [
        { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
        ...(opts.reader ? [{ ...opts.reader, readOnly: true }] : []),
    ];
    child.stdin.end(JSON.stringify({ keys, locks: opts.locks ?? [] }));
    const requests: S3Request[] = [];
    const barriers = new Map<number, () => void>();
    let nextBarrier = 0;
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
        let buffered = "";
        const timer = setTimeout(() => reject(new Error(`s3rver did not start in 20 s: ${stderr}`)), 20_000);
        child.on("exit", (code) => reject(new Error(`s3rver exited (${code}): ${stderr}`)));
        child.stdout.on("data", (d: Buffer) => {
            buffered += d.toString();
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
                const line = buffered.slice(0, newline);
                buffered = buffered.slice(newline + 1);
                if (line.startsWith("LISTEN ")) {
                    clearTimeout(timer);
                    resolve(Number(line.slice(7)));
                } else if (line.startsWith("{")) {
                    requests.push(JSON.parse(line) as S3Request);
                } else if (line.startsWith("BARRIER ")) {
                    barriers.get(Number(line.slice(8)))?.();
                }
            }
        });
    });
    child.removeAllListeners("exit");
    return {
        endpoint: `http://${address}:${port}`,
        dataDir: opts.dir,
        accessKeyId: opts.accessKeyId,
        secretAccessKey: opts.secretAccessKey,
        reader: opts.reader,
        requests: () => requests.slice(),
        settled: async () => {
            const id = nextBarrier++;
            const seen = new Promise<void>((resolve) => barriers.set(id, resolve));
            const response = await fetch(`http://${address}:${port}/__log-barrier/${id}`, { method: "POST" });
            if (response.status !== 204) throw new Error(`the bucket stand-in's log barrier answered ${response.status}`);
            await seen;
            barriers.delete(id);
        },
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.on("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}

/** Where s3rver keeps an object's bytes on disk (to simulate bit rot in the bucket). */
export function s3ObjectFile(server: S3Server, bucket: string, key: string): string {
    return path.join(server.dataDir, bucket, `${key}._S3rver_object`);
}

/** Every object of a bucket with the LastModified the server reports (its file's mtime). */
export function storedObjects(server: S3Server, bucket: string): { key: string; lastModified: Date; size: number }[] {
    const root = path.join(server.dataDir, bucket);
    const out: { key: string; lastModified: Date; size: number }[] = [];
    const walk = (dir: string) => {
        if (!fs.existsSync(dir)) return;
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.name.endsWith("._S3rver_object")) {
                const st = fs.statSync(full);
                out.push({ key: path.relative(root, full).slice(0, -"._S3rver_object".length), lastModified: st.mtime, size: st.size });
            }
        }
    };
    walk(root);
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** Sets the LastModified R2 would report for an object: time travel for lock and lifecycle tests. */
export function setLastModified(server: S3Server, bucket: string, key: string, when: Date): void {
    fs.utimesSync(s3ObjectFile(server, bucket, key), when, when);
}

/** What R2's lifecycle rules delete at `now`: every object under a rule's prefix older than its age. */
export function applyLifecycle(server: S3Server, bucket: string, rules: PrefixRule[], now: Date): string[] {
    const deleted: string[] = [];
    for (const object of storedObjects(server, bucket)) {
        const rule = rules.find((r) => object.key.startsWith(r.prefix) && r.maxAgeSeconds !== undefined);
        if (!rule || (now.getTime() - object.lastModified.getTime()) / 1000 < rule.maxAgeSeconds!) continue;
        const base = s3ObjectFile(server, bucket, object.key).slice(0, -"object".length);
        for (const suffix of ["object", "object.md5", "metadata.json"]) fs.rmSync(`${base}${suffix}`, { force: true });
        deleted.push(object.key);
    }
    return deleted;
}

/** R2's operation classes: A (writes and listings), B (reads), or free (deletes). */
export function requestClass(r: Pick<S3Request, "method" | "url">): "A" | "B" | "free" {
    const url = new URL(r.url, "http://stand-in");
    const parts = url.pathname.split("/").filter(Boolean);
    if (r.method === "DELETE") return "free";
    if (r.method === "HEAD") return "B";
    if (r.method === "GET") {
        if (parts.length <= 1) {
            // Bucket-level reads of configuration are Class B; listings (objects, buckets, uploads) are Class A.
            return ["location", "cors", "lifecycle", "encryption"].some((q) => url.searchParams.has(q)) ? "B" : "A";
        }
        return url.searchParams.has("uploadId") ? "A" : "B";
    }
    return "A";
}

export interface RequestCount {
    classA: number;
    classB: number;
    gets: number;
    heads: number;
    lists: number;
    puts: number;
    bytesUploaded: number;
    refused: number;
}

/** Counts requests (optionally only those signed with one access key). */
export function countRequests(requests: S3Request[], accessKey?: string): RequestCount {
    const mine = accessKey === undefined ? requests : requests.filter((r) => r.accessKey === accessKey);
    const isObjectGet = (r: S3Request) => r.method === "GET" && new URL(r.url, "http://x").pathname.split("/").filter(Boolean).length > 1;
    return {
        classA: mine.filter((r) => requestClass(r) === "A").length,
        classB: mine.filter((r) => requestClass(r) === "B").length,
        gets: mine.filter(isObjectGet).length,
        heads: mine.filter((r) => r.method === "HEAD").length,
        lists: mine.filter((r) => r.method === "GET" && !isObjectGet(r)).length,
        puts: mine.filter((r) => r.method === "PUT" || r.method === "POST").length,
        bytesUploaded: mine.filter((r) => r.method === "PUT" || r.method === "POST").reduce((s, r) => s + r.bytesIn, 0),
        refused: mine.filter((r) => r.refused).length,
    };
}

/** PUTs of new bytes (not server-side copies) under a key prefix, as keys relative to that prefix. */
export function uploadsUnder(requests: S3Request[], bucket: string, prefix: string): string[] {
    const base = `/${bucket}/${prefix}`;
    return requests
        .filter((r) => r.method === "PUT" && r.copySource === "" && !r.refused && r.url.startsWith(base))
        .map((r) => decodeURIComponent(r.url.slice(base.length).split("?")[0]));
}
