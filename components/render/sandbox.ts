// The systemd sandbox every root oneshot we render runs in (the backup, the watchdog): one list of directives, so each
// unit states only what it needs beyond it (writable paths, capabilities). Measured with `systemd-analyze security
// --offline=true` in test/tools/unit-security.test.ts (bound: exposure <= 3.0). Pure: no Pulumi imports.

export interface SandboxInput {
    /** Why it runs as root, said once in the unit (a comment). */
    why: string;
    /** The only places it may write (ProtectSystem=strict makes everything else read-only). Must exist at start. */
    readWritePaths?: readonly string[];
    /** The capability bounding set; everything else is dropped. Each one with its reason, written as a comment. */
    capabilities: Readonly<Record<string, string>>;
    /** Address families beyond AF_UNIX/AF_INET/AF_INET6 (each with its reason). */
    extraAddressFamilies?: Readonly<Record<string, string>>;
}

const CAPABILITY = /^CAP_[A-Z_]+$/;
const PATH = /^-?\/[A-Za-z0-9._/-]+$/;

/** The [Service] lines of the sandbox (no section header), comments included. */
export function renderSandbox(input: SandboxInput): string[] {
    for (const cap of Object.keys(input.capabilities)) if (!CAPABILITY.test(cap)) throw new Error(`sandbox: ${cap} is not a capability`);
    for (const p of input.readWritePaths ?? [])
        if (!PATH.test(p)) throw new Error(`sandbox: ${JSON.stringify(p)} is not a plain absolute path`);
    const families = { AF_UNIX: "", AF_INET: "", AF_INET6: "", ...input.extraAddressFamilies };
    return [
        `# Sandbox (components/render/sandbox.ts). Runs as root: ${input.why}`,
        ...Object.entries(input.capabilities).map(([cap, reason]) => `#   ${cap}: ${reason}`),
        ...Object.entries(input.extraAddressFamilies ?? {}).map(([family, reason]) => `#   ${family}: ${reason}`),
        `CapabilityBoundingSet=${Object.keys(input.capabilities).join(" ")}`,
        "AmbientCapabilities=",
        "NoNewPrivileges=yes",
        "UMask=0077",
        // The file system: read-only everywhere but the paths below and a private /tmp.
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        ...(input.readWritePaths?.length ? [`ReadWritePaths=${input.readWritePaths.join(" ")}`] : []),
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateMounts=yes",
        // The kernel and the rest of the system: not to be touched.
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "KeyringMode=private",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        // Not RestrictSUIDSGID: systemd enforces it with a seccomp filter that answers openat2() with ENOSYS, and both
        // run OpenClaw's CLI, which takes its state lock with openat2 (no fallback; see gateway-unit.ts). NoNewPrivileges
        // already keeps a setuid file from granting anything.
        "LockPersonality=yes",
        // Not MemoryDenyWriteExecute: both run Node (OpenClaw's CLI), whose JIT needs writable+executable memory.
        `RestrictAddressFamilies=${Object.keys(families).join(" ")}`,
        "SystemCallArchitectures=native",
        // @system-service keeps @setuid (runuser/setpriv to the agent user) and setrlimit (pam_limits in runuser).
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap",
        "SystemCallErrorNumber=EPERM",
    ];
}
