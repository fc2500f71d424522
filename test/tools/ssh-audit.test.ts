// The sshd drop-in judged by an auditor no one here wrote: Debian's ssh-audit (2.5.0) against a real sshd on loopback,
// in a private network and mount namespace whose /etc/ssh looks like a fresh Ubuntu 24.04 image's: the stock main
// sshd_config (Include first, no HostKey lines) and the three host keys cloud-init generates (RSA 3072, ECDSA, Ed25519).
// Without the drop-in ssh-audit fails (NIST curves, ECDSA host key); with it there is no failure and only the two
// warnings 2.5.0 raises on algorithms newer than its database. The same sshd proves the forwarding limits: a local
// forward reaches the gateway port and nothing else; remote forwards are refused.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderSshdHardening, SSHD_HARDENING_PATH } from "../../components/render/sshd-hardening";
import { CLOUD_INIT_DIR, requireTool, run, runInPrivateNamespace, tempDir } from "../helpers/provisioning";
import { EXPLAINED_WARNINGS, findings } from "../helpers/ssh-audit";

const ADMIN = "ops";
const ADMIN_UID = 4243;
const GATEWAY_PORT = 18789;
const OTHER_PORT = 18790;

/** A fresh Ubuntu 24.04 /etc/ssh: stock main file, three host keys, moduli; our drop-in only when asked. */
function ubuntuEtcSsh(dir: string, withHardening: boolean): void {
    fs.mkdirSync(path.join(dir, "sshd_config.d"), { recursive: true });
    for (const [type, bits] of [
        ["ed25519", []],
        ["rsa", ["-b", "3072"]],
        ["ecdsa", ["-b", "256"]],
    ] as const) {
        const key = path.join(dir, `ssh_host_${type}_key`);
        if (!fs.existsSync(key)) assert.equal(run("ssh-keygen", ["-q", "-t", type, ...bits, "-N", "", "-f", key]).status, 0);
    }
    fs.copyFileSync("/etc/ssh/moduli", path.join(dir, "moduli"));
    fs.writeFileSync(
        path.join(dir, "sshd_config"),
        [
            "Include /etc/ssh/sshd_config.d/*.conf",
            "KbdInteractiveAuthentication no",
            "UsePAM yes",
            "X11Forwarding yes",
            "PrintMotd no",
            "AcceptEnv LANG LC_*",
            "Subsystem sftp /usr/lib/openssh/sftp-server",
            "PidFile none",
            "",
        ].join("\n"),
    );
    fs.writeFileSync(path.join(dir, "sshd_config.d", "50-cloud-init.conf"), "PasswordAuthentication yes\n");
    const dropin = path.join(dir, "sshd_config.d", path.basename(SSHD_HARDENING_PATH));
    if (withHardening) fs.writeFileSync(dropin, renderSshdHardening({ adminUser: ADMIN, gatewayPort: GATEWAY_PORT }));
    else fs.rmSync(dropin, { force: true });
}

/** Starts sshd on 127.0.0.1:2222 with $ETC as /etc/ssh inside the namespace, then runs `body`. */
function withSshd(etc: string, body: string, env: Record<string, string> = {}) {
    const script = `mount -t tmpfs tmpfs /run
mkdir -m 0755 /run/sshd
mount --bind "$ETC" /etc/ssh
${env.DIR ? 'for f in passwd shadow group; do mount --bind "$DIR/$f" "/etc/$f"; done' : ""}
/usr/sbin/sshd -t
/usr/sbin/sshd -D -e -o ListenAddress=127.0.0.1:2222 2>"$ETC.log" &
for _ in $(seq 1 100); do grep -q 'Server listening' "$ETC.log" && break; sleep 0.1; done
${body}
# Every background job (sshd, the test servers, the forward) must end, or the namespace's stdout stays open.
kill $(jobs -p) 2>/dev/null || true
wait 2>/dev/null || true
`;
    return runInPrivateNamespace(script, { ETC: etc, ...env });
}

const AUDIT = `set +e; ssh-audit -n -t 30 -p 2222 127.0.0.1; echo "exit=$?"`;

describe("ssh-audit against the stand-in's sshd layout (Ubuntu 24.04 /etc/ssh plus our drop-in)", () => {
    let work: ReturnType<typeof tempDir>;
    before(() => {
        requireTool("ssh-audit", "ssh-audit");
        requireTool("/usr/sbin/sshd", "openssh-server");
        requireTool("ssh", "openssh-client");
        requireTool("python3", "python3");
        work = tempDir("ssh-audit");
    });
    after(() => work?.cleanup());

    it("control: the image's defaults fail ssh-audit (NIST-curve key exchange, ECDSA host key, encrypt-and-MAC)", () => {
        const etc = path.join(work.dir, "plain");
        ubuntuEtcSsh(etc, false);
        const result = withSshd(etc, AUDIT);
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /^exit=3$/m, result.stdout);
        const failed = findings(result.stdout).filter((f) => f.level === "fail");
        assert.ok(
            failed.some((f) => f.algorithm === "ecdh-sha2-nistp256"),
            result.stdout,
        );
        assert.ok(
            failed.some((f) => f.algorithm === "ecdsa-sha2-nistp256"),
            result.stdout,
        );
        assert.ok(findings(result.stdout).some((f) => f.algorithm === "hmac-sha1" && f.level === "warn"));
    });

    it("hardened: no failure, and the only warnings are the two explained ones", () => {
        const etc = path.join(work.dir, "hardened");
        ubuntuEtcSsh(etc, true);
        const result = withSshd(etc, AUDIT);
        assert.equal(result.status, 0, result.stderr);
        const all = findings(result.stdout);
        assert.deepEqual(
            all.filter((f) => f.level === "fail"),
            [],
            result.stdout,
        );
        for (const f of all.filter((x) => x.level === "warn")) {
            const why = EXPLAINED_WARNINGS[f.algorithm];
            assert.ok(why && why.test(f.text), `unexplained ssh-audit warning: ${f.algorithm}: ${f.text}\n${result.stdout}`);
        }
        // Exit 2 = warnings only (exit 3 would be a failure).
        assert.match(result.stdout, /^exit=2$/m, result.stdout);
        assert.match(result.stdout, /^\(gen\) compression: disabled$/m);
        // Only the Ed25519 and RSA host keys are offered although the ECDSA key file exists.
        assert.doesNotMatch(result.stdout, /^\(key\) ecdsa/m);
        assert.match(result.stdout, /^\(key\) ssh-ed25519 /m);
        assert.match(result.stdout, /^\(key\) rsa-sha2-512 \(3072-bit\)/m);
        for (const mac of result.stdout.split("\n").filter((l) => l.startsWith("(mac) "))) assert.match(mac, /-etm@openssh\.com /);
    });

    it("sshd -T: forwarding, compression, logging and client-alive limits are in effect", () => {
        const etc = path.join(work.dir, "hardened");
        ubuntuEtcSsh(etc, true);
        const result = runInPrivateNamespace(
            `mount -t tmpfs tmpfs /run; mkdir -m 0755 /run/sshd; mount --bind "$ETC" /etc/ssh
/usr/sbin/sshd -T -C "user=${ADMIN},host=localhost,addr=127.0.0.1"`,
            { ETC: etc },
        );
        assert.equal(result.status, 0, result.stderr);
        const values = new Map<string, string>();
        for (const line of result.stdout.split("\n")) {
            const space = line.indexOf(" ");
            if (space > 0) values.set(line.slice(0, space), line.slice(space + 1));
        }
        const expected: Record<string, string> = {
            allowtcpforwarding: "local",
            permitopen: `127.0.0.1:${GATEWAY_PORT}`,
            permitlisten: "none",
            allowagentforwarding: "no",
            x11forwarding: "no",
            permittunnel: "no",
            gatewayports: "no",
            compression: "no",
            loglevel: "VERBOSE",
            maxsessions: "2",
            clientaliveinterval: "120",
            clientalivecountmax: "2",
            tcpkeepalive: "no",
            usedns: "no",
            permituserenvironment: "no",
        };
        for (const [key, value] of Object.entries(expected)) assert.equal(values.get(key), value, key);
        assert.doesNotMatch(values.get("kexalgorithms") ?? "", /ecdh|sha1|group14/);
        assert.doesNotMatch(values.get("hostkeyalgorithms") ?? "", /ecdsa|ssh-rsa(,|$)/);
        for (const mac of (values.get("macs") ?? "").split(",")) assert.match(mac, /-etm@openssh\.com$/);
        const hostKeys = result.stdout.split("\n").filter((l) => l.startsWith("hostkey "));
        assert.deepEqual(hostKeys, ["hostkey /etc/ssh/ssh_host_ed25519_key", "hostkey /etc/ssh/ssh_host_rsa_key"]);
    });

    it("the audit's ssh-crypto check (npm run verify, the watchdog) passes this sshd -T and fails the image's defaults", () => {
        const script = fs.readFileSync(path.join(CLOUD_INIT_DIR, "audit-host.sh"), "utf8");
        const fn = /^check_ssh_crypto\(\) \{[\s\S]*?^\}$/m.exec(script)?.[0];
        assert.ok(fn, "check_ssh_crypto is in audit-host.sh");
        const verdicts: Record<string, string> = {};
        for (const hardened of [true, false]) {
            const etc = path.join(work.dir, hardened ? "hardened" : "plain");
            ubuntuEtcSsh(etc, hardened);
            const result = runInPrivateNamespace(
                `mount -t tmpfs tmpfs /run; mkdir -m 0755 /run/sshd; mount --bind "$ETC" /etc/ssh
emit() { printf '%s %s %s\\n' "$1" "$2" "$4"; }
${fn}
check_ssh_crypto "$(/usr/sbin/sshd -T -C "user=${ADMIN},host=localhost,addr=127.0.0.1")"`,
                { ETC: etc },
            );
            assert.equal(result.status, 0, result.stderr);
            verdicts[hardened ? "hardened" : "plain"] = result.stdout;
        }
        assert.match(verdicts.hardened!, /^ssh-crypto pass /m, verdicts.hardened);
        assert.match(verdicts.plain!, /^ssh-crypto fail .*NIST curves.*ECDSA.*not encrypt-then-MAC.*compression/m, verdicts.plain);
    });

    it("live: a local forward reaches the gateway port only; other ports and remote forwards are refused", () => {
        const etc = path.join(work.dir, "hardened");
        ubuntuEtcSsh(etc, true);
        const dir = path.join(work.dir, "users");
        const home = path.join(dir, "home", ADMIN);
        fs.mkdirSync(path.join(home, ".ssh"), { recursive: true });
        const key = path.join(dir, "client_key");
        assert.equal(run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]).status, 0);
        for (const d of [work.dir, dir, path.dirname(home)]) fs.chmodSync(d, 0o755);
        fs.copyFileSync(`${key}.pub`, path.join(home, ".ssh", "authorized_keys"));
        fs.chmodSync(path.join(home, ".ssh"), 0o700);
        fs.chmodSync(path.join(home, ".ssh", "authorized_keys"), 0o600);
        for (const p of [home, path.join(home, ".ssh"), path.join(home, ".ssh", "authorized_keys")]) fs.chownSync(p, ADMIN_UID, ADMIN_UID);
        fs.chmodSync(home, 0o750);
        for (const [file, line] of [
            ["passwd", `${ADMIN}:x:${ADMIN_UID}:${ADMIN_UID}:admin:${home}:/bin/bash`],
            ["shadow", `${ADMIN}:!:20000:0:99999:7:::`],
            ["group", `${ADMIN}:x:${ADMIN_UID}:`],
        ]) {
            fs.writeFileSync(path.join(dir, file), fs.readFileSync(`/etc/${file}`, "utf8") + line + "\n");
        }
        fs.chmodSync(path.join(dir, "shadow"), 0o640);
        // Two loopback HTTP servers stand in for the gateway and for any other local service.
        const body = `
(cd "$DIR" && python3 -m http.server --bind 127.0.0.1 ${GATEWAY_PORT} >/dev/null 2>&1) &
(cd "$DIR" && python3 -m http.server --bind 127.0.0.1 ${OTHER_PORT} >/dev/null 2>&1) &
for port in ${GATEWAY_PORT} ${OTHER_PORT}; do
    for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
client=(ssh -F /dev/null -i "$KEY" -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o ExitOnForwardFailure=yes -p 2222)
"\${client[@]}" -N -L 28789:127.0.0.1:${GATEWAY_PORT} -L 28790:127.0.0.1:${OTHER_PORT} "$ADMIN@127.0.0.1" 2>"$DIR/forward.log" &
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/28789) 2>/dev/null && break; sleep 0.1; done
echo "gateway: $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://127.0.0.1:28789/ || true)"
echo "other: $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://127.0.0.1:28790/ || true)"
echo "remote: $(timeout 60 "\${client[@]}" -N -R 127.0.0.1:28791:127.0.0.1:22 "$ADMIN@127.0.0.1" 2>&1 | tail -n 1)"
echo "session: $(timeout 60 "\${client[@]}" "$ADMIN@127.0.0.1" 'echo ok' 2>&1 | tail -n 1)"
`;
        const result = withSshd(etc, `set +e\n${body}`, { DIR: dir, KEY: key, ADMIN });
        const log = fs.existsSync(`${etc}.log`) ? fs.readFileSync(`${etc}.log`, "utf8") : "";
        const detail = `${result.stdout}\n${result.stderr}\nsshd:\n${log}`;
        assert.equal(result.status, 0, detail);
        assert.match(result.stdout, /^gateway: 200$/m, detail);
        assert.match(result.stdout, /^other: 000$/m, detail);
        assert.match(result.stdout, /^remote: Error: remote port forwarding failed for listen port 28791$/m, detail);
        assert.match(result.stdout, /^session: ok$/m, detail);
        // sshd says why it refused, at LogLevel VERBOSE.
        assert.match(log, new RegExp(`to connect to host 127\\.0\\.0\\.1 port ${OTHER_PORT}, but the request was denied`), detail);
    });
});
