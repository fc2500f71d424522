// The bench's reading of upgrade-openclaw.sh's log lines (scripts/lib/upgrade-log.ts): the phases of an upgrade and of
// a rollback, the downtime split at /readyz, and the markers it looks for are lines the script really logs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { lineTime, upgradePhases } from "../../scripts/lib/upgrade-log";

const log = (time: string, message: string) => `2026-12-02T04:${time}Z [openclaw-vps upgrade] ${message}`;

const UPGRADE = [
    "applying 12 files", // not a log line of the upgrade: ignored
    log("10:00", "upgrade: openclaw 2026.9.5 (2026.9.5-node24-aaaaaaaaaaaa) -> 2026.9.6 (2026.9.6-node24-bbbbbbbbbbbb)"),
    log("10:01", "check: openclaw 2026.9.6 config validate, doctor --lint and its non-interactive migrations on a copy of the state"),
    log("12:30", "check: passed"),
    log("12:31", "backup: starting openclaw-backup.service and waiting for it (a verified snapshot before anything changes)"),
    log("12:51", "backup: snapshot fulls/x.tar.zst.age verified"),
    log("12:52", "upgrade: stopping the gateway"),
    log("12:55", "upgrade: state copied aside (53M, 2900 entries)"),
    log("12:55", "upgrade: starting the gateway on openclaw 2026.9.6"),
    log("15:49", "upgrade: openclaw 2026.9.6 is ready and healthy; the gateway was not ready for 141.5 s"),
].join("\n");

const ROLLBACK = [
    log(
        "20:00",
        "check: openclaw 2026.9.7-standin.78 config validate, doctor --lint and its non-interactive migrations on a copy of the state",
    ),
    log("20:04", "check: passed"),
    log("20:05", "backup: starting openclaw-backup.service and waiting for it (a verified snapshot before anything changes)"),
    log("20:51", "backup: snapshot fulls/y.tar.zst.age verified"),
    log("20:52", "upgrade: stopping the gateway"),
    log("21:01", "upgrade: state copied aside (53M, 2900 entries)"),
    log("21:02", "upgrade: starting the gateway on openclaw 2026.9.7-standin.78"),
    log("21:05", "ROLLBACK: openclaw-gateway.service failed before /readyz"),
    log("22:50", "rollback: openclaw 2026.9.6 is back and healthy (gateway not ready for 94.1 s in all)"),
].join("\n");

test("lineTime: the first matching line's UTC second, NaN without one", () => {
    assert.equal(lineTime(UPGRADE, /check: passed/), Date.parse("2026-12-02T04:12:30Z"));
    assert.ok(Number.isNaN(lineTime(UPGRADE, /ROLLBACK:/)));
});

test("an upgrade: checks and backup while the old release serves, the downtime split at /readyz, then the health check", () => {
    const phases = upgradePhases(UPGRADE, 141.5);
    assert.deepEqual(Object.values(phases), [149, 20, 3, 0, 138.5, 35.5]);
    const names = Object.keys(phases);
    assert.match(names[4]!, /^down: the new gateway's start to \/readyz$/);
    assert.match(names[5]!, /health --json/);
    // The phases that are down add up to the script's own downtime.
    const down = Object.entries(phases).filter(([name]) => name.startsWith("down:"));
    assert.equal(
        down.reduce((sum, [, s]) => sum + s, 0),
        141.5,
    );
    // Without the script's figure, the start to ready and healthy is one phase.
    assert.equal(upgradePhases(UPGRADE)["down: the new gateway's start to ready and healthy"], 174);
});

test("a rollback: the failed start, then the way back to /readyz, the downtime adding up", () => {
    const phases = upgradePhases(ROLLBACK, 94.1);
    assert.equal(phases["down: the new gateway's start until it failed"], 3);
    assert.ok(Math.abs(phases["down: rollback (state and release back, the old gateway's start) to /readyz"]! - 81.1) < 1e-9);
    assert.ok(Math.abs(phases["then `openclaw health --json` ok (the gateway already serving)"]! - 23.9) < 1e-9);
    assert.equal(phases["down: config, release switch and plugins"], 1);
    const down = Object.entries(phases)
        .filter(([name]) => name.startsWith("down:"))
        .reduce((sum, [, s]) => sum + s, 0);
    assert.ok(Math.abs(down - 94.1) < 1e-9, String(down));
});

test("every marker the bench reads is a line upgrade-openclaw.sh logs", () => {
    const script = readFileSync("cloud-init/upgrade-openclaw.sh", "utf8");
    const logged = [...script.matchAll(/\blog "([^"]*)"/g)].map((m) => m[1]!);
    for (const marker of [
        /^check: openclaw/,
        /^check: passed/,
        /^backup: starting/,
        /^backup: snapshot/,
        /^upgrade: stopping the gateway/,
        /^upgrade: state copied aside/,
        /^upgrade: starting the gateway/,
        /is ready and healthy/,
        /^ROLLBACK:/,
        /^rollback: openclaw .* is back/,
    ]) {
        assert.ok(
            logged.some((line) => marker.test(line)),
            `${marker} matches no log line of upgrade-openclaw.sh`,
        );
    }
});
