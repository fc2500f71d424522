// The tunnel as Cloudflare's edge sees it (GET /accounts/{account}/cfd_tunnel/{id}): healthy, degraded, down or
// inactive, with its connections. Read-only; the API token is the deploy's (CLOUDFLARE_API_TOKEN). The base URL can
// be pointed at a local stand-in for the tests (CLOUDFLARE_API_BASE).
import { requestJson } from "../../components/core/http";
import { PUBLIC_ENDPOINTS } from "../../components/preflight";

export interface TunnelStatus {
    /** healthy | degraded | down | inactive (Cloudflare's words). */
    status: string;
    name: string;
    connections: { colo: string; openedAt?: string }[];
    /** When it last had a connection (down/inactive). */
    lastActiveAt?: string;
}

interface CloudflareTunnel {
    name?: string;
    status?: string;
    connections?: { colo_name?: string; opened_at?: string }[];
    conns_inactive_at?: string | null;
    conns_active_at?: string | null;
}

export async function tunnelStatus(opts: {
    accountId: string;
    tunnelId: string;
    token: string;
    base?: string;
    timeoutMs?: number;
}): Promise<TunnelStatus> {
    const url = `${(opts.base ?? PUBLIC_ENDPOINTS.cloudflare).replace(/\/$/, "")}/accounts/${opts.accountId}/cfd_tunnel/${opts.tunnelId}`;
    const response = await requestJson(url, { token: opts.token, timeoutMs: opts.timeoutMs });
    const body = (response.body ?? {}) as { success?: boolean; result?: CloudflareTunnel; errors?: { message?: string }[] };
    if (response.status >= 400 || body.success === false || !body.result) {
        const why = body.errors?.map((e) => e.message).join("; ") || `HTTP ${response.status}`;
        throw new Error(`Cloudflare answered ${why} for tunnel ${opts.tunnelId}`);
    }
    const t = body.result;
    return {
        status: t.status ?? "unknown",
        name: t.name ?? opts.tunnelId,
        connections: (t.connections ?? []).map((c) => ({ colo: c.colo_name ?? "?", openedAt: c.opened_at })),
        lastActiveAt: t.conns_inactive_at ?? undefined,
    };
}
