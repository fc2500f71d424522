// The rendered sshd drop-in through the real sshd, laid out like Ubuntu 24.04 lays out its config: the main
// sshd_config Includes sshd_config.d/*.conf first, where cloud-init's 50-cloud-init.conf says
// PasswordAuthentication yes. `sshd -t` must accept it, `sshd -T` must show the hardened effective values, and a
// live sshd on loopback (in a private namespace, with the admin user only there) must let the admin in by key and
// nobody in any other way.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderSshdHardening, SSHD_HARDENING_PATH } from "../../components/render/sshd-hardening";
import { requireTool, run, runInPrivateNamespace, tempDir } from "../helpers/provisioning";

const ADMIN = "ops";
const ADMIN_UID = 4242;

interface Layout {
    dir: string;
    config: string;
    clientKey: string;
}

/** A temporary /etc/ssh look-alike; `withHardening: false` leaves our drop-in out (the control case). */
function layout(dir: string, withHardening: boolean): Layout {
    const dropins = path.join(dir, "sshd_config.d");
    fs.mkdirSync(dropins, { recursive: true });
    if (withHardening) fs.writeFileSync(path.join(dropins, path.basename(SSHD_HARDENING_PATH)), renderSshdHardening({ adminUser: ADMIN }));
    // What cloud-init writes when a provider image or user data turns password login on.
    fs.writeFileSync(path.join(dropins, "50-cloud-init.conf"), "PasswordAuthentication yes\n");
    // Values the main file sets after the Include on a less careful image: they must not win either.
    const config = path.join(dir, "sshd_config");
    fs.writeFileSync(
        config,
        [
            `Include ${dropins}/*.conf`,
            `HostKey ${dir}/ssh_host_ed25519_key`,
            "KbdInteractiveAuthentication yes",
            "PermitRootLogin yes",
            "MaxAuthTries 6",
            "UsePAM yes",
            "PidFile none",
            "",
        ].join("\n"),
    );
    const hostKey = path.join(dir, "ssh_host_ed25519_key");
    if (!fs.existsSync(hostKey)) assert.equal(run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]).status, 0);
    const clientKey = path.join(dir, "client_key");
    if (!fs.existsSync(clientKey)) assert.equal(run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey]).status, 0);
    return { dir, config, clientKey };
}

/** sshd refuses to run without its privilege separation directory: give it one on a private /run. */
const PRIVATE_RUN = "mount -t tmpfs tmpfs /run\nmkdir -m 0755 /run/sshd\n";

function effective(l: Layout, user: string): Map<string, string> {
    const result = runInPrivateNamespace(`${PRIVATE_RUN}/usr/sbin/sshd -T -f "$CONFIG" -C "user=$SSH_USER,host=localhost,addr=127.0.0.1"`, {
        CONFIG: l.config,
        SSH_USER: user,
    });
    assert.equal(result.status, 0, result.stderr);
    const values = new Map<string, string>();
    for (const line of result.stdout.split("\n")) {
        const space = line.indexOf(" ");
        if (space > 0) values.set(line.slice(0, space), line.slice(space + 1));
    }
    return values;
}

describe("sshd hardening drop-in, through the real sshd", () => {
    let work: ReturnType<typeof tempDir>;
    before(() => {
        requireTool("/usr/sbin/sshd", "openssh-server");
        requireTool("ssh", "openssh-client");
        requireTool("ssh-keygen", "openssh-client");
        work = tempDir("sshd");
    });
    after(() => work?.cleanup());

    it("renders AllowUsers for the admin and sorts before 50-cloud-init.conf", () => {
        const text = renderSshdHardening({ adminUser: ADMIN });
        assert.match(text, /^AllowUsers ops$/m);
        assert.ok(path.basename(SSHD_HARDENING_PATH) < "50-cloud-init.conf");
        assert.ok(path.basename(SSHD_HARDENING_PATH) < "60-cloudimg-settings.conf");
        assert.throws(() => renderSshdHardening({ adminUser: "root" }), /root/);
        assert.throws(() => renderSshdHardening({ adminUser: "ops\nPermitRootLogin yes" }), /user name/);
    });

    it("passes sshd -t", () => {
        const l = layout(path.join(work.dir, "hardened"), true);
        const result = runInPrivateNamespace(`${PRIVATE_RUN}/usr/sbin/sshd -t -f "$CONFIG"`, { CONFIG: l.config });
        assert.equal(result.status, 0, result.stderr);
    });

    it("wins over 50-cloud-init.conf and the main file: sshd -T shows the hardened values", () => {
        const l = layout(path.join(work.dir, "hardened"), true);
        for (const user of [ADMIN, "root"]) {
            const values = effective(l, user);
            assert.equal(values.get("passwordauthentication"), "no", user);
            assert.equal(values.get("kbdinteractiveauthentication"), "no", user);
            assert.equal(values.get("permitrootlogin"), "no", user);
            assert.equal(values.get("pubkeyauthentication"), "yes", user);
            assert.equal(values.get("permitemptypasswords"), "no", user);
            assert.equal(values.get("authenticationmethods"), "publickey", user);
            assert.equal(values.get("allowusers"), ADMIN, user);
            assert.ok(Number(values.get("maxauthtries")) <= 3, `maxauthtries ${values.get("maxauthtries")}`);
        }
    });

    it("control: without the drop-in the same layout allows passwords and root (so the test can fail)", () => {
        const l = layout(path.join(work.dir, "plain"), false);
        const values = effective(l, ADMIN);
        assert.equal(values.get("passwordauthentication"), "yes");
        assert.equal(values.get("permitrootlogin"), "yes");
        assert.equal(values.get("allowusers"), undefined);
    });

    it("live on loopback: the admin logs in by key; root, other users and passwords are refused", () => {
        const l = layout(path.join(work.dir, "hardened"), true);
        // The admin account exists only inside the namespace: private copies of passwd/shadow/group, a home in the
        // temp dir. Its password is locked ("!") exactly as cloud-init's lock_passwd leaves it.
        const home = path.join(l.dir, "home", ADMIN);
        fs.mkdirSync(path.join(home, ".ssh"), { recursive: true });
        // sshd reads authorized_keys as the admin, who must be able to walk down to it (mkdtemp made 0700 dirs).
        for (const dir of [work.dir, l.dir, path.dirname(home)]) fs.chmodSync(dir, 0o755);
        fs.copyFileSync(`${l.clientKey}.pub`, path.join(home, ".ssh", "authorized_keys"));
        fs.chmodSync(path.join(home, ".ssh"), 0o700);
        fs.chmodSync(path.join(home, ".ssh", "authorized_keys"), 0o600);
        for (const p of [home, path.join(home, ".ssh"), path.join(home, ".ssh", "authorized_keys")]) fs.chownSync(p, ADMIN_UID, ADMIN_UID);
        fs.chmodSync(home, 0o750);
        for (const [file, line] of [
            ["passwd", `${ADMIN}:x:${ADMIN_UID}:${ADMIN_UID}:admin:${home}:/bin/bash`],
            ["shadow", `${ADMIN}:!:20000:0:99999:7:::`],
            ["group", `${ADMIN}:x:${ADMIN_UID}:`],
        ]) {
            fs.writeFileSync(path.join(l.dir, file), fs.readFileSync(`/etc/${file}`, "utf8") + line + "\n");
        }
        fs.chmodSync(path.join(l.dir, "shadow"), 0o640);
        const script = `${PRIVATE_RUN}
for f in passwd shadow group; do mount --bind "$DIR/$f" "/etc/$f"; done
/usr/sbin/sshd -D -e -f "$CONFIG" -o ListenAddress=127.0.0.1:2222 2>"$DIR/sshd.log" &
for _ in $(seq 1 50); do grep -q 'Server listening' "$DIR/sshd.log" && break; sleep 0.1; done
client=(ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -p 2222)
echo "admin-key: $("\${client[@]}" -i "$KEY" "$ADMIN@127.0.0.1" 'id -un' 2>/dev/null || echo refused)"
echo "root-key: $("\${client[@]}" -i "$KEY" root@127.0.0.1 'id -un' 2>&1 | tail -n 1)"
echo "other-key: $("\${client[@]}" -i "$KEY" nobody@127.0.0.1 'id -un' 2>&1 | tail -n 1)"
echo "admin-password: $("\${client[@]}" -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive "$ADMIN@127.0.0.1" true 2>&1 | tail -n 1)"
kill %1
`;
        const result = runInPrivateNamespace(script, { DIR: l.dir, CONFIG: l.config, KEY: l.clientKey, ADMIN });
        const sshdLog = fs.existsSync(path.join(l.dir, "sshd.log")) ? fs.readFileSync(path.join(l.dir, "sshd.log"), "utf8") : "";
        const stdout = result.stdout.replace(/\r/g, "");
        const detail = `${stdout}\n${result.stderr}\nsshd log:\n${sshdLog}`;
        assert.equal(result.status, 0, detail);
        assert.match(stdout, /^admin-key: ops$/m, detail);
        assert.match(stdout, /^root-key: root@127\.0\.0\.1: Permission denied \(publickey\)\.$/m, detail);
        assert.match(stdout, /^other-key: nobody@127\.0\.0\.1: Permission denied \(publickey\)\.$/m, detail);
        // The server offers nothing but publickey, so a password is never even asked for.
        assert.match(stdout, /^admin-password: ops@127\.0\.0\.1: Permission denied \(publickey\)\.$/m, detail);
        assert.match(sshdLog, /User root from 127\.0\.0\.1 not allowed because not listed in AllowUsers/);
    });
});
