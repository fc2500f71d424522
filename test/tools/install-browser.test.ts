// cloud-init/install-browser.sh without touching this machine's apt (SKIP_APT=1, every file under a scratch root):
// on Ubuntu it adds Debian 12's suites signed by exactly Debian's two archive keys (the real keyrings, fingerprints
// checked with gpg), pins Debian to "only what Ubuntu lacks" and Chromium to Debian, lets unattended upgrades take
// its security updates and writes the AppArmor userns profile where the kernel restricts user namespaces; a keyring
// with another key is refused; a rerun writes nothing; on Debian it adds no source and no profile.
// The real install (apt, Debian's archive) runs on the stand-in VPS; Ubuntu's archive is not reachable from here.
import "../helpers/contract";
import { test } from "node:test";
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
    const go = () =>
        run("bash", [script], { env: { ...process.env, APT_ROOT: root, SKIP_APT: "1", OS_RELEASE: osRelease, USERNS_RESTRICT: restrict } });
    return { root, go, read: (p: string) => fs.readFileSync(path.join(root, p), "utf8") };
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
