// The reboot window, checked by its real consumers: systemd-analyze verify/calendar for the units, and
// cloud-init/reboot-window.sh itself (bash, flock, date with TZ) with a recording reboot command: no reboot without
// /run/reboot-required, none outside the window, none while the backup lock is held (it waits, then reboots), none
// when the lock outlives the window, none when the window is off.
import "../helpers/contract";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { rebootWindowMinutes, REBOOT_WINDOW_RULE } from "../../components/core/rules";
import {
    REBOOT_SERVICE_NAME,
    REBOOT_TIMER_NAME,
    renderRebootWindowService,
    renderRebootWindowTimer,
} from "../../components/render/reboot-window";
import { CLOUD_INIT_DIR, requireTool, tempDir } from "../helpers/provisioning";

const SCRIPT = path.join(CLOUD_INIT_DIR, "reboot-window.sh");
let work: ReturnType<typeof tempDir>;

before(() => {
    requireTool("systemd-analyze", "systemd");
    requireTool("flock", "util-linux");
    work = tempDir("reboot-window");
});
after(() => work?.cleanup());

const hhmm = (minutes: number) => {
    const m = ((minutes % 1440) + 1440) % 1440;
    return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
};

/** Minutes since midnight now, in `tz`. */
function nowIn(tz: string): number {
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(
        new Date(),
    );
    return Number(parts.find((p) => p.type === "hour")!.value) * 60 + Number(parts.find((p) => p.type === "minute")!.value);
}

describe("reboot window units", () => {
    test("systemd-analyze verify accepts the service and timer for windows across midnight, time zones and off", () => {
        fs.copyFileSync(SCRIPT, path.join(work.dir, "reboot-window.sh"));
        fs.chmodSync(path.join(work.dir, "reboot-window.sh"), 0o755);
        for (const [window, timezone] of [
            ["04:00-05:00", "UTC"],
            ["23:30-00:30", "Europe/Berlin"],
            ["off", "America/New_York"],
        ] as const) {
            const dir = fs.mkdtempSync(path.join(work.dir, "units-"));
            const input = { window, timezone, scriptPath: path.join(work.dir, "reboot-window.sh") };
            fs.writeFileSync(path.join(dir, REBOOT_SERVICE_NAME), renderRebootWindowService(input));
            fs.writeFileSync(path.join(dir, REBOOT_TIMER_NAME), renderRebootWindowTimer(input));
            const result = spawnSync(
                "systemd-analyze",
                ["verify", path.join(dir, REBOOT_SERVICE_NAME), path.join(dir, REBOOT_TIMER_NAME)],
                {
                    encoding: "utf8",
                },
            );
            assert.equal(result.status, 0, `${window} ${timezone}: ${result.stderr}`);
            assert.equal(result.stderr.trim(), "", `systemd warned (${window} ${timezone})`);
        }
    });

    test("the timer fires at the window's start in the operator's time zone (systemd-analyze calendar)", () => {
        const timer = renderRebootWindowTimer({ window: "23:30-00:30", timezone: "Europe/Berlin" });
        const calendar = /^OnCalendar=(.*)$/m.exec(timer)![1]!;
        assert.equal(calendar, "*-*-* 23:30:00 Europe/Berlin");
        const result = spawnSync("systemd-analyze", ["calendar", calendar], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /Normalized form: \*-\*-\* 23:30:00 Europe\/Berlin/);
        assert.match(result.stdout, /Next elapse: .* (21|22):30:00 UTC/, "23:30 in Berlin is 21:30 or 22:30 UTC");
        assert.match(timer, /^Persistent=false$/m);
        assert.match(renderRebootWindowService({ window: "04:00-05:00", timezone: "UTC" }), /^Environment=TZ=UTC$/m);
    });

    test("the rule: 15 minutes to 12 hours, may cross midnight, or off", () => {
        for (const ok of ["04:00-05:00", "23:45-00:15", "00:00-12:00", "off"]) assert.ok(REBOOT_WINDOW_RULE.test(ok), ok);
        for (const bad of ["04:00-04:10", "04:00-17:00", "4:00-5:00", "04:00", "04:00-05:00 UTC", "never", "24:00-01:00"]) {
            assert.ok(!REBOOT_WINDOW_RULE.test(bad), bad);
        }
        assert.deepEqual(rebootWindowMinutes("23:30-00:30"), { start: 1410, length: 60 });
        assert.throws(() => renderRebootWindowTimer({ window: "04:00-04:05", timezone: "UTC" }), /rebootWindow "04:00-04:05"/);
        assert.throws(() => renderRebootWindowTimer({ window: "04:00-05:00", timezone: "Mars/Base" }), /not an IANA time zone/);
    });
});

describe("reboot-window.sh", () => {
    const tz = "Pacific/Auckland"; // not this machine's zone: the script must use TZ
    const required = () => path.join(work.dir, "reboot-required");
    const rebooted = () => path.join(work.dir, "rebooted");
    const lock = () => path.join(work.dir, "backup.lock");
    let holder: ChildProcess | undefined;

    function runWindow(window: string): Promise<{ code: number; out: string }> {
        return new Promise((resolve) => {
            const child = spawn("bash", [SCRIPT, window], {
                env: {
                    ...process.env,
                    TZ: tz,
                    REBOOT_REQUIRED_FILE: required(),
                    REBOOT_COMMAND: `touch ${rebooted()}`,
                    BACKUP_LOCK_FILE: lock(),
                    UPGRADE_LOCK: path.join(work.dir, "upgrade.lock"),
                },
            });
            let out = "";
            child.stdout.on("data", (d: Buffer) => (out += d.toString()));
            child.stderr.on("data", (d: Buffer) => (out += d.toString()));
            child.on("exit", (code) => resolve({ code: code ?? -1, out }));
        });
    }

    /** Holds the backup lock (as backup.sh does) until released; resolves once it holds it. */
    async function holdLock(): Promise<void> {
        // -o: the lock belongs to flock itself (not inherited by sleep), so killing flock releases it.
        holder = spawn("flock", ["-o", lock(), "sleep", "600"], { stdio: "ignore" });
        for (let i = 0; i < 100; i++) {
            if (spawnSync("flock", ["-n", lock(), "true"]).status !== 0) return;
            await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error("the lock holder did not take the lock");
    }
    function releaseLock(): void {
        holder?.kill("SIGKILL");
        holder = undefined;
    }
    after(releaseLock);

    const around = () => `${hhmm(nowIn(tz) - 10)}-${hhmm(nowIn(tz) + 50)}`;

    test("no /run/reboot-required: no reboot", async () => {
        fs.rmSync(required(), { force: true });
        const result = await runWindow(around());
        assert.equal(result.code, 0, result.out);
        assert.match(result.out, /no reboot required/);
        assert.ok(!fs.existsSync(rebooted()));
    });

    test("required, but outside the window (in TZ, not this machine's zone): no reboot", async () => {
        fs.writeFileSync(required(), "*** System restart required ***\n");
        fs.writeFileSync(`${required()}.pkgs`, "linux-image-6.8.0-49-generic\n");
        const result = await runWindow(`${hhmm(nowIn(tz) + 120)}-${hhmm(nowIn(tz) + 180)}`);
        assert.equal(result.code, 0, result.out);
        assert.match(result.out, /outside the window .*: waiting for the next one/);
        assert.ok(!fs.existsSync(rebooted()));
    });

    test("required, in the window, a backup holds the lock: it waits, then reboots once the backup is done", async () => {
        await holdLock();
        const running = runWindow(around());
        // It is waiting (not rebooting) while the backup holds the lock.
        for (let i = 0; i < 40; i++) {
            await new Promise((r) => setTimeout(r, 50));
            assert.ok(!fs.existsSync(rebooted()), "rebooted while the backup lock was held");
        }
        releaseLock();
        const result = await running;
        assert.equal(result.code, 0, result.out);
        assert.match(result.out, /a reboot is required \(linux-image-6\.8\.0-49-generic \); window .*: waiting for any upgrade and backup/);
        assert.match(result.out, /rebooting now/);
        assert.ok(fs.existsSync(rebooted()), result.out);
        fs.rmSync(rebooted());
    });

    test("the backup holds the lock until the window closes: no reboot today", async () => {
        await holdLock();
        // A window that ends at the next minute boundary (the script takes any HH:MM-HH:MM; the 15-minute minimum is
        // the setting's rule).
        const result = await runWindow(`${hhmm(nowIn(tz) - 30)}-${hhmm(nowIn(tz) + 1)}`);
        releaseLock();
        assert.equal(result.code, 0, result.out);
        assert.match(result.out, /(a backup or restore ran until the window closed|outside the window)/);
        assert.ok(!fs.existsSync(rebooted()), result.out);
    });

    test("off: never", async () => {
        const result = await runWindow("off");
        assert.equal(result.code, 0);
        assert.match(result.out, /the reboot window is off/);
        assert.ok(!fs.existsSync(rebooted()));
        const bad = await runWindow("soon");
        assert.equal(bad.code, 2);
    });
});
