// The stand-in VPS's port forwarder, run INSIDE an instance's network namespace (`nsenter --net=/run/netns/NS node
// standin/forwarder.ts CONFIG_JSON`). It joins the namespace and its owning process through unix sockets (files, so
// reachable from both): TCP at the bridge address -> the owner's mirrors and proxy; sockets -> the container's ports.
// Plain Node with erasable types only, so Node runs it without a loader.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";

export interface ForwarderConfig {
    tcpToUnix: { host: string; port: number; socket: string }[];
    unixToTcp: { socket: string; host: string; port: number }[];
}

function pipeBoth(client: Socket, upstream: Socket): void {
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
        client.destroy();
        upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
}

function listen(server: Server, target: { port: number; host: string } | { path: string }): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(target, () => resolve());
    });
}

async function main(): Promise<void> {
    const config = JSON.parse(process.argv[2] ?? "") as ForwarderConfig;
    const listening: Promise<void>[] = [];
    for (const rule of config.tcpToUnix) {
        const server = createServer((client) => pipeBoth(client, createConnection({ path: rule.socket })));
        listening.push(listen(server, { host: rule.host, port: rule.port }));
    }
    for (const rule of config.unixToTcp) {
        rmSync(rule.socket, { force: true });
        const server = createServer((client) => pipeBoth(client, createConnection({ host: rule.host, port: rule.port })));
        listening.push(listen(server, { path: rule.socket }));
    }
    await Promise.all(listening);
    // The parent waits for this line before it lets the container use the forwards.
    process.stdout.write("ready\n");
}

// Whoever started us owns us: when the parent goes, so do we (stdin closes with it).
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
main().catch((error: unknown) => {
    process.stderr.write(`forwarder: ${(error as Error).message}\n`);
    process.exit(1);
});
