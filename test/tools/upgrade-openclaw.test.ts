// upgrade-openclaw.sh's own behaviour, with the real tools but never on this machine: every run happens in a private
// mount + network namespace where /opt, /usr/local/bin, /var/lib, /var/log and /run are empty tmpfs. Covers Node side
// by side from a mirror (checksum verified, reused when current, a tampered tarball refused, a newer one installed
// BESIDE the old one) and the checks of the release spec. The install of a real release (npm ci of the locked tree,
// the switch, the guarded upgrade and its rollback) runs on the stand-in VPS: test/vps/upgrade.test.ts.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { readProjectRelease, releaseSpecFiles } from "../../components/render/openclaw-release";
import { CLOUD_INIT_DIR, requireTool, run, runInPrivateNamespace, tempDir } from "../helpers/provisioning";

const SCRIPT = path.join(CLOUD_INIT_DIR, "upgrade-openclaw.sh");

const SANDBOX = String.raw`
for d in /run /opt /usr/local/bin /var/lib /var/log; do mount -t tmpfs tmpfs "$d"; done
mkdir -p /run/lock
upgrade() { # args...: runs upgrade-openclaw.sh, records its output and exit status, never stops this script
  local status=0
  bash "$SCRIPT" "$@" >>"$DIR/runs.out" 2>&1 || status=$?
  echo "exit=$status" >>"$DIR/runs.out"
}
`;

describe("upgrade-openclaw.sh", () => {
    before(() => {
        for (const [tool, pkg] of [
            ["flock", "util-linux"],
            ["curl", "curl"],
            ["xz", "xz-utils"],
            ["sha256sum", "coreutils"],
            ["unshare", "util-linux"],
        ]) {
            requireTool(tool, pkg);
        }
    });

    it("refuses a spec whose files do not match its release id, or that lacks a file", () => {
        const work = tempDir("upgrade-spec");
        try {
            const spec = path.join(work.dir, "spec");
            fs.mkdirSync(spec);
            for (const f of releaseSpecFiles(readProjectRelease(), 24)) fs.writeFileSync(path.join(spec, f.name), f.content);
            fs.appendFileSync(path.join(spec, "package-lock.json"), " ");
            const result = runInPrivateNamespace(
                `${SANDBOX}upgrade stage --spec "$DIR/spec"\nrm "$DIR/spec/release.env"\nupgrade stage --spec "$DIR/spec"`,
                {
                    DIR: work.dir,
                    SCRIPT,
                },
            );
            assert.equal(result.status, 0, result.stderr);
            const runs = fs.readFileSync(path.join(work.dir, "runs.out"), "utf8");
            assert.match(runs, /RELEASE_ID '.*' does not match its files/);
            assert.match(runs, /release spec .* lacks release\.env/);
            assert.deepEqual(
                [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => m[1]),
                ["1", "1"],
            );
            assert.equal(run("bash", [SCRIPT]).status, 2, "no command: usage");
        } finally {
            work.cleanup();
        }
    });

    describe("Node side by side, from a mirror", () => {
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
            work = tempDir("upgrade-node");
            publish("v24.99.1");
            const script = String.raw`${SANDBOX}
export NODE_DIST_URL="file://$DIR/dist"
tree() { find /opt -printf '%p %m %u %T@ %l\n' | sort; }
report() { # label
  { echo "$1 nodes=$(ls /opt/openclaw-vps/nodes | tr '\n' ' ')"
    echo "$1 leftovers=$(find /opt/openclaw-vps/nodes -maxdepth 1 -name '.install.*' | wc -l)"
  } >>"$DIR/report"
}
upgrade node 24; report first; tree >"$DIR/tree-1"
upgrade node 24; report second; tree >"$DIR/tree-2"
touch "$DIR/phase-tamper"; while [[ ! -e $DIR/phase-tamper-ready ]]; do sleep 0.1; done
upgrade node 24; report tampered
touch "$DIR/phase-upgrade"; while [[ ! -e $DIR/phase-upgrade-ready ]]; do sleep 0.1; done
upgrade node 24; report upgraded
/opt/openclaw-vps/nodes/v24.99.1/bin/node >"$DIR/old-still-runs"
`;
            // The mirror changes between runs: the namespace script waits for these flags while we republish.
            const child = spawn("unshare", ["--net", "--mount", "--propagation", "private", "bash", "-c", "set -euo pipefail\n" + script], {
                env: { ...process.env, DIR: work.dir, SCRIPT },
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
                const kill = setTimeout(() => child.kill("SIGKILL"), 300_000);
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

        it("installs the tarball listed for this machine, checksum verified, in nodes/<version>, and prints where", () => {
            assert.match(runs, /^\/opt\/openclaw-vps\/nodes\/v24\.99\.1$/m, runs);
            assert.match(read("report"), /^first nodes=v24\.99\.1 $/m);
            assert.match(read("report"), /^first leftovers=0$/m);
            assert.match(read("tree-1"), /^\/opt\/openclaw-vps\/nodes\/v24\.99\.1 755 root /m);
        });

        it("reuses an installed version (a second run changes nothing)", () => {
            assert.match(runs, /node: v24\.99\.1 already installed/);
            assert.equal(read("tree-2"), read("tree-1"));
        });

        it("refuses a tarball whose checksum does not match, leaving nothing behind", () => {
            const exits = [...runs.matchAll(/^exit=(\d+)$/gm)].map((m) => m[1]);
            assert.deepEqual(exits, ["0", "0", "1", "0"], runs);
            assert.match(runs, /checksum mismatch for node-v24\.99\.2-linux-(x64|arm64)\.tar\.xz: refusing to install it/);
            assert.match(read("report"), /^tampered nodes=v24\.99\.1 $/m);
            assert.match(read("report"), /^tampered leftovers=0$/m);
        });

        it("installs a newer release BESIDE the one in use (the running release keeps its Node)", () => {
            assert.match(read("report"), /^upgraded nodes=v24\.99\.1 v24\.99\.2 $/m);
            assert.equal(read("old-still-runs"), "v24.99.1\n");
        });
    });
});
