// The stand-in VPS's image: a Debian 12 rootfs built with debootstrap, configured like a cloud image
// (standin/rootfs/configure.sh), cached outside the repository under rootfs-<hash of the recipe> and rebuilt
// when the recipe changes. Also owns the private network every instance sees (STANDIN_NETWORK).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LEGACY_ZONE_TARGETS } from "../components/core/timezones";
import { requireTools } from "./prerequisites";
import { cacheDir, isAlive, log, run, withLock } from "./process";

/** The network every stand-in instance sees (each instance has its own namespace, so they never clash). */
export const STANDIN_NETWORK = {
    gateway: "10.77.0.1",
    prefixLength: 24,
    guest: "10.77.0.2",
    /** Ports the namespace forwarder listens on at the gateway address. */
    aptProxyPort: 3142,
    mirrorPort: 8080,
} as const;

const configureScript = resolve(__dirname, "rootfs", "configure.sh");

/**
 * Everything that decides the image's content. Its hash names the cache directory, so a change here
 * (or in rootfs/configure.sh) builds a new image instead of reusing a stale one.
 */
export const ROOTFS_RECIPE = {
    suite: "bookworm",
    mirror: "http://deb.debian.org/debian",
    variant: "minbase",
    // What a cloud server has before provisioning (Ubuntu 24.04 cloud images ship most of these), plus what
    // provision.sh installs, preinstalled so a scenario does not download it every time (apt then finds it
    // installed; the install code path still runs).
    packages: [
        // boots like a server
        "systemd",
        "systemd-sysv",
        "dbus",
        "dbus-user-session",
        "libpam-systemd",
        "systemd-timesyncd",
        // cloud-init (stays unconfigured without the cffi backend; its locale step needs locales)
        "cloud-init",
        "python3",
        "python3-cffi-backend",
        "locales",
        "tzdata",
        // what the operator and the deploy need
        "openssh-server",
        "sudo",
        "iproute2",
        "iputils-ping",
        "procps",
        "less",
        "curl",
        "ca-certificates",
        "xz-utils",
        "gnupg",
        "cron",
        "logrotate",
        "netbase",
        "kmod",
        // what provision.sh installs
        "ufw",
        "fail2ban",
        "python3-systemd",
        "unattended-upgrades",
        "apt-listchanges",
        "rclone",
        "jq",
        // on every Ubuntu 24.04 server; configured to restart services by itself, as Ubuntu's does (configure.sh)
        "needrestart",
    ],
    // Names Ubuntu 24.04 ships only in tzdata-legacy: removed from the image (configure.sh), so provision.sh meets
    // the same tzdata as on a stock Ubuntu cloud server.
    legacyZones: Object.keys(LEGACY_ZONE_TARGETS).sort(),
    network: STANDIN_NETWORK,
    // Rebuilt monthly: the image carries the updates released since bookworm, and those keep coming.
    month: new Date().toISOString().slice(0, 7),
    configureSha256: "",
};

function recipeHash(): string {
    const recipe = { ...ROOTFS_RECIPE, configureSha256: sha256(readFileSync(configureScript)) };
    return sha256(JSON.stringify(recipe)).slice(0, 16);
}

function sha256(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

export interface RootfsInfo {
    path: string;
    /** True when this call built it (false: taken from the cache). */
    built: boolean;
    seconds: number;
}

/** Whether the image of the current recipe is already in the cache (ensureRootfs() then returns at once). */
export function isRootfsCached(): boolean {
    return existsSync(join(cacheDir(), `rootfs-${recipeHash()}`, "etc", "os-release"));
}

/** Returns the cached rootfs for the current recipe, building it first when missing. */
export async function ensureRootfs(): Promise<RootfsInfo> {
    requireTools({ debootstrap: "debootstrap", unshare: "util-linux", chroot: "coreutils" });
    const started = Date.now();
    const root = cacheDir();
    const finalPath = join(root, `rootfs-${recipeHash()}`);
    if (existsSync(join(finalPath, "etc", "os-release"))) {
        return { path: finalPath, built: false, seconds: 0 };
    }
    return withLock(join(root, "rootfs.lock"), async () => {
        // Someone else may have finished it while we waited for the lock.
        if (existsSync(join(finalPath, "etc", "os-release"))) return { path: finalPath, built: false, seconds: 0 };
        removeAbandonedBuilds(root);
        const tmpPath = `${finalPath}.tmp-${process.pid}`;
        rmSync(tmpPath, { recursive: true, force: true });
        try {
            await buildInto(tmpPath);
            // The rename is the commit: a killed build leaves only a .tmp-<pid> directory, removed next time.
            renameSync(tmpPath, finalPath);
        } catch (error) {
            rmSync(tmpPath, { recursive: true, force: true });
            throw error;
        }
        const seconds = (Date.now() - started) / 1000;
        log(`rootfs built in ${seconds.toFixed(1)} s: ${finalPath}`);
        return { path: finalPath, built: true, seconds };
    });
}

async function buildInto(target: string): Promise<void> {
    const debCache = cacheDir("debs");
    log(`building rootfs (debootstrap first stage, .deb cache ${debCache})`);
    await run(
        "debootstrap",
        [
            "--foreign",
            `--variant=${ROOTFS_RECIPE.variant}`,
            "--arch=amd64",
            `--cache-dir=${debCache}`,
            `--include=${ROOTFS_RECIPE.packages.join(",")}`,
            ROOTFS_RECIPE.suite,
            target,
            ROOTFS_RECIPE.mirror,
        ],
        { timeoutMs: 20 * 60_000 },
    );
    // dpkg's fsync after every file triples the build time; a half-built image is thrown away anyway.
    // configure.sh removes this again, so the booted image behaves like a real one.
    mkdirSync(join(target, "etc", "dpkg", "dpkg.cfg.d"), { recursive: true });
    writeFileSync(join(target, "etc", "dpkg", "dpkg.cfg.d", "standin-build-unsafe-io"), "force-unsafe-io\n");
    // Package scripts run with no network and in a private mount namespace: ufw's and every other
    // postinst cannot reach this machine's firewall or leave mounts behind.
    log("rootfs: debootstrap second stage (no network, private mounts)");
    await isolatedChroot(target, ["/debootstrap/debootstrap", "--second-stage"]);
    writeFileSync(join(target, "tmp", "standin-configure.sh"), readFileSync(configureScript), { mode: 0o755 });
    writeFileSync(join(target, "tmp", "standin-legacy-zones"), ROOTFS_RECIPE.legacyZones.join("\n") + "\n");
    // Only downloads happen with the network: apt runs no package script for --download-only.
    log("rootfs: download the updates since the release (network, no package scripts)");
    await run(
        "unshare",
        ["--mount", "--propagation", "private", "--", "chroot", target, "/bin/bash", "/tmp/standin-configure.sh", "download"],
        {
            timeoutMs: 20 * 60_000,
            env: chrootEnv({}),
        },
    );
    log("rootfs: install the updates and configure like a cloud image (no network)");
    await isolatedChroot(target, ["/bin/bash", "/tmp/standin-configure.sh", "finish"], {
        STANDIN_GATEWAY: STANDIN_NETWORK.gateway,
        STANDIN_APT_PROXY_PORT: String(STANDIN_NETWORK.aptProxyPort),
    });
    rmSync(join(target, "tmp", "standin-configure.sh"), { force: true });
}

function isolatedChroot(target: string, command: string[], env: Record<string, string> = {}) {
    return run("unshare", ["--net", "--mount", "--propagation", "private", "--", "chroot", target, ...command], {
        timeoutMs: 20 * 60_000,
        env: chrootEnv(env),
    });
}

function chrootEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    return {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LANG: "C.UTF-8",
        DEBIAN_FRONTEND: "noninteractive",
        ...extra,
    };
}

/** Half-built images of killed runs (their builder pid is gone) and images of old recipes are removed. */
function removeAbandonedBuilds(root: string): void {
    const current = `rootfs-${recipeHash()}`;
    for (const entry of readdirSync(root)) {
        const tmp = /^rootfs-[0-9a-f]+\.tmp-(\d+)$/.exec(entry);
        if (tmp && !isAlive(Number(tmp[1]))) {
            log(`removing abandoned rootfs build ${entry}`);
            rmSync(join(root, entry), { recursive: true, force: true });
        } else if (/^rootfs-[0-9a-f]{16}$/.test(entry) && entry !== current && olderThanDays(join(root, entry), 1)) {
            // Old recipes are kept a day so a branch switch does not rebuild immediately.
            log(`removing rootfs of an old recipe ${entry}`);
            rmSync(join(root, entry), { recursive: true, force: true });
        }
    }
}

function olderThanDays(path: string, days: number): boolean {
    return Date.now() - statSync(path).mtimeMs > days * 86_400_000;
}
