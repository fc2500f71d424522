// Pure checks of the backup renderers (components/render/rclone.ts, backup-units.ts): shapes, validation, and that
// no error message ever repeats a credential.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BACKUP_HOST_SCRIPTS, renderBackupService, renderBackupTimer, validateBackupSchedule } from "../../components/render/backup-units";
import { r2Endpoint, renderBackupEnv, renderRcloneConfig, validateRestoreFrom } from "../../components/render/rclone";
import { generateIdentity } from "../../components/core/age";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const SECRET = "SENTINEL-secret-value-abc123";
const RECIPIENT = generateIdentity().recipient;

describe("rclone remote and backup.env renderers", () => {
    test("the r2 remote points at the account's R2 endpoint, skips bucket checks and keeps objects private", () => {
        const text = renderRcloneConfig({ accountId: ACCOUNT, accessKeyId: "tokenid", secretAccessKey: SECRET });
        const lines = text.split("\n");
        assert.ok(lines.includes("[r2]"));
        for (const line of [
            "type = s3",
            "provider = Cloudflare",
            "access_key_id = tokenid",
            `secret_access_key = ${SECRET}`,
            `endpoint = ${r2Endpoint(ACCOUNT)}`,
            "no_check_bucket = true",
            "acl = private",
        ]) {
            assert.ok(lines.includes(line), line);
        }
        assert.equal(r2Endpoint(ACCOUNT), `https://${ACCOUNT}.r2.cloudflarestorage.com`);
        assert.match(
            renderRcloneConfig({
                accountId: "ignored-with-endpoint",
                accessKeyId: "a",
                secretAccessKey: "b",
                endpoint: "http://127.0.0.1:9000",
            }),
            /^endpoint = http:\/\/127\.0\.0\.1:9000$/m,
        );
    });

    test("bad inputs are refused without echoing a credential", () => {
        const cases: [Parameters<typeof renderRcloneConfig>[0], RegExp][] = [
            [{ accountId: "NOT-HEX", accessKeyId: "a", secretAccessKey: SECRET }, /accountId/],
            [{ accountId: ACCOUNT, accessKeyId: "a", secretAccessKey: `${SECRET}\n[evil]` }, /secretAccessKey/],
            [{ accountId: ACCOUNT, accessKeyId: `${SECRET} x`, secretAccessKey: "b" }, /accessKeyId/],
            [{ accountId: ACCOUNT, accessKeyId: "a", secretAccessKey: "" }, /secretAccessKey/],
            [{ accountId: ACCOUNT, accessKeyId: "a", secretAccessKey: "b", endpoint: "ftp://x" }, /endpoint/],
        ];
        for (const [input, message] of cases) {
            assert.throws(
                () => renderRcloneConfig(input),
                (e: Error) => message.test(e.message) && !e.message.includes(SECRET),
            );
        }
    });

    test("backup.env carries the remote, the age recipient, the bucket layout, the restore choice and the job settings", () => {
        assert.equal(
            renderBackupEnv({ bucketName: "agent-memory", restoreFrom: "latest", recipient: RECIPIENT }),
            "# openclaw-vps: settings of openclaw-backup.service and restore.sh (written by the deploy).\n" +
                `BACKUP_REMOTE=r2:agent-memory\nBACKUP_RECIPIENT=${RECIPIENT}\n` +
                "BACKUP_FULL_PREFIX=fulls/\nBACKUP_DIFF_PREFIX=diffs/\nBACKUP_MARKER_KEY=meta/holds-snapshots\nBACKUP_LEGACY_PREFIX=snapshots/\n" +
                "BACKUP_ARCHIVE_SUFFIX=.tar.zst.age\nBACKUP_FULL_INTERVAL_SECONDS=84600\n" +
                "RESTORE_FROM=latest\nBACKUP_TRANSFERS=8\nBACKUP_INCLUDE_STATE=1\nAGENT_USER=openclaw\n",
        );
        assert.match(
            renderBackupEnv({
                bucketName: "b-1x",
                restoreFrom: "before:2026-11-20T03:00:00Z",
                recipient: RECIPIENT,
                includeState: false,
                transfers: 3,
            }),
            /RESTORE_FROM=before:2026-11-20T03:00:00Z\nBACKUP_TRANSFERS=3\nBACKUP_INCLUDE_STATE=0\n/,
        );
        const ok = { bucketName: "ok-bucket", restoreFrom: "latest", recipient: RECIPIENT };
        assert.throws(() => renderBackupEnv({ ...ok, bucketName: "Bad_Bucket" }), /bucketName/);
        assert.throws(() => renderBackupEnv({ ...ok, restoreFrom: "yesterday" }), /restoreFrom/);
        assert.throws(() => renderBackupEnv({ ...ok, transfers: 0 }), /transfers/);
        assert.throws(() => renderBackupEnv({ ...ok, agentUser: "x;rm" }), /agentUser/);
        assert.throws(() => renderBackupEnv({ ...ok, recipient: "AGE-SECRET-KEY-1ABC" }), /recipient/);
        for (const value of [
            "latest",
            "none",
            "before:2026-11-20T03:00:00Z",
            "before:2026-11-20T03:00+01:00",
            "diffs/20261120T020512Z-1a2b3c4d.tar.zst.age",
            "fulls/20261120T000000Z-0a0b0c0d.tar.zst.age",
            "20261126T050000Z",
        ])
            assert.equal(validateRestoreFrom(value), undefined, value);
        for (const value of ["2026-11-26", "before:2026-11-20T03:00:00", "before:yesterday", "diffs/x.tar.zst.age", "../fulls/a"])
            assert.match(validateRestoreFrom(value) ?? "", /latest, none, before:/, value);
    });
});

describe("backup systemd units", () => {
    test("service and timer follow the host contract and the schedule", () => {
        assert.deepEqual([...BACKUP_HOST_SCRIPTS], ["backup-lib.sh", "backup.sh", "restore.sh", "backup-archive.js"]);
        const service = renderBackupService();
        assert.match(service, /^ExecStart=\/opt\/openclaw-vps\/bin\/backup\.sh$/m);
        assert.match(service, /^Type=oneshot$/m);
        const timer = renderBackupTimer({ schedule: "daily" });
        assert.match(timer, /^OnCalendar=daily$/m);
        assert.match(timer, /^Persistent=true$/m);
        assert.match(timer, /^RandomizedDelaySec=10min$/m);
        assert.equal(validateBackupSchedule("hourly"), undefined);
        assert.match(validateBackupSchedule("minutely") ?? "", /at most once an hour/);
        assert.throws(() => renderBackupService({ binDir: "relative/bin" }), /absolute/);
    });
});
