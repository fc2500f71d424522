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
# fail2ban as provisioning leaves it; dpkg's override database empty, and the assembler a private copy (bind-mounted
# over the real one), so the mode change lands on the copy, never on this machine's binutils.
mkdir -p /etc/fail2ban /var/lib/dpkg
: >/var/lib/dpkg/statoverride
if assembler=$(readlink -e /usr/bin/as); then
  cp "$assembler" "$DIR/assembler"
  chmod 0755 "$DIR/assembler"
  mount --bind "$DIR/assembler" "$assembler"
fi
export BASELINE_SYSCTL_APPLY=0
state() { { find /etc /home -xdev -printf '%p %m %u:%g %T@ %l\n' 2>/dev/null; cat /var/lib/dpkg/statoverride; } | sort; }
run() { local status=0; bash "$BASELINE" >>"$DIR/runs.out" 2>&1 || status=$?; echo "exit=$status" >>"$DIR/runs.out"; }
run
state >"$DIR/state-1"
stat -c '%n %a' /home/human /etc/crontab /etc/ssh/sshd_config /etc/cron.d /etc/cron.daily >"$DIR/modes"
grep -E '^(UMASK|HOME_MODE|SHA_CRYPT_M[A-Z]+_ROUNDS|PASS_M[A-Z]+_DAYS)[[:space:]]' /etc/login.defs >"$DIR/login.defs" || true
cat /etc/issue /etc/issue.net >"$DIR/issue"
{ [ -n "\${assembler:-}" ] && stat -c '%a %U:%G' "$assembler" && cat /var/lib/dpkg/statoverride; } >"$DIR/assembler.out" || true
test -f /etc/fail2ban/jail.local && echo present >"$DIR/jail.local"
# A login shell as the human user: interactive ones get the idle timeout, read-only; scripts (non-interactive) never.
su - human -s /bin/bash -c 'bash -l -i -c "echo TMOUT=\$TMOUT; ulimit -c; TMOUT=0 2>&1 || echo readonly" </dev/null' >"$DIR/login-i" 2>&1 || true
su - human -s /bin/bash -c 'bash -l -c "echo TMOUT=\${TMOUT-unset}"' >"$DIR/login-n" 2>&1 || true
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
            "kernel.ctrl-alt-del = 0",
            "kernel.core_uses_pid = 1",
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
        const defs = read("login.defs")
            .replace(/[ \t]+/g, " ")
            .split("\n")
            .filter(Boolean)
            .sort();
        assert.deepEqual(defs, [
            "HOME_MODE 0750",
            "PASS_MAX_DAYS 99999",
            "PASS_MIN_DAYS 1",
            "SHA_CRYPT_MAX_ROUNDS 262144",
            "SHA_CRYPT_MIN_ROUNDS 65536",
            "UMASK 027",
        ]);
        assert.equal(read("modes"), "/home/human 750\n/etc/crontab 600\n/etc/ssh/sshd_config 600\n/etc/cron.d 700\n/etc/cron.daily 700\n");
    });

    it("interactive login shells close after 15 idle minutes (read-only) and dump no core; non-interactive ones never time out", () => {
        const interactive = read("login-i");
        assert.match(interactive, /^TMOUT=900$/m, interactive);
        assert.match(interactive, /^0$/m, `ulimit -c in a login shell\n${interactive}`);
        assert.match(interactive, /TMOUT: readonly variable/, interactive);
        assert.equal(read("login-n").trim().split("\n").pop(), "TMOUT=unset");
    });

    it("a legal banner for the console and SSH, a jail.local for fail2ban, the assembler for root only (kept by dpkg)", () => {
        const banner = read("issue");
        // Lynis (BANN-7126/7130) looks for at least five of its key words.
        const words = ["authorized", "monitor", "owner", "private", "prohibited", "restricted", "unauthorized"];
        assert.ok(words.filter((w) => banner.toLowerCase().includes(w)).length >= 5, banner);
        assert.equal(read("jail.local").trim(), "present");
        if (fs.existsSync(path.join(work.dir, "assembler"))) {
            const [mode, ...override] = read("assembler.out").trim().split("\n");
            assert.equal(mode, "750 root:root");
            assert.match(override.join("\n"), /^root root 0?750 \/usr\/bin\/\S+-as$/m);
        }
    });
});
