// The single source of the OpenClaw version the host runs: the exact `openclaw` pin in package.json. The Node
// line the host needs comes from that installed package's own `engines` field, never from a constant here.
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root (where package.json and Pulumi.yaml live). */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export interface OpenclawPin {
    /** Exact version from package.json `dependencies.openclaw`. */
    version: string;
    /** `engines.node` of the installed package, e.g. ">=24.16.0 <25 || >=26.1.0". */
    nodeEngines: string;
}

/** Oldest OpenClaw we ever deploy: earlier releases leak the gateway token through `gatewayUrl` (CVE-2026-25253). */
export const MINIMUM_SAFE_OPENCLAW = "2026.1.29";

/** The config schema we render changed at 2026.8.1 (`memory.search`, heartbeat jobs); older releases reject it. */
export const CONFIG_SCHEMA_SINCE = "2026.8.1";

let cached: OpenclawPin | undefined;

export function readOpenclawPin(root: string = PROJECT_ROOT): OpenclawPin {
    if (cached && root === PROJECT_ROOT) return cached;
    const projectPackage = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const version: unknown = projectPackage.dependencies?.openclaw;
    if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version)) {
        throw new Error(`package.json must pin "openclaw" to an exact version (found ${JSON.stringify(version)})`);
    }
    const installedPath = path.join(root, "node_modules", "openclaw", "package.json");
    if (!fs.existsSync(installedPath)) {
        throw new Error(`openclaw ${version} is not installed (${installedPath} is missing): run \`npm ci\` on Node 24`);
    }
    const installed = JSON.parse(fs.readFileSync(installedPath, "utf8"));
    if (installed.version !== version) {
        throw new Error(`node_modules has openclaw ${installed.version} but package.json pins ${version}: run \`npm ci\``);
    }
    const nodeEngines: unknown = installed.engines?.node;
    if (typeof nodeEngines !== "string") throw new Error(`openclaw ${version} declares no engines.node`);
    const pin = { version, nodeEngines };
    if (root === PROJECT_ROOT) cached = pin;
    return pin;
}

/**
 * Fingerprint of the OpenPGP key that signs Cloudflare's apt repository (pkg.cloudflare.com), pinned here: provision.sh
 * trusts the key it downloads only if it is exactly this one. "CloudFlare Software Packaging 2025", RSA 4096, created
 * 2025-10-23, served as cloudflare-main.gpg since the rollover (the 2015 key FBA8C0EE63617C5EED695C43254B391D8CACCBF8
 * was deprecated on 2026-04-30). Cloudflare publishes no fingerprint itself: this one is as first served, and pinned
 * independently by other projects. When Cloudflare rotates again, change it here (user data changes: servers are
 * replaced).
 */
export const CLOUDFLARE_APT_KEY_FINGERPRINT = "CC94B39C77AE7342A68B89628A682D308D4E5E73";
