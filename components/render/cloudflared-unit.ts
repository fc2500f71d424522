// The host's tunnel connector: the `cloudflared.service` system unit and its token file `/etc/cloudflared/tunnel.env`
// (host contract). The token reaches cloudflared only through `EnvironmentFile=` (TUNNEL_TOKEN), read by systemd as
// root; it is never on a command line (visible in `ps`), in the unit or in user data. Pure: no Pulumi imports.
import { HOST_DIRS, HOST_FILES, HOST_UNITS } from "../core/host-contract";
import { exposureBoundLines } from "./exposure";

export const CLOUDFLARED_UNIT_PATH = `${HOST_DIRS.systemUnits}/${HOST_UNITS.cloudflared}`;
export const TUNNEL_ENV_PATH = HOST_FILES.tunnelEnv;
/** Where Cloudflare's .deb installs the binary. */
export const CLOUDFLARED_BINARY = HOST_FILES.cloudflaredBinary;

export interface CloudflaredUnitInput {
    /** Transport to Cloudflare's edge: auto (QUIC, falling back to HTTP/2), http2 (TCP 443) or quic (UDP 7844). */
    protocol: TunnelProtocol;
    /** Default TUNNEL_ENV_PATH. */
    tokenEnvFile?: string;
    /** Default CLOUDFLARED_BINARY. */
    binary?: string;
}

/** How cloudflared reaches Cloudflare (config `tunnelProtocol`). */
export const TUNNEL_PROTOCOLS = ["auto", "http2", "quic"] as const;
export type TunnelProtocol = (typeof TUNNEL_PROTOCOLS)[number];
const PROTOCOLS: readonly string[] = TUNNEL_PROTOCOLS;

export function renderCloudflaredUnit(input: CloudflaredUnitInput): string {
    if (!PROTOCOLS.includes(input.protocol)) {
        throw new Error(`tunnel protocol must be one of ${PROTOCOLS.join(", ")} (got ${JSON.stringify(input.protocol)})`);
    }
    const envFile = input.tokenEnvFile ?? TUNNEL_ENV_PATH;
    const binary = input.binary ?? CLOUDFLARED_BINARY;
    return `# Rendered by openclaw-vps (components/render/cloudflared-unit.ts): the Cloudflare Tunnel connector.
# It dials out to Cloudflare; nothing listens for the internet on this host. The token comes from ${envFile}
# (TUNNEL_TOKEN, root-only 0600) and is never on the command line. Ingress rules live at Cloudflare (remotely managed).
[Unit]
Description=Cloudflare Tunnel connector for the OpenClaw gateway (openclaw-vps)
Documentation=https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/
After=network-online.target
Wants=network-online.target
${exposureBoundLines(3.0, "a network daemon with no need to write anything")}

[Service]
Type=notify
EnvironmentFile=${envFile}
ExecStart=${binary} --no-autoupdate tunnel --protocol ${input.protocol} run
Restart=on-failure
RestartSec=5s
# Ready = connected to Cloudflare; give up (and retry, Restart=on-failure) after 90 s instead of waiting forever.
TimeoutStartSec=90s
# Updates come from the package manager, not from cloudflared itself (--no-autoupdate above).
# Hardening: a throwaway unprivileged user with no access to homes, devices or the rest of the file system.
DynamicUser=yes
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

/** `/etc/cloudflared/tunnel.env`: the one place the tunnel token lives on the host (a secret file, 0600 root). */
export function renderTunnelEnv(token: string): string {
    // A tunnel token is base64 of JSON; anything else (a newline, a quote) could inject settings into the file.
    if (!/^[A-Za-z0-9+/=_-]{20,}$/.test(token)) {
        throw new Error("the tunnel token does not look like a Cloudflare tunnel token (base64); not writing it");
    }
    return `TUNNEL_TOKEN=${token}\n`;
}
