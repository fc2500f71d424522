// A local stand-in for where alerts go: one HTTP server that answers like the Telegram Bot API (`/bot<token>/
// sendMessage`), an ntfy topic and an incoming webhook, and records every request (path, headers, body) so tests see
// exactly what the watchdog sent. Can be told to fail (HTTP 500) to prove that undelivered alerts are retried.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { netnsLauncher } from "./process";

export interface SinkRequest {
    method: string;
    path: string;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

export class NotificationSink {
    readonly requests: SinkRequest[] = [];
    /** Answer 500 to everything while true (a destination that is down). */
    failing = false;
    private readonly server: Server;
    port = 0;

    private constructor(readonly address: string) {
        this.server = createServer((req: IncomingMessage, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                this.requests.push({
                    method: req.method ?? "",
                    path: req.url ?? "",
                    headers: req.headers,
                    body: Buffer.concat(chunks).toString("utf8"),
                });
                if (this.failing) {
                    res.writeHead(500).end("stand-in failure");
                    return;
                }
                // The Bot API answers {ok, result}; ntfy and webhooks answer anything 2xx.
                res.writeHead(200, { "content-type": "application/json" }).end(
                    JSON.stringify({ ok: true, result: { message_id: this.requests.length } }),
                );
            });
        });
    }

    static async start(address = "127.0.0.1", port = 0): Promise<NotificationSink> {
        const sink = new NotificationSink(address);
        await new Promise<void>((resolve, reject) => {
            sink.server.once("error", reject);
            sink.server.listen(port, address, () => resolve());
        });
        sink.port = (sink.server.address() as AddressInfo).port;
        return sink;
    }

    /** The base URL the host reaches it at. */
    get url(): string {
        return `http://${this.address}:${this.port}`;
    }

    /** Requests whose path starts with `prefix`. */
    to(prefix: string): SinkRequest[] {
        return this.requests.filter((r) => r.path.startsWith(prefix));
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}

/** A sink running in another network namespace (a child process), recording to a JSON-lines file the caller reads. */
export interface RemoteSink {
    url: string;
    /** Every request so far, in order. */
    requests(): SinkRequest[];
    /** Make the sink answer 500 (a destination that is down) or 200 again. */
    setFailing(failing: boolean): void;
    stop(): void;
}

/**
 * Starts a sink inside the network namespace `netns` (e.g. a stand-in VPS's, on its gateway address 10.77.0.1, which
 * the container reaches), killed with this process. `dir` holds its record and its "fail" switch.
 */
export async function startSinkInNamespace(netns: string, address: string, port: number, dir: string): Promise<RemoteSink> {
    mkdirSync(dir, { recursive: true });
    const record = join(dir, "requests.jsonl");
    const failSwitch = join(dir, "fail");
    writeFileSync(record, "");
    const [launcher, ...prefix] = netnsLauncher(netns);
    const child = spawn(launcher, [...prefix, process.execPath, "--import", "tsx", __filename, address, String(port), record, failSwitch], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 120_000;
    while (!output.includes("listening")) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the notification sink did not start: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return {
        url: `http://${address}:${port}`,
        requests: () =>
            readFileSync(record, "utf8")
                .split("\n")
                .filter(Boolean)
                .map((line) => JSON.parse(line) as SinkRequest),
        setFailing: (failing) => (failing ? writeFileSync(failSwitch, "") : rmSync(failSwitch, { force: true })),
        stop: () => child.kill("SIGKILL"),
    };
}

// `node --import tsx standin/notification-sink.ts ADDRESS PORT RECORD FAIL_SWITCH`: the child side of startSinkInNamespace.
if (require.main === module) {
    const [address, port, record, failSwitch] = process.argv.slice(2);
    void NotificationSink.start(address, Number(port)).then((sink) => {
        const push = sink.requests.push.bind(sink.requests);
        sink.requests.push = (...items: SinkRequest[]) => {
            for (const item of items) appendFileSync(record, `${JSON.stringify(item)}\n`);
            sink.failing = existsSync(failSwitch);
            return push(...items);
        };
        console.log(`listening on ${sink.url}`);
    });
}
