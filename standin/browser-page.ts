// A web page for the agent's browser tool on the stand-in VPS, and what to look at while the browser runs. The page
// is served from this process on the instance's bridge (`StandInVps.serveOnBridge`, reached by the container at
// STANDIN_NETWORK.gateway), records every request (peer address and User-Agent, so a test can tell Chromium from a
// plain fetch) and carries a title the caller chooses (a sentinel that can only reach the LLM through the browser).
// The browser's private-network exception for it is rendered by the deploy for the stand-in only
// (DeployBundleOptions.browserPrivateHostnames -> browser.ssrfPolicy.allowedHostnames); production renders none.
import { createServer, type Server } from "node:http";
import type { StandInVps } from "./vps";
import { Waiters } from "./waiters";

/** One request the page server answered. */
export interface PageHit {
    at: number;
    path: string;
    remoteAddress: string;
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
                remoteAddress: req.socket.remoteAddress ?? "",
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
