// JSON over HTTP for the read-only account checks (`npm run preflight`): one request, a bounded wait, the status and the
// parsed body back, never a throw for an HTTP status (the caller judges it), a clear error for a network failure. The
// bearer token goes in a header only, never in a URL, a message or an error. No imports of ours.

export interface JsonResponse {
    status: number;
    /** The parsed JSON body, or undefined when the body is not JSON. */
    body: unknown;
}

export interface JsonRequest {
    method?: "GET" | "POST";
    token?: string;
    /** Sent as JSON (POST only). */
    body?: unknown;
    /** Default 20 s: an API that does not answer is reported, not waited for. */
    timeoutMs?: number;
}

/** Fetches `url`; throws only when nothing answered (naming the host, never the token). */
export async function requestJson(url: string, request: JsonRequest = {}): Promise<JsonResponse> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    if (request.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
        response = await fetch(url, {
            method: request.method ?? "GET",
            headers,
            body: request.body === undefined ? undefined : JSON.stringify(request.body),
            redirect: "error",
            signal: AbortSignal.timeout(request.timeoutMs ?? 20_000),
        });
    } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`no answer from ${new URL(url).host}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, {
            cause: error,
        });
    }
    const text = await response.text();
    let body: unknown;
    try {
        body = text ? JSON.parse(text) : undefined;
    } catch {
        body = undefined;
    }
    return { status: response.status, body };
}
