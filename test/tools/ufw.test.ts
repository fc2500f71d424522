// provision.sh's UFW step (`provision.sh --only ufw`), run for real in a private network + mount namespace with a
// private copy of /etc/ufw and /etc/default/ufw: never on this machine's own firewall. Asserts `ufw status verbose`,
// that a rerun changes nothing, and that the firewall really filters: from a peer namespace over a veth pair,
// SSH (22) connects and the gateway port (18789) does not, on IPv4 and IPv6.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderProvisionEnv } from "../../components/render/user-data";
import { EXAMPLE_USER_DATA_INPUT, PROVISION_SCRIPT, requireTool, runInPrivateNamespace, tempDir } from "../helpers/provisioning";

const SCRIPT = String.raw`
mount -t tmpfs tmpfs /run   # ufw's lock file stays private too
mount --bind "$DIR/etc-ufw" /etc/ufw
mount --bind "$DIR/etc-default" /etc/default   # the whole folder: sed -i renames inside it
export PROVISION_ENV_FILE="$DIR/provision.env" PROVISION_LOG="$DIR/provision.log" PROVISION_STATUS="$DIR/provision.status"
export PROVISION_CONSOLE=/dev/null PROVISION_LOCK="$DIR/provision.lock"

firewall_state() { # rules and policies without packet counters, plus ufw's own files
  { iptables-save; ip6tables-save; } | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
  sha256sum /etc/ufw/*.rules /etc/ufw/ufw.conf /etc/default/ufw
}

echo "--- first run" >>"$DIR/runs.out"
bash "$PROVISION" --only ufw >>"$DIR/runs.out" 2>&1
ufw status verbose >"$DIR/status-verbose"
firewall_state >"$DIR/state-1"
echo "--- second run" >>"$DIR/runs.out"
bash "$PROVISION" --only ufw >>"$DIR/runs.out" 2>&1
firewall_state >"$DIR/state-2"

# A peer namespace on the other end of a veth pair plays the internet.
unshare --net sleep 60 &
peer=$!
sleep 0.2
ip link add veth-host type veth peer name veth-peer netns "$peer"
ip addr add 10.99.0.1/24 dev veth-host
ip -6 addr add fd99::1/64 dev veth-host nodad
ip link set veth-host up
nsenter --net --target "$peer" sh -c 'ip link set lo up; ip addr add 10.99.0.2/24 dev veth-peer;
  ip -6 addr add fd99::2/64 dev veth-peer nodad; ip link set veth-peer up'

python3 -c '
import socket, time
listeners = []
for port in (22, 18789):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen(8); listeners.append(s)
time.sleep(30)
' &
listener=$!
sleep 0.5
nsenter --net --target "$peer" python3 -c '
import socket
for host in ("10.99.0.1", "fd99::1"):
    for port in (22, 18789):
        try:
            socket.create_connection((host, port), timeout=2).close(); verdict = "open"
        except socket.timeout: verdict = "filtered"
        except OSError as e: verdict = "refused" if isinstance(e, ConnectionRefusedError) else "error:" + str(e)
        print(f"{host} {port} {verdict}")
' >"$DIR/probes"
kill "$listener" "$peer"
`;

function sha256(file: string): string {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

describe("UFW step of provision.sh, in a private network namespace", () => {
    let work: ReturnType<typeof tempDir>;
    let result: ReturnType<typeof runInPrivateNamespace>;
    const read = (name: string) => fs.readFileSync(path.join(work.dir, name), "utf8");
    const hostFiles = ["/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/ufw/ufw.conf", "/etc/default/ufw"];
    let hostBefore: string[];

    before(() => {
        requireTool("ufw", "ufw");
        requireTool("iptables-save", "iptables");
        requireTool("nsenter", "util-linux");
        requireTool("python3", "python3");
        assert.ok(fs.existsSync("/etc/ufw/before.rules"), "/etc/ufw is missing: apt-get install ufw");
        work = tempDir("ufw");
        // A fresh-server starting point, made permissive on purpose so the step has something to change.
        fs.cpSync("/etc/ufw", path.join(work.dir, "etc-ufw"), { recursive: true });
        const defaults = fs
            .readFileSync("/etc/default/ufw", "utf8")
            .replace(/^DEFAULT_INPUT_POLICY=.*$/m, 'DEFAULT_INPUT_POLICY="ACCEPT"')
            .replace(/^IPV6=.*$/m, "IPV6=no");
        fs.cpSync("/etc/default", path.join(work.dir, "etc-default"), { recursive: true });
        fs.writeFileSync(path.join(work.dir, "etc-default", "ufw"), defaults);
        const conf = path.join(work.dir, "etc-ufw", "ufw.conf");
        fs.writeFileSync(conf, fs.readFileSync(conf, "utf8").replace(/^ENABLED=.*$/m, "ENABLED=no"));
        for (const rules of ["user.rules", "user6.rules"]) {
            // Start from the package's empty rule set, whatever this machine's copy holds.
            fs.copyFileSync(path.join("/usr/share/ufw", rules), path.join(work.dir, "etc-ufw", rules));
        }
        fs.writeFileSync(path.join(work.dir, "provision.env"), renderProvisionEnv(EXAMPLE_USER_DATA_INPUT));
        hostBefore = hostFiles.map((f) => (fs.existsSync(f) ? sha256(f) : "absent"));
        result = runInPrivateNamespace(SCRIPT, { DIR: work.dir, PROVISION: PROVISION_SCRIPT }, 180_000);
    });
    after(() => work?.cleanup());

    it("runs the step without error, twice", () => {
        const runs = fs.existsSync(path.join(work.dir, "runs.out")) ? read("runs.out") : "";
        const log = fs.existsSync(path.join(work.dir, "provision.log")) ? read("provision.log") : "";
        assert.equal(result.status, 0, `${result.stderr}\n${runs}\n${log}`);
        assert.equal((runs.match(/step 2\/13 ufw: ok/g) ?? []).length, 2, runs);
        assert.ok(!fs.existsSync(path.join(work.dir, "provision.status")), "--only must leave the status file alone");
    });

    it("ufw status verbose: active, deny incoming, allow outgoing, 22/tcp allowed on IPv4 and IPv6, nothing else", () => {
        const status = read("status-verbose");
        assert.match(status, /^Status: active$/m);
        assert.match(status, /^Default: deny \(incoming\), allow \(outgoing\), (disabled|deny) \(routed\)$/m);
        const rules = status
            .split("\n")
            .slice(status.split("\n").findIndex((l) => /^--\s+/.test(l)) + 1)
            .filter((l) => l.trim())
            .map((l) => l.replace(/\s+/g, " ").trim());
        assert.deepEqual(rules, [
            "22/tcp ALLOW IN Anywhere # SSH (openclaw-vps)",
            "22/tcp (v6) ALLOW IN Anywhere (v6) # SSH (openclaw-vps)",
        ]);
    });

    it("a second run changes nothing (rules, policies, ufw's files)", () => {
        assert.equal(read("state-2"), read("state-1"));
        assert.match(read("state-1"), /^:ufw-user-input - $/m, "ufw's chains are loaded");
        assert.match(read("provision.log"), /Skipping adding existing rule/);
    });

    it("really filters: 22 reachable, 18789 dropped, over IPv4 and IPv6", () => {
        const probes = read("probes");
        assert.match(probes, /^10\.99\.0\.1 22 open$/m, probes);
        assert.match(probes, /^10\.99\.0\.1 18789 filtered$/m, probes);
        assert.match(probes, /^fd99::1 22 open$/m, probes);
        assert.match(probes, /^fd99::1 18789 filtered$/m, probes);
    });

    it("left this machine's own UFW files untouched", () => {
        assert.deepEqual(
            hostFiles.map((f) => (fs.existsSync(f) ? sha256(f) : "absent")),
            hostBefore,
        );
    });
});
