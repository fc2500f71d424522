// Owns `~/.config/systemd/user/openclaw-gateway.service` of the service user: the foreground gateway under the user's
// systemd (lingering on), restarted always except on config errors (exit 78), secrets from ~/.openclaw/.env, the
// config read-only at runtime, memory limits and a Node heap sized from the server's RAM, and the hardening that a
// *user* manager can apply without user namespaces. Pure function of plain data.
import { HOST_UNITS } from "../core/host-contract";

export const GATEWAY_UNIT_NAME = HOST_UNITS.gateway;

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
        // Ten failed starts in five minutes means something is wrong that restarting will not fix.
        "StartLimitIntervalSec=300",
        "StartLimitBurst=10",
        "",
        "[Service]",
        "Type=simple",
        // Node named explicitly: no PATH lookup through `#!/usr/bin/env node`.
        `ExecStart=${nodeBin} ${openclawBin} gateway run`,
        // The state dir, not the workspace: OpenClaw also reads a .env from its working directory.
        "WorkingDirectory=%h/.openclaw",
        // Secrets (gateway token or password, LLM and embedding keys), 0600, pushed over SSH; no '-': missing is fatal.
        "EnvironmentFile=%h/.openclaw/.env",
        // No runtime writer (onboarding, doctor --fix, plugin installs) may edit the deployed config.
        "Environment=OPENCLAW_CONFIG_READONLY=1",
        `Environment=NODE_OPTIONS=--max-old-space-size=${budget.heapMb}`,
        "Environment=NO_COLOR=1",
        // No session bus for the gateway and what it starts: Chromium would otherwise ask the user manager over D-Bus for
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
        // Hardening a user manager can apply with plain prctl/seccomp (no user namespaces, which Ubuntu 24.04
        // restricts for unconfined processes): no privilege gain, private files, no exotic syscalls.
        // MemoryDenyWriteExecute is left out on purpose: V8's JIT needs writable+executable memory.
        "UMask=0077",
        "NoNewPrivileges=yes",
        "LockPersonality=yes",
        "RestrictRealtime=yes",
        // Not RestrictSUIDSGID: systemd enforces it with a seccomp filter that answers openat2() with ENOSYS, and
        // OpenClaw 2026.9.6 takes its state lock with openat2 (no fallback): the gateway would exit 78 at start.
        "SystemCallArchitectures=native",
        // Unix, IP and netlink sockets are all the gateway, its workers and a headless browser use.
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap",
        // ...except chroot(2), out of @mount: Chromium's sandbox chroots each renderer into an empty directory inside its
        // own user namespace. Without it the headless browser dies at start (or would need --no-sandbox). mount(2),
        // pivot_root(2) and the rest of @mount stay blocked.
        "SystemCallFilter=chroot",
        "SystemCallErrorNumber=EPERM",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ].join("\n");
    return { unit, budget, warnings };
}
