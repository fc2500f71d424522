// The watchdog on a deployed stand-in VPS, with a local notification sink (Telegram Bot API, ntfy and webhook in one
// HTTP stand-in) inside the instance's network namespace: the gateway stopped and masked gives exactly one alert by
// the second watchdog run, nothing while it stays down, one "resolved" once it is back; a stale backup and a full
// disk give one alert each; the sentinel alert secrets appear nowhere but alerts.env (not the journal, not the logs);
// the installed units pass systemd-analyze verify. Runs are counted in the journal: no wall-clock bound.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RemoteHost } from "../../components/remote";
import { buildHostBundle } from "../../components/render/host-bundle";
import { standInSettings } from "../../scripts/lib/standin-settings";
import type { S3Server } from "../../standin/bucket";
import {
    gatewaySystemctl,
    bucketDataDir,
    connectAdmin,
    deployBundleInput,
    deployPlan,
    installRecordingCloudflared,
    startBucket,
    waitGatewayReady,
} from "../../standin/deploy";
import { startSinkInNamespace, type RemoteSink, type SinkRequest } from "../../standin/notification-sink";
import { createAdminKey } from "../../standin/scenario";
import { STANDIN_NETWORK } from "../../standin/rootfs";
import { StandInVps } from "../../standin/vps";

const BOT_TOKEN = "555000111:SENTINELvpsWatchdogTokenABCDEFGHIJKLMNOP";
const NTFY_PATH = "/SENTINEL-vps-ntfy-topic-4d3c";
const SINK_PORT = 9210;
const INTERVAL = "1min";

describe("the watchdog on a deployed host", { timeout: 60 * 60_000 }, () => {
    let vps: StandInVps;
    let remote: RemoteHost;
    let sink: RemoteSink;
    let bucket: S3Server;
    let sinkDir: string;
    const telegram = (): SinkRequest[] => sink.requests().filter((r) => r.path.startsWith("/bot"));
    const texts = (): string[] => telegram().map((r) => (JSON.parse(r.body) as { text: string }).text);

    /** How many watchdog runs the journal shows (each ends with one "watchdog: N check(s) failing" line). */
    async function runs(): Promise<number> {
        const out = await vps.exec("journalctl -u openclaw-watchdog.service -o cat --no-pager | grep -c 'check(s) failing' || true", {
            allowFailure: true,
        });
        return Number(out.stdout.trim() || 0);
    }

    /** Waits until `count` more watchdog runs (started by the timer) have finished; a generous deadline catches a dead timer only. */
    async function timerRuns(count: number): Promise<void> {
        const target = (await runs()) + count;
        const deadline = Date.now() + 20 * 60_000;
        while ((await runs()) < target) {
            if (Date.now() > deadline) throw new Error(`the timer did not run the watchdog ${count} more time(s)`);
            await new Promise((resolve) => setTimeout(resolve, 2000));
        }
    }

    /** One run now, as the timer would start it. Several in a few seconds trip systemd's start limit (5 in 10 s), which
     *  a 2-minute timer never does: the counter is reset first. */
    const runNow = () => vps.exec("systemctl reset-failed openclaw-watchdog.service; systemctl start openclaw-watchdog.service");

    before(async () => {
        const admin = await createAdminKey();
        const { settings } = standInSettings(admin.publicKey, [`watchdogInterval=${INTERVAL}`, "restoreFrom=none"]);
        vps = await StandInVps.boot({ name: "watchdog", userData: deployPlan(settings).userData });
        const boot = await vps.waitBooted();
        assert.equal(boot.cloudInitCode, 0, `${boot.cloudInit}\n${vps.consoleTail(30)}`);
        sinkDir = mkdtempSync(join(tmpdir(), "openclaw-vps-sink-"));
        sink = await startSinkInNamespace(vps.resources().netns, STANDIN_NETWORK.gateway, SINK_PORT, sinkDir);
        bucket = await startBucket(vps, settings, join(bucketDataDir(), "watchdog"));
        await installRecordingCloudflared(vps);
        remote = await connectAdmin(vps, settings, admin.privateKey);
        await remote.waitProvisioned();
        const input = deployBundleInput(settings);
        input.watchdog = {
            settings: { ...input.watchdog.settings, telegramApiRoot: sink.url },
            destinations: { telegramBotToken: BOT_TOKEN, telegramChatId: "7007007", ntfyUrl: `${sink.url}${NTFY_PATH}` },
        };
        const push = await remote.pushBundle(buildHostBundle(input));
        assert.equal(push.code, 0, push.stdout + push.stderr);
        await waitGatewayReady(vps, settings.gatewayPort);
        // A first run by hand: whatever a fresh stand-in reports is the baseline the scenarios compare with.
        await runNow();
    });

    after(async () => {
        remote?.dispose();
        sink?.stop();
        await bucket?.stop();
        await vps?.destroy();
        if (sinkDir) rmSync(sinkDir, { recursive: true, force: true });
    });

    it("the timer runs the watchdog every watchdogInterval; a healthy host sends nothing", async () => {
        const timers = await vps.exec("systemctl list-timers openclaw-watchdog.timer --no-pager");
        assert.match(timers.stdout, /openclaw-watchdog\.timer/);
        await timerRuns(1);
        const failing = await vps.exec("grep -H '^fail' /var/lib/openclaw-vps/watchdog/checks/* 2>/dev/null || true", {
            allowFailure: true,
        });
        assert.equal(failing.stdout.trim(), "", "no check fails on a freshly deployed host");
        assert.deepEqual(texts(), [], "nothing to say");
    });

    it("the gateway stopped and masked: one alert, nothing while down, one resolved when back", async () => {
        // Runs started by hand only (the timer's own schedule is proven above), so a timer run in the middle of the
        // gateway's start cannot split the recovery into two messages.
        await vps.exec("systemctl stop openclaw-watchdog.timer");
        // A runtime mask (gone at the next boot): the pushed unit file in /etc/systemd/system stays as it is.
        await vps.exec(`${gatewaySystemctl()} mask --runtime --now openclaw-gateway.service`);
        const before = telegram().length;
        const ntfyBefore = sink.requests().filter((r) => r.path === NTFY_PATH).length;
        await runNow();
        await runNow();
        const alerts = texts().slice(before);
        assert.equal(alerts.length, 1, alerts.join("\n---\n"));
        assert.match(alerts[0], /^🔴 openclaw \(agent\.example\.com\): \d problem\(s\)\n/);
        assert.match(alerts[0], /• gateway-ready: .*readyz answers nothing/);
        assert.match(alerts[0], /• service-gateway: openclaw-gateway\.service is (inactive|failed)/);
        assert.equal(sink.requests().filter((r) => r.path === NTFY_PATH).length, ntfyBefore + 1, "ntfy got the same one alert");

        await runNow();
        await runNow();
        assert.equal(telegram().length, before + 1, "no repeat while it stays down");

        await vps.exec(
            `${gatewaySystemctl()} unmask openclaw-gateway.service && ${gatewaySystemctl()} start --no-block openclaw-gateway.service`,
        );
        await waitGatewayReady(vps, 18789);
        await runNow();
        const after = texts().slice(before + 1);
        assert.equal(after.length, 1, after.join("\n---\n"));
        assert.match(after[0], /^✅ openclaw \(agent\.example\.com\): resolved\n/);
        assert.match(after[0], /• gateway-ready \(failing since/);
        await vps.exec("systemctl start openclaw-watchdog.timer");
    });

    it("a stale backup gives one alert, and one resolved when a backup is recent again", async () => {
        const status = "/var/lib/openclaw-vps/backup.status";
        await vps.exec(`cp -a ${status} /root/backup.status.real 2>/dev/null || true`);
        await vps.exec(
            `printf 'last_success=%s\\nlast_snapshot=20260101T000000Z\\nlast_error=\\n' "$(date -u -d '-5 hours' +%Y-%m-%dT%H:%M:%SZ)" >${status}`,
        );
        const before = telegram().length;
        await runNow();
        await runNow();
        const alerts = texts().slice(before);
        assert.equal(alerts.length, 1, alerts.join("\n---\n"));
        assert.match(alerts[0], /• backup: last successful snapshot 5h\dm ago, more than/);
        await vps.exec(
            `printf 'last_success=%s\\nlast_snapshot=20260101T000000Z\\nlast_error=\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >${status}`,
        );
        await runNow();
        assert.match(texts().at(-1)!, /resolved[\s\S]*• backup/);
        assert.equal(texts().length, before + 2);
    });

    it("a full disk gives one alert naming the filesystem", async () => {
        await vps.exec(
            "mkdir -p /srv/full && mount -t tmpfs -o size=8M tmpfs /srv/full && (dd if=/dev/zero of=/srv/full/fill bs=1M count=16 2>/dev/null || true)",
        );
        const before = telegram().length;
        try {
            await runNow();
            await runNow();
            const alerts = texts().slice(before);
            assert.equal(alerts.length, 1, alerts.join("\n---\n"));
            assert.match(alerts[0], /• disk: full: .*\/srv\/full 100%/);
        } finally {
            await vps.exec("umount /srv/full", { allowFailure: true });
        }
        await runNow();
        assert.match(texts().at(-1)!, /resolved[\s\S]*• disk/);
    });

    it("the alert secrets are only in alerts.env (0600): not in the journal, the logs or the watchdog's state", async () => {
        const holders = await vps.exec(
            `grep -rlF -e '${BOT_TOKEN}' -e '${NTFY_PATH}' /etc /var/lib/openclaw-vps /var/log /home /root /tmp 2>/dev/null || true`,
            { allowFailure: true },
        );
        assert.deepEqual(holders.stdout.trim().split("\n").filter(Boolean), ["/etc/openclaw-vps/alerts.env"]);
        assert.equal((await vps.exec("stat -c '%U:%G %a' /etc/openclaw-vps/alerts.env")).stdout.trim(), "root:root 600");
        const journal = await vps.exec("journalctl --no-pager -o cat", { allowFailure: true });
        assert.ok(!journal.stdout.includes(BOT_TOKEN) && !journal.stdout.includes(NTFY_PATH), "the journal holds no alert secret");
        assert.ok(
            telegram().every((r) => r.path === `/bot${BOT_TOKEN}/sendMessage`),
            "the token went where it belongs",
        );
    });

    it("its units pass systemd-analyze verify on the host", async () => {
        const verify = await vps.exec(
            "systemd-analyze verify /etc/systemd/system/openclaw-watchdog.service /etc/systemd/system/openclaw-watchdog.timer",
            {
                allowFailure: true,
            },
        );
        assert.equal(verify.code, 0, verify.stderr);
        assert.doesNotMatch(verify.stderr, /openclaw-watchdog/);
    });
});
