// cloud-init/install-browser.sh without touching this machine's apt (SKIP_APT=1, every file under a scratch root):
// on Ubuntu it adds Debian 12's suites signed by exactly Debian's two archive keys (the real keyrings, fingerprints
// checked with gpg), pins Debian to "only what Ubuntu lacks" and Chromium to Debian, lets unattended upgrades take
// its security updates and writes the AppArmor userns profile where the kernel restricts user namespaces; a keyring
// with another key is refused; a rerun writes nothing; on Debian it adds no source and no profile.
// The deploy's browser stage (--prefetch) waits for provision.sh's apt=free before it writes anything, and
// runs of the script take turns on one lock (the stage and the push's own run).
// The real install (apt, Debian's archive) runs on the stand-in VPS; Ubuntu's archive is not reachable from here.
import "../helpers/contract";
import { test } from "node:test";
import { spawn, spawnSync } from "node:child_process";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { run, tempDir } from "../helpers/openclaw-runtime";

const script = path.join(PROJECT_ROOT, "cloud-init", "install-browser.sh");
const KEYRINGS = ["debian-archive-bookworm-automatic.gpg", "debian-archive-bookworm-security-automatic.gpg"];
for (const k of KEYRINGS) {
    if (!fs.existsSync(`/usr/share/keyrings/${k}`))
        throw new Error(`/usr/share/keyrings/${k} is needed: apt-get install debian-archive-keyring`);
}

function sandbox(os: "ubuntu" | "debian", restricted: boolean) {
    const root = tempDir(`oc-browser-${os}`);
    fs.mkdirSync(path.join(root, "usr/share/keyrings"), { recursive: true });
    for (const k of KEYRINGS) fs.copyFileSync(`/usr/share/keyrings/${k}`, path.join(root, "usr/share/keyrings", k));
    const osRelease = path.join(root, "os-release");
    fs.writeFileSync(osRelease, os === "ubuntu" ? 'ID=ubuntu\nVERSION_ID="24.04"\n' : 'ID=debian\nVERSION_ID="12"\n');
    const restrict = path.join(root, "restrict");
    fs.writeFileSync(restrict, restricted ? "1\n" : "0\n");
    const status = path.join(root, "provision.status");
    const lock = path.join(root, "browser.lock");
    const env = (extra: Record<string, string> = {}) => ({
        ...process.env,
        APT_ROOT: root,
        SKIP_APT: "1",
        OS_RELEASE: osRelease,
        USERNS_RESTRICT: restrict,
        PROVISION_STATUS: status,
        BROWSER_LOCK: lock,
        AGENT_USER: "root",
        ...extra,
    });
    const go = (args: string[] = [], extra: Record<string, string> = {}) => run("bash", [script, ...args], { env: env(extra) });
    /** Started in the background; `said(re)` resolves once its stderr matched. */
    const start = (args: string[], extra: Record<string, string> = {}) => {
        const child = spawn("bash", [script, ...args], { env: env(extra), stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        const waiters: { re: RegExp; resolve: () => void }[] = [];
        child.stderr.on("data", (chunk) => {
            stderr += chunk;
            for (const w of waiters.filter((w) => w.re.test(stderr))) w.resolve();
        });
        const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
            child.on("close", (code) => resolve({ code, stderr })),
        );
        const said = (re: RegExp) =>
            new Promise<void>((resolve, reject) => {
                if (re.test(stderr)) return resolve();
                waiters.push({ re, resolve });
                void exited.then(() => (re.test(stderr) ? resolve() : reject(new Error(`exited without saying ${re}:\n${stderr}`))));
            });
        return { said, exited };
    };
    const setStatus = (fields: string) =>
        fs.writeFileSync(status, `step=4/11\nname=cloudflared\n${fields}\nupdated=2026-12-02T08:00:00Z\n`);
    return { root, go, start, setStatus, lock, read: (p: string) => fs.readFileSync(path.join(root, p), "utf8") };
}

test("Ubuntu 24.04: Debian's suites signed by Debian's keys, pinned to Chromium, security updates unattended, userns profile", async () => {
    const box = sandbox("ubuntu", true);
    const first = await box.go();
    assert.equal(first.code, 0, first.stderr);
    const sources = box.read("etc/apt/sources.list.d/openclaw-vps-debian-chromium.sources");
    assert.match(
        sources,
        /URIs: http:\/\/deb\.debian\.org\/debian\nSuites: bookworm\n.*\nSigned-By: \/usr\/share\/keyrings\/debian-archive-bookworm-automatic\.gpg/s,
    );
    assert.match(
        sources,
        /Suites: bookworm-security\n.*\nSigned-By: \/usr\/share\/keyrings\/debian-archive-bookworm-security-automatic\.gpg/s,
    );
    const pins = box.read("etc/apt/preferences.d/openclaw-vps-debian-chromium");
    assert.match(pins, /Package: \*\nPin: release o=Debian\nPin-Priority: 100\n/, "Debian never outranks Ubuntu (500)");
    assert.match(pins, /Package: chromium chromium-common chromium-sandbox\nPin: release o=Debian,n=bookworm-security\nPin-Priority: 710/);
    assert.match(
        box.read("etc/apt/apt.conf.d/52openclaw-vps-chromium"),
        /"origin=Debian,codename=bookworm-security,label=Debian-Security";/,
    );
    const profile = box.read("etc/apparmor.d/openclaw-vps-chromium");
    assert.match(profile, /^profile openclaw-vps-chromium \/usr\/lib\/chromium\/chromium flags=\(unconfined\) \{\n {2}userns,$/m);

    const second = await box.go();
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /wrote /, "a rerun writes nothing");
});

test("Ubuntu: a keyring holding another key than Debian's is refused before any source is added", async () => {
    const box = sandbox("ubuntu", true);
    // The bookworm archive key where the security key is expected.
    fs.copyFileSync(path.join(box.root, "usr/share/keyrings", KEYRINGS[0]), path.join(box.root, "usr/share/keyrings", KEYRINGS[1]));
    const result = await box.go();
    assert.notEqual(result.code, 0);
    assert.match(
        result.stderr,
        /has key B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8; expected Debian's 05AB90340C0C5E797F44A8C8254CF3B5AEC0A8F0/,
    );
    assert.ok(!fs.existsSync(path.join(box.root, "etc/apt/sources.list.d/openclaw-vps-debian-chromium.sources")));
});

test("Debian 12 (the stand-in VPS): the host's own signed archive, no extra source, no AppArmor profile when userns is free", async () => {
    const box = sandbox("debian", false);
    const result = await box.go();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Debian 12: Chromium from the host's own signed archive/);
    assert.ok(!fs.existsSync(path.join(box.root, "etc/apt")), "no apt file written");
    assert.ok(!fs.existsSync(path.join(box.root, "etc/apparmor.d")), "no profile written");
});

const SOURCES = "etc/apt/sources.list.d/openclaw-vps-debian-chromium.sources";

test("--prefetch writes nothing while provisioning holds apt, and starts once the status says apt=free", async () => {
    const box = sandbox("ubuntu", true);
    box.setStatus("state=running\napt=busy");
    const stage = box.start(["--prefetch"]);
    await stage.said(/waiting for provisioning to finish with apt \(state=running apt=busy\)/);
    assert.ok(!fs.existsSync(path.join(box.root, SOURCES)), "no apt source while provisioning's apt runs");
    // provision.sh after its last apt step: still running, apt free.
    box.setStatus("state=running\napt=free");
    const { code, stderr } = await stage.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /provisioning is done with apt \(state=running\): fetching beside its remaining steps/);
    assert.match(box.read(SOURCES), /Suites: bookworm-security/);
});

test("--prefetch runs apt in a session of its own at nice 19 (autogroup and process); the push's run at normal priority", async () => {
    // Debian mode with apt on: an apt-get on PATH notes its session, its autogroup's nice and its own nice.
    const box = sandbox("debian", false);
    const bin = path.join(box.root, "stub-bin");
    const seen = path.join(box.root, "apt-seen");
    fs.mkdirSync(bin);
    fs.writeFileSync(
        path.join(bin, "apt-get"),
        `#!/bin/sh\necho "$1 sid=$(ps -o sid= -p $$ | tr -d ' ') ni=$(ps -o ni= -p $$ | tr -d ' ') $(sed 's/.* nice/autogroup-nice/' /proc/$$/autogroup)" >>${seen}\n`,
        { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${process.env.PATH}`, SKIP_APT: "0", BROWSER_BIN: "/bin/true" };
    // The test's own session, nice and autogroup, noted the same way. A process in the kernel's default autogroup (a
    // session that never called setsid, as under some CI runners) reads an empty /proc/<pid>/autogroup.
    const [mySid, myNice, ...myAutogroup] = spawnSync(
        "sh",
        ["-c", "echo $(ps -o sid= -p $$) $(ps -o ni= -p $$) $(sed 's/.* nice/autogroup-nice/' /proc/$$/autogroup)"],
        { encoding: "utf8" },
    )
        .stdout.trim()
        .split(/\s+/);
    const mine = [mySid, myNice, myAutogroup.join(" ")];
    const lines = () => fs.readFileSync(seen, "utf8").trim().split("\n");

    box.setStatus("state=done\napt=free");
    const staged = await box.go(["--prefetch"], env);
    assert.equal(staged.code, 0, staged.stderr);
    const stage = lines();
    // (`update` runs too where Chromium is not installed yet: not on this machine, which has it.)
    assert.ok(
        stage.some((l) => l.startsWith("install ")),
        stage.join("\n"),
    );
    for (const line of stage) {
        assert.match(line, / ni=19 autogroup-nice 19$/, line);
        assert.notEqual(/sid=(\d+)/.exec(line)![1], mine[0], "a session of its own");
    }

    fs.rmSync(seen);
    const pushed = await box.go([], env);
    assert.equal(pushed.code, 0, pushed.stderr);
    // The push's run stays in the caller's session, nice and autogroup, whichever they are.
    for (const line of lines())
        assert.equal(line.replace(/^\w+ /, "").trimEnd(), `sid=${mine[0]} ni=${mine[1]} ${mine[2]}`.trimEnd(), line);
});

test("--prefetch: a finished provisioning lets it start at once; a failed one or one that never frees apt fails it", async () => {
    const done = sandbox("debian", false);
    done.setStatus("state=done\napt=free");
    const ok = await done.go(["--prefetch"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /waiting for provisioning/);

    const failed = sandbox("ubuntu", true);
    failed.setStatus("state=failed\napt=busy");
    const refused = await failed.go(["--prefetch"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /provisioning failed \(see .*provision\.status\): the browser is not installed/);
    assert.ok(!fs.existsSync(path.join(failed.root, SOURCES)));

    const stuck = sandbox("ubuntu", true);
    stuck.setStatus("state=running\napt=busy");
    const timedOut = await stuck.go(["--prefetch"], { BROWSER_WAIT_SECONDS: "1" });
    assert.notEqual(timedOut.code, 0);
    assert.match(timedOut.stderr, /provisioning did not free apt within 1 s \(state=running apt=busy\)/);
    assert.ok(!fs.existsSync(path.join(stuck.root, SOURCES)));

    const unknown = await stuck.go(["--now"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown argument '--now'/);
});

test("runs take turns on one lock: the push's run waits for the browser stage, then installs with what the stage fetched", async () => {
    const box = sandbox("ubuntu", true);
    box.setStatus("state=running\napt=busy");
    // The stage holds the lock while it waits for provisioning...
    const stage = box.start(["--prefetch"]);
    await stage.said(/waiting for provisioning/);
    const push = box.start([]);
    await push.said(/another install-browser\.sh run holds .*browser\.lock \(the deploy's browser stage\); waiting for it/);
    assert.ok(!fs.existsSync(path.join(box.root, SOURCES)), "the push's run did not go ahead of the stage");
    // ...and the push's run goes on once the stage is done, writing nothing the stage wrote already.
    box.setStatus("state=done\napt=free");
    const staged = await stage.exited;
    assert.equal(staged.code, 0, staged.stderr);
    assert.match(staged.stderr, /wrote \/etc\/apt\/sources\.list\.d\/openclaw-vps-debian-chromium\.sources/);
    const pushed = await push.exited;
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stderr, /the other run is done/);
    // The stage fetched (sources, lists, packages); the push's run installs: the sources stay as the stage wrote them,
    // and the AppArmor profile for the installed binary comes with the install.
    assert.doesNotMatch(staged.stderr, /wrote \/etc\/apparmor\.d/);
    assert.deepEqual(
        pushed.stderr
            .split("\n")
            .filter((l) => l.includes(" wrote "))
            .map((l) => l.replace(/^.* wrote /, "")),
        ["/etc/apparmor.d/openclaw-vps-chromium"],
    );
    assert.equal(spawnSync("flock", ["-n", box.lock, "true"]).status, 0, "nobody holds the lock afterwards");
});
