// A local stand-in for where alerts go: one HTTP server that answers like the Telegram Bot API (`/bot<token>/
// sendMessage`), an ntfy topic and an incoming webhook, and records every request (path, headers, body) so tests see
// exactly what the watchdog sent. Can be told to fail (HTTP 500) to prove that undelivered alerts are retried.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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
