// Owns `/etc/systemd/system/openclaw-gateway.service`: the foreground gateway as a *system* unit running as the agent
// user (`User=`), restarted always except on config errors (exit 78), secrets from ~/.openclaw/.env, the config
// read-only at runtime, memory limits and a Node heap sized from the server's RAM, and systemd's full sandbox minus
// exactly what OpenClaw and its headless Chromium need (each exception says why). A system unit because a user
// manager cannot apply the namespace-based sandbox (README "Host hardening"). Pure function of plain data.
import { AGENT_HOME, AGENT_USER, HOST_DIRS, HOST_FILES, HOST_UNITS } from "../core/host-contract";
import { exposureBoundLines } from "./exposure";
import { KERNEL_PROTECTIONS } from "./sandbox";

export const GATEWAY_UNIT_NAME = HOST_UNITS.gateway;

/** systemd-analyze security's bound for the gateway: "OK", like every root unit we render (measured 2.3 offline). */
export const GATEWAY_EXPOSURE_BOUND = 3.0;

/** OpenClaw exits 78 (EX_CONFIG) on an invalid config: restarting cannot help, so systemd must not loop on it. */
export const CONFIG_ERROR_EXIT_STATUS = 78;

/** The gateway alone idles at about 1 GB RSS (measured: 977 MB with 2026.9.6); below this it cannot run at all. */
export const MINIMUM_GATEWAY_HOST_MB = 1536;

export interface GatewayUnitInput {
    /** RAM of the server type in MB (e.g. 2048 for DigitalOcean s-2vcpu-2gb, 4096 for Hetzner cx23). */
    serverMemoryMb: number;
    /** Swap on the host in MB (provision.sh sets it up); a 2 GB host needs it. */
    swapMb: number;
    /** Absolute path of the Node binary (default /usr/local/bin/node, linked by provision.sh). */
    nodeBin?: string;
    /** Absolute path of the `openclaw` entry script (default /usr/local/bin/openclaw, root-owned). */
    openclawBin?: string;
}

export interface MemoryBudget {
    /** V8 old-space limit, passed as NODE_OPTIONS=--max-old-space-size. */
    heapMb: number;
    /** Above this the kernel reclaims the unit's memory hard (pushing cold pages to swap) instead of killing. */
    memoryHighMb: number;
    /** Hard ceiling for the gateway and its children (headless browser, workers). */
    memoryMaxMb: number;
}

export interface RenderedGatewayUnit {
    unit: string;
    budget: MemoryBudget;
    warnings: string[];
}

const roundDown64 = (mb: number) => Math.floor(mb / 64) * 64;

/**
 * How the host's RAM is split: the OS, sshd, cloudflared and the backup job keep max(384 MB, 1/8 of RAM); the gateway
 * gets the rest as a hard ceiling, starts being squeezed at 85 % of it, and its JS heap may use half the RAM (never
 * above 4 GB, V8's useful range for one gateway) — the rest of its RSS is native memory, workers and the browser.
 */
export function gatewayMemoryBudget(serverMemoryMb: number): MemoryBudget {
    if (!Number.isFinite(serverMemoryMb) || serverMemoryMb < MINIMUM_GATEWAY_HOST_MB) {
        throw new Error(
            `gateway unit: serverMemoryMb is ${serverMemoryMb}; the gateway needs a host with at least ${MINIMUM_GATEWAY_HOST_MB} MB`,
        );
    }
    const reserve = Math.max(384, Math.round(serverMemoryMb / 8));
    const memoryMaxMb = roundDown64(serverMemoryMb - reserve);
    const memoryHighMb = roundDown64(memoryMaxMb * 0.85);
    const heapMb = Math.min(4096, roundDown64(serverMemoryMb / 2));
    return { heapMb, memoryHighMb, memoryMaxMb };
}

const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/+-]+$/;

export function renderGatewayUnit(input: GatewayUnitInput): RenderedGatewayUnit {
    const budget = gatewayMemoryBudget(input.serverMemoryMb);
    const nodeBin = input.nodeBin ?? "/usr/local/bin/node";
    const openclawBin = input.openclawBin ?? "/usr/local/bin/openclaw";
    for (const [field, value] of [
        ["nodeBin", nodeBin],
        ["openclawBin", openclawBin],
    ] as const) {
        if (!ABSOLUTE_PATH.test(value))
            throw new Error(`gateway unit: ${field} is ${JSON.stringify(value)}; expected an absolute path without spaces or %`);
    }
    if (!Number.isInteger(input.swapMb) || input.swapMb < 0)
        throw new Error(`gateway unit: swapMb is ${input.swapMb}; expected an integer >= 0`);
    const warnings: string[] = [];
    if (input.serverMemoryMb <= 2048 && input.swapMb < 1024) {
        warnings.push(
            `a ${input.serverMemoryMb} MB host with ${input.swapMb} MB of swap: the gateway (about 1 GB idle) and a headless browser ` +
                `will not fit; give it at least 1 GB of swap (swapMb)`,
        );
    }

    const unit = [
        "# Managed by openclaw-vps (components/render/gateway-unit.ts): changes here are overwritten on the next deploy.",
        "[Unit]",
        "Description=OpenClaw gateway (openclaw-vps)",
        "Documentation=https://docs.openclaw.ai/",
        "After=network-online.target",
        "Wants=network-online.target",
        // Ten failed starts in five minutes means something is wrong that restarting will not fix.
        "StartLimitIntervalSec=300",
        "StartLimitBurst=10",
        exposureBoundLines(
            GATEWAY_EXPOSURE_BOUND,
            "the agent runs shell tools and a browser; what stays open is what Chromium's own sandbox needs (user, pid " +
                "and net namespaces, chroot) and V8's JIT (no MemoryDenyWriteExecute)",
        ),
        "",
        "[Service]",
        "Type=simple",
        `User=${AGENT_USER}`,
        `Group=${AGENT_USER}`,
        // Node named explicitly: no PATH lookup through `#!/usr/bin/env node`.
        `ExecStart=${nodeBin} ${openclawBin} gateway run`,
        // The state dir, not the workspace: OpenClaw also reads a .env from its working directory.
        `WorkingDirectory=${HOST_DIRS.agentState}`,
        // Secrets (gateway token or password, LLM and embedding keys), 0600, pushed over SSH; no '-': missing is fatal.
        `EnvironmentFile=${HOST_FILES.agentEnv}`,
        // No runtime writer (onboarding, doctor --fix, plugin installs) may edit the deployed config.
        "Environment=OPENCLAW_CONFIG_READONLY=1",
        // This unit owns the gateway's lifecycle: `openclaw doctor` must not install a competing user service.
        "Environment=OPENCLAW_SERVICE_REPAIR_POLICY=external",
        `Environment=NODE_OPTIONS=--max-old-space-size=${budget.heapMb}`,
        "Environment=NO_COLOR=1",
        // No session bus for the gateway and what it starts: Chromium would otherwise ask a user manager over D-Bus for
        // a transient scope of its own (app-org.chromium.Chromium-<pid>.scope), moving its main process out of this
        // unit's cgroup and so out of MemoryHigh/MemoryMax (seen on the stand-in VPS). Nothing on a server needs the bus.
        "Environment=DBUS_SESSION_BUS_ADDRESS=disabled:",
        "Restart=always",
        "RestartSec=5",
        `RestartPreventExitStatus=${CONFIG_ERROR_EXIT_STATUS}`,
        // 143 = stopped by SIGTERM: a clean stop, not a failure.
        "SuccessExitStatus=0 143",
        // SIGTERM lets the gateway drain running turns (its budget is 315 s) before systemd kills what is left.
        "KillMode=mixed",
        "TimeoutStopSec=330",
        `MemoryHigh=${budget.memoryHighMb}M`,
        `MemoryMax=${budget.memoryMaxMb}M`,
        // A browser tab killed by the OOM killer must not take the gateway down with it.
        "OOMPolicy=continue",
        "TasksMax=2048",
        "LimitNOFILE=65536",
        // The sandbox. An unprivileged user with no capability at all, in a private view of the system:
        "CapabilityBoundingSet=",
        "AmbientCapabilities=",
        "NoNewPrivileges=yes",
        "UMask=0077",
        // Read-only everywhere but the agent's home (its state, workspace, OpenClaw's temp dir under ~/.cache); other
        // users' homes are hidden.
        "ProtectSystem=strict",
        "ProtectHome=tmpfs",
        `BindPaths=${AGENT_HOME}`,
        "PrivateTmp=yes",
        // Chromium needs only /dev/shm, /dev/null and /dev/urandom: all part of the private /dev.
        "PrivateDevices=yes",
        "PrivateMounts=yes",
        "PrivateIPC=yes",
        ...KERNEL_PROTECTIONS,
        // Other users' processes are invisible (the agent's own shell tools still see their own).
        "ProtectProc=invisible",
        "KeyringMode=private",
        // Chromium's sandbox puts each renderer in new user, pid and net namespaces; every other kind stays denied.
        "RestrictNamespaces=user pid net",
        "RestrictRealtime=yes",
        // Not RestrictSUIDSGID: systemd enforces it with a seccomp filter that answers openat2() with ENOSYS, and
        // OpenClaw 2026.9.6 takes its state lock with openat2 (no fallback): the gateway would exit 78 at start.
        "LockPersonality=yes",
        // MemoryDenyWriteExecute is left out on purpose: V8's JIT needs writable+executable memory.
        "SystemCallArchitectures=native",
        // Unix, IP and netlink sockets are all the gateway, its workers and a headless browser use.
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap",
        // ...except chroot(2), out of @mount: Chromium's sandbox chroots each renderer into an empty directory inside its
        // own user namespace. Without it the headless browser dies at start (or would need --no-sandbox). mount(2),
        // pivot_root(2) and the rest of @mount stay blocked.
        "SystemCallFilter=chroot",
        "SystemCallErrorNumber=EPERM",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
    return { unit, budget, warnings };
}
