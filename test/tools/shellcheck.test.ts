// Every shell script that goes to the host (every *.sh under cloud-init/, including ones added later) and every one
// of the stand-in VPS (standin/, e.g. the image's rootfs/configure.sh) through shellcheck and `bash -n`, plus the
// house rules: `#!/usr/bin/env bash` and `set -euo pipefail` (or stricter).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, hostShellScripts, requireTool, run, shellScriptsUnder, tempDir } from "../helpers/provisioning";

const scripts = [...hostShellScripts(), ...shellScriptsUnder(path.join(REPO_ROOT, "standin"))];

describe("shellcheck on every host script", () => {
    before(() => requireTool("shellcheck", "shellcheck"));

    it("finds the scripts (the glob is not empty)", () => {
        const names = scripts.map((s) => path.relative(REPO_ROOT, s));
        for (const expected of ["cloud-init/provision.sh", "cloud-init/wait-provisioned.sh", "standin/rootfs/configure.sh"]) {
            assert.ok(names.includes(expected), `${expected} is not among ${names.join(", ")}`);
        }
    });

    for (const script of scripts) {
        const name = path.relative(REPO_ROOT, script);
        it(`${name}: shellcheck is clean`, () => {
            // -x follows `source` lines; `# shellcheck source=cloud-init/...` directives are relative to the repo root.
            const result = run("shellcheck", ["--external-sources", "--shell=bash", "--severity=style", "--format=gcc", script], {
                cwd: REPO_ROOT,
            });
            assert.equal(result.status, 0, result.stdout + result.stderr);
        });

        it(`${name}: parses (bash -n), starts with #!/usr/bin/env bash and sets -euo pipefail`, () => {
            const text = fs.readFileSync(script, "utf8");
            assert.equal(text.split("\n")[0], "#!/usr/bin/env bash");
            const setLine = text.split("\n").find((l) => /^set -[A-Za-z]+/.test(l));
            assert.ok(setLine, "no top-level `set -...` line");
            const flags = /^set -([A-Za-z]+)/.exec(setLine)![1];
            assert.ok(flags.includes("e") && flags.includes("u") && /-o pipefail\b|o pipefail/.test(setLine), setLine);
            const syntax = run("bash", ["-n", script]);
            assert.equal(syntax.status, 0, syntax.stderr);
        });
    }

    it("the check can fail: shellcheck flags an unquoted expansion", () => {
        const work = tempDir("shellcheck");
        try {
            const bad = path.join(work.dir, "bad.sh");
            fs.writeFileSync(bad, "#!/usr/bin/env bash\nset -euo pipefail\nrm -rf $1/tmp\n");
            assert.notEqual(run("shellcheck", ["--shell=bash", bad]).status, 0);
        } finally {
            work.cleanup();
        }
    });
});
