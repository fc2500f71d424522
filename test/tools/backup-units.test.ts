// The backup job's files checked by their real consumers: systemd-analyze (verify, calendar) for the service and
// timer, rclone for the rendered remote, shellcheck for the host scripts, and bash for the manifest path encoding.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { CONTRACT_ENV_FILE } from "../helpers/contract";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import {
    BACKUP_HOST_SCRIPTS,
    BACKUP_SERVICE_NAME,
    BACKUP_TIMER_NAME,
    renderBackupService,
    renderBackupTimer,
    validateBackupSchedule,
} from "../../components/render/backup-units";
import { renderBackupEnv, renderRcloneConfig } from "../../components/render/rclone";
import { HOST_SCRIPTS_DIR } from "../../standin/backup-host";
import { makeTempDir, requireTools } from "../helpers/backup";

let tmp: string;

before(() => {
    requireTools({ "systemd-analyze": "systemd", rclone: "rclone", shellcheck: "shellcheck" });
    tmp = makeTempDir("openclaw-vps-backup-units-");
});
after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    return spawnSync(command, args, { encoding: "utf8", env });
}

describe("backup units, rclone config and host scripts, checked by their real consumers", () => {
    test("systemd-analyze verify accepts the service and timer without a single warning", () => {
        // ExecStart must exist for verify: render with the scripts' real location in this checkout's copy.
        const bin = path.join(tmp, "bin");
        fs.mkdirSync(bin, { recursive: true });
        for (const script of BACKUP_HOST_SCRIPTS) fs.copyFileSync(path.join(HOST_SCRIPTS_DIR, script), path.join(bin, script));
        fs.chmodSync(path.join(bin, "backup.sh"), 0o755);
        for (const schedule of ["hourly", "*-*-* 00/6:00:00", "Mon..Fri *-*-* 02:30:00"]) {
            const dir = fs.mkdtempSync(path.join(tmp, "units-"));
            fs.writeFileSync(path.join(dir, BACKUP_SERVICE_NAME), renderBackupService({ binDir: bin }));
            fs.writeFileSync(path.join(dir, BACKUP_TIMER_NAME), renderBackupTimer({ schedule }));
            const result = run("systemd-analyze", ["verify", path.join(dir, BACKUP_SERVICE_NAME), path.join(dir, BACKUP_TIMER_NAME)]);
            assert.equal(result.status, 0, `verify failed for ${schedule}: ${result.stderr}`);
            assert.equal(result.stderr.trim(), "", `systemd warned about the units (${schedule})`);
        }
        // The same check does catch a broken schedule (so the assertion above means something).
        const broken = path.join(tmp, "broken");
        fs.mkdirSync(broken);
        fs.writeFileSync(path.join(broken, BACKUP_SERVICE_NAME), renderBackupService({ binDir: bin }));
        fs.writeFileSync(
            path.join(broken, BACKUP_TIMER_NAME),
            renderBackupTimer().replace("OnCalendar=hourly", "OnCalendar=every full moon"),
        );
        assert.notEqual(
            run("systemd-analyze", ["verify", path.join(broken, BACKUP_SERVICE_NAME), path.join(broken, BACKUP_TIMER_NAME)]).status,
            0,
        );
    });

    test("the timer is persistent, randomized, and fires on the configured calendar", () => {
        const timer = renderBackupTimer({ schedule: "*-*-* 00/6:00:00", randomizedDelay: "15min" });
        assert.match(timer, /^OnCalendar=\*-\*-\* 00\/6:00:00$/m);
        assert.match(timer, /^Persistent=true$/m);
        assert.match(timer, /^RandomizedDelaySec=15min$/m);
        assert.match(timer, /^Unit=openclaw-backup\.service$/m);
        assert.match(renderBackupTimer(), /^OnCalendar=hourly$/m, "default schedule is hourly");
        const service = renderBackupService();
        assert.match(service, /^Type=oneshot$/m);
        assert.match(service, /^ExecStart=\/opt\/openclaw-vps\/bin\/backup\.sh$/m, "default path is the host contract's");
    });

    test("every schedule the validator accepts is a calendar systemd understands; the ones it refuses are caught early", () => {
        for (const schedule of ["hourly", "daily", "weekly", "*-*-* 00/6:00:00", "*:00", "Mon..Fri 02:30", "*-*-* 04:00:00 UTC"]) {
            assert.equal(validateBackupSchedule(schedule), undefined, schedule);
            const result = run("systemd-analyze", ["calendar", "--iterations", "2", schedule]);
            assert.equal(result.status, 0, `systemd-analyze calendar ${schedule}: ${result.stderr}`);
            assert.match(result.stdout, /Next elapse:/);
        }
        // More often than hourly (every 2 or 30 minutes, twice an hour), or not one line of calendar syntax.
        for (const schedule of [
            "",
            "minutely",
            "*:*",
            "*:0/2",
            "*:0/30",
            "*:00,30",
            "*-*-* *:*:*",
            "*-*-* 01:00:0/10",
            "hourly\nExecStart=/bin/sh",
            " hourly",
            "daily; rm -rf /",
        ]) {
            assert.notEqual(validateBackupSchedule(schedule), undefined, JSON.stringify(schedule));
            // systemd itself would run the ones that are valid calendars that often: the rule, not systemd, stops them.
        }
        assert.equal(run("systemd-analyze", ["calendar", "*:0/2"]).status, 0, "systemd accepts every two minutes; our rule must refuse it");
        assert.throws(() => renderBackupTimer({ schedule: "hourly\n[Service]" }), /at most once an hour/);
        assert.throws(() => renderBackupTimer({ randomizedDelay: "soon" }), /time span/);
    });

    test("rclone reads the rendered remote as a Cloudflare S3 remote with the R2 endpoint", () => {
        const file = path.join(tmp, "rclone.conf");
        fs.writeFileSync(
            file,
            renderRcloneConfig({ accountId: "0123456789abcdef0123456789abcdef", accessKeyId: "AKID123", secretAccessKey: "f".repeat(64) }),
            { mode: 0o600 },
        );
        const env = { ...process.env };
        delete env.AWS_CA_BUNDLE;
        const dump = run("rclone", ["config", "dump", "--config", file], env);
        assert.equal(dump.status, 0, dump.stderr);
        const r2 = (JSON.parse(dump.stdout) as Record<string, Record<string, string>>).r2;
        assert.deepEqual(r2, {
            type: "s3",
            provider: "Cloudflare",
            access_key_id: "AKID123",
            secret_access_key: "f".repeat(64),
            endpoint: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
            region: "auto",
            acl: "private",
            no_check_bucket: "true",
        });
    });

    test("backup.env is read (not executed) by the host scripts, and its values arrive", () => {
        const etc = path.join(tmp, "etc-env");
        fs.mkdirSync(etc, { recursive: true });
        fs.writeFileSync(
            path.join(etc, "backup.env"),
            renderBackupEnv({
                bucketName: "agent-memory",
                restoreFrom: "20261126T050000Z",
                recipient: "age180rmhsmjdvezkvjdjfs9gmdrfz798gts6etk56ac7lypm6uqe5fsvute2z",
                transfers: 4,
                includeState: false,
            }) +
                "EVIL=$(touch " +
                path.join(tmp, "pwned") +
                ")\n",
        );
        fs.writeFileSync(path.join(etc, "rclone.conf"), "[r2]\ntype = s3\n");
        const probe = `source "${HOST_SCRIPTS_DIR}/backup-lib.sh"; load_backup_env; init_backup_settings; echo "$BACKUP_REMOTE|$RESTORE_FROM|$BACKUP_TRANSFERS|$BACKUP_INCLUDE_STATE|$AGENT_USER|$SNAPSHOTS_URL|$BACKUP_FULL_PREFIX|$BACKUP_DIFF_PREFIX|$BACKUP_RECIPIENT|$EVIL"`;
        const result = run("bash", ["-c", probe], {
            PATH: process.env.PATH,
            OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
            OPENCLAW_VPS_ETC_DIR: etc,
            OPENCLAW_VPS_LIB_DIR: path.join(tmp, "lib"),
        });
        assert.equal(result.status, 0, result.stderr);
        assert.equal(
            result.stdout.trim(),
            `r2:agent-memory|20261126T050000Z|4|0|openclaw|r2:agent-memory/snapshots|fulls/|diffs/|age180rmhsmjdvezkvjdjfs9gmdrfz798gts6etk56ac7lypm6uqe5fsvute2z|$(touch ${path.join(tmp, "pwned")})`,
        );
        assert.equal(fs.existsSync(path.join(tmp, "pwned")), false, "a value was executed");
        // The environment wins over the file (one-off operator overrides, tests).
        const overridden = run("bash", ["-c", probe], {
            PATH: process.env.PATH,
            OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
            OPENCLAW_VPS_ETC_DIR: etc,
            BACKUP_REMOTE: "r2:other",
        });
        assert.match(overridden.stdout, /^r2:other\|/);
    });

    test("manifest paths with %, backslash, tab and newline survive encoding and decoding in bash", () => {
        const names = ["plain.md", "100% sure.md", "back\\slash.md", "tab\there.md", "new\nline.md", "ünï €.md", "%0A literal.md"];
        const script = `source "${HOST_SCRIPTS_DIR}/backup-lib.sh"
while IFS= read -r -d '' name; do
    encoded=$(encode_manifest_path "$name")
    [[ $encoded != *$'\\t'* && $encoded != *$'\\n'* ]] || { echo "unsafe: $encoded"; exit 1; }
    decoded=$(decode_manifest_path "$encoded"; printf x); decoded=\${decoded%x}
    [[ $decoded == "$name" ]] || { echo "mismatch: $encoded"; exit 1; }
done`;
        const result = spawnSync("bash", ["-c", script], { input: names.map((n) => `${n}\0`).join(""), encoding: "utf8" });
        assert.equal(result.status, 0, result.stdout + result.stderr);
    });

    test("shellcheck passes on every backup host script; the archive tool runs on plain Node", () => {
        const shell = BACKUP_HOST_SCRIPTS.filter((s) => s.endsWith(".sh"));
        const result = run("shellcheck", ["-x", ...shell.map((s) => path.join(HOST_SCRIPTS_DIR, s))]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        const js = run(process.execPath, ["--check", path.join(HOST_SCRIPTS_DIR, "backup-archive.js")]);
        assert.equal(js.status, 0, js.stderr);
        for (const script of shell) {
            const text = fs.readFileSync(path.join(HOST_SCRIPTS_DIR, script), "utf8");
            assert.match(text, /^#!\/usr\/bin\/env bash\n/, `${script} shebang`);
            assert.match(text, /^set -euo pipefail$/m, `${script} strict mode`);
        }
    });
});
