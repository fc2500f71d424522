// The systemd sandbox every root oneshot we render runs in (the backup, the watchdog): one list of directives, so each
// unit states only what it needs beyond it (writable paths, capabilities). Rated by `systemd-analyze security` in
// test/tools/unit-security.test.ts and on the deployed stand-in (test/vps/deploy.test.ts), where both units run
// OpenClaw's CLI inside it. Pure: no Pulumi imports.
import { HOST_DIRS } from "../core/host-contract";

export interface SandboxInput {
    /** Why it runs as root, said once in the unit (a comment). */
    why: string;
    /** Where it may write besides its private /tmp (ProtectSystem=strict makes everything else read-only). */
    readWritePaths?: readonly string[];
    /** The capability bounding set; everything else is dropped. Each one with its reason, written as a comment. */
    capabilities: Readonly<Record<string, string>>;
    /** Address families beyond AF_UNIX/AF_INET/AF_INET6 (each with its reason). */
    extraAddressFamilies?: Readonly<Record<string, string>>;
    /** Why the unit must see the host's own /tmp and /dev (a scanner looking for planted files there); absent: private
     *  ones. Device nodes stay closed (DevicePolicy=closed) either way. */
    hostTmpAndDevices?: string;
    /** No JIT in the unit (no Node): MemoryDenyWriteExecute. */
    noJit?: boolean;
    /** "none": no network at all (PrivateNetwork, local sockets only); "no-ip": the host's interfaces are visible
     *  but no IP packet goes anywhere (IPAddressDeny=any). Absent: the network as the unit needs it. */
    network?: "none" | "no-ip";
}

const CAPABILITY = /^CAP_[A-Z_]+$/;
const PATH = /^-?\/[A-Za-z0-9._/-]+$/;

/**
 * OpenClaw's CLI, run as the agent user inside the sandbox, keeps its temp files in the agent's cache directory
 * (~/.cache/openclaw-<uid>: its secure-temp fallback, checked for owner and mode): without it writable the CLI stops
 * with "Unsafe fallback OpenClaw temp dir" (seen on the stand-in). The push creates it (host-bundle.ts).
 */
export const OPENCLAW_CLI_WRITABLE = HOST_DIRS.agentCache;

/** The kernel and the rest of the system: not to be touched. Every sandbox we render has these (the gateway's too). */
export const KERNEL_PROTECTIONS: readonly string[] = [
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
];

/** The CPU weight of background units: a fifth of the gateway's (systemd's default weight, 100) when both want the CPU. */
export const BACKGROUND_CPU_WEIGHT = 20;

/**
 * The [Service] lines that make a background oneshot (backup, watchdog, integrity check, rootkit scan) yield to the
 * gateway. On cgroup v2 (Ubuntu 24.04) every service is a CPU group of its own and the kernel shares the CPU between
 * groups by weight, so CPUWeight= is what yields; Nice= only orders the unit's own processes among themselves. The
 * idle I/O class yields the disk where the I/O scheduler honours it (BFQ); elsewhere it is harmless.
 */
export function backgroundPriority(nice: number): string[] {
    if (!Number.isInteger(nice) || nice < 1 || nice > 19)
        throw new Error(`backgroundPriority: nice ${nice} is not an integer from 1 to 19`);
    return [
        "# Background work: the gateway keeps the CPU and the disk (CPUWeight= between services, Nice= within this one).",
        `CPUWeight=${BACKGROUND_CPU_WEIGHT}`,
        `Nice=${nice}`,
        "IOSchedulingClass=idle",
    ];
}

/** The [Service] lines of the sandbox (no section header), comments included. */
export function renderSandbox(input: SandboxInput): string[] {
    for (const cap of Object.keys(input.capabilities)) if (!CAPABILITY.test(cap)) throw new Error(`sandbox: ${cap} is not a capability`);
    for (const p of input.readWritePaths ?? [])
        if (!PATH.test(p)) throw new Error(`sandbox: ${JSON.stringify(p)} is not a plain absolute path`);
    const families = input.network === "none" ? { AF_UNIX: "" } : { AF_UNIX: "", AF_INET: "", AF_INET6: "", ...input.extraAddressFamilies };
    return [
        `# Sandbox (components/render/sandbox.ts). Runs as root: ${input.why}`,
        ...Object.entries(input.capabilities).map(([cap, reason]) => `#   ${cap}: ${reason}`),
        ...Object.entries(input.extraAddressFamilies ?? {}).map(([family, reason]) => `#   ${family}: ${reason}`),
        ...(input.hostTmpAndDevices ? [`#   the host's /tmp and /dev: ${input.hostTmpAndDevices}`] : []),
        `CapabilityBoundingSet=${Object.keys(input.capabilities).join(" ")}`,
        "AmbientCapabilities=",
        "NoNewPrivileges=yes",
        "UMask=0077",
        // The file system: read-only everywhere but the paths below and a private /tmp.
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        ...(input.readWritePaths?.length ? [`ReadWritePaths=${input.readWritePaths.join(" ")}`] : []),
        ...(input.hostTmpAndDevices
            ? ["PrivateTmp=no", "PrivateDevices=no", "DevicePolicy=closed"]
            : ["PrivateTmp=yes", "PrivateDevices=yes"]),
        "PrivateMounts=yes",
        // The kernel and the rest of the system: not to be touched.
        ...KERNEL_PROTECTIONS,
        "KeyringMode=private",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        // Unlike the gateway (gateway-unit.ts), neither takes OpenClaw's state write lock (openat2, which this filter
        // answers with ENOSYS): the backup reads through OpenClaw's backup command, the watchdog runs read-only checks.
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        // Not MemoryDenyWriteExecute for the units that run Node (OpenClaw's CLI), whose JIT needs writable+executable memory.
        ...(input.noJit ? ["MemoryDenyWriteExecute=yes"] : []),
        `RestrictAddressFamilies=${Object.keys(families).join(" ")}`,
        ...(input.network === "none" ? ["PrivateNetwork=yes"] : []),
        ...(input.network ? ["IPAddressDeny=any"] : []),
        "SystemCallArchitectures=native",
        // @system-service keeps @setuid (runuser/setpriv to the agent user) and setrlimit (pam_limits in runuser).
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap",
        "SystemCallErrorNumber=EPERM",
    ];
}
