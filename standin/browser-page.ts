// A web page for the agent's browser tool on the stand-in VPS, and what to look at while the browser runs. The page
// is served from this process on the instance's bridge (`StandInVps.serveOnBridge`, reached by the container at
// STANDIN_NETWORK.gateway), records every request (its User-Agent, so a test can tell Chromium from a plain fetch;
// the bridge forwards over a Unix socket, so there is no peer address) and carries a title the caller chooses (a
// sentinel that can only reach the LLM through the browser).
// The browser's private-network exception for it is rendered by the deploy for the stand-in only
// (DeployBundleOptions.browserPrivateHostnames -> browser.ssrfPolicy.allowedHostnames); production renders none.
import { createServer, type Server } from "node:http";
import { callTool, currentTurn, type LlmReply, type LlmRequest } from "./llm";
import type { StandInVps } from "./vps";
import { Waiters } from "./waiters";

/** One request the page server answered. */
export interface PageHit {
    at: number;
    path: string;
    userAgent: string;
}

export class TitlePage {
    readonly hits: PageHit[] = [];
    private waiters = new Waiters<PageHit>();

    constructor(readonly title: string) {
        if (!/^[A-Za-z0-9 ._-]+$/.test(title)) throw new Error(`page title ${JSON.stringify(title)}: letters, digits, space . _ - only`);
    }

    /** A server answering `/` with the page (and 404 elsewhere, favicon included); serve it with serveOnBridge. */
    newServer(): Server {
        return createServer((req, res) => {
            const hit: PageHit = {
                at: Date.now(),
                path: req.url ?? "/",
                userAgent: String(req.headers["user-agent"] ?? ""),
            };
            this.hits.push(hit);
            this.waiters.settle(hit);
            if (hit.path !== "/") {
                res.writeHead(404, { "content-type": "text/plain" });
                res.end("not found\n");
                return;
            }
            const body = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${this.title}</title></head><body><h1>${this.title}</h1><p>The stand-in's test page.</p></body></html>\n`;
            res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) });
            res.end(body);
        });
    }

    /** Resolves with the first request of `/` (already answered or still to come). */
    waitForLoad(timeoutMs = 600_000): Promise<PageHit> {
        return this.waiters.waitFor(
            this.hits,
            (h) => h.path === "/",
            timeoutMs,
            () => `the page was not requested within ${timeoutMs / 1000} s (${this.hits.length} other request(s))`,
        );
    }
}

/**
 * How long the scripted browser calls may take (the tool's own `timeoutMs` argument). OpenClaw's default for `open`
 * is 15 s, and the first call on a gateway starts the browser control service and Chromium itself: 24 s measured on
 * the stand-in at load 5 on 2 cores. A hang guard that holds at a 10x slowdown, not a speed.
 */
export const BROWSER_CALL_TIMEOUT_MS = 600_000;

/**
 * How many times the scripted model opens the page when `open` fails without opening a tab. OpenClaw gives Chromium a
 * fixed 8 s after launch for its DevTools endpoint to answer (not configurable in 2026.9.6: `localCdpReadyTimeoutMs`
 * is a retired key); on a loaded 2-core machine the first launch can miss it ("not reachable after start", seen at
 * load 8-20), and OpenClaw's error tells the model to retry the browser tool once. A count, not a clock.
 */
export const BROWSER_OPEN_ATTEMPTS = 3;

const targetIdOf = (result: string) => /"targetId"\s*:\s*"([^"]+)"/.exec(result)?.[1];

/**
 * The model's side of a browser turn (for an LlmScript, on the requests of the turn that asks for the page), one call
 * per request: first `open` of each `blockedUrls` entry (the test expects OpenClaw's SSRF policy to refuse them), then
 * `open` of the page (again while it opens no tab, up to BROWSER_OPEN_ATTEMPTS); if the title is not in open's answer
 * (the load may still run), a snapshot of the opened tab; then the answer `${reply} ${title}` once the title came back
 * in a tool result, `${reply} (not found)` if it never did.
 */
export function browseTurn(
    request: LlmRequest,
    page: { url: string; title: string; blockedUrls?: readonly string[] },
    reply: string,
): LlmReply {
    const turn = currentTurn(request);
    const results = turn.toolResults;
    if (results.some((r) => r.includes(page.title))) return { text: `${reply} ${page.title}` };
    const blocked = page.blockedUrls ?? [];
    const timeoutMs = BROWSER_CALL_TIMEOUT_MS;
    const open = (url: string): LlmReply => ({ toolCalls: [callTool(request, "browser", { action: "open", url, timeoutMs })] });
    if (results.length < blocked.length) return open(blocked[results.length]!);
    const pageResults = results.slice(blocked.length);
    const opened = pageResults.findIndex((r) => targetIdOf(r) !== undefined);
    if (opened === -1) return pageResults.length < BROWSER_OPEN_ATTEMPTS ? open(page.url) : { text: `${reply} (not found)` };
    if (pageResults.length === opened + 1) {
        return { toolCalls: [callTool(request, "browser", { action: "snapshot", timeoutMs, targetId: targetIdOf(pageResults[opened]!) })] };
    }
    return { text: `${reply} (not found)` };
}

/** How many times a browser turn's requests show the page opened (blocked calls not counted). */
export function openAttempts(requests: readonly LlmRequest[], blockedCalls = 0): number {
    const last = requests.at(-1);
    if (!last) return 0;
    const pageResults = currentTurn(last).toolResults.slice(blockedCalls);
    const opened = pageResults.findIndex((r) => targetIdOf(r) !== undefined);
    return opened === -1 ? pageResults.length : opened + 1;
}

/**
 * Of a browser turn's requests (oldest first): seconds from the request answered with the page's `open` (the call
 * goes out with that answer; `callsBefore` = how many blocked calls came first) to the first request carrying a tool
 * result with the title; undefined if it never came.
 */
export function secondsToTitle(requests: readonly LlmRequest[], title: string, callsBefore = 0): number | undefined {
    const call = requests.find((r) => currentTurn(r).toolResults.length === callsBefore);
    const back = requests.find((r) => currentTurn(r).toolResults.some((result) => result.includes(title)));
    return call && back ? (back.at - call.at) / 1000 : undefined;
}

/** A process of the browser as seen inside the container. */
export interface BrowserProcess {
    pid: number;
    user: string;
    /** /proc/PID/cgroup (one line on cgroup v2). */
    cgroup: string;
    /** Proportional set size from /proc/PID/smaps_rollup, in KiB (0 when it vanished meanwhile). */
    pssKb: number;
    rssKb: number;
    /** The command line, arguments joined by spaces. */
    cmdline: string;
}

/**
 * Every process whose executable (or argv[0]: a sandboxed renderer's /proc/PID/exe may not resolve) is the browser
 * binary. Debian's /usr/bin/chromium is a wrapper script that execs /usr/lib/chromium/chromium; the renderers, GPU
 * and utility processes are the same binary.
 */
export async function browserProcesses(vps: StandInVps, binary = "/usr/lib/chromium/chromium"): Promise<BrowserProcess[]> {
    const script = [
        `for p in /proc/[0-9]*; do`,
        `  exe=$(readlink "$p/exe" 2>/dev/null) || exe=""`,
        `  arg0=$(tr '\\0' '\\n' <"$p/cmdline" 2>/dev/null | head -n1 | cut -d' ' -f1) || arg0=""`,
        `  [ "$exe" = ${binary} ] || [ "$arg0" = ${binary} ] || continue`,
        `  pid=\${p#/proc/}`,
        `  user=$(stat -c %U "$p" 2>/dev/null) || continue`,
        `  cg=$(tr '\\n' ' ' <"$p/cgroup" 2>/dev/null) || continue`,
        `  pss=$(awk '/^Pss:/ {print $2}' "$p/smaps_rollup" 2>/dev/null)`,
        `  rss=$(awk '/^Rss:/ {print $2}' "$p/smaps_rollup" 2>/dev/null)`,
        `  cmd=$(tr '\\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-400)`,
        `  printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$pid" "$user" "$cg" "\${pss:-0}" "\${rss:-0}" "$cmd"`,
        `done`,
    ].join("\n");
    const out = await vps.exec(script, { allowFailure: true });
    return out.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => {
            const [pid, user, cgroup, pss, rss, cmdline] = line.split("\t");
            return {
                pid: Number(pid),
                user: user ?? "",
                cgroup: (cgroup ?? "").trim(),
                pssKb: Number(pss) || 0,
                rssKb: Number(rss) || 0,
                cmdline: (cmdline ?? "").trim(),
            };
        });
}
