// `npm run status` from the operator's machine, without a server: the stack through a fake `pulumi`
// (OPENCLAW_VPS_PULUMI), Cloudflare's tunnel API through a local stand-in that answers like the real one
// (GET /accounts/{account}/cfd_tunnel/{id}), and a host that does not answer. The tunnel line follows Cloudflare
// (healthy / down), the host line says it is unreachable, the exit code is 1, and the token is only in the header.
// The snapshots line comes from the bucket (a local S3 stand-in) listed with the read-only key when one is configured:
// the newest restorable snapshot by the server's LastModified, a forged newer object ignored, a stale or empty bucket
// reported; without a read-only token it falls back to the host audit's record and says why.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { generateIdentity } from "../../components/core/age";
import { BACKUP_LAYOUT } from "../../components/core/backup-layout";
import { PROJECT_ROOT } from "../../components/core/pins";
import { S3Client } from "../../components/snapshots/s3";
import { setLastModified, startS3Server, S3Server } from "../../standin/bucket";
import { scheduleIntervalSeconds } from "../../scripts/status";
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
        assert.match(
            result.stdout,
            /^✗ snapshots +.*\(the host's record; the bucket was not listed from here: stack prod has no read-only backup token yet/m,
        );
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

describe("npm run status: the snapshots line from the bucket, with the read-only token", { timeout: 600_000 }, () => {
    const BUCKET = "status-memory";
    const READER = { accessKeyId: "STATUSREADER", secretAccessKey: "STATUS-READER-SECRET" };
    let server: S3Server;
    let writer: S3Client;
    let tmp: string;
    let accessFile: string;
    let fakePulumi: string;
    const legacy = "20261201T080000Z";
    // Named as if written in 2099 and written last: only R2's clock and a valid archive count, never the name.
    const forged = "fulls/20991231T235959Z-deadbeef.tar.zst.age";

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "status-bucket-"));
        server = await startS3Server({
            dir: path.join(tmp, "s3"),
            buckets: [BUCKET],
            accessKeyId: "STATUSWRITER",
            secretAccessKey: "STATUS-WRITER-SECRET",
            reader: READER,
        });
        writer = new S3Client({
            endpoint: server.endpoint,
            bucket: BUCKET,
            accessKeyId: "STATUSWRITER",
            secretAccessKey: "STATUS-WRITER-SECRET",
        });
        accessFile = path.join(tmp, "access.json");
        fs.writeFileSync(
            accessFile,
            JSON.stringify({ endpoint: server.endpoint, bucket: BUCKET, ...READER, identity: generateIdentity().identity }),
            { mode: 0o600 },
        );
        // No tunnel, no host: only the bucket is there to see.
        fakePulumi = path.join(tmp, "pulumi");
        fs.writeFileSync(fakePulumi, "#!/usr/bin/env bash\nprintf '{}'\n", { mode: 0o755 });
    });
    after(async () => {
        await server?.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const status = async () => {
        await server.settled(); // the test's own writes are logged before the mark
        const mark = server.requests().length;
        const result = await run(["--stack", "prod", "--access", accessFile, "--json"], { OPENCLAW_VPS_PULUMI: fakePulumi, HOME: tmp });
        await server.settled();
        const requests = server.requests().slice(mark);
        assert.ok(requests.length > 0, "the bucket was listed");
        assert.deepEqual(
            requests.filter((r) => r.accessKey !== READER.accessKeyId || !["GET", "HEAD"].includes(r.method)),
            [],
            "only reads, only with the read-only key",
        );
        return JSON.parse(result.stdout) as { backup: { ok: boolean; detail: string; source: string; newest?: { id: string } } };
    };

    it("an empty bucket says so", async () => {
        const { backup } = await status();
        assert.deepEqual([backup.ok, backup.source, backup.detail], [false, "bucket", `bucket ${BUCKET} holds no snapshot yet`]);
    });

    it("the newest restorable snapshot by the server's clock; a forged newer object is ignored", async () => {
        await writer.put(`${BACKUP_LAYOUT.legacyPrefix}${legacy}/MEMORY.md`, Buffer.from("remember\n"));
        await writer.put(`${BACKUP_LAYOUT.legacyPrefix}${legacy}/MANIFEST`, Buffer.from("MEMORY.md\n"));
        await writer.put(forged, Buffer.from("age-encryption.org/v1\nnot really\n"));
        setLastModified(server, BUCKET, `${BACKUP_LAYOUT.legacyPrefix}${legacy}/MANIFEST`, new Date(Date.now() - 30 * 60_000));
        const { backup } = await status();
        assert.equal(backup.source, "bucket");
        assert.equal(backup.newest?.id, legacy);
        assert.equal(backup.ok, true, backup.detail);
        assert.match(
            backup.detail,
            new RegExp(`^newest legacy ${legacy}, written \\d+ min ago by R2's clock \\(bucket, read-only token\\)$`),
        );
    });

    it("a snapshot older than two runs of the schedule is a failure", async () => {
        setLastModified(server, BUCKET, `${BACKUP_LAYOUT.legacyPrefix}${legacy}/MANIFEST`, new Date(Date.now() - 3 * 86400_000));
        const { backup } = await status();
        assert.equal(backup.ok, false);
        assert.match(backup.detail, /was written 3 days ago by R2's clock: more than 2\.5 h for schedule hourly/);
    });

    it("a bucket that held snapshots and holds no restorable one says a rebuild would refuse", async () => {
        await writer.put(BACKUP_LAYOUT.markerKey, Buffer.from("held\n"));
        await writer.delete(`${BACKUP_LAYOUT.legacyPrefix}${legacy}/MANIFEST`);
        const { backup } = await status();
        assert.equal(backup.ok, false);
        assert.match(backup.detail, /has held snapshots but holds no restorable one: a rebuild would refuse to start/);
    });

    it("the schedule's interval as the host audit computes it", () => {
        assert.equal(scheduleIntervalSeconds("hourly"), 3600);
        assert.equal(scheduleIntervalSeconds("daily"), 86400);
        assert.equal(scheduleIntervalSeconds("*-*-* 00/6:00:00"), 6 * 3600);
    });
});
