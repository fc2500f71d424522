// `npm run verify` against a stand-in VPS: the real user data boots with the real cloud-init, the real host bundle
// is pushed as `pulumi up` pushes it (real gateway, backup timer, a stand-in cloudflared), and the verify CLI audits
// it over SSH exactly as an operator runs it. A good host passes; the same host broken the two ways the threat model
// fears most (gateway bound to all interfaces, password login on) fails critical on both, with fix hints, and so do
// a secret in the metadata service's user data and a hostname that reaches the gateway without Access. No secret
// value ever appears in what verify prints. One booted instance serves the whole file.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createAdminKey, standInUserData, type AdminKey } from "../../standin/scenario";
import { StandInVps } from "../../standin/vps";
import {
    keyFile,
    pushStandIn,
    runVerifyCli,
    serveMetadata,
    startEdgeStandIn,
    STANDIN_TEAM,
    VERIFY_SENTINELS,
    type CliRun,
    type EdgeStandIn,
} from "../helpers/verify";

interface Check {
    id: string;
    status: "pass" | "fail" | "skip";
    severity: "critical" | "warning";
    summary: string;
    hint: string;
}

const GATEWAY_PORT = 18789;
const GATEWAY_SYSTEMCTL = "systemctl";

function assertNoSecret(run: CliRun): void {
    for (const [name, value] of Object.entries(VERIFY_SENTINELS)) {
        assert.ok(!run.stdout.includes(value) && !run.stderr.includes(value), `verify printed the ${name}`);
    }
}

function byId(run: CliRun): Record<string, Check> {
    const report = JSON.parse(run.stdout) as { checks: Check[] };
    return Object.fromEntries(report.checks.map((c) => [c.id, c]));
}

describe("npm run verify against a stand-in VPS", { timeout: 20 * 60_000 }, () => {
    let vps: StandInVps;
    let admin: AdminKey;
    let key: ReturnType<typeof keyFile>;
    let edge: EdgeStandIn;
    let userData: string;
    let metadataBase: string;

    before(async () => {
        admin = await createAdminKey();
        vps = await StandInVps.boot({ name: "verify", userData: standInUserData(admin.publicKey) });
        const boot = await vps.waitBooted();
        assert.equal(boot.cloudInitCode, 0, `${boot.cloudInit}\n${vps.consoleTail(30)}`);
        await pushStandIn(vps, admin.privateKey);
        // What the provider's metadata service would serve: the user data this server booted with.
        userData = (await vps.exec("cat /var/lib/cloud/instance/user-data.txt")).stdout;
        metadataBase = await serveMetadata(vps, userData);
        key = keyFile(admin.privateKey);
        edge = await startEdgeStandIn("access");
    });

    after(async () => {
        key?.remove();
        await edge?.close();
        await vps?.destroy();
    });

    const verify = (...extra: string[]) =>
        runVerifyCli([
            "--host",
            vps.ssh.host,
            "--port",
            String(vps.ssh.port),
            "--user",
            "ops",
            "--key",
            key.file,
            "--metadata-base",
            metadataBase,
            "--url",
            edge.url,
            "--team",
            STANDIN_TEAM,
            ...extra,
        ]);

    it("passes a good host: every check passes (the first backup is not due yet), exit 0", async (t) => {
        const started = Date.now();
        const run = await verify("--json");
        t.diagnostic(`full verify of a good host: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        const checks = byId(run);
        const failed = Object.values(checks).filter((c) => c.status === "fail");
        assert.deepEqual(failed, []);
        for (const id of [
            "connect",
            "cloud-init",
            "sshd",
            "firewall",
            "sockets",
            "gateway-bind",
            "gateway-ready",
            "service-gateway",
            "service-cloudflared",
            "service-openclaw-backup",
            "openclaw-audit",
            "disk",
            "memory",
            "swap",
            "userdata-metadata",
            "userdata-cloud-init",
            "edge-access",
        ]) {
            assert.equal(checks[id]?.status, "pass", `${id}: ${JSON.stringify(checks[id])}`);
        }
        assert.equal(checks.backup.status, "skip");
        assert.match(checks.backup.summary, /no snapshot yet/);
        assert.match(checks["userdata-metadata"].summary, /holds none of the [4-9] secrets on this host/);
        assert.match(checks["gateway-bind"].summary, /loopback:18789 only \(gateway\.bind=loopback\)/);
        assertNoSecret(run);
    });

    it("judges the last backup against the schedule (hourly: within two runs and a grace period)", async () => {
        const status = (agoSeconds: number) =>
            vps.exec(
                `printf 'last_success=%s\\nlast_snapshot=x\\nlast_error=\\n' "$(date -u -d @$(( $(date +%s) - ${agoSeconds} )) +%Y-%m-%dT%H:%M:%SZ)" >/var/lib/openclaw-vps/backup.status`,
            );
        try {
            await status(40 * 60);
            const fresh = await verify("--json", "--only", "backup", "--no-edge");
            assert.equal(fresh.code, 0, fresh.stdout);
            assert.equal(byId(fresh).backup.status, "pass");
            assert.match(byId(fresh).backup.summary, /last snapshot 40m ago \(schedule hourly, allowed 2h30m\)/);

            await status(4 * 3600);
            const stale = await verify("--json", "--only", "backup", "--no-edge");
            assert.equal(stale.code, 1, stale.stdout);
            const check = byId(stale).backup;
            assert.deepEqual([check.status, check.severity], ["fail", "critical"]);
            assert.match(check.summary, /4h0m ago, more than 2h30m for schedule hourly/);
            assert.match(check.hint, /openclaw-backup\.service/);
        } finally {
            await vps.exec("rm -f /var/lib/openclaw-vps/backup.status");
        }
    });

    it("flags a gateway on all interfaces and password login as critical, each with a fix hint", async (t) => {
        // The config's bind changed to lan (0.0.0.0), as a hand edit or a bad release would do, and the gateway restarted.
        await vps.exec(
            `sed -i 's/"bind": "loopback"/"bind": "lan"/' /home/openclaw/.openclaw/openclaw.json && ${GATEWAY_SYSTEMCTL} restart openclaw-gateway.service`,
        );
        const deadline = Date.now() + 180_000;
        for (;;) {
            const listening = await vps.exec(`ss -H -l -n -t 'sport = :${GATEWAY_PORT}'`);
            if (/(0\.0\.0\.0|\*|\[::\]):18789/.test(listening.stdout)) break;
            if (Date.now() > deadline) {
                const log = await vps.exec("journalctl --no-pager -n 30 _UID=$(id -u openclaw)", { allowFailure: true });
                assert.fail(`the gateway never listened on all interfaces: ${listening.stdout}\n${log.stdout}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        // A drop-in that sorts before the hardening wins: sshd keeps the first value it reads.
        await vps.exec("printf 'PasswordAuthentication yes\\n' >/etc/ssh/sshd_config.d/00-broken.conf");

        const started = Date.now();
        const text = await verify();
        t.diagnostic(`full verify of a broken host: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        for (const line of text.stdout.split("\n").filter((l) => /^[✗✓–]/.test(l))) t.diagnostic(line);
        assert.equal(text.code, 1, text.stdout + text.stderr);
        assert.match(
            text.stdout,
            /^✗ nothing but sshd listens on the network \[CRITICAL\]: listening on the network besides sshd: tcp\/(0\.0\.0\.0|\*|::):18789/m,
        );
        assert.match(
            text.stdout,
            /^✗ gateway on loopback only, at the configured port \[CRITICAL\]: the gateway port 18789 listens on .*gateway\.bind=lan/m,
        );
        assert.match(
            text.stdout,
            /^✗ sshd: key-only, no root, MaxAuthTries <= 3 \[CRITICAL\]: effective sshd settings: passwordauthentication yes/m,
        );
        assert.match(text.stdout, /^ {4}fix: CRITICAL if exposed: stop it now/m);
        assert.match(text.stdout, /^ {4}fix: a drop-in in \/etc\/ssh\/sshd_config\.d\//m);
        assert.match(text.stdout, /^✓ UFW active, deny incoming, SSH only/m);
        assert.match(text.stdout, /^FAILED: [2-9] critical failures/m);
        assertNoSecret(text);
    });

    it("flags a secret in the metadata service's user data and a hostname that reaches the gateway without Access", async () => {
        // The gateway token appended to what the metadata service serves (a renderer that leaked it would do this).
        await serveMetadata(vps, `${userData}\n# OPENCLAW_GATEWAY_TOKEN=${VERIFY_SENTINELS.gatewayToken}\n`);
        edge.mode = "gateway";
        try {
            const run = await verify("--json", "--only", "userdata");
            assert.equal(run.code, 1, run.stdout);
            const checks = byId(run);
            assert.deepEqual([checks["userdata-metadata"].status, checks["userdata-metadata"].severity], ["fail", "critical"]);
            assert.match(checks["userdata-metadata"].summary, /contains: OPENCLAW_GATEWAY_TOKEN from ~openclaw\/\.openclaw\/\.env/);
            assert.equal(checks["userdata-cloud-init"].status, "pass", "the booted copy is still clean");
            assert.deepEqual([checks["edge-access"].status, checks["edge-access"].severity], ["fail", "critical"]);
            assert.match(checks["edge-access"].summary, /HTTP 200 .*the gateway may be public/);
            assertNoSecret(run);
        } finally {
            edge.mode = "access";
            await serveMetadata(vps, userData);
        }
    });

    it("reports the metadata check as skipped where no metadata service answers", async () => {
        const run = await verify("--json", "--only", "userdata", "--no-edge", "--metadata-base", "http://127.0.0.1:9");
        const check = byId(run)["userdata-metadata"];
        assert.equal(check.status, "skip");
        assert.match(check.summary, /no metadata service answered at http:\/\/127\.0\.0\.1:9/);
    });
});
