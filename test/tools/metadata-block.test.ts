// The agent user cannot reach the metadata service (provision.sh's `metadata` step), proven with the real ufw and
// iptables in a private network + mount namespace (never this machine's firewall): a peer namespace at the other end of
// a veth pair plays the provider's metadata service at 169.254.169.254:80, as on a real VPS (outside the host, reached
// through its interface). Root reaches it, the agent user does not, another local user still does (the rule is the
// agent's alone); and after the firewall is torn down and loaded again the way a boot loads it (`ufw-init start`,
// what ufw.service runs), the block is back.
import "../helpers/contract";
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

const UFW_INIT = ["/usr/lib/ufw/ufw-init", "/lib/ufw/ufw-init"].find((p) => fs.existsSync(p)) ?? "/lib/ufw/ufw-init";

const SCRIPT = String.raw`${PROVISION_SANDBOX}
ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || ssh-keygen -A >/dev/null
provision --only ufw,agent_user,metadata

# The provider's side: a peer namespace holding 169.254.169.254, answering HTTP like a metadata service.
unshare --net sleep 120 &
peer=$!
sleep 0.2
ip link add veth-host type veth peer name veth-peer netns "$peer"
ip addr add 169.254.0.1/16 dev veth-host
ip link set veth-host up
nsenter --net --target "$peer" sh -c 'ip link set lo up; ip addr add 169.254.169.254/16 dev veth-peer; ip link set veth-peer up'
nsenter --net --target "$peer" python3 -c '
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"user-data\n"; self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("169.254.169.254", 80), H)
open(os.environ["DIR"] + "/listening", "w").close()
s.serve_forever()
' &
server=$!
until [[ -e $DIR/listening ]]; do sleep 0.1; done

probe() { # label
  local who code
  for who in root openclaw nobody; do
    if [[ $who == root ]]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 http://169.254.169.254/ || true)
    else
      code=$(runuser -u "$who" -- curl -s -o /dev/null -w '%{http_code}' --max-time 20 http://169.254.169.254/ || true)
    fi
    echo "$1 $who $code" >>"$DIR/probes"
  done
}
probe provisioned
# A reboot: nothing of the firewall survives in the kernel; ufw.service loads it again from its files.
for t in iptables ip6tables; do "$t" -P INPUT ACCEPT; "$t" -P OUTPUT ACCEPT; "$t" -P FORWARD ACCEPT; "$t" -F; "$t" -X; done
probe torn-down
"$UFW_INIT" start >/dev/null
probe rebooted
kill "$server" "$peer"
`;

describe("the agent user cannot reach the metadata service (real ufw, private namespaces)", () => {
    let work: ReturnType<typeof tempDir>;
    let probes = "";
    let runs = "";
    before(() => {
        for (const [tool, pkg] of [
            ["ufw", "ufw"],
            ["iptables", "iptables"],
            ["curl", "curl"],
            ["runuser", "util-linux"],
            ["python3", "python3"],
        ]) {
            requireTool(tool, pkg);
        }
        work = tempDir("metadata-block");
        fs.writeFileSync(path.join(work.dir, "provision.env"), renderProvisionEnv(EXAMPLE_USER_DATA_INPUT));
        const result = runInPrivateNamespace(SCRIPT, { DIR: work.dir, PROVISION: PROVISION_SCRIPT, UFW_INIT }, 300_000);
        const read = (name: string) => (fs.existsSync(path.join(work.dir, name)) ? fs.readFileSync(path.join(work.dir, name), "utf8") : "");
        probes = read("probes");
        runs = read("runs.out");
        assert.equal(result.status, 0, `${result.stderr}\n${runs}`);
        assert.match(runs, /^exit=0$/m, runs);
    });
    after(() => work?.cleanup());

    const answer = (label: string, who: string) => new RegExp(`^${label} ${who} (\\d+)$`, "m").exec(probes)?.[1];

    it("root (cloud-init, the audit) reaches it; the agent user gets nothing; another user still does", () => {
        assert.equal(answer("provisioned", "root"), "200", probes);
        assert.equal(answer("provisioned", "openclaw"), "000", probes);
        assert.equal(answer("provisioned", "nobody"), "200", probes);
    });

    it("the probe can tell: with the firewall torn down, the agent user reaches it too", () => {
        assert.equal(answer("torn-down", "openclaw"), "200", probes);
    });

    it("after a reboot's firewall load (ufw-init start, from the rules files) the block is back", () => {
        assert.equal(answer("rebooted", "root"), "200", probes);
        assert.equal(answer("rebooted", "openclaw"), "000", probes);
    });
});
