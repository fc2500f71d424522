// What the stand-in needs on this machine (Linux, root, and the tools below) and how to say what is missing: every
// gap at once, each tool with the Debian package that provides it, and the one command that installs them all.
// Checked before anything is created, so a machine that cannot run the stand-in is left untouched.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

/** Binary -> the Debian/Ubuntu package that provides it. */
export type ToolPackages = Record<string, string>;

/** Everything a stand-in VPS uses: the image build, the instance, the mirrors, the admin key and SSH. */
export const STANDIN_TOOLS: ToolPackages = {
    "systemd-nspawn": "systemd-container",
    debootstrap: "debootstrap",
    nsenter: "util-linux",
    setpriv: "util-linux",
    unshare: "util-linux",
    mount: "mount",
    umount: "mount",
    chroot: "coreutils",
    ip: "iproute2",
    gpg: "gnupg",
    gpgconf: "gnupg",
    "dpkg-deb": "dpkg",
    xz: "xz-utils",
    tar: "tar",
    "ssh-keygen": "openssh-client",
    ssh: "openssh-client",
};

export interface PrerequisiteCheck {
    missingTools: { binary: string; aptPackage: string }[];
    /** Namespaces, mounts and nspawn need root. */
    needsRoot: boolean;
    /** The stand-in is Linux containers: nothing else can run it. */
    notLinux: boolean;
}

export interface CheckOptions {
    /** Where to look for the tools (default: this process's PATH). */
    path?: string;
    /** Whose rights count (default: this process's uid). */
    uid?: number;
    /** Check root too (default true). */
    root?: boolean;
}

/** A tool is there when an executable file of that name is on `path` (what `command -v` finds, without a shell). */
export function findTool(binary: string, path = process.env.PATH ?? ""): string | undefined {
    for (const dir of path.split(":").filter(Boolean)) {
        const candidate = join(dir, binary);
        try {
            accessSync(candidate, constants.X_OK);
            return candidate;
        } catch {
            // not in this directory
        }
    }
    return undefined;
}

export function checkPrerequisites(tools: ToolPackages = STANDIN_TOOLS, options: CheckOptions = {}): PrerequisiteCheck {
    const missingTools = Object.entries(tools)
        .filter(([binary]) => findTool(binary, options.path) === undefined)
        .map(([binary, aptPackage]) => ({ binary, aptPackage }));
    const uid = options.uid ?? process.getuid?.() ?? -1;
    return { missingTools, needsRoot: options.root !== false && uid !== 0, notLinux: process.platform !== "linux" };
}

/** What is missing and how to get it, for a person; undefined when nothing is. `what` names who needs it. */
export function describeMissing(check: PrerequisiteCheck, what: string, rerun?: string): string | undefined {
    if (!check.notLinux && !check.needsRoot && check.missingTools.length === 0) return undefined;
    const lines = [`${what} needs what this machine lacks:`];
    if (check.notLinux) lines.push(`  - Linux (systemd-nspawn containers and network namespaces); this is ${process.platform}`);
    for (const { binary, aptPackage } of check.missingTools) lines.push(`  - ${binary} (Debian/Ubuntu package ${aptPackage})`);
    if (check.needsRoot) lines.push("  - root (it creates network namespaces, mounts and containers)");
    if (check.missingTools.length > 0) {
        const packages = [...new Set(check.missingTools.map((tool) => tool.aptPackage))].sort();
        lines.push("Install the tools with:", `  sudo apt-get install ${packages.join(" ")}`);
    }
    if (check.needsRoot && rerun) {
        // sudo resets PATH: the Node 24 this project needs may only be on the caller's.
        lines.push("Run it as root, keeping your PATH (for Node 24):", `  sudo env "PATH=$PATH" ${rerun}`);
    } else if (check.needsRoot) {
        lines.push("Run it as root.");
    }
    return lines.join("\n");
}

/**
 * Throws with `describeMissing`'s message when a tool (or root, unless `root: false`) is missing: a test fails (never
 * skips) with a message CI can act on.
 */
export function requireTools(tools: ToolPackages, options: CheckOptions & { what?: string; rerun?: string } = {}): void {
    const message = describeMissing(checkPrerequisites(tools, options), options.what ?? "the stand-in VPS", options.rerun);
    if (message) throw new Error(message);
}
