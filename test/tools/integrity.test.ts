// File integrity and the rootkit scan (cloud-init/integrity.sh, components/render/integrity.ts) with the real tools:
// our AIDE configuration passes `aide --config-check`; a baseline, then a changed watched file, a new key in the agent
// user's ~/.ssh and a changed memory file: only the watched ones are reported (paths, never contents), they stay
// reported until a new baseline, and the watchdog's `integrity` check (audit-host.sh) turns them into a failure
// naming the paths; apt's dpkg-post baseline keeps what a check found; while a push runs the check leaves its changes
// alone. chkrootkit: a real run against a small root, where the known false positives are left out by name and a
// planted hidden file is a finding.
import "../helpers/contract";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { renderAideConfig, renderIntegrityAptHook, watchedPaths } from "../../components/render/integrity";
import { renderAuditScript } from "../../components/verify/checks";
import { requireTool, run, tempDir } from "../helpers/provisioning";

const SCRIPT = path.resolve(__dirname, "../../cloud-init/integrity.sh");

describe("integrity.sh with the real AIDE", () => {
    let work: ReturnType<typeof tempDir>;
    let root: string;
    let state: string;
    let config: string;
    const integrity = (...args: string[]) =>
        run("bash", [SCRIPT, ...args], {
            env: { ...process.env, INTEGRITY_AIDE_CONFIG: config, INTEGRITY_STATE_DIR: state, INTEGRITY_PACKAGE_TIMERS: "0" },
        });
    const file = (p: string, content: string) => {
        fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
        fs.writeFileSync(path.join(root, p), content);
    };
    const changed = () => fs.readFileSync(path.join(state, "aide.changed"), "utf8").split("\n").filter(Boolean);
    const status = () => fs.readFileSync(path.join(state, "aide.status"), "utf8");

    before(() => {
        if (process.getuid?.() !== 0) throw new Error("integrity.sh runs as root");
        requireTool("aide", "aide");
        work = tempDir("integrity");
        root = path.join(work.dir, "host");
        state = path.join(work.dir, "state");
        config = path.join(work.dir, "aide.conf");
        file("/etc/ssh/sshd_config", "PasswordAuthentication no\n");
        file("/etc/sudoers.d/ops", "ops ALL=(ALL) NOPASSWD:ALL\n");
        file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        file("/home/ops/.ssh/authorized_keys", "ssh-ed25519 AAAA admin\n");
        file("/home/ops/notes.txt", "not watched\n");
        file("/home/openclaw/.openclaw/workspace/memory/today.md", "the agent's memory\n");
        file("/etc/openclaw-vps/alerts.env", "ALERT_NTFY_URL=https://ntfy.example/SECRET-SENTINEL-77\n");
        fs.writeFileSync(config, renderAideConfig({ adminUser: "ops", root }));
    });
    after(() => work?.cleanup());

    test("our configuration passes aide --config-check, with SHA-256 and no Debian include", () => {
        const r = run("aide", ["--config-check", "--config", config]);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const text = fs.readFileSync(config, "utf8");
        assert.match(text, /^Watched = .*\bsha256\b/m);
        assert.doesNotMatch(text, /@@x?_?include/);
        const selections = text.split("\n").filter((l) => l.startsWith("/") || l.startsWith("="));
        assert.ok(selections.length > 40, `${selections.length} selection lines`);
        for (const line of selections) assert.doesNotMatch(line, /workspace|\\\.openclaw/, line);
        // Every watched path is a selection line; the agent's state dir is not among them.
        for (const { path: p } of watchedPaths("ops")) assert.ok(text.includes(`${root}${p}`.replace(/\./g, "\\.")), p);
    });

    test("baseline, then only watched changes are reported, by path, until a new baseline", () => {
        let r = integrity("baseline");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.ok(fs.statSync(path.join(root, "var/lib/aide/aide.db")).mode % 0o1000 === 0o600, "the database is root-only");
        r = integrity("check");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(status(), /^result=clean$/m);

        file("/etc/ssh/sshd_config", "PasswordAuthentication yes\n");
        file("/home/openclaw/.ssh/authorized_keys", "ssh-ed25519 AAAA intruder\n");
        file("/etc/openclaw-vps/alerts.env", "ALERT_NTFY_URL=https://ntfy.example/SECRET-SENTINEL-78\n");
        file("/home/openclaw/.openclaw/workspace/memory/today.md", "the agent wrote more\n");
        file("/home/ops/notes.txt", "changed, not watched\n");
        r = integrity("check");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(status(), /^result=changed$/m);
        assert.deepEqual(changed(), [
            `${root}/etc/openclaw-vps/alerts.env`,
            `${root}/etc/ssh/sshd_config`,
            `${root}/home/openclaw/.ssh`,
            `${root}/home/openclaw/.ssh/authorized_keys`,
        ]);
        // Paths only: no content or checksum reaches the status files or the log.
        const everything = fs.readdirSync(state).map((f) => fs.readFileSync(path.join(state, f), "utf8"));
        for (const text of [...everything, r.stdout, r.stderr])
            assert.doesNotMatch(text, /SECRET-SENTINEL|PasswordAuthentication|intruder/);

        // Sticky: putting a file back does not make the change go away; apt's dpkg-post baseline keeps it too.
        file("/etc/ssh/sshd_config", "PasswordAuthentication no\n");
        assert.equal(integrity("dpkg-post").status, 0);
        assert.equal(integrity("check").status, 0);
        assert.match(status(), /^result=changed$/m);
        assert.equal(changed().length, 4);

        // The push's baseline accepts everything: clean again.
        assert.equal(integrity("baseline").status, 0);
        assert.equal(integrity("check").status, 0);
        assert.match(status(), /^result=clean$/m);
        assert.deepEqual(changed(), []);
    });

    test("while a push runs, the check and apt's hooks leave its changes to the push's baseline", () => {
        const sleeper = spawn("sleep", ["600"]);
        try {
            assert.equal(integrity("push-start", String(sleeper.pid)).status, 0);
            file("/etc/sudoers.d/ops", "ops ALL=(ALL) ALL\n");
            const r = integrity("check");
            assert.match(r.stdout, /a push is running/);
            assert.equal(integrity("dpkg-pre").status, 0);
            assert.match(status(), /^result=clean$/m);
            assert.equal(integrity("baseline").status, 0);
            assert.ok(!fs.existsSync(path.join(state, "push.pid")), "the baseline ends the push's hold");
        } finally {
            sleeper.kill();
        }
        // A push that died (its PID gone) holds nothing.
        fs.writeFileSync(path.join(state, "push.pid"), "999999999\n");
        file("/etc/sudoers.d/ops", "ops ALL=(ALL) NOPASSWD:ALL\n");
        assert.equal(integrity("dpkg-pre").status, 0);
        assert.deepEqual(changed(), [`${root}/etc/sudoers.d/ops`]);
        assert.equal(integrity("baseline").status, 0);
    });

    test("the watchdog's integrity check names the changed paths and passes after a baseline", () => {
        const audit = () => {
            const r = run("bash", ["-s"], {
                input: renderAuditScript({
                    adminUser: "ops",
                    agentUser: "nobody",
                    gatewayPort: 18789,
                    backupSchedule: "hourly",
                    metadataPaths: ["/hetzner/v1/userdata"],
                    only: ["integrity"],
                }),
                env: { ...process.env, HOST_INTEGRITY_STATE: state },
            });
            assert.equal(r.status, 0, r.stderr);
            return r.stdout.split("\n").filter((l) => l.startsWith("AUDIT\tfile-integrity\t"));
        };
        assert.match(audit()[0] ?? "", /\tpass\tcritical\tAIDE: no watched file changed/);
        file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nbackdoor:x:0:0::/:/bin/sh\n");
        assert.equal(integrity("check").status, 0);
        const line = audit()[0] ?? "";
        assert.match(line, /\tfail\tcritical\t1 watched path\(s\) changed since the last push: \S+\/etc\/passwd /);
        assert.doesNotMatch(line, /backdoor/);
        // A check that has not run for days is a warning of its own.
        fs.writeFileSync(path.join(state, "aide.status"), "result=clean\nchecked_at=1000\n");
        assert.match(audit()[0] ?? "", /\tfail\twarning\tno AIDE check for \d+ h/);
        assert.equal(integrity("baseline").status, 0);
        assert.match(audit()[0] ?? "", /\tpass\t/);
    });

    test("apt's hooks call the check before dpkg and the baseline after it, never failing apt", () => {
        const hook = renderIntegrityAptHook();
        assert.match(hook, /^DPkg::Pre-Invoke \{ "if \[ -x \S+integrity\.sh \]; then \S+ dpkg-pre \|\| true; fi"; \};$/m);
        assert.match(hook, /^DPkg::Post-Invoke \{ "if \[ -x \S+integrity\.sh \]; then \S+ dpkg-post \|\| true; fi"; \};$/m);
        const r = run("apt-config", ["dump", "-c", writeTemp(work.dir, "apt.conf", hook)]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /DPkg::Pre-Invoke:: "if \[ -x \/opt\/openclaw-vps\/bin\/integrity\.sh \]/);
    });
});

function writeTemp(dir: string, name: string, text: string): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
}

describe("integrity.sh rootkit-scan with the real chkrootkit", () => {
    let work: ReturnType<typeof tempDir>;
    let root: string;
    let state: string;
    const scan = () =>
        run("bash", [SCRIPT, "rootkit-scan"], {
            env: {
                ...process.env,
                INTEGRITY_STATE_DIR: state,
                // Its file checks only ("aliens"), against a small root; -r prefixes what it prints with that root.
                INTEGRITY_CHKROOTKIT: `chkrootkit -q -r ${root}/ aliens`,
                INTEGRITY_CHKROOTKIT_ROOT: root,
            },
        });

    before(() => {
        if (process.getuid?.() !== 0) throw new Error("chkrootkit runs as root");
        requireTool("chkrootkit", "chkrootkit");
        work = tempDir("rootkit");
        root = path.join(work.dir, "host");
        state = path.join(work.dir, "state");
        for (const d of ["usr/lib", "usr/bin", "usr/sbin", "bin", "sbin", "lib", "etc", "dev", "tmp", "var/tmp", "root"])
            fs.mkdirSync(path.join(root, d), { recursive: true });
        // chkrootkit writes /proc/syslogk to detect the Syslogk rootkit: the real /proc refuses it, as on a host.
        fs.symlinkSync("/proc", path.join(root, "proc"));
        // What fail2ban ships on every host of ours: Apache test fixtures that chkrootkit lists as hidden files.
        for (const d of ["digest", "basic/file"]) {
            const dir = path.join(root, "usr/lib/python3/dist-packages/fail2ban/tests/files/config/apache-auth", d);
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, ".htaccess"), "AuthType Digest\n");
            fs.writeFileSync(path.join(dir, ".htpasswd"), "user:hash\n");
        }
    });
    after(() => work?.cleanup());

    test("a clean root: only the known false positives, left out by name", () => {
        const r = scan();
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(fs.readFileSync(path.join(state, "rootkit.status"), "utf8"), /^result=clean$/m);
        assert.match(r.stdout, /0 finding\(s\), 4 known false positive\(s\) left out/);
    });

    test("a planted hidden file in /usr/lib is a finding, named in the status and the watchdog's summary", () => {
        fs.mkdirSync(path.join(root, "usr/lib/.hidden-kit"));
        const r = scan();
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(fs.readFileSync(path.join(state, "rootkit.status"), "utf8"), /^result=found$/m);
        const findings = fs.readFileSync(path.join(state, "rootkit.findings"), "utf8").trim().split("\n");
        assert.deepEqual(findings, ["The following suspicious files and directories were found: /usr/lib/.hidden-kit"]);
        const audit = run("bash", ["-s"], {
            input: renderAuditScript({
                adminUser: "ops",
                agentUser: "nobody",
                gatewayPort: 18789,
                backupSchedule: "hourly",
                metadataPaths: ["/hetzner/v1/userdata"],
                only: ["integrity"],
            }),
            env: { ...process.env, HOST_INTEGRITY_STATE: state },
        });
        assert.match(audit.stdout, /^AUDIT\trootkit-scan\tfail\tcritical\tchkrootkit: .*\/usr\/lib\/\.hidden-kit/m);
        fs.rmdirSync(path.join(root, "usr/lib/.hidden-kit"));
    });
});
