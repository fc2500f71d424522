// provision.sh's brute-force step with the real fail2ban, in the provision sandbox (private namespaces, /etc a copy):
// the jail it writes passes `fail2ban-client --test`, a real fail2ban-server starts with the sshd jail on the systemd
// journal backend (the one that works on Ubuntu 24.04, which has no auth.log), and a rerun changes nothing and
// restarts nothing. Only systemctl is a stand-in (no systemd here): it starts and stops that real server.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderProvisionEnv } from "../../components/render/user-data";
import {
    EXAMPLE_USER_DATA_INPUT,
    PROVISION_SANDBOX,
    PROVISION_SCRIPT,
    requireTool,
    runInPrivateNamespace,
    tempDir,
} from "../helpers/provisioning";

// Records every call; drives the real fail2ban-server for the unit provision.sh manages.
const SYSTEMCTL_STAND_IN = `#!/bin/bash
echo "systemctl $*" >>"$DIR/systemctl.calls"
case "$*" in
  "is-active --quiet fail2ban.service") fail2ban-client ping >/dev/null 2>&1 ;;
  "restart fail2ban.service") fail2ban-client stop >/dev/null 2>&1 || true; fail2ban-client -x start >/dev/null ;;
  *) exit 0 ;;
esac
`;

describe("brute-force step (fail2ban) of provision.sh", () => {
    let work: ReturnType<typeof tempDir>;
    let runs = "";
    const read = (name: string) => fs.readFileSync(path.join(work.dir, name), "utf8");

    before(() => {
        requireTool("fail2ban-client", "fail2ban");
        requireTool("/usr/bin/python3", "python3");
        work = tempDir("fail2ban");
        fs.writeFileSync(path.join(work.dir, "provision.env"), renderProvisionEnv(EXAMPLE_USER_DATA_INPUT));
        const stubs = path.join(work.dir, "stubs");
        fs.mkdirSync(stubs);
        fs.writeFileSync(path.join(stubs, "systemctl"), SYSTEMCTL_STAND_IN, { mode: 0o755 });
        const script = String.raw`${PROVISION_SANDBOX}
trap 'fail2ban-client stop >/dev/null 2>&1 || true' EXIT   # the server must not outlive the namespace
/usr/bin/python3 -c 'import systemd.journal' || { echo "python3-systemd is missing (apt-get install python3-systemd)" >&2; exit 3; }
mkdir -p /run/systemd/system   # provision.sh checks that systemd runs before it manages services
export PATH="$STUBS:$PATH"
provision --only bruteforce
stat -c '%Y %a %U' /etc/fail2ban/jail.d/openclaw-vps.local >"$DIR/jail-1"
fail2ban-client -d >"$DIR/dump" 2>/dev/null
fail2ban-client status sshd >"$DIR/status" 2>&1
cp "$DIR/systemctl.calls" "$DIR/calls-1"
sleep 1.1
provision --only bruteforce
stat -c '%Y %a %U' /etc/fail2ban/jail.d/openclaw-vps.local >"$DIR/jail-2"
`;
        const result = runInPrivateNamespace(script, { DIR: work.dir, PROVISION: PROVISION_SCRIPT, STUBS: stubs }, 180_000);
        runs = fs.existsSync(path.join(work.dir, "runs.out")) ? read("runs.out") : "";
        assert.equal(result.status, 0, `${result.stderr}\n${runs}`);
    });
    after(() => work?.cleanup());

    it("succeeds twice, with the sshd jail up", () => {
        const log = fs.existsSync(path.join(work.dir, "provision.log")) ? read("provision.log") : "";
        assert.deepEqual(
            [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => m[1]),
            ["0", "0"],
            `${runs}\n${log}`,
        );
        assert.match(log, /fail2ban: jail sshd is up/);
        assert.match(read("status"), /Status for the jail: sshd/);
    });

    it("runs the sshd jail on the systemd journal backend with an iptables ban action", () => {
        const dump = read("dump");
        assert.match(dump, /\['add', 'sshd', 'systemd'\]/);
        assert.match(dump, /'addjournalmatch', '_SYSTEMD_UNIT=sshd\.service', '\+', '_COMM=sshd'/);
        assert.match(dump, /'maxretry', '?5'?\]/);
        assert.match(dump, /iptables/);
    });

    it("enables the service, and a rerun neither rewrites the jail nor restarts fail2ban", () => {
        assert.match(read("calls-1"), /^systemctl enable --quiet fail2ban\.service$/m);
        assert.match(read("calls-1"), /^systemctl restart fail2ban\.service$/m);
        const secondRun = read("systemctl.calls").slice(read("calls-1").length);
        assert.doesNotMatch(secondRun, /restart/, secondRun);
        assert.equal(read("jail-2"), read("jail-1"));
        assert.match(read("jail-1"), / 644 root$/m);
    });
});
