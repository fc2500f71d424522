// provision.sh's own behaviour, with the real tools but never on this machine: every run happens in a private
// mount + network namespace where /etc is a copy and /run, /home, /opt, /usr/local/bin, /var/lib, /var/log are
// empty tmpfs. Covers: step list and arguments, config errors and a failing step (state=failed, step name,
// non-zero exit), the system steps (ssh check, unattended upgrades, agent user, metadata block, time zone) run twice
// with nothing changed the second time. (Node and OpenClaw are the push's: test/tools/upgrade-openclaw.test.ts.)
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderProvisionEnv } from "../../components/render/user-data";
import { renderSshdHardening } from "../../components/render/sshd-hardening";
import {
    EXAMPLE_USER_DATA_INPUT,
    PROVISION_SANDBOX,
    PROVISION_SCRIPT,
    readStatusFile,
    requireTool,
    run,
    runInPrivateNamespace,
    tempDir,
} from "../helpers/provisioning";

const STEPS = ["packages", "ufw", "ssh", "cloudflared", "agent_user", "bruteforce", "upgrades", "metadata", "swap", "timezone", "rclone"];

function envFile(overrides: Record<string, string> = {}): string {
    let text = renderProvisionEnv({ ...EXAMPLE_USER_DATA_INPUT, timezone: "America/New_York" });
    for (const [key, value] of Object.entries(overrides)) text = text.replace(new RegExp(`^${key}=.*$`, "m"), `${key}=${value}`);
    return text;
}

describe("provision.sh", () => {
    before(() => {
        for (const [tool, pkg] of [
            ["bash", "bash"],
            ["flock", "util-linux"],
            ["runuser", "util-linux"],
            ["useradd", "passwd"],
            ["/usr/sbin/sshd", "openssh-server"],
            ["apt-config", "apt"],
            ["curl", "curl"],
            ["xz", "xz-utils"],
            ["sha256sum", "coreutils"],
        ]) {
            requireTool(tool, pkg);
        }
    });

    it("--list prints the steps in order; an unknown step or argument is refused", () => {
        const list = run("bash", [PROVISION_SCRIPT, "--list"]);
        assert.equal(list.status, 0, list.stderr);
        assert.deepEqual(list.stdout.trim().split("\n"), STEPS);
        const unknown = run("bash", [PROVISION_SCRIPT, "--only", "ufw,nonsense"]);
        assert.equal(unknown.status, 2);
        assert.match(unknown.stderr, /unknown step: nonsense/);
        assert.equal(run("bash", [PROVISION_SCRIPT, "--bogus"]).status, 2);
    });

    describe("failures", () => {
        let work: ReturnType<typeof tempDir>;
        before(() => (work = tempDir("provision-fail")));
        after(() => work?.cleanup());

        it("a bad provision.env fails at step 'config', saying which key, with state=failed", () => {
            fs.writeFileSync(path.join(work.dir, "provision.env"), envFile({ ADMIN_USER: "root" }));
            const result = runInPrivateNamespace(`${PROVISION_SANDBOX}provision`, { DIR: work.dir, PROVISION: PROVISION_SCRIPT });
            assert.equal(result.status, 0, result.stderr);
            const runs = fs.readFileSync(path.join(work.dir, "runs.out"), "utf8");
            assert.match(runs, /ERROR: ADMIN_USER must be a user name other than root/);
            assert.match(runs, /FAILED at step 0\/11 config/);
            assert.match(runs, /^exit=1$/m);
            const status = readStatusFile(path.join(work.dir, "provision.status"));
            assert.equal(status.state, "failed");
            assert.equal(status.name, "config");
            assert.match(status.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        });

        it("a failing step stops the run: state=failed with its name and number, its exit status, the log has why", () => {
            assert.equal(STEPS[0], "packages", "this test stubs apt-get, so it must fail in the very first step");
            const stubs = path.join(work.dir, "stubs");
            fs.mkdirSync(stubs, { recursive: true });
            fs.writeFileSync(path.join(stubs, "apt-get"), "#!/bin/sh\necho 'E: stub apt-get: mirror unreachable' >&2\nexit 100\n", {
                mode: 0o755,
            });
            fs.writeFileSync(path.join(work.dir, "provision.env"), envFile());
            fs.rmSync(path.join(work.dir, "runs.out"), { force: true });
            const console = path.join(work.dir, "console");
            fs.writeFileSync(console, "");
            const result = runInPrivateNamespace(
                `${PROVISION_SANDBOX}export PATH="$STUBS:$PATH" PROVISION_CONSOLE="$CONSOLE_FILE"\nprovision`,
                {
                    CONSOLE_FILE: console,
                    DIR: work.dir,
                    PROVISION: PROVISION_SCRIPT,
                    STUBS: stubs,
                },
            );
            assert.equal(result.status, 0, result.stderr);
            const runs = fs.readFileSync(path.join(work.dir, "runs.out"), "utf8");
            assert.match(runs, /^exit=100$/m, runs);
            assert.match(runs, /FAILED at step 1\/11 packages \(exit 100/);
            assert.doesNotMatch(runs, /step 2\/11/, "nothing after the failed step runs");
            assert.deepEqual(
                (({ step, name, state }) => ({ step, name, state }))(readStatusFile(path.join(work.dir, "provision.status"))),
                { step: "1/11", name: "packages", state: "failed" },
            );
            assert.match(fs.readFileSync(path.join(work.dir, "provision.log"), "utf8"), /E: stub apt-get: mirror unreachable/);
            assert.match(runs, /openclaw-vps provision FAILED at step packages \(exit 100\)/, "the reason reaches stderr too");
            // The serial console gets the step lines and, on failure, the log's tail with the cause.
            const consoleText = fs.readFileSync(console, "utf8");
            assert.match(consoleText, /step 1\/11 packages: start/);
            assert.match(consoleText, /E: stub apt-get: mirror unreachable/);
        });
    });

    describe("system steps: ssh, upgrades, agent_user, metadata, timezone", () => {
        let work: ReturnType<typeof tempDir>;
        let runs = "";
        const read = (name: string) => fs.readFileSync(path.join(work.dir, name), "utf8");

        before(() => {
            work = tempDir("provision-system");
            fs.writeFileSync(path.join(work.dir, "provision.env"), envFile());
            fs.writeFileSync(path.join(work.dir, "dropin.conf"), renderSshdHardening({ adminUser: EXAMPLE_USER_DATA_INPUT.adminUser }));
            const script = String.raw`${PROVISION_SANDBOX}
# What user data leaves behind before provision.sh runs.
install -m 0644 "$DIR/dropin.conf" /etc/ssh/sshd_config.d/01-openclaw-hardening.conf
echo 'PasswordAuthentication yes' >/etc/ssh/sshd_config.d/50-cloud-init.conf
ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || ssh-keygen -A >/dev/null
state() { # everything these steps may touch: path, mode, owner, mtime, link target
  find /etc /home /var/lib -xdev -printf '%p %m %u:%g %T@ %l\n' 2>/dev/null | sort
}
provision --only ssh,upgrades,agent_user,metadata,timezone
state >"$DIR/state-1"
sed -n '/openclaw-vps metadata block: begin/,/openclaw-vps metadata block: end/p' /etc/ufw/before.rules >"$DIR/metadata-block"
grep -m 1 '^-A ' /etc/ufw/before.rules >"$DIR/before-rules-first"
getent passwd openclaw >"$DIR/passwd" || true
id -nG openclaw >"$DIR/groups" || true
stat -c '%n %a %U:%G' /home/openclaw /home/openclaw/.openclaw >"$DIR/homes" || true
ls /var/lib/systemd/linger >"$DIR/linger" || true
readlink /etc/localtime >"$DIR/localtime" || true
cat /etc/timezone >"$DIR/timezone" || true
apt-config shell u APT::Periodic::Unattended-Upgrade l APT::Periodic::Update-Package-Lists r Unattended-Upgrade::Automatic-Reboot >"$DIR/apt" || true
apt-config dump Unattended-Upgrade::Origins-Pattern >"$DIR/origins" || true
sleep 0.05
provision --only ssh,upgrades,agent_user,metadata,timezone
state >"$DIR/state-2"
# A drop-in that sorts before ours and turns passwords back on must fail the ssh step.
echo 'PasswordAuthentication yes' >/etc/ssh/sshd_config.d/00-weaker.conf
provision --only ssh
`;
            const result = runInPrivateNamespace(script, { DIR: work.dir, PROVISION: PROVISION_SCRIPT });
            runs = fs.existsSync(path.join(work.dir, "runs.out")) ? read("runs.out") : "";
            assert.equal(result.status, 0, `${result.stderr}\n${runs}`);
        });
        after(() => work?.cleanup());

        it("runs all four steps, twice, without error", () => {
            const exits = [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => m[1]);
            assert.deepEqual(exits.slice(0, 2), ["0", "0"], `${runs}\n${read("provision.log")}`);
            for (const step of ["ssh", "upgrades", "agent_user", "metadata", "timezone"]) {
                assert.equal((runs.match(new RegExp(`step \\d+/11 ${step}: ok`, "g")) ?? []).length, 2, step);
            }
        });

        it("creates the agent user: nologin shell, no sudo, private home and state dir, no linger (the gateway is a system unit)", () => {
            const [name, , , , , home, shell] = read("passwd").trim().split(":");
            assert.deepEqual([name, home, shell], ["openclaw", "/home/openclaw", "/usr/sbin/nologin"]);
            assert.doesNotMatch(read("groups"), /\b(sudo|admin|wheel)\b/);
            assert.equal(read("homes"), "/home/openclaw 750 openclaw:openclaw\n/home/openclaw/.openclaw 700 openclaw:openclaw\n");
            assert.equal(read("linger").trim(), "", "no user manager runs for the agent");
        });

        it("puts the metadata block for the agent's uid into ufw's before.rules, ahead of every ufw rule (loopback included)", () => {
            const uid = read("passwd").split(":")[2];
            assert.equal(
                read("metadata-block"),
                [
                    "# openclaw-vps metadata block: begin (provision.sh)",
                    `-A ufw-before-output -d 169.254.169.254/32 -m owner --uid-owner ${uid} -j REJECT`,
                    "# openclaw-vps metadata block: end",
                    "",
                ].join("\n"),
            );
            assert.equal(read("before-rules-first"), `-A ufw-before-output -d 169.254.169.254/32 -m owner --uid-owner ${uid} -j REJECT\n`);
        });

        it("sets the time zone and turns unattended upgrades on, without their own reboot, with cloudflared's origin", () => {
            assert.equal(read("localtime").trim(), "/usr/share/zoneinfo/America/New_York");
            assert.equal(read("timezone"), "America/New_York\n");
            assert.equal(read("apt"), "u='1'\nl='1'\nr='false'\n");
            assert.match(read("origins"), /^Unattended-Upgrade::Origins-Pattern:: "origin=cloudflared,codename=any";$/m);
        });

        it("a second run changes nothing (same files, modes, owners and mtimes)", () => {
            assert.ok(read("state-1").includes("/etc/apt/apt.conf.d/20auto-upgrades"));
            assert.equal(read("state-2"), read("state-1"));
        });

        it("the ssh step fails when a weaker drop-in sorts first and wins", () => {
            const exits = [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => m[1]);
            assert.notEqual(exits[2], "0", runs);
            assert.match(runs, /effective sshd configuration lacks 'passwordauthentication no'/);
        });
    });
});
