// The real watchdog.sh against a local notification sink (Telegram Bot API, ntfy and a webhook on loopback), with a
// scripted audit in place of the host's: one alert when a check fails, nothing while it stays failed, one
// "resolved" when it passes; an alert nobody took is sent again; the digest once a day; secrets only on curl's
// stdin (never argv or output). And the rendered units pass systemd-analyze verify.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONTRACT_ENV_FILE } from "../helpers/contract";
import { renderAlertsEnv, renderWatchdogEnv, renderWatchdogService, renderWatchdogTimer } from "../../components/render/watchdog";
import { PROJECT_ROOT } from "../../components/core/pins";
import { NotificationSink } from "../../standin/notification-sink";

const SCRIPT = path.join(PROJECT_ROOT, "cloud-init", "watchdog.sh");
const BOT_TOKEN = "987654321:SENTINELwatchdogBotTokenABCDEFGHIJKLMNO";
const NTFY_SECRET = "SENTINEL-ntfy-topic-9f8e7d";
const HOOK_SECRET = "SENTINEL-hook-path-6c5b4a";

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    /** Every argv seen under the watchdog while it ran (sampled from /proc). */
    argvs: string[];
}

describe("watchdog.sh", () => {
    let dir: string;
    let sink: NotificationSink;
    let auditFile: string;

    const paths = () => ({ env: path.join(dir, "watchdog.env"), alerts: path.join(dir, "alerts.env"), state: path.join(dir, "state") });

    function configure(opts: { digest?: boolean; destinations?: "all" | "none" } = {}): void {
        fs.writeFileSync(
            paths().env,
            renderWatchdogEnv({
                label: "openclaw (agent.example.com)",
                adminUser: "ops",
                gatewayPort: 18789,
                backupSchedule: "hourly",
                timezone: "Europe/Berlin",
                dailyDigest: opts.digest ?? false,
                digestAt: "08:00",
                telegramApiRoot: sink.url,
            }),
        );
        const all = {
            telegramBotToken: BOT_TOKEN,
            telegramChatId: "123456789",
            ntfyUrl: `${sink.url}/${NTFY_SECRET}`,
            webhookUrl: `${sink.url}/hooks/${HOOK_SECRET}`,
        };
        fs.writeFileSync(paths().alerts, renderAlertsEnv(opts.destinations === "none" ? {} : all), { mode: 0o600 });
    }

    function audit(lines: [string, "pass" | "fail" | "skip", string][], finished = true): void {
        const text = lines.map(([id, status, summary]) => `AUDIT\t${id}\t${status}\tcritical\t${summary}`).join("\n");
        fs.writeFileSync(auditFile, `${text}\n${finished ? `AUDIT-END\t${lines.length}\n` : ""}`);
    }

    /** Runs the watchdog at `at` (epoch seconds), sampling every process's argv while it runs. */
    function watchdog(at: number): Promise<Run> {
        const child = spawn("bash", [SCRIPT], {
            env: {
                PATH: process.env.PATH ?? "/usr/bin:/bin",
                OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
                WATCHDOG_ENV: paths().env,
                ALERTS_ENV: paths().alerts,
                WATCHDOG_STATE_DIR: paths().state,
                WATCHDOG_AUDIT: `cat ${auditFile}`,
                WATCHDOG_NOW: String(at),
            },
        });
        const argvs = new Set<string>();
        const sample = setInterval(() => {
            for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
                try {
                    argvs.add(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
                } catch {
                    // gone already
                }
            }
        }, 5);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        return new Promise((resolve, reject) => {
            child.on("error", (error) => {
                clearInterval(sample);
                reject(error);
            });
            child.on("exit", (code) => {
                clearInterval(sample);
                resolve({ code, stdout, stderr, argvs: [...argvs] });
            });
        });
    }

    const T0 = Date.UTC(2026, 11, 1, 5, 0, 0) / 1000; // 06:00 in Berlin: before the 08:00 digest

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-vps-watchdog-"));
        auditFile = path.join(dir, "audit.out");
        sink = await NotificationSink.start();
        configure();
    });
    after(async () => {
        await sink.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("alerts once when checks start failing, stays quiet while they fail, says resolved when they pass", async () => {
        audit([
            ["gateway-ready", "pass", "http://127.0.0.1:18789/readyz answers 200"],
            ["backup", "pass", "last snapshot 20m ago"],
        ]);
        let run = await watchdog(T0);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(sink.requests.length, 0, "nothing to say while everything passes");

        audit([
            ["gateway-ready", "fail", "http://127.0.0.1:18789/readyz answers nothing (not ready)"],
            ["service-gateway", "fail", "openclaw-gateway.service is inactive"],
            ["backup", "pass", "last snapshot 22m ago"],
        ]);
        run = await watchdog(T0 + 120);
        assert.equal(run.code, 0, run.stderr);
        // One notification per destination, each naming both problems.
        const telegram = sink.to("/bot");
        assert.equal(telegram.length, 1);
        assert.equal(telegram[0].path, `/bot${BOT_TOKEN}/sendMessage`);
        const message = JSON.parse(telegram[0].body) as { chat_id: string; text: string };
        assert.equal(message.chat_id, "123456789");
        assert.match(message.text, /^🔴 openclaw \(agent\.example\.com\): 2 problem\(s\)\n/);
        assert.match(message.text, /• gateway-ready: http:\/\/127\.0\.0\.1:18789\/readyz answers nothing/);
        assert.match(message.text, /• service-gateway: openclaw-gateway\.service is inactive/);
        const ntfy = sink.to(`/${NTFY_SECRET}`);
        assert.equal(ntfy.length, 1);
        assert.equal(ntfy[0].headers.title, "openclaw (agent.example.com): 2 problem(s)", "ASCII title (headers); the tag is the emoji");
        assert.equal(ntfy[0].headers.tags, "rotating_light");
        assert.equal(ntfy[0].headers.priority, "high");
        assert.match(ntfy[0].body, /gateway-ready/);
        const hook = sink.to("/hooks/");
        assert.equal(hook.length, 1);
        assert.deepEqual(Object.keys(JSON.parse(hook[0].body)).sort(), ["agent", "kind", "text"], "a generic webhook gets plain JSON");

        // Still failing two runs later: not a word.
        for (const at of [T0 + 240, T0 + 360]) {
            run = await watchdog(at);
            assert.equal(run.code, 0, run.stderr);
        }
        assert.equal(sink.requests.length, 3, "no repeat while the checks stay failed");

        audit([
            ["gateway-ready", "pass", "http://127.0.0.1:18789/readyz answers 200"],
            ["service-gateway", "pass", "openclaw-gateway.service active as openclaw, enabled at boot"],
            ["backup", "pass", "last snapshot 29m ago"],
        ]);
        await watchdog(T0 + 480);
        const resolved = sink.to("/bot").slice(1);
        assert.equal(resolved.length, 1, "exactly one resolved notice");
        const text = (JSON.parse(resolved[0].body) as { text: string }).text;
        assert.match(text, /^✅ openclaw \(agent\.example\.com\): resolved\n/);
        assert.match(text, /• gateway-ready \(failing since 06:02 CET\)/);
        await watchdog(T0 + 600);
        assert.equal(sink.to("/bot").length, 2, "and nothing after it");
    });

    it("one outage, one resolved: a recovery is told once every check of its alert passes again", async () => {
        audit([
            ["gateway-ready", "fail", "answers nothing"],
            ["service-gateway", "fail", "inactive"],
        ]);
        await watchdog(T0 + 620);
        const before = sink.to("/bot").length;
        audit([
            ["gateway-ready", "fail", "answers 503 (starting)"],
            ["service-gateway", "pass", "active"],
        ]);
        await watchdog(T0 + 640);
        assert.equal(sink.to("/bot").length, before, "half back is not resolved yet");
        audit([
            ["gateway-ready", "pass", "answers 200"],
            ["service-gateway", "pass", "active"],
        ]);
        await watchdog(T0 + 660);
        const told = sink.to("/bot").slice(before);
        assert.equal(told.length, 1);
        const text = (JSON.parse(told[0].body) as { text: string }).text;
        assert.match(text, /^✅ .*: resolved\n• gateway-ready \(failing since .*\)\n• service-gateway \(failing since .*\)$/);
    });

    it("a skipped check keeps its last verdict; an audit that did not finish is a failure of its own", async () => {
        const before = sink.to("/bot").length;
        audit([["gateway-ready", "skip", "not judged"]]);
        await watchdog(T0 + 720);
        assert.equal(sink.to("/bot").length, before, "skip is not a recovery or a failure");
        audit([["gateway-ready", "pass", "ok"]], false);
        await watchdog(T0 + 840);
        const last = JSON.parse(sink.to("/bot").at(-1)!.body) as { text: string };
        assert.match(last.text, /• watchdog-audit: the host audit did not finish/);
        audit([["gateway-ready", "pass", "ok"]]);
        await watchdog(T0 + 960);
        assert.match((JSON.parse(sink.to("/bot").at(-1)!.body) as { text: string }).text, /resolved[\s\S]*watchdog-audit/);
    });

    it("an alert no destination took is sent again on the next run, and only then marked as told", async () => {
        audit([["backup", "fail", "last successful snapshot 3h ago"]]);
        sink.failing = true;
        const before = sink.requests.length;
        const run = await watchdog(T0 + 1080);
        assert.match(run.stdout, /no destination took the alert; it is sent again on the next run/);
        assert.ok(
            !run.stdout.includes(BOT_TOKEN) && !run.stdout.includes(NTFY_SECRET) && !run.stdout.includes(HOOK_SECRET),
            "curl's errors are scrubbed",
        );
        sink.failing = false;
        const tried = sink.requests.length - before;
        assert.ok(tried >= 3, "every destination was tried");
        await watchdog(T0 + 1200);
        assert.match((JSON.parse(sink.to("/bot").at(-1)!.body) as { text: string }).text, /• backup: last successful snapshot 3h ago/);
        const told = sink.requests.length;
        await watchdog(T0 + 1320);
        assert.equal(sink.requests.length, told, "told once it went through");
    });

    it("sends the daily digest once, after the digest time, with what still fails", async () => {
        configure({ digest: true });
        const before = sink.to("/bot").length;
        await watchdog(T0 + 1440); // 06:24 Berlin: too early
        assert.equal(sink.to("/bot").length, before);
        const eight = Date.UTC(2026, 11, 1, 7, 5, 0) / 1000; // 08:05 Berlin
        await watchdog(eight);
        const digest = (JSON.parse(sink.to("/bot").at(-1)!.body) as { text: string }).text;
        assert.match(digest, /^📋 openclaw \(agent\.example\.com\): daily digest 2026-12-01\n/);
        assert.match(digest, /🔴 backup \(\d+h? ?\d*min\): last successful snapshot 3h ago/);
        assert.match(digest, /✅ \d+ check\(s\) passing/);
        await watchdog(eight + 120);
        assert.equal(sink.to("/bot").length, before + 1, "once a day");
        configure();
    });

    it("without a destination it only logs, and marks nothing it could not say", async () => {
        configure({ destinations: "none" });
        audit([["units", "fail", "failed units: system: foo.service"]]);
        const before = sink.requests.length;
        const run = await watchdog(T0 + 2000);
        assert.equal(sink.requests.length, before);
        assert.match(run.stdout, /no alert destination configured: 🔴 openclaw \(agent\.example\.com\): \d problem\(s\)/);
        configure();
    });

    it("secrets reach curl on stdin only: no argv, no output holds the token or a URL", async () => {
        audit([["tokens-today", "fail", "the agent used 5000000 LLM tokens today"]]);
        const run = await watchdog(T0 + 2200);
        assert.ok(sink.to("/bot").length > 0);
        for (const secret of [BOT_TOKEN, NTFY_SECRET, HOOK_SECRET]) {
            assert.ok(!run.argvs.some((argv) => argv.includes(secret)), `${secret} appeared in a command line`);
            assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), `${secret} appeared in the output`);
        }
        assert.ok(
            run.argvs.some((argv) => /\bcurl --config -/.test(argv)),
            "the sampler saw curl (so it would have seen a secret in argv)",
        );
    });

    it("its units pass systemd-analyze verify, and the timer fires every watchdogInterval", () => {
        const units = path.join(dir, "units");
        fs.mkdirSync(units, { recursive: true });
        // ExecStart must exist for verify: point a copy of the service at the repository's script.
        fs.writeFileSync(
            path.join(units, "openclaw-watchdog.service"),
            renderWatchdogService().replace("/opt/openclaw-vps/bin/watchdog.sh", SCRIPT),
        );
        fs.writeFileSync(path.join(units, "openclaw-watchdog.timer"), renderWatchdogTimer({ interval: "5min" }));
        const verify = spawnSync(
            "systemd-analyze",
            ["verify", path.join(units, "openclaw-watchdog.timer"), path.join(units, "openclaw-watchdog.service")],
            {
                encoding: "utf8",
            },
        );
        assert.equal(verify.status, 0, verify.stderr);
        assert.doesNotMatch(verify.stderr, /openclaw-watchdog/, verify.stderr);
        assert.match(renderWatchdogTimer({ interval: "5min" }), /^OnUnitActiveSec=5min$/m);
        assert.throws(() => renderWatchdogTimer({ interval: "10s" }), /between 1min and 1h/);
    });
});
