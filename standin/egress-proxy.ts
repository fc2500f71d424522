// The stand-in's one way out to the internet, off unless asked for: an HTTPS CONNECT proxy that tunnels only to an
// allowlist of host:port pairs (for `npm run try`, the LLM provider's API, e.g. api.anthropic.com:443) and refuses
// everything else. TLS stays end to end between the container and the provider: the proxy sees names, never content.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { log } from "./process";
import { STANDIN_NETWORK } from "./rootfs";

/** Where the container finds the proxy (the bridge address of its namespace; the forwarder listens there). */
export const STANDIN_EGRESS_PROXY = {
    host: STANDIN_NETWORK.gateway,
    port: 3128,
    url: `http://${STANDIN_NETWORK.gateway}:3128`,
} as const;

/** `host:port` in one spelling (lower-case host, explicit port), so the allowlist cannot be dodged by case. */
export function egressTarget(host: string, port: number | string): string {
    return `${host.trim().toLowerCase().replace(/\.$/, "")}:${Number(port)}`;
}

function parseTarget(authority: string | undefined): { host: string; port: number } | undefined {
    const match = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(authority ?? "");
    if (!match) return undefined;
    const port = Number(match[2]);
    return port > 0 && port < 65536 ? { host: match[1]!, port } : undefined;
}

function refuse(socket: Socket, status: string, why: string): void {
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}\n`);
}

/**
 * An HTTP server that answers CONNECT to an allowed `host:port` with a tunnel (200, then raw bytes both ways) and
 * anything else with 403; plain HTTP requests get 405 (the container has no plain-HTTP way out).
 */
export function createEgressProxy(allowlist: string[]): Server {
    const allowed = new Set(
        allowlist.map((entry) => {
            const target = parseTarget(entry);
            if (!target) throw new Error(`egress allowlist: ${JSON.stringify(entry)} is not host:port`);
            return egressTarget(target.host, target.port);
        }),
    );
    const server = createServer((_req, res) => {
        res.writeHead(405, { "content-type": "text/plain", connection: "close" });
        res.end(`the stand-in egress proxy only tunnels (CONNECT) to ${[...allowed].join(", ")}\n`);
    });
    server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
        client.on("error", () => client.destroy());
        const target = parseTarget(req.url);
        const name = target ? egressTarget(target.host, target.port) : String(req.url);
        if (!target || !allowed.has(name)) {
            log(`egress proxy: CONNECT ${name} refused (not in the allowlist)`);
            refuse(client, "403 Forbidden", `the stand-in has no internet; ${name} is not allowed`);
            return;
        }
        const upstream = connect({ host: target.host, port: target.port });
        let established = false;
        upstream.once("connect", () => {
            established = true;
            log(`egress proxy: CONNECT ${name} open`);
            client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            if (head.length > 0) upstream.write(head);
            upstream.pipe(client);
            client.pipe(upstream);
        });
        upstream.on("error", (error) => {
            if (!established) {
                log(`egress proxy: CONNECT ${name} failed: ${error.message}`);
                refuse(client, "502 Bad Gateway", `cannot reach ${name}: ${error.message}`);
            } else {
                client.destroy();
            }
        });
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
    });
    return server;
}
