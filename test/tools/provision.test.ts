// provision.sh's own behaviour, with the real tools but never on this machine: every run happens in a private
// mount + network namespace where /etc is a copy and /run, /home, /opt, /usr/local/bin, /var/lib, /var/log are
// empty tmpfs. Covers: step list and arguments, config errors and a failing step (state=failed, step name,
// non-zero exit), the system steps (ssh check, unattended upgrades, agent user, metadata block, time zone) run twice with nothing
// changed the second time, and the Node install from a mirror (checksum verified, skip when current, refusal of a
// tampered tarball, upgrade).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
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

const STEPS = [
    "packages",
    "ufw",
    "ssh",
    "bruteforce",
    "upgrades",
    "agent_user",
    "metadata",
    "swap",
    "timezone",
    "node",
    "openclaw",
    "cloudflared",
    "rclone",
];

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
            assert.match(runs, /FAILED at step 0\/13 config/);
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
            assert.match(runs, /FAILED at step 1\/13 packages \(exit 100/);
            assert.doesNotMatch(runs, /step 2\/13/, "nothing after the failed step runs");
            assert.deepEqual(
                (({ step, name, state }) => ({ step, name, state }))(readStatusFile(path.join(work.dir, "provision.status"))),
                { step: "1/13", name: "packages", state: "failed" },
            );
            assert.match(fs.readFileSync(path.join(work.dir, "provision.log"), "utf8"), /E: stub apt-get: mirror unreachable/);
            assert.match(runs, /openclaw-vps provision FAILED at step packages \(exit 100\)/, "the reason reaches stderr too");
            // The serial console gets the step lines and, on failure, the log's tail with the cause.
            const consoleText = fs.readFileSync(console, "utf8");
            assert.match(consoleText, /step 1\/13 packages: start/);
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
apt-config shell u APT::Periodic::Unattended-Upgrade l APT::Periodic::Update-Package-Lists >"$DIR/apt" || true
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
                assert.equal((runs.match(new RegExp(`step \\d+/13 ${step}: ok`, "g")) ?? []).length, 2, step);
            }
        });

        it("creates the agent user: nologin shell, no sudo, private home and state dir, linger on", () => {
            const [name, , , , , home, shell] = read("passwd").trim().split(":");
            assert.deepEqual([name, home, shell], ["openclaw", "/home/openclaw", "/usr/sbin/nologin"]);
            assert.doesNotMatch(read("groups"), /\b(sudo|admin|wheel)\b/);
            assert.equal(read("homes"), "/home/openclaw 750 openclaw:openclaw\n/home/openclaw/.openclaw 700 openclaw:openclaw\n");
            assert.equal(read("linger").trim(), "openclaw");
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

        it("sets the time zone and turns unattended upgrades on", () => {
            assert.equal(read("localtime").trim(), "/usr/share/zoneinfo/America/New_York");
            assert.equal(read("timezone"), "America/New_York\n");
            assert.equal(read("apt"), "u='1'\nl='1'\n");
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

    describe("node step, from a mirror", () => {
        let work: ReturnType<typeof tempDir>;
        let runs = "";
        const read = (name: string) => fs.readFileSync(path.join(work.dir, name), "utf8");

        /** A Node dist tree with fake builds (a `node` that prints its version), listed in SHASUMS256.txt. */
        function publish(version: string, options: { tamper?: boolean } = {}): void {
            const dist = path.join(work.dir, "dist", "latest-v24.x");
            fs.rmSync(dist, { recursive: true, force: true });
            fs.mkdirSync(dist, { recursive: true });
            const sums: string[] = [];
            for (const [platform, ext] of [
                ["linux-x64", "tar.xz"],
                ["linux-x64", "tar.gz"],
                ["linux-arm64", "tar.xz"],
                ["darwin-arm64", "tar.gz"],
            ]) {
                const name = `node-${version}-${platform}`;
                const bin = path.join(work.dir, "build", name, "bin");
                fs.mkdirSync(bin, { recursive: true });
                for (const tool of ["node", "npm", "npx"]) {
                    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho ${tool === "node" ? version : "10.0.0"}\n`, { mode: 0o755 });
                }
                const archive = path.join(dist, `${name}.${ext}`);
                const packed = run("tar", [ext === "tar.xz" ? "-cJf" : "-czf", archive, "-C", path.join(work.dir, "build"), name]);
                assert.equal(packed.status, 0, packed.stderr);
                let sha = crypto.createHash("sha256").update(fs.readFileSync(archive)).digest("hex");
                if (options.tamper && platform.startsWith("linux")) sha = sha.replace(/^./, (c) => (c === "0" ? "1" : "0"));
                sums.push(`${sha}  ${name}.${ext}`);
            }
            fs.writeFileSync(path.join(dist, "SHASUMS256.txt"), sums.join("\n") + "\n");
        }

        before(() => {
            work = tempDir("provision-node");
            fs.writeFileSync(path.join(work.dir, "provision.env"), envFile({ NODE_DIST_URL: `file://${work.dir}/dist` }));
            publish("v24.99.1");
            const script = String.raw`${PROVISION_SANDBOX}
tree() { find /opt /usr/local/bin -printf '%p %m %u %T@ %l\n' | sort; }
report() { # label
  { echo "$1 version=$(/usr/local/bin/node --version 2>&1 || true)"
    for t in node npm npx; do echo "$1 link $t=$(readlink /usr/local/bin/$t || true)"; done
    echo "$1 leftovers=$(find /opt/openclaw-vps -maxdepth 1 \( -name '.node-install.*' -o -name node.old \) | wc -l)"
  } >>"$DIR/report"
}
provision --only node; report first; tree >"$DIR/tree-1"
provision --only node; report second; tree >"$DIR/tree-2"
touch "$DIR/phase-tamper"; while [[ ! -e $DIR/phase-tamper-ready ]]; do sleep 0.1; done
provision --only node; report tampered
touch "$DIR/phase-upgrade"; while [[ ! -e $DIR/phase-upgrade-ready ]]; do sleep 0.1; done
provision --only node; report upgraded
`;
            // The mirror changes between runs: the namespace script waits for these flags while we republish.
            const child = spawn("unshare", ["--net", "--mount", "--propagation", "private", "bash", "-c", "set -euo pipefail\n" + script], {
                env: { ...process.env, DIR: work.dir, PROVISION: PROVISION_SCRIPT },
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stderr = "";
            child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
            return new Promise<void>((resolve, reject) => {
                const timer = setInterval(() => {
                    if (fs.existsSync(path.join(work.dir, "phase-tamper")) && !fs.existsSync(path.join(work.dir, "phase-tamper-ready"))) {
                        publish("v24.99.2", { tamper: true });
                        fs.writeFileSync(path.join(work.dir, "phase-tamper-ready"), "");
                    }
                    if (fs.existsSync(path.join(work.dir, "phase-upgrade")) && !fs.existsSync(path.join(work.dir, "phase-upgrade-ready"))) {
                        publish("v24.99.2");
                        fs.writeFileSync(path.join(work.dir, "phase-upgrade-ready"), "");
                    }
                }, 50);
                const kill = setTimeout(() => child.kill("SIGKILL"), 120_000);
                child.on("exit", (code) => {
                    clearInterval(timer);
                    clearTimeout(kill);
                    runs = fs.existsSync(path.join(work.dir, "runs.out")) ? read("runs.out") : "";
                    if (code === 0) resolve();
                    else reject(new Error(`namespace script exited ${code}: ${stderr}\n${runs}`));
                });
            });
        });
        after(() => work?.cleanup());

        it("installs the tarball listed for this machine, checksum verified, and links node, npm, npx", () => {
            const report = read("report");
            assert.match(runs, /^exit=0$/m, runs);
            assert.match(report, /^first version=v24\.99\.1$/m, report);
            for (const tool of ["node", "npm", "npx"]) {
                assert.match(report, new RegExp(`^first link ${tool}=/opt/openclaw-vps/node/bin/${tool}$`, "m"));
            }
            assert.match(report, /^first leftovers=0$/m);
            assert.match(read("tree-1"), /^\/opt\/openclaw-vps\/node 755 root /m);
        });

        it("skips a second run when that version is installed (nothing changes)", () => {
            assert.match(read("provision.log"), /node: v24\.99\.1 already installed/);
            assert.equal(read("tree-2"), read("tree-1"));
        });

        it("refuses a tarball whose checksum does not match, keeping the installed Node", () => {
            const exits = [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => m[1]);
            assert.deepEqual(exits, ["0", "0", "1", "0"], runs);
            assert.match(runs, /checksum mismatch for node-v24\.99\.2-linux-(x64|arm64)\.tar\.xz: refusing to install it/);
            assert.match(read("report"), /^tampered version=v24\.99\.1$/m);
        });

        it("upgrades when the mirror's newest release changes, leaving no temporary files", () => {
            assert.match(read("report"), /^upgraded version=v24\.99\.2$/m);
            assert.match(read("report"), /^upgraded leftovers=0$/m);
        });
    });
});
