// `npm run upgrade -- --to VERSION --dry-run`, the operator's first step of an upgrade, run for real: npm locks the
// kept previous release (2026.9.5) once, from the npm registry, in a scratch copy of the project; the host's tree is
// derived from that lock; the offline plan (the real program under the mock engine) before and after shows the
// in-place change: the release step and the push update, the server, the tunnel and the gateway token stay. And it
// changes nothing in the repository. Bad input is refused before npm is asked.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";

const PREVIOUS = "2026.9.5";

function upgrade(args: string[]) {
    const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/upgrade.ts", ...args], {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

/** The files `npm run upgrade` writes when it pins: their digest, to prove --dry-run writes none of them. */
function repositoryDigest(): string {
    const hash = createHash("sha256");
    const files = ["package.json", "package-lock.json", "Pulumi.yaml", "README.md"];
    const releases = path.join(PROJECT_ROOT, "releases");
    for (const dir of fs.readdirSync(releases).sort()) {
        for (const f of fs.readdirSync(path.join(releases, dir)).sort()) files.push(path.join("releases", dir, f));
    }
    for (const f of files)
        hash.update(f)
            .update("\0")
            .update(fs.readFileSync(path.join(PROJECT_ROOT, f)))
            .update("\0");
    return hash.digest("hex");
}

describe("npm run upgrade", () => {
    it(`--to ${PREVIOUS} --dry-run: locks it, shows the tree's changes and an in-place plan, changes nothing`, () => {
        const before = repositoryDigest();
        const run = upgrade(["--to", PREVIOUS, "--dry-run"]);
        assert.equal(run.status, 0, run.out);
        assert.match(run.out, new RegExp(`openclaw \\d{4}\\.\\d+\\.\\d+ -> ${PREVIOUS.replace(/\./g, "\\.")}: Node `));
        assert.match(run.out, /the host's tree: \d+ packages \(\d+ added, \d+ removed, \d+ changed versions\)/);
        // The plan: the host's release step and push change, nothing is created, deleted or replaced.
        assert.match(run.out, /~ update {2}openclaw-host-release \(command:remote:Command\): .*triggers/);
        assert.match(run.out, /~ update {2}openclaw-host-push \(command:remote:Command\): triggers/);
        assert.match(run.out, /= unchanged: \d+ resources, among them openclaw-server-server, the tunnel, the gateway token/);
        const updated = [...run.out.matchAll(/~ update {2}(\S+)/g)].map((m) => m[1]).sort();
        assert.deepEqual(updated, ["openclaw-host", "openclaw-host-push", "openclaw-host-release"]);
        assert.doesNotMatch(run.out, /\+ create|- delete|WARNING/);
        assert.match(run.out, /--dry-run: nothing was changed/);
        assert.equal(repositoryDigest(), before, "--dry-run changed the repository");
    });

    it("refuses a missing or inexact version before asking npm, and says how to call it", () => {
        for (const args of [[], ["--to", "latest"], ["--to", "2026.9"]]) {
            const run = upgrade(args);
            assert.equal(run.status, 1, run.out);
            assert.match(run.out, /--to needs an exact version such as 2026\.9\.6/);
            assert.match(run.out, /usage: npm run upgrade -- --to VERSION \[--dry-run\]/);
            assert.doesNotMatch(run.out, /Locking/);
        }
    });
});
