// Stand-in OpenClaw releases for the upgrade tests: small `openclaw` packages with versions the real registry can
// never have (`…-standin.…`), packed like npm packs them, published on the stand-in's local registry
// (StandInInternet.publishNpmTarball) and locked with their sha512 integrity, so the host installs them through the
// same `npm ci` of a derived lock as the real release. They are honest about what they are (`--version` says
// "stand-in"); they answer the CLI calls the upgrade makes (config validate, doctor --lint / --non-interactive,
// health --json) and either run a gateway that answers /readyz and /healthz (checking the gateway token) or, the
// broken release, exit 78 (EX_CONFIG) the moment the gateway starts, like a release that rejects its config.
// And the host an upgrade starts from (`deployOnRelease`): a new stand-in server deployed on a kept release
// (`previousRelease()`, e.g. 2026.9.5 in releases/) through the same deploy `pulumi up` runs, for the upgrade suite
// (test/vps/upgrade.test.ts) and `npm run bench` to upgrade to the pin through the push.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readOpenclawPin } from "../components/core/pins";
import type { RemoteHost } from "../components/remote";
import { availableReleases, deriveHostRelease, type HostRelease, type ProjectLock } from "../components/render/openclaw-release";
import type { Settings } from "../components/settings";
import type { S3Server } from "./bucket";
import {
    bucketDataDir,
    connectAdmin,
    deploy,
    deployPlan,
    installRecordingCloudflared,
    startBucket,
    type DeployOptions,
    type DeployRun,
} from "./deploy";
import { cacheDir, run } from "./process";
import { standInInternet, StandInVps } from "./vps";

export type StandInReleaseBehaviour = "serve" | "exit-78";

export interface StandInReleaseOptions {
    /** Must contain "standin", e.g. 2026.9.7-standin.78. */
    version: string;
    behaviour: StandInReleaseBehaviour;
    /** engines.node (default: the real releases' ">=24.16.0 <25 || >=26.1.0"). */
    nodeEngines?: string;
}

/** The stand-in's CLI and gateway (plain Node, no dependencies). */
function cli(version: string, behaviour: StandInReleaseBehaviour): string {
    return `#!/usr/bin/env node
// openclaw ${version}: an openclaw-vps STAND-IN release (standin/releases.ts), not OpenClaw.
import { readFileSync, existsSync } from "node:fs";
import http from "node:http";

const VERSION = ${JSON.stringify(version)};
const BEHAVIOUR = ${JSON.stringify(behaviour)};
const args = process.argv.slice(2);
const has = (...words) => words.every((w) => args.includes(w));
const configPath = process.env.OPENCLAW_CONFIG_PATH ?? \`\${process.env.OPENCLAW_STATE_DIR ?? \`\${process.env.HOME}/.openclaw\`}/openclaw.json\`;
const config = () => JSON.parse(readFileSync(configPath, "utf8"));
// Like OpenClaw, read a .env from the working directory (the gateway's secrets).
if (existsSync(".env")) {
    for (const line of readFileSync(".env", "utf8").split("\\n")) {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
        if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
    }
}

if (has("--version")) {
    console.log(\`OpenClaw \${VERSION} (openclaw-vps stand-in release, Node \${process.version})\`);
} else if (has("config", "validate")) {
    config();
    console.log(JSON.stringify({ valid: true, path: configPath, issues: [], warnings: [] }));
} else if (has("doctor", "--lint")) {
    console.log(JSON.stringify({ schemaVersion: 1, ok: true, checksRun: 0, checksSkipped: 0, findings: [] }));
} else if (has("doctor")) {
    console.log("doctor: stand-in release, nothing to migrate");
} else if (has("health", "--json")) {
    const port = config().gateway.port;
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", headers: { authorization: \`Bearer \${process.env.OPENCLAW_GATEWAY_TOKEN ?? ""}\` } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d)).on("end", () => {
            console.log(body);
            process.exit(res.statusCode === 200 ? 0 : 1);
        });
    });
    req.on("error", (error) => {
        console.log(JSON.stringify({ ok: false, error: { type: "gateway_transport_error", message: error.message } }));
        process.exit(1);
    });
} else if (has("gateway", "run")) {
    if (BEHAVIOUR === "exit-78") {
        console.error(\`openclaw \${VERSION}: Config invalid: this stand-in release rejects every config (exit 78, EX_CONFIG)\`);
        process.exit(78);
    }
    const port = config().gateway.port;
    const token = process.env.OPENCLAW_GATEWAY_TOKEN ?? "";
    const server = http.createServer((req, res) => {
        const send = (status, body) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (req.url === "/readyz") return send(200, { ready: true, failing: [], standin: VERSION });
        if (req.url === "/healthz") {
            return req.headers.authorization === \`Bearer \${token}\` && token
                ? send(200, { ok: true, standin: VERSION, node: process.version })
                : send(401, { ok: false, error: { type: "gateway_request_error", code: "AUTH_TOKEN_MISMATCH" } });
        }
        send(404, { ok: false });
    });
    server.listen(port, "127.0.0.1", () => console.log(\`openclaw \${VERSION} stand-in gateway ready on 127.0.0.1:\${port} (Node \${process.version})\`));
    process.on("SIGTERM", () => server.close(() => process.exit(0)));
} else {
    console.error(\`openclaw \${VERSION} (stand-in): \${args.join(" ")} is not something this stand-in does\`);
    process.exit(2);
}
`;
}

/**
 * Builds the package, publishes it on the process's local registry stand-in and returns the host release for it:
 * derived from a one-package project lock by the same code as the real release, with the tarball's real integrity.
 */
export async function publishStandInRelease(options: StandInReleaseOptions): Promise<HostRelease> {
    const nodeEngines = options.nodeEngines ?? ">=24.16.0 <25 || >=26.1.0";
    // This process's own copy (tar records mtimes, so each build has its own integrity): removed when it exits.
    const work = mkdtempSync(join(cacheDir("standin-releases"), `openclaw-${options.version}-${process.pid}-`));
    process.once("exit", () => rmSync(work, { recursive: true, force: true }));
    const pkg = join(work, "package");
    mkdirSync(pkg);
    writeFileSync(
        join(pkg, "package.json"),
        `${JSON.stringify(
            {
                name: "openclaw",
                version: options.version,
                description: "openclaw-vps STAND-IN release for the upgrade tests (not OpenClaw)",
                license: "MIT",
                type: "module",
                bin: { openclaw: "openclaw.mjs" },
                engines: { node: nodeEngines },
            },
            null,
            2,
        )}\n`,
    );
    writeFileSync(join(pkg, "openclaw.mjs"), cli(options.version, options.behaviour), { mode: 0o755 });
    const tarball = join(work, `openclaw-${options.version}.tgz`);
    await run("tar", ["--owner=0", "--group=0", "--numeric-owner", "-czf", tarball, "-C", work, "package"]);
    const integrity = (await standInInternet()).publishNpmTarball("openclaw", options.version, tarball);
    const lock: ProjectLock = {
        name: "openclaw-vps-standin",
        lockfileVersion: 3,
        requires: true,
        packages: {
            "": { name: "openclaw-vps-standin", dependencies: { openclaw: options.version } },
            "node_modules/openclaw": {
                version: options.version,
                integrity,
                license: "MIT",
                bin: { openclaw: "openclaw.mjs" },
                engines: { node: nodeEngines },
            },
        },
    };
    return deriveHostRelease({ dependencies: { openclaw: options.version }, allowScripts: { openclaw: false } }, lock);
}

/** The newest release kept in releases/ besides the pin (`npm run upgrade` keeps the outgoing one): what an upgrade
 *  to the pin starts from. Throws when there is none. */
export function previousRelease(): string {
    const pinned = readOpenclawPin().version;
    const kept = [...availableReleases().keys()].filter((v) => v !== pinned);
    const newest = kept.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).pop();
    if (!newest) throw new Error(`no release kept in releases/ besides the pinned ${pinned}: nothing to upgrade from`);
    return newest;
}

/** A new stand-in server deployed on `settings.openclawVersion`, ready for a release change through the push. */
export interface ReleaseHost {
    vps: StandInVps;
    bucket: S3Server;
    remote: RemoteHost;
    /** The user data it booted with (names no OpenClaw or Node version). */
    userData: string;
    /** The first deploy (release step beside wait-provisioned, then the push) that put the release on it. */
    first: DeployRun;
    /** Boot to the end of the first push (the gateway answered /readyz). */
    readySeconds: number;
    /** SSH session, bucket stand-in, instance and the bucket's data: each that was started is stopped. */
    close(): Promise<void>;
}

export interface ReleaseHostOptions {
    /** The instance's name (StandInVps). */
    name: string;
    /** The settings the host is deployed with; their openclawVersion is the release it starts on. */
    settings: Settings;
    /** The admin key whose public half is settings.sshPublicKey. */
    privateKey: string;
    /** Options of the first deploy (secrets, stand-ins); the default is the deploy tests' sentinels. */
    deploy?: DeployOptions;
    /** Wraps the boot (the bench boots inside its memory cap); default: boot as is. */
    boot?: (start: () => Promise<StandInVps>) => Promise<StandInVps>;
}

/**
 * Boots the settings' user data, waits for cloud-init (it must end cleanly), starts the bucket stand-in and the
 * READY-reporting cloudflared, connects as the admin and deploys: the release step installs the settings' release
 * and the push makes it current. On any failure what was started is stopped again.
 */
export async function deployOnRelease(options: ReleaseHostOptions): Promise<ReleaseHost> {
    const userData = deployPlan(options.settings).userData;
    const bucketData = bucketDataDir();
    let vps: StandInVps | undefined;
    let bucket: S3Server | undefined;
    let remote: RemoteHost | undefined;
    const close = async () => {
        remote?.dispose();
        await bucket?.stop();
        await vps?.destroy();
        rmSync(bucketData, { recursive: true, force: true });
    };
    try {
        const started = Date.now();
        const start = () => StandInVps.boot({ name: options.name, userData, guestPorts: [22] });
        vps = await (options.boot ? options.boot(start) : start());
        const boot = await vps.waitBooted();
        if (boot.cloudInitCode !== 0) throw new Error(`cloud-init did not finish cleanly:\n${boot.cloudInit}\n${vps.consoleTail(30)}`);
        bucket = await startBucket(vps, options.settings, bucketData);
        await installRecordingCloudflared(vps);
        remote = await connectAdmin(vps, options.settings, options.privateKey);
        const first = await deploy(remote, options.settings, options.deploy ?? {});
        return { vps, bucket, remote, userData, first, readySeconds: (Date.now() - started) / 1000, close };
    } catch (error) {
        await close();
        throw error;
    }
}
