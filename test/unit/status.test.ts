// `npm run status` from the operator's machine, without a server: the stack through a fake `pulumi`
// (OPENCLAW_VPS_PULUMI), Cloudflare's tunnel API through a local stand-in that answers like the real one
// (GET /accounts/{account}/cfd_tunnel/{id}), and a host that does not answer. The tunnel line follows Cloudflare
// (healthy / down), the host line says it is unreachable, the exit code is 1, and the token is only in the header.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { keyFile } from "../helpers/verify";

const TOKEN = "cf-SENTINEL-status-token-4e5f";
const TUNNEL = "c1744f8b-faa1-48a4-9e5c-02ac921467fa";

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "scripts", "status.ts"), ...args], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, ...env },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("npm run status", { timeout: 600_000 }, () => {
    let api: http.Server;
    let apiUrl: string;
    let tunnelState = "healthy";
    const seen: { path: string; auth?: string }[] = [];
    let tmp: string;
    let fakePulumi: string;
    let closedPort: number;
    let key: { file: string; remove(): void };

    before(async () => {
        api = http.createServer((req, res) => {
            seen.push({ path: req.url ?? "", auth: req.headers.authorization });
            const match = /^\/client\/v4\/accounts\/([0-9a-f]{32})\/cfd_tunnel\/([0-9a-f-]+)$/.exec(req.url ?? "");
            if (!match || req.headers.authorization !== `Bearer ${TOKEN}`) {
                res.writeHead(403, { "content-type": "application/json" }).end(
                    JSON.stringify({ success: false, errors: [{ code: 10000, message: "Authentication error" }] }),
                );
                return;
            }
            const connections =
                tunnelState === "healthy"
                    ? [
                          { colo_name: "fra06", id: "a", opened_at: "2026-12-01T08:02:11Z" },
                          { colo_name: "ams01", id: "b", opened_at: "2026-12-01T08:02:12Z" },
                      ]
                    : [];
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({
                    success: true,
                    errors: [],
                    messages: [],
                    result: {
                        id: match[2],
                        name: "openclaw-gateway",
                        status: tunnelState,
                        connections,
                        conns_inactive_at: tunnelState === "healthy" ? null : "2026-12-01T09:15:00Z",
                    },
                }),
            );
        });
        await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
        apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/client/v4`;
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "status-cli-"));
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        closedPort = (closed.address() as AddressInfo).port;
        await new Promise((resolve) => closed.close(resolve));
        fakePulumi = path.join(tmp, "pulumi");
        fs.writeFileSync(
            fakePulumi,
            `#!/usr/bin/env bash\nprintf '%s' '${JSON.stringify({ tunnelId: TUNNEL, serverIpv4: "127.0.0.1", sshCommand: "ssh ops@127.0.0.1", url: `http://127.0.0.1:${closedPort}/` })}'\n`,
            { mode: 0o755 },
        );
        key = keyFile("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n");
    });
    after(async () => {
        key?.remove();
        await new Promise((resolve) => api.close(resolve));
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const env = () => ({
        OPENCLAW_VPS_PULUMI: fakePulumi,
        CLOUDFLARE_API_TOKEN: TOKEN,
        CLOUDFLARE_API_BASE: apiUrl,
        OPENCLAW_VPS_SSH_KEY: key.file,
        HOME: tmp,
    });

    it("shows the tunnel as Cloudflare sees it and the host as unreachable; exit 1", async () => {
        tunnelState = "healthy";
        const result = await run(["--stack", "prod", "--key", key.file, "--host-key", "SHA256:AAAA"], env());
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stdout, /^openclaw \(agent\.example\.com\)$/m);
        assert.match(result.stdout, /^✓ tunnel +healthy, 2 connection\(s\) \(fra06, ams01\)$/m);
        assert.match(result.stdout, /^✗ host +\d critical, \d warning\(s\): connect \(cannot connect to ops@127\.0\.0\.1/m);
        assert.match(result.stdout, /^✗ snapshots +/m);
        assert.equal(seen.at(-1)?.path, `/client/v4/accounts/fedcba9876543210fedcba9876543210/cfd_tunnel/${TUNNEL}`);
        assert.ok(!result.stdout.includes(TOKEN) && !result.stderr.includes(TOKEN), "the token is only in the request header");
    });

    it("a down tunnel says so, with when it was last connected", async () => {
        tunnelState = "down";
        const result = await run(["--stack", "prod", "--key", key.file, "--host-key", "SHA256:AAAA", "--json"], env());
        const status = JSON.parse(result.stdout) as { tunnel: { ok: boolean; detail: string } };
        assert.equal(status.tunnel.ok, false);
        assert.match(status.tunnel.detail, /^down, last connected .* ago: the server or cloudflared is not reaching Cloudflare$/);
    });

    it("a wrong token is reported as Cloudflare's error, not a crash", async () => {
        const result = await run(["--stack", "prod", "--key", key.file, "--host-key", "SHA256:AAAA"], {
            ...env(),
            CLOUDFLARE_API_TOKEN: "wrong",
        });
        assert.match(result.stdout, /^✗ tunnel +Cloudflare answered Authentication error for tunnel/m);
    });
});
