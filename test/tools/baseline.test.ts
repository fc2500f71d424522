// cloud-init/baseline.sh (the kernel and system baseline the push applies) with the real tools, never on this machine:
// it runs in a private mount + network namespace where /etc is a copy and /run, /home, /var/lib are empty tmpfs
// (PROVISION_SANDBOX), with BASELINE_SYSCTL_APPLY=0 so the shared kernel is left alone. It runs twice: the second run
// changes nothing.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLOUD_INIT_DIR, PROVISION_SANDBOX, requireTool, runInPrivateNamespace, tempDir } from "../helpers/provisioning";

const BASELINE = path.join(CLOUD_INIT_DIR, "baseline.sh");

describe("baseline.sh", () => {
    let work: ReturnType<typeof tempDir>;
    let runs = "";
    const read = (name: string) => fs.readFileSync(path.join(work.dir, name), "utf8");

    before(() => {
        for (const [tool, pkg] of [
            ["useradd", "passwd"],
            ["stat", "coreutils"],
        ]) {
            requireTool(tool!, pkg!);
        }
        work = tempDir("baseline");
        const script = String.raw`${PROVISION_SANDBOX}
# A human user cloud-init made with a world-readable home (the admin), and cron/sshd files as Ubuntu ships them.
useradd --create-home --home-dir /home/human --uid 4300 --shell /bin/bash human
chmod 0755 /home/human
printf 'SHELL=/bin/sh\n' >/etc/crontab
mkdir -p /etc/ssh /etc/cron.d /etc/cron.daily
touch /etc/ssh/sshd_config
chmod 0644 /etc/crontab /etc/ssh/sshd_config
chmod 0755 /etc/cron.d /etc/cron.daily
export BASELINE_SYSCTL_APPLY=0
state() { find /etc /home -xdev -printf '%p %m %u:%g %T@ %l\n' 2>/dev/null | sort; }
run() { local status=0; bash "$BASELINE" >>"$DIR/runs.out" 2>&1 || status=$?; echo "exit=$status" >>"$DIR/runs.out"; }
run
state >"$DIR/state-1"
stat -c '%n %a' /home/human /etc/crontab /etc/ssh/sshd_config /etc/cron.d /etc/cron.daily >"$DIR/modes"
grep -E '^(UMASK|HOME_MODE)[[:space:]]' /etc/login.defs >"$DIR/login.defs" || true
cat /etc/sysctl.d/60-openclaw-vps-hardening.conf >"$DIR/sysctl" || true
cat /etc/modprobe.d/openclaw-vps-hardening.conf >"$DIR/modprobe" || true
cat /etc/security/limits.d/60-openclaw-vps-no-core.conf /etc/systemd/system.conf.d/60-openclaw-vps-no-core.conf >"$DIR/core" || true
sleep 0.05
run
state >"$DIR/state-2"
`;
        const result = runInPrivateNamespace(script, { DIR: work.dir, BASELINE });
        runs = fs.existsSync(path.join(work.dir, "runs.out")) ? read("runs.out") : "";
        assert.equal(result.status, 0, `${result.stderr}\n${runs}`);
    });
    after(() => work?.cleanup());

    it("runs twice without error; the second run changes nothing", () => {
        assert.deepEqual(
            [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => m[1]),
            ["0", "0"],
            runs,
        );
        assert.ok(read("state-1").includes("/etc/sysctl.d/60-openclaw-vps-hardening.conf 644 root:root"));
        assert.equal(read("state-2"), read("state-1"));
        assert.match(runs, /sysctl: \/etc\/sysctl.d\/60-openclaw-vps-hardening.conf written, not applied/);
    });

    it("writes the kernel sysctls, the module blacklist and the no-core-dump limits", () => {
        const sysctl = read("sysctl").split("\n");
        for (const line of [
            "kernel.kptr_restrict = 2",
            "kernel.dmesg_restrict = 1",
            "kernel.unprivileged_bpf_disabled = 1",
            "fs.protected_fifos = 2",
            "fs.protected_regular = 2",
            "fs.suid_dumpable = 0",
            "net.ipv4.conf.all.rp_filter = 1",
            "net.ipv4.conf.all.log_martians = 1",
            "net.ipv4.conf.all.send_redirects = 0",
        ]) {
            assert.ok(sysctl.includes(line), line);
        }
        // Lynis (NETW-3200) accepts exactly `install <module> /bin/true`.
        for (const module of ["dccp", "sctp", "rds", "tipc", "usb-storage", "firewire-core"]) {
            assert.match(read("modprobe"), new RegExp(`^install ${module} /bin/true$`, "m"));
        }
        assert.match(read("core"), /^\* hard core 0$/m);
        assert.match(read("core"), /^DefaultLimitCORE=0$/m);
    });

    it("UMASK 027 and HOME_MODE 0750 (replacing the setting lines, not the comments); homes, cron and sshd_config private", () => {
        assert.equal(read("login.defs").replace(/[ \t]+/g, " "), "UMASK 027\nHOME_MODE 0750\n");
        assert.equal(read("modes"), "/home/human 750\n/etc/crontab 600\n/etc/ssh/sshd_config 600\n/etc/cron.d 700\n/etc/cron.daily 700\n");
    });
});
