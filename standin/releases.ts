// Stand-in OpenClaw releases for the upgrade tests: small `openclaw` packages with versions the real registry can
// never have (`…-standin.…`), packed like npm packs them, published on the stand-in's local registry
// (StandInInternet.publishNpmTarball) and locked with their sha512 integrity, so the host installs them through the
// same `npm ci` of a derived lock as the real release. They are honest about what they are (`--version` says
// "stand-in"); they answer the CLI calls the upgrade makes (config validate, doctor --lint / --non-interactive,
// health --json) and either run a gateway that answers /readyz and /healthz (checking the gateway token) or, the
// broken release, exit 78 (EX_CONFIG) the moment the gateway starts, like a release that rejects its config.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deriveHostRelease, type HostRelease, type ProjectLock } from "../components/render/openclaw-release";
import { cacheDir, run } from "./process";
import { standInInternet } from "./vps";

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
