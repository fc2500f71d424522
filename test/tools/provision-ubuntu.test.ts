// provision.sh against what an Ubuntu 24.04 cloud server does and the Debian machine running the tests does not, with
// the real apt-get, dpkg and gpg, never on this machine: every run is in a private mount + network namespace where /etc
// is a copy and /var/lib, /var/cache, /var/log are empty tmpfs (apt's and dpkg's state included), apt's only source a
// local file repository, and the installed packages a stub dpkg status. Covers:
//   - apt's lists lock held by another process (apt-get update fails at once: exit 100) is waited for and retried, with
//     a bound; apt-daily's own lock (/var/lib/apt/daily_lock, what apt.systemd.daily takes) is waited for first;
//   - a legacy time zone (US/Eastern) missing from tzdata gets tzdata-legacy where the archive has it, and fails with
//     a clear message where it does not;
//   - Cloudflare's signing key is refused unless it is exactly the pinned key (a wrong key, or the right one plus another);
//   - what needrestart says needs a restart is reported at the end.
import "../helpers/contract";
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderProvisionEnv } from "../../components/render/user-data";
import { EXAMPLE_USER_DATA_INPUT, PROVISION_SCRIPT, requireTool, run, runInPrivateNamespace, tempDir } from "../helpers/provisioning";

/** The packages step installs these: the stub dpkg status says they are installed, so apt has nothing to download. */
function packagesOfTheScript(): string[] {
    const block = /readonly PACKAGES=\(([\s\S]*?)\n\)/.exec(fs.readFileSync(PROVISION_SCRIPT, "utf8"));
    assert.ok(block, "PACKAGES not found in provision.sh");
    return block[1]
        .split("\n")
        .map((line) => line.replace(/#.*$/, ""))
        .join(" ")
        .split(/\s+/)
        .filter(Boolean);
}

/**
 * Prelude: this machine's writable places out of reach, apt and dpkg with empty private state, one local repository
 * ($DIR/repo, flat, unsigned, trusted) as the only source, and `provision ARGS...` that runs provision.sh and appends
 * its output and `exit=N` to $DIR/runs.out. `publish` rebuilds the repository from the .deb files in $DIR/repo.
 */
const APT_SANDBOX = String.raw`
mount -t tmpfs tmpfs /run
mkdir -p /run/lock
cp -a /etc "$DIR/etc"
mount --bind "$DIR/etc" /etc
for d in /home /opt /usr/local/bin /var/lib /var/log /var/cache; do mount -t tmpfs tmpfs "$d"; done
mkdir -p /var/lib/dpkg/updates /var/lib/dpkg/info /var/lib/apt/lists/partial /var/cache/apt/archives/partial
: >/var/lib/dpkg/available
for p in $STUB_INSTALLED; do
  printf 'Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: t <t@example.invalid>\nArchitecture: all\nVersion: 1.0\nDescription: stub\n\n' "$p"
done >/var/lib/dpkg/status
rm -f /etc/apt/sources.list.d/* /etc/apt/apt.conf.d/*proxy* /etc/apt/apt.conf.d/*standin*
mkdir -p "$DIR/repo"
publish() { (cd "$DIR/repo" && dpkg-scanpackages . /dev/null >Packages 2>/dev/null && apt-ftparchive release . >Release); }
deb() { # name version [file-to-ship:path-in-package]...
  local name=$1 version=$2 root; shift 2
  root=$(mktemp -d)
  mkdir -p "$root/DEBIAN"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test package\n' "$name" "$version" >"$root/DEBIAN/control"
  for spec in "$@"; do
    src=$(cut -d: -f1 <<<"$spec"); dest=$(cut -d: -f2 <<<"$spec")
    mkdir -p "$root/$(dirname "$dest")"; cp "$src" "$root/$dest"
  done
  dpkg-deb --root-owner-group --build "$root" "$DIR/repo/$name.deb" >/dev/null
  rm -rf "$root"
}
deb openclaw-vps-dummy 1.0
publish
echo "deb [trusted=yes] file:$DIR/repo ./" >/etc/apt/sources.list
export PROVISION_ENV_FILE="$DIR/provision.env" PROVISION_LOG="$DIR/provision.log" PROVISION_STATUS="$DIR/provision.status"
export PROVISION_CONSOLE=/dev/null PROVISION_LOCK="$DIR/provision.lock" PROVISION_APT_RETRY_SECONDS=1
provision() { # args...: runs provision.sh, records its exit status, never stops this script
  local status=0
  echo "--- provision $*" >>"$DIR/runs.out"
  bash "$PROVISION" "$@" >>"$DIR/runs.out" 2>&1 || status=$?
  echo "exit=$status" >>"$DIR/runs.out"
}
# Holds apt's lists lock the way apt-get does (an fcntl lock) until $DIR/release-$1 exists; returns once it holds it.
hold_lists_lock() { # name
  python3 -c '
import fcntl, os, sys, time
f = open("/var/lib/apt/lists/lock", "a"); fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[1] + "/held-" + sys.argv[2], "w").close()
while not os.path.exists(sys.argv[1] + "/release-" + sys.argv[2]): time.sleep(0.1)
' "$DIR" "$1" &
  until [[ -e $DIR/held-$1 ]]; do sleep 0.1; done
}
`;

function envFile(overrides: Record<string, string> = {}): string {
    let text = renderProvisionEnv({ ...EXAMPLE_USER_DATA_INPUT, timezone: "America/New_York" });
    for (const [key, value] of Object.entries(overrides)) text = text.replace(new RegExp(`^${key}=.*$`, "m"), `${key}=${value}`);
    return text;
}

function runSandbox(dir: string, script: string, env: Record<string, string> = {}) {
    fs.chmodSync(dir, 0o755); // apt's download method runs as _apt and reads the file repository
    return runInPrivateNamespace(
        APT_SANDBOX + script,
        { DIR: dir, PROVISION: PROVISION_SCRIPT, STUB_INSTALLED: packagesOfTheScript().join(" "), ...env },
        600_000,
    );
}

describe("provision.sh on what Ubuntu 24.04 does differently (real apt-get, dpkg, gpg; private namespaces)", () => {
    before(() => {
        for (const [tool, pkg] of [
            ["apt-get", "apt"],
            ["apt-ftparchive", "apt-utils"],
            ["dpkg-scanpackages", "dpkg-dev"],
            ["dpkg-deb", "dpkg"],
            ["gpg", "gnupg"],
            ["flock", "util-linux"],
            ["python3", "python3"],
        ]) {
            requireTool(tool, pkg);
        }
    });

    describe("apt's locks", () => {
        let work: ReturnType<typeof tempDir>;
        let runs = "";
        let log = "";
        let direct = "";
        before(() => {
            work = tempDir("provision-apt-locks");
            fs.writeFileSync(path.join(work.dir, "provision.env"), envFile());
            const result = runSandbox(
                work.dir,
                String.raw`
# 1. The failure this is about: apt-get update while another process holds the lists lock fails at once.
hold_lists_lock direct
{ apt-get -q -y update; echo "exit=$?"; } >"$DIR/direct.out" 2>&1 || true
touch "$DIR/release-direct"; wait

# 2. Someone else (not apt-daily) holds the lists lock: provision retries until it is free.
hold_lists_lock other
( sleep 4; touch "$DIR/release-other" ) &
provision --only packages
wait

# 3. apt-daily runs (it holds /var/lib/apt/daily_lock, like apt.systemd.daily): provision waits for it first.
flock /var/lib/apt/daily_lock sh -c 'touch "$DIR/daily-held"; while [ ! -e "$DIR/release-daily" ]; do sleep 0.1; done; touch "$DIR/daily-done"' &
until [[ -e $DIR/daily-held ]]; do sleep 0.1; done
( sleep 4; touch "$DIR/release-daily" ) &
provision --only packages
wait

# 4. The lock is never released: provision gives up after its bound, with the reason.
hold_lists_lock forever
PROVISION_APT_LOCK_WAIT=3 provision --only packages
touch "$DIR/release-forever"; wait
`,
            );
            const read = (name: string) =>
                fs.existsSync(path.join(work.dir, name)) ? fs.readFileSync(path.join(work.dir, name), "utf8") : "";
            runs = read("runs.out");
            log = read("provision.log");
            direct = read("direct.out");
            assert.equal(result.status, 0, `${result.stderr}\n${runs}`);
        });
        after(() => work?.cleanup());

        const exits = () => [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => Number(m[1]));

        it("reproduces the problem: a bare apt-get update fails at once (exit 100) on the held lists lock", () => {
            assert.match(direct, /Could not get lock \/var\/lib\/apt\/lists\/lock/);
            assert.match(direct, /^exit=100$/m);
        });

        it("retries apt-get update while another process holds the lists lock, and succeeds once it is free", () => {
            assert.equal(exits()[0], 0, runs);
            assert.match(log, /apt: 'update' found apt locked \(Could not get lock \/var\/lib\/apt\/lists\/lock/);
        });

        it("waits for a running apt-daily (its daily_lock) before it touches apt", () => {
            assert.equal(exits()[1], 0, runs);
            assert.match(log, /apt: apt-daily or apt-daily-upgrade is running; waiting up to 900 s/);
            assert.match(log, /apt: the daily job finished/);
            assert.ok(fs.existsSync(path.join(work.dir, "daily-done")), "the daily job ran to its end: nothing killed it");
        });

        it("gives up after its bound on a lock that never frees, saying so, and fails the packages step", () => {
            assert.notEqual(exits()[2], 0, runs);
            assert.match(log, /apt: still locked after 3 s: E: Could not get lock \/var\/lib\/apt\/lists\/lock/);
            assert.match(log, /FAILED at step 1\/13 packages \(exit 100/);
        });
    });

    describe("legacy time-zone names (tzdata-legacy)", () => {
        let work: ReturnType<typeof tempDir>;
        let runs = "";
        before(() => {
            work = tempDir("provision-tzdata-legacy");
            // A hand-edited provision.env: the renderer itself never writes a legacy name.
            fs.writeFileSync(path.join(work.dir, "provision.env"), envFile({ TIMEZONE: "US/Eastern" }));
            const result = runSandbox(
                work.dir,
                String.raw`
# Ubuntu 24.04's tzdata: no US/ directory (it is in tzdata-legacy).
cp -L /usr/share/zoneinfo/US/Eastern "$DIR/Eastern"
cp -a /usr/share/zoneinfo "$DIR/zoneinfo"
rm -rf "$DIR/zoneinfo/US"
mount --bind "$DIR/zoneinfo" /usr/share/zoneinfo
provision --only timezone
readlink /etc/localtime >"$DIR/localtime-1" || true
# Now the archive has tzdata-legacy (a package that ships the legacy names, here US/Eastern).
deb tzdata-legacy 2026a-1 "$DIR/Eastern:usr/share/zoneinfo/US/Eastern"
publish
apt-get -q -y update >/dev/null
provision --only timezone
readlink /etc/localtime >"$DIR/localtime-2"
cat /etc/timezone >"$DIR/timezone-2"
dpkg-query -W -f='${"${Status}"}\n' tzdata-legacy >"$DIR/legacy-status"
`,
            );
            runs = fs.existsSync(path.join(work.dir, "runs.out")) ? fs.readFileSync(path.join(work.dir, "runs.out"), "utf8") : "";
            assert.equal(result.status, 0, `${result.stderr}\n${runs}`);
        });
        after(() => work?.cleanup());

        it("without tzdata-legacy in the archive, fails the timezone step saying the zone is unknown", () => {
            assert.match(
                runs,
                /--- provision --only timezone\n[\s\S]*?unknown time zone US\/Eastern \(no \/usr\/share\/zoneinfo\/US\/Eastern, and no tzdata-legacy package that has it\)/,
            );
            assert.doesNotMatch(fs.readFileSync(path.join(work.dir, "localtime-1"), "utf8"), /US\/Eastern/, "the clock was left alone");
        });

        it("with tzdata-legacy in the archive, installs it (real apt-get and dpkg) and sets the zone", () => {
            const exits = [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => Number(m[1]));
            assert.deepEqual(exits, [1, 0], runs);
            assert.match(runs, /time zone: US\/Eastern is not in tzdata; installing tzdata-legacy/);
            assert.equal(fs.readFileSync(path.join(work.dir, "legacy-status"), "utf8").trim(), "install ok installed");
            assert.equal(fs.readFileSync(path.join(work.dir, "localtime-2"), "utf8").trim(), "/usr/share/zoneinfo/US/Eastern");
            assert.equal(fs.readFileSync(path.join(work.dir, "timezone-2"), "utf8"), "US/Eastern\n");
        });
    });

    describe("Cloudflare's signing key, pinned by fingerprint", () => {
        let work: ReturnType<typeof tempDir>;
        let runs = "";
        const keys: Record<string, string> = {};
        before(() => {
            work = tempDir("provision-cloudflare-key");
            const home = path.join(work.dir, "gnupg");
            fs.mkdirSync(home, { mode: 0o700 });
            const gpg = (...args: string[]) => run("gpg", ["--homedir", home, "--batch", ...args]);
            for (const name of ["pinned", "other"]) {
                assert.equal(
                    gpg("--passphrase", "", "--quick-gen-key", `${name} <${name}@example.invalid>`, "ed25519", "sign", "never").status,
                    0,
                );
                const listing = gpg("--with-colons", "--list-keys", `${name}@example.invalid`).stdout;
                keys[name] = /^fpr:+([0-9A-F]{40}):/m.exec(listing)![1];
                // Armored: provision.sh dearmors it the way it does a mirror's copy.
                fs.writeFileSync(path.join(work.dir, `${name}.asc`), gpg("--armor", "--export", keys[name]).stdout);
            }
            // The pinned key and a second one in one file: apt would trust both.
            fs.writeFileSync(path.join(work.dir, "both.asc"), gpg("--armor", "--export", keys.pinned, keys.other).stdout);
            run("gpgconf", ["--homedir", home, "--kill", "all"]);
            const script = ["other.asc", "both.asc"]
                .map((file) => {
                    fs.writeFileSync(
                        path.join(work.dir, `provision-${file}.env`),
                        envFile({ CLOUDFLARED_APT_KEY_URL: `file://${work.dir}/${file}`, CLOUDFLARED_APT_KEY_FINGERPRINT: keys.pinned }),
                    );
                    return `PROVISION_ENV_FILE="$DIR/provision-${file}.env" provision --only cloudflared\nls /usr/share/keyrings/cloudflare-main.gpg >>"$DIR/keyring" 2>&1 || true`;
                })
                .join("\n");
            const result = runSandbox(work.dir, `mount -t tmpfs tmpfs /usr/share/keyrings\n${script}\n`);
            runs = fs.existsSync(path.join(work.dir, "runs.out")) ? fs.readFileSync(path.join(work.dir, "runs.out"), "utf8") : "";
            assert.equal(result.status, 0, `${result.stderr}\n${runs}`);
        });
        after(() => work?.cleanup());

        it("refuses a key with another fingerprint before apt ever sees it", () => {
            assert.match(
                runs,
                new RegExp(`the key at file://\\S+/other\\.asc is ${keys.other} not the pinned ${keys.pinned}: refusing to trust it`),
            );
        });

        it("refuses a file that holds the pinned key and another one", () => {
            assert.match(
                runs,
                new RegExp(`the key at file://\\S+/both\\.asc is ${keys.pinned} ${keys.other} not the pinned ${keys.pinned}`),
            );
        });

        it("writes no keyring and no source list in either case", () => {
            const exits = [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => Number(m[1]));
            assert.deepEqual(exits, [1, 1], runs);
            assert.equal((fs.readFileSync(path.join(work.dir, "keyring"), "utf8").match(/No such file/g) ?? []).length, 2);
        });
    });

    describe("needrestart", () => {
        let work: ReturnType<typeof tempDir>;
        let log = "";
        before(() => {
            work = tempDir("provision-needrestart");
            fs.writeFileSync(path.join(work.dir, "provision.env"), envFile());
            const stubs = path.join(work.dir, "stubs");
            fs.mkdirSync(stubs);
            // needrestart's batch output (needrestart -b): what it found, as it prints it.
            fs.writeFileSync(
                path.join(stubs, "needrestart"),
                [
                    "#!/bin/sh",
                    'echo "$*" >>"$DIR/needrestart-args"',
                    "echo 'NEEDRESTART-VER: 3.6'",
                    "echo 'NEEDRESTART-KCUR: 6.8.0-40-generic'",
                    "echo 'NEEDRESTART-KEXP: 6.8.0-45-generic'",
                    "echo 'NEEDRESTART-KSTA: 3'",
                    "echo 'NEEDRESTART-SVC: cron.service'",
                    "echo 'NEEDRESTART-SVC: systemd-networkd.service'",
                    "",
                ].join("\n"),
                { mode: 0o755 },
            );
            // apt-get records the environment needrestart's apt hook would see.
            fs.writeFileSync(
                path.join(stubs, "apt-get"),
                '#!/bin/sh\nenv | grep "^NEEDRESTART" >>"$DIR/apt-env"; exec /usr/bin/apt-get "$@"\n',
                { mode: 0o755 },
            );
            const result = runSandbox(work.dir, `export PATH="$STUBS:$PATH"\nprovision --only packages\n`, { STUBS: stubs });
            log = fs.readFileSync(path.join(work.dir, "provision.log"), "utf8");
            assert.equal(result.status, 0, result.stderr);
        });
        after(() => work?.cleanup());

        it("suspends needrestart for every apt call (its apt hook restarts nothing under cloud-init)", () => {
            const env = fs.readFileSync(path.join(work.dir, "apt-env"), "utf8").trim().split("\n");
            assert.ok(env.length >= 3, "update, upgrade and install all ran");
            assert.deepEqual([...new Set(env)], ["NEEDRESTART_SUSPEND=1"], "no NEEDRESTART_MODE=a (automatic restarts) either");
        });

        it("reports what needs a restart at the end, asking needrestart to list only", () => {
            assert.equal(fs.readFileSync(path.join(work.dir, "needrestart-args"), "utf8"), "-b -r l\n");
            assert.match(
                log,
                /needs a restart \(not restarted during provisioning; `sudo needrestart -r a` or the next reboot does it\): cron\.service systemd-networkd\.service/,
            );
            assert.match(log, /needs a restart: the kernel was updated; reboot to run it/);
        });
    });
});
