// What every provider module's preflight uses: results built one way, and its API called one way (JSON, the provider's
// bearer token in a header, a bounded wait, the base URL from the context so tests can put a local stand-in there).
import { JsonResponse, requestJson } from "../core/http";
import { PreflightCheck, PreflightContext } from "./types";

export const passed = (id: string, title: string, summary: string): PreflightCheck => ({ id, title, status: "pass", summary, fix: "" });

export const failed = (id: string, title: string, summary: string, fix: string): PreflightCheck => ({
    id,
    title,
    status: "fail",
    summary,
    fix,
});

export const skipped = (id: string, title: string, summary: string): PreflightCheck => ({ id, title, status: "skip", summary, fix: "" });

/** The provider's API with its token: `call("GET", "/servers")`. */
export function providerApi(ctx: PreflightContext): (method: "GET" | "POST", path: string, body?: unknown) => Promise<JsonResponse> {
    return (method, path, body) => requestJson(`${ctx.apiBase.replace(/\/+$/, "")}${path}`, { method, token: ctx.token, body });
}

/** Runs one check; a network failure becomes its failure (naming the host), never an exception. */
export async function guarded(id: string, title: string, fix: string, body: () => Promise<PreflightCheck>): Promise<PreflightCheck> {
    try {
        return await body();
    } catch (error) {
        return failed(id, title, (error as Error).message, fix);
    }
}
