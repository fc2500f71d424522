// The outside check of `npm run verify`: from the operator's machine, the public hostname without Access credentials
// must get Cloudflare Access (a redirect to <team>.cloudflareaccess.com, or a 401/403 that Cloudflare itself sent),
// never an answer from the gateway. The URL is injectable so tests can stand a local server in for the edge.
import { CheckResult, checkResult } from "./checks";

export interface EdgeCheckInput {
    /** What to request, e.g. https://agent.example.com/ (or a stand-in for the edge). */
    url: string;
    /** Zero Trust team name: the login must be at <team>.cloudflareaccess.com. Undefined accepts any team domain. */
    teamName?: string;
    timeoutMs?: number;
    /** Injectable for tests; default the global fetch. */
    fetchImpl?: typeof fetch;
}

/** Requests the hostname once, without following redirects, and judges who answered. */
export async function checkEdge(input: EdgeCheckInput): Promise<CheckResult> {
    const doFetch = input.fetchImpl ?? fetch;
    let response: Response;
    try {
        response = await doFetch(input.url, {
            method: "GET",
            redirect: "manual",
            headers: { "user-agent": "openclaw-vps-verify", accept: "text/html" },
            signal: AbortSignal.timeout(input.timeoutMs ?? 15_000),
        });
    } catch (error) {
        const cause = (error as { cause?: { message?: string } }).cause?.message;
        return checkResult("edge-access", "fail", "critical", `${input.url} is unreachable: ${cause ?? (error as Error).message}`);
    }
    // Only the status line and headers matter; drop the body.
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    const fromCloudflare = /cloudflare/i.test(response.headers.get("server") ?? "") || response.headers.has("cf-ray");

    if (status >= 300 && status < 400) {
        const location = response.headers.get("location") ?? "";
        let target: URL;
        try {
            target = new URL(location, input.url);
        } catch {
            return checkResult(
                "edge-access",
                "fail",
                "critical",
                `${input.url} redirects to an unreadable location ${JSON.stringify(location)}`,
            );
        }
        const expectedTeamHost = input.teamName ? `${input.teamName}.cloudflareaccess.com` : undefined;
        if (target.hostname.endsWith(".cloudflareaccess.com")) {
            if (expectedTeamHost && target.hostname !== expectedTeamHost) {
                return checkResult(
                    "edge-access",
                    "fail",
                    "warning",
                    `${input.url} redirects to ${target.hostname}, not ${expectedTeamHost} (another Zero Trust team?)`,
                );
            }
            return checkResult("edge-access", "pass", "critical", `HTTP ${status} to the Access login at ${target.hostname}`);
        }
        if (target.pathname.startsWith("/cdn-cgi/access/")) {
            return checkResult("edge-access", "pass", "critical", `HTTP ${status} to Cloudflare Access (${target.pathname})`);
        }
        return checkResult(
            "edge-access",
            "fail",
            "critical",
            `${input.url} redirects to ${target.origin}${target.pathname}, not to Cloudflare Access`,
        );
    }
    if ((status === 401 || status === 403) && fromCloudflare) {
        return checkResult("edge-access", "pass", "critical", `HTTP ${status} from Cloudflare without Access credentials`);
    }
    return checkResult(
        "edge-access",
        "fail",
        "critical",
        `${input.url} answered HTTP ${status}${fromCloudflare ? " through Cloudflare" : ""} without Access credentials: not the Access login${status < 300 ? " (the gateway may be public)" : ""}`,
    );
}
