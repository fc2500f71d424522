// The R2 bucket stand-in: s3rver (npm) in a child process, optionally inside a stand-in instance's network namespace,
// with a log of every request (to count uploads against server-side copies). Its key pair goes in on stdin, never
// in argv. Used by the stand-in deploy, `npm run try`, the backup benchmark and the backup tests.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../components/core/pins";

const S3RVER_MODULE = path.join(PROJECT_ROOT, "node_modules", "s3rver");
/** This Node first (s3rver runs on it), then the system's tools (the launcher: setpriv, nsenter). */
const S3RVER_PATH = [path.dirname(process.execPath), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(
    ":",
);

export interface S3Request {
    method: string;
    /** Path and query as received, e.g. /bucket/snapshots/20261126T050000Z/workspace/MEMORY.md */
    url: string;
    /** x-amz-copy-source: set on a server-side copy. */
    copySource: string;
}

export interface S3Server {
    endpoint: string;
    dataDir: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** Every request so far (a copy). */
    requests(): S3Request[];
    stop(): Promise<void>;
}

const S3RVER_MAIN = `
const S3rver = require(process.env.S3RVER_MODULE);
const Account = require(process.env.S3RVER_MODULE + "/lib/models/account");
const key = require("fs").readFileSync(0, "utf8").split("\\n");
Account.DUMMY_ACCOUNT.createKeyPair(key[0], key[1]);
const server = new S3rver({ address: process.env.S3RVER_ADDRESS, port: Number(process.env.S3RVER_PORT), silent: true, directory: process.env.S3RVER_DIR,
  configureBuckets: JSON.parse(process.env.S3RVER_BUCKETS).map((name) => ({ name })) });
server.run().then(({ port }) => {
  server.httpServer.on("request", (req) => process.stdout.write(JSON.stringify({ method: req.method, url: req.url,
    copySource: req.headers["x-amz-copy-source"] || "" }) + "\\n"));
  process.stdout.write("LISTEN " + port + "\\n");
});
`;

export interface S3ServerOptions {
    dir: string;
    buckets: string[];
    accessKeyId: string;
    secretAccessKey: string;
    /** Listen address (default 127.0.0.1) and port (default 0: a free one). */
    address?: string;
    port?: number;
    /** Command prefix that must exec its argument (e.g. `nsenter --net=/run/netns/NS --`: the stand-in VPS's bucket). */
    launcher?: string[];
}

/** Starts s3rver (default: a free loopback port). The key pair goes in on stdin: never in argv, where `ps` shows it. */
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
    child.stdin.end(`${opts.accessKeyId}\n${opts.secretAccessKey}\n`);
    const requests: S3Request[] = [];
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
        requests: () => requests.slice(),
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

/** PUTs of new bytes (not server-side copies) under a key prefix, as keys relative to that prefix. */
export function uploadsUnder(requests: S3Request[], bucket: string, prefix: string): string[] {
    const base = `/${bucket}/${prefix}`;
    return requests
        .filter((r) => r.method === "PUT" && r.copySource === "" && r.url.startsWith(base))
        .map((r) => decodeURIComponent(r.url.slice(base.length).split("?")[0]));
}

export function serverSideCopiesUnder(requests: S3Request[], bucket: string, prefix: string): string[] {
    const base = `/${bucket}/${prefix}`;
    return requests
        .filter((r) => r.method === "PUT" && r.copySource !== "" && r.url.startsWith(base))
        .map((r) => decodeURIComponent(r.url.slice(base.length)));
}
