// Test utilities of `npm run verify`: sentinel secrets shaped like production's, the real host bundle pushed onto a
// stand-in VPS the way `pulumi up` does (real gateway, stand-in cloudflared, backup timer), a metadata service
// stand-in inside the container, an HTTP stand-in for Cloudflare's edge, and the verify CLI run as a user runs it.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { RemoteHost } from "../../components/remote";
import { buildHostBundle, HostBundle } from "../../components/render/host-bundle";
import { renderGatewayUnit } from "../../components/render/gateway-unit";
import { readProjectRelease } from "../../components/render/openclaw-release";
import { workspaceFiles } from "../../components/render/workspace";
import { installRecordingCloudflared } from "../../standin/deploy";
import type { StandInVps } from "../../standin/vps";
import { sampleHostInput } from "./push";
import { EXAMPLE_BACKUP_RECIPIENT } from "../../scripts/lib/setup";

/** Secrets as long and random-looking as production's (48-character gateway token, base64 tunnel token). */
export const VERIFY_SENTINELS = {
    gatewayToken: "VERIFYsentinelGatewayToken7c41d09e5b2a8f36e1d4c7",
    llmApiKey: "sk-ant-VERIFY-sentinel-llm-key-3f9a1c7e5b",
    tunnelToken: Buffer.from('{"a":"VERIFYsentinelAccount","t":"VERIFYsentinelTunnel","s":"VERIFYsentinelSecret"}').toString("base64"),
    r2Secret: "VERIFYsentinelR2secret9e8d7c6b5a4f3e2d1c0b",
};

export const STANDIN_METADATA_PORT = 8169;
export const STANDIN_TEAM = "standin-team";
export const STANDIN_HOSTNAME = "agent.example.com";

/** The real bundle of a production host with the sentinels: token auth, keyword-only memory, no restore, and the
 *  project's pinned OpenClaw release on Node 24 (the push installs both: the user data no longer does). */
export function standInBundle(): HostBundle {
    const base = sampleHostInput();
    return buildHostBundle(
        sampleHostInput({
            openclaw: { ...base.openclaw, hostname: STANDIN_HOSTNAME, memorySearch: { provider: "none", hasEmbeddingKey: false } },
            secrets: { gatewayToken: VERIFY_SENTINELS.gatewayToken, llmApiKey: VERIFY_SENTINELS.llmApiKey },
            tunnel: { protocol: "auto", token: VERIFY_SENTINELS.tunnelToken },
            backup: {
                rclone: {
                    accountId: "0123456789abcdef0123456789abcdef",
                    accessKeyId: "verify-access-key-id-0a1b2c",
                    secretAccessKey: VERIFY_SENTINELS.r2Secret,
                },
                env: { bucketName: "openclaw-memory", restoreFrom: "none", recipient: EXAMPLE_BACKUP_RECIPIENT },
                units: { schedule: "hourly" },
            },
            workspace: workspaceFiles(),
            gatewayUnit: renderGatewayUnit({ serverMemoryMb: 4096, swapMb: 2048 }).unit,
            readyTimeoutSeconds: 240,
            release: { release: readProjectRelease(), nodeMajor: 24 },
        }),
    );
}

/** Pushes the bundle as `pulumi up` does (script on stdin, `sudo -n bash -s`); throws with the applier's output. */
export async function pushStandIn(vps: StandInVps, privateKey: string): Promise<string> {
    // cloudflared.service is Type=notify: the package stand-in never reports READY, this one does (and records).
    await installRecordingCloudflared(vps);
    const host = await RemoteHost.connect({ host: vps.ssh.host, port: vps.ssh.port, username: "ops", privateKey, hostKey: "accept-any" });
    try {
        const result = await host.pushBundle(standInBundle());
        if (result.code !== 0 || !result.summary) throw new Error(`push failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
        return result.stdout;
    } finally {
        host.dispose();
    }
}

/**
 * A metadata service stand-in inside the container, on loopback (a real one is off-host at 169.254.169.254):
 * serves `userData` at the Hetzner path. Returns the base URL to pass as --metadata-base.
 */
export async function serveMetadata(vps: StandInVps, userData: string): Promise<string> {
    await vps.exec(
        "systemctl stop standin-metadata 2>/dev/null; mkdir -p /srv/metadata/hetzner/v1 && cat >/srv/metadata/hetzner/v1/userdata",
        { input: userData },
    );
    await vps.exec(
        `systemctl is-active --quiet standin-metadata || systemd-run --unit=standin-metadata python3 -m http.server --bind 127.0.0.1 --directory /srv/metadata ${STANDIN_METADATA_PORT}`,
    );
    await vps.exec(
        `curl -fsS --retry 30 --retry-delay 1 --retry-connrefused -o /dev/null http://127.0.0.1:${STANDIN_METADATA_PORT}/hetzner/v1/userdata`,
    );
    return `http://127.0.0.1:${STANDIN_METADATA_PORT}`;
}

export interface EdgeStandIn {
    url: string;
    /** "access": Cloudflare Access's redirect to the team's login; "gateway": the gateway's own answer (public!). */
    mode: "access" | "gateway";
    hits: number;
    close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that answers as Cloudflare's edge would, with or without Access in front. */
export async function startEdgeStandIn(mode: EdgeStandIn["mode"]): Promise<EdgeStandIn> {
    const edge: EdgeStandIn = { url: "", mode, hits: 0, close: async () => undefined };
    const server = http.createServer((req, res) => {
        edge.hits++;
        if (edge.mode === "access") {
            res.writeHead(302, {
                server: "cloudflare",
                "cf-ray": "8f0000000000abcd-FRA",
                location: `https://${STANDIN_TEAM}.cloudflareaccess.com/cdn-cgi/access/login/${STANDIN_HOSTNAME}?kid=0123&redirect_url=${encodeURIComponent(req.url ?? "/")}`,
            });
            res.end();
        } else {
            res.writeHead(200, { "content-type": "text/html" });
            res.end("<!doctype html><title>OpenClaw Control</title>");
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    edge.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    edge.close = () => new Promise((resolve) => server.close(() => resolve()));
    return edge;
}

export interface CliRun {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** `npm run verify -- ARGS` as a child process (tsx), with the given environment on top of this one's. */
export function runVerifyCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 420_000): Promise<CliRun> {
    return runProjectScript("verify.ts", args, env, timeoutMs);
}

/** One of scripts/*.ts as `npm run <name> -- args` runs it (no terminal on stdin); killed after timeoutMs. */
export function runProjectScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 420_000): Promise<CliRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "scripts", script), ...args], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

/** Writes a private key to a 0600 file in a fresh temp dir (the CLI takes --key FILE). */
export function keyFile(privateKey: string): { file: string; remove(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-key-"));
    const file = path.join(dir, "id_ed25519");
    fs.writeFileSync(file, privateKey, { mode: 0o600 });
    return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
