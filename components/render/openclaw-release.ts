// The OpenClaw release a host installs: a small npm project (package.json + package-lock.json) derived from this
// project's own package-lock.json, so the host gets exactly the tree the tests validated: the same packages at the
// same paths, versions and integrity hashes, installed with `npm ci` (which refuses a tarball whose hash differs).
// Nothing is resolved again: the derivation keeps the subtree `node_modules/openclaw` reaches through Node's module
// resolution and drops everything else (our own tooling). Pure: no Pulumi imports; reading files is left to
// `readProjectRelease` at the bottom.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../core/pins";
import { readHostFile } from "./host-files";
import { renderStageScript } from "./stage-script";

/** The package the host runs. */
export const OPENCLAW_PACKAGE = "openclaw";
/** The name of the derived npm project on the host (never published). */
export const HOST_RELEASE_PROJECT = "openclaw-vps-host-release";

/** One `packages` entry of a lockfile (v3); only the fields we read are typed. */
export interface LockEntry {
    name?: string;
    version?: string;
    resolved?: string;
    integrity?: string;
    link?: boolean;
    dev?: boolean;
    optional?: boolean;
    devOptional?: boolean;
    peer?: boolean;
    inBundle?: boolean;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    engines?: Record<string, string> | string[];
    [key: string]: unknown;
}

export interface ProjectLock {
    name?: string;
    lockfileVersion: number;
    packages: Record<string, LockEntry>;
    [key: string]: unknown;
}

export interface ProjectPackage {
    dependencies?: Record<string, string>;
    allowScripts?: Record<string, boolean>;
    overrides?: unknown;
    [key: string]: unknown;
}

/** What the push ships for the host's install (docs/host-contract.md, "the OpenClaw release"). */
export interface HostRelease {
    /** The exact OpenClaw version (the project's pin). */
    version: string;
    /** `engines.node` of that version, e.g. ">=24.16.0 <25 || >=26.1.0". */
    nodeEngines: string;
    /** The derived project's package.json text. */
    packageJson: string;
    /** The derived lockfile's text (no `resolved` URLs: the host points them at its configured registry). */
    lockJson: string;
    /** sha256 of package.json, a NUL byte and the lock: names the release on the host (with the Node major). */
    digest: string;
    /** How many packages the host installs (the lock's entries, the root excluded). */
    packages: number;
}

type Edge = { name: string; kind: "required" | "optional" | "peer" | "optional-peer" };

function edgesOf(entry: LockEntry): Edge[] {
    const optionalPeers = new Set(
        Object.entries(entry.peerDependenciesMeta ?? {})
            .filter(([, meta]) => meta?.optional)
            .map(([name]) => name),
    );
    return [
        ...Object.keys(entry.dependencies ?? {}).map((name): Edge => ({ name, kind: "required" })),
        ...Object.keys(entry.optionalDependencies ?? {}).map((name): Edge => ({ name, kind: "optional" })),
        ...Object.keys(entry.peerDependencies ?? {}).map((name): Edge => ({
            name,
            kind: optionalPeers.has(name) ? "optional-peer" : "peer",
        })),
    ];
}

/** Where Node (and npm's tree) finds `name` from the package installed at `from`: the nearest node_modules up. */
export function resolveInLock(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
    let base = from;
    for (;;) {
        const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
        if (packages[candidate]) return candidate;
        if (base === "") return undefined;
        const cut = base.lastIndexOf("/node_modules/");
        base = cut < 0 ? "" : base.slice(0, cut);
    }
}

/** The paths `start` reaches, following only edges whose kind `follow` accepts. */
function reach(
    packages: Record<string, LockEntry>,
    start: string,
    follow: (kind: Edge["kind"]) => boolean,
    problems: string[],
): Set<string> {
    const seen = new Set<string>([start]);
    const queue = [start];
    while (queue.length) {
        const at = queue.shift()!;
        const entry = packages[at]!;
        for (const edge of edgesOf(entry)) {
            if (!follow(edge.kind)) continue;
            const found = resolveInLock(packages, at, edge.name);
            if (!found) {
                // An optional dependency or peer may be absent (another platform, or nobody installs it).
                if (edge.kind === "required" || edge.kind === "peer")
                    problems.push(`${at} needs ${edge.name}, which the lockfile does not have`);
                continue;
            }
            if (packages[found]!.link) problems.push(`${found} is a link (a workspace or file: dependency); the host cannot install it`);
            if (!seen.has(found)) {
                seen.add(found);
                queue.push(found);
            }
        }
    }
    return seen;
}

/** Entries bundled inside a package's tarball (`inBundle`) below one of `roots`. */
function bundledBelow(packages: Record<string, LockEntry>, roots: Set<string>): string[] {
    return Object.keys(packages).filter(
        (p) => packages[p]!.inBundle && [...roots].some((root) => p.startsWith(`${root}/node_modules/`)) && !roots.has(p),
    );
}

/**
 * The host's npm project for the OpenClaw the project pins: every package `node_modules/openclaw` reaches (required,
 * optional and non-optional peer dependencies, resolved as Node resolves them, plus what its tarballs bundle), at the
 * same paths with the same version, integrity and metadata as in the project's lock. The `dev`/`optional`/`peer`
 * flags are recomputed for the new root (openclaw is its only dependency), and the install-script decisions of
 * `allowScripts` are carried over for the packages in the tree.
 */
export function deriveHostRelease(projectPackage: ProjectPackage, projectLock: ProjectLock): HostRelease {
    const problems: string[] = [];
    const version = projectPackage.dependencies?.[OPENCLAW_PACKAGE];
    if (typeof version !== "string" || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
        throw new Error(`package.json must pin "${OPENCLAW_PACKAGE}" to an exact version (found ${JSON.stringify(version)})`);
    }
    if (projectLock.lockfileVersion !== 3 && projectLock.lockfileVersion !== 2) {
        throw new Error(`package-lock.json has lockfileVersion ${projectLock.lockfileVersion}; expected 3 (npm 9 or newer)`);
    }
    if (projectPackage.overrides !== undefined) {
        throw new Error("package.json has `overrides`: the host release does not carry them yet (derive it by hand or drop them)");
    }
    const packages = projectLock.packages;
    const top = `node_modules/${OPENCLAW_PACKAGE}`;
    const openclaw = packages[top];
    if (!openclaw) throw new Error(`package-lock.json has no ${top}: run \`npm install\``);
    if (openclaw.version !== version) {
        throw new Error(
            `package-lock.json has ${OPENCLAW_PACKAGE} ${openclaw.version} but package.json pins ${version}: run \`npm install\``,
        );
    }
    const nodeEngines = Array.isArray(openclaw.engines) ? undefined : openclaw.engines?.node;
    if (typeof nodeEngines !== "string") throw new Error(`${OPENCLAW_PACKAGE} ${version} declares no engines.node in the lockfile`);

    const any = reach(packages, top, (kind) => kind !== "optional-peer", problems);
    const strong = reach(packages, top, (kind) => kind === "required" || kind === "peer", []);
    const nonPeer = reach(packages, top, (kind) => kind === "required" || kind === "optional", []);
    for (const p of bundledBelow(packages, any)) any.add(p);
    if (problems.length) throw new Error(`package-lock.json cannot give the host ${OPENCLAW_PACKAGE}'s tree:\n- ${problems.join("\n- ")}`);

    const rootEntry: LockEntry = { name: HOST_RELEASE_PROJECT, dependencies: { [OPENCLAW_PACKAGE]: version } };
    const derived: Record<string, LockEntry> = { "": rootEntry };
    for (const p of [...any].sort()) {
        const { dev: _dev, optional: _optional, devOptional: _devOptional, peer: _peer, ...entry } = packages[p]!;
        const bundled = entry.inBundle === true;
        // Bundled entries inherit their flags from the package that bundles them; npm writes none for them itself.
        const optional = !bundled && !strong.has(p);
        const peer = !bundled && !nonPeer.has(p);
        derived[p] = { ...entry, ...(optional ? { optional: true } : {}), ...(peer ? { peer: true } : {}) };
    }

    const allowScripts: Record<string, boolean> = {};
    const names = new Set([...any].map((p) => packages[p]!.name ?? p.slice(p.lastIndexOf("node_modules/") + "node_modules/".length)));
    for (const [name, allowed] of Object.entries(projectPackage.allowScripts ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (names.has(name)) allowScripts[name] = allowed;
    }
    const hostPackage = {
        name: HOST_RELEASE_PROJECT,
        private: true,
        description: `OpenClaw ${version} for an openclaw-vps host, derived from the openclaw-vps package-lock.json`,
        dependencies: { [OPENCLAW_PACKAGE]: version },
        ...(Object.keys(allowScripts).length ? { allowScripts } : {}),
    };
    const hostLock = { name: HOST_RELEASE_PROJECT, lockfileVersion: 3, requires: true, packages: derived };
    const packageJson = `${JSON.stringify(hostPackage, null, 2)}\n`;
    const lockJson = `${JSON.stringify(hostLock, null, 2)}\n`;
    return hostRelease(packageJson, lockJson);
}

function hostRelease(packageJson: string, lockJson: string): HostRelease {
    const lock = JSON.parse(lockJson) as ProjectLock;
    const openclaw = lock.packages?.[`node_modules/${OPENCLAW_PACKAGE}`];
    const version = openclaw?.version;
    const nodeEngines = openclaw && !Array.isArray(openclaw.engines) ? openclaw.engines?.node : undefined;
    if (!version || !nodeEngines)
        throw new Error(`a release lock must have node_modules/${OPENCLAW_PACKAGE} with a version and engines.node`);
    const digest = createHash("sha256").update(packageJson).update("\0").update(lockJson).digest("hex");
    return { version, nodeEngines, packageJson, lockJson, digest, packages: Object.keys(lock.packages).length - 1 };
}

/** The release of a project directory (this repository by default): its package.json and package-lock.json. */
export function readProjectRelease(root: string = PROJECT_ROOT): HostRelease {
    const read = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8"));
    return deriveHostRelease(read("package.json") as ProjectPackage, read("package-lock.json") as ProjectLock);
}

/** Where the repository keeps the releases it pinned before (`npm run upgrade` moves the outgoing one there). */
export const KEPT_RELEASES_DIR = path.join(PROJECT_ROOT, "releases");

/** A kept release: `releases/openclaw-<version>/{package.json,package-lock.json}`, as derived when it was the pin. */
export function readKeptRelease(dir: string): HostRelease {
    const release = hostRelease(
        fs.readFileSync(path.join(dir, "package.json"), "utf8"),
        fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"),
    );
    if (path.basename(dir) !== `${OPENCLAW_PACKAGE}-${release.version}`) {
        throw new Error(
            `${dir} holds ${OPENCLAW_PACKAGE} ${release.version}; its folder must be named ${OPENCLAW_PACKAGE}-${release.version}`,
        );
    }
    return release;
}

/** Writes a release where `readKeptRelease` finds it. */
export function writeKeptRelease(release: HostRelease, root: string = KEPT_RELEASES_DIR): string {
    const dir = path.join(root, `${OPENCLAW_PACKAGE}-${release.version}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), release.packageJson);
    fs.writeFileSync(path.join(dir, "package-lock.json"), release.lockJson);
    return dir;
}

let releasesCache: Map<string, HostRelease> | undefined;

/**
 * Every release a host can get: the pin (derived from package-lock.json) and the kept ones, by version.
 * `OPENCLAW_VPS_RELEASES_DIR` names one more folder of kept releases: `npm run upgrade -- --dry-run` previews a
 * version there before it is pinned.
 */
export function availableReleases(root: string = PROJECT_ROOT): Map<string, HostRelease> {
    if (releasesCache && root === PROJECT_ROOT) return releasesCache;
    const releases = new Map<string, HostRelease>();
    for (const kept of [path.join(root, "releases"), process.env.OPENCLAW_VPS_RELEASES_DIR].filter((d): d is string => !!d)) {
        if (!fs.existsSync(kept)) continue;
        for (const entry of fs.readdirSync(kept).sort()) {
            if (!entry.startsWith(`${OPENCLAW_PACKAGE}-`)) continue;
            const release = readKeptRelease(path.join(kept, entry));
            releases.set(release.version, release);
        }
    }
    const pinned = readProjectRelease(root);
    releases.set(pinned.version, pinned);
    if (root === PROJECT_ROOT) releasesCache = releases;
    return releases;
}

/** The release of one version, or an error that names the versions there are. */
export function releaseFor(version: string, root: string = PROJECT_ROOT): HostRelease {
    const release = availableReleases(root).get(version);
    if (!release) {
        throw new Error(
            `no lockfile for openclaw ${version}: the project has ${[...availableReleases(root).keys()].join(", ")} (\`npm run upgrade -- --to ${version}\` pins another)`,
        );
    }
    return release;
}

// ---- what the host gets --------------------------------------------------------------------------------------

/** The release's name on the host: version, Node major and the digest of its two files. */
export function releaseId(release: HostRelease, nodeMajor: number): string {
    return `${release.version}-node${nodeMajor}-${release.digest.slice(0, 12)}`;
}

/** `release.env` of the spec: what upgrade-openclaw.sh reads (and checks against the two files). */
export function renderReleaseEnv(release: HostRelease, nodeMajor: number): string {
    if (!Number.isInteger(nodeMajor) || nodeMajor < 18 || nodeMajor > 99)
        throw new Error(`nodeMajor ${nodeMajor} is not a Node major version`);
    return [
        "# The OpenClaw release this host runs (rendered by components/render/openclaw-release.ts; read by upgrade-openclaw.sh)",
        `OPENCLAW_VERSION=${release.version}`,
        `NODE_MAJOR=${nodeMajor}`,
        `RELEASE_ID=${releaseId(release, nodeMajor)}`,
        "",
    ].join("\n");
}

/** The spec's three files, by name (the push writes them to HOST_DIRS.releaseSpec). */
export function releaseSpecFiles(release: HostRelease, nodeMajor: number): { name: string; content: string }[] {
    return [
        { name: "package.json", content: release.packageJson },
        { name: "package-lock.json", content: release.lockJson },
        { name: "release.env", content: renderReleaseEnv(release, nodeMajor) },
    ];
}

/**
 * The script the deploy runs over SSH (stdin of `sudo -n bash -s`) to install the release side by side before the
 * push, while a new server is still provisioning or while the old release keeps serving: upgrade-openclaw.sh and the
 * spec travel inside it (base64 in quoted here-documents), and everything sits in functions, so a truncated
 * transfer runs nothing.
 */
export function renderReleaseStageScript(release: HostRelease, nodeMajor: number, options: { waitSeconds?: number } = {}): string {
    return renderStageScript({
        title: `stage openclaw ${release.version} (Node ${nodeMajor}) side by side`,
        renderer: "components/render/openclaw-release.ts",
        files: [{ name: "upgrade-openclaw.sh", content: readHostFile("upgrade-openclaw.sh") }, ...releaseSpecFiles(release, nodeMajor)],
        script: "upgrade-openclaw.sh",
        args: 'stage --spec "$dir"',
        waitSeconds: options.waitSeconds,
    });
}
