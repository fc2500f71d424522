// The memory bucket's layout and its rules, stated once (components/core/backup-layout.ts): the host's archive tool
// agrees with it, restoreFrom's grammar, the lock and lifecycle relations that keep every protected diff's full alive,
// and the restore plan's installer (what reaches a new server, on stdin).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as path from "node:path";
import {
    ARCHIVE_KEY,
    BACKUP_LAYOUT,
    bucketExpiryRules,
    bucketLockRules,
    DIFF_MAX_DISTANCE_SECONDS,
    FULL_INTERVAL_SECONDS,
    parseBeforeTime,
    parseRestoreFrom,
} from "../../components/core/backup-layout";
import { PROJECT_ROOT } from "../../components/core/pins";
import { renderPlanInstaller } from "../../components/render/restore-plan";
import { emptyPlan, PLAN_FORMAT } from "../../components/snapshots/plan";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the host's CommonJS tool, as the host's Node loads it
const archiveTool = require(path.join(PROJECT_ROOT, "cloud-init", "backup-archive.js")) as {
    LAYOUT: Record<string, string>;
    encodePath(b: Buffer): string;
    decodePath(s: string): Buffer;
};

const DAY = 86_400;

describe("the bucket layout", () => {
    test("the host's archive tool names what the layout names", () => {
        for (const [key, value] of Object.entries(archiveTool.LAYOUT))
            assert.equal(value, BACKUP_LAYOUT[key as keyof typeof BACKUP_LAYOUT], `backup-archive.js LAYOUT.${key}`);
        assert.ok(Object.keys(archiveTool.LAYOUT).length >= 4);
    });

    test("manifest paths: any bytes in, printable ASCII without tabs or newlines out, and back", () => {
        const names = [
            Buffer.from("plain.md"),
            Buffer.from("100% sure\\back\ttab\nnew.md"),
            Buffer.from("ünï €.md"),
            Buffer.from([0xe9, 0xff, 0x00, 0x7f]),
        ];
        for (const name of names) {
            const encoded = archiveTool.encodePath(name);
            assert.match(encoded, /^[\x20-\x7e]*$/);
            assert.doesNotMatch(encoded, /[\t\n\\]/);
            assert.ok(archiveTool.decodePath(encoded).equals(name), encoded);
        }
    });

    test("restoreFrom: latest, none, before:<zoned time>, an archive key, an old-layout id; nothing else", () => {
        assert.deepEqual(parseRestoreFrom("latest"), { kind: "latest" });
        assert.deepEqual(parseRestoreFrom("none"), { kind: "none" });
        assert.deepEqual(parseRestoreFrom("before:2026-11-20T03:00:00Z"), { kind: "before", time: new Date("2026-11-20T03:00:00Z") });
        assert.deepEqual(parseRestoreFrom("before:2026-11-20T04:00+01:00"), { kind: "before", time: new Date("2026-11-20T03:00:00Z") });
        assert.deepEqual(parseRestoreFrom("diffs/20261120T020512Z-1a2b3c4d.tar.zst.age"), {
            kind: "archive",
            key: "diffs/20261120T020512Z-1a2b3c4d.tar.zst.age",
        });
        assert.deepEqual(parseRestoreFrom("20261120T020000Z"), { kind: "legacy", id: "20261120T020000Z" });
        for (const bad of [
            "",
            "Latest",
            "before:2026-11-20T03:00:00",
            "before:2026-13-40T03:00:00Z",
            "fulls/../x.tar.zst.age",
            "meta/holds-snapshots",
        ])
            assert.equal(parseRestoreFrom(bad), undefined, bad);
        assert.equal(parseBeforeTime("2026-11-20 03:00"), undefined, "a time without a zone would depend on the machine");
        assert.ok(ARCHIVE_KEY.test(`fulls/20261120T000000Z-0a0b0c0d${BACKUP_LAYOUT.archiveSuffix}`));
    });

    test("fulls are locked and kept a day longer than diffs, so every protected diff keeps its full", () => {
        for (const [lockDays, retentionDays] of [
            [7, 30],
            [1, 2],
            [14, 90],
        ]) {
            const lock = Object.fromEntries(bucketLockRules(lockDays).map((r) => [r.prefix, r.maxAgeSeconds]));
            const expiry = Object.fromEntries(bucketExpiryRules(retentionDays).map((r) => [r.prefix, r.maxAgeSeconds]));
            assert.equal(lock["fulls/"], (lockDays + 1) * DAY);
            assert.equal(lock["diffs/"], lockDays * DAY);
            assert.equal(lock["meta/"], undefined, "the marker is locked indefinitely");
            assert.equal(expiry["fulls/"], (retentionDays + 1) * DAY);
            assert.equal(expiry["diffs/"], retentionDays * DAY);
            assert.equal(expiry["meta/"], undefined, "the marker never expires");
            // A diff trusted at all is at most DIFF_MAX_DISTANCE younger than its full: it is unlocked and expires
            // no later than its full.
            assert.ok(DIFF_MAX_DISTANCE_SECONDS + lock["diffs/"]! <= lock["fulls/"]!);
            assert.ok(DIFF_MAX_DISTANCE_SECONDS + expiry["diffs/"]! <= expiry["fulls/"]!);
            for (const prefix of ["fulls/", "diffs/", "snapshots/"]) assert.ok(lock[prefix]! < expiry[prefix]!, prefix);
        }
        assert.ok(FULL_INTERVAL_SECONDS < DIFF_MAX_DISTANCE_SECONDS, "the host takes a full before its diffs could stop being trusted");
    });
});

describe("the restore plan's installer", () => {
    test("puts the plan, root-only, on /run, and not at all once the server has restored", () => {
        const plan = emptyPlan("latest", "empty", "test").text;
        assert.match(plan, new RegExp(`^format=${PLAN_FORMAT.replace(/[/.]/g, "\\$&")}$`, "m"));
        const script = renderPlanInstaller(plan);
        assert.match(script, /^umask 077$/m);
        assert.match(script, /^if \[ -e '\/var\/lib\/openclaw-vps\/restore\.done' \]; then .*exit 0; fi$/m);
        assert.match(script, /^mv -f '\/run\/openclaw-vps\/restore-plan'\.tmp '\/run\/openclaw-vps\/restore-plan'$/m);
        assert.ok(
            script.includes(`<<'OPENCLAW_VPS_RESTORE_PLAN_EOF'\n${plan}OPENCLAW_VPS_RESTORE_PLAN_EOF\n`),
            "the plan verbatim, quoted",
        );
    });

    test("refuses anything that is not a plain KEY=value line (nothing in a plan can run on the host)", () => {
        for (const bad of ["mode=archives\n$(reboot)", "mode=a`id`", "OPENCLAW_VPS_RESTORE_PLAN_EOF", "mode=x\nrm -rf /", "identity=a;b"])
            assert.throws(() => renderPlanInstaller(bad), /not a plain KEY=value line/, bad);
    });
});
