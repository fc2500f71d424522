// The host's OpenClaw release (components/render/openclaw-release.ts): derived from the project's own
// package-lock.json, so the host gets the tree the tests validated: the same packages at the same paths with the same
// versions and integrity hashes, only those openclaw reaches, flags recomputed for the new root, install-script
// decisions carried over. Plus the kept releases, the spec the push writes and the stage script.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT, readOpenclawPin } from "../../components/core/pins";
import {
    availableReleases,
    deriveHostRelease,
    HOST_RELEASE_PROJECT,
    readKeptRelease,
    readProjectRelease,
    releaseFor,
    releaseId,
    releaseSpecFiles,
    renderReleaseStageScript,
    resolveInLock,
    type LockEntry,
    type ProjectLock,
    type ProjectPackage,
} from "../../components/render/openclaw-release";

const projectPackage = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as ProjectPackage;
const projectLock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8")) as ProjectLock;

function packagesOf(release: { lockJson: string }): Record<string, LockEntry> {
    return (JSON.parse(release.lockJson) as ProjectLock).packages;
}

describe("deriveHostRelease (the pinned OpenClaw's tree, from package-lock.json)", () => {
    const release = readProjectRelease();
    const packages = packagesOf(release);

    it("pins exactly the project's openclaw, with its engines, as the only dependency of the host project", () => {
        assert.equal(release.version, readOpenclawPin().version);
        assert.equal(release.nodeEngines, readOpenclawPin().nodeEngines);
        const hostPackage = JSON.parse(release.packageJson);
        assert.deepEqual(hostPackage.dependencies, { openclaw: release.version });
        assert.deepEqual(packages[""], { name: HOST_RELEASE_PROJECT, dependencies: { openclaw: release.version } });
        assert.equal(JSON.parse(release.lockJson).lockfileVersion, 3);
    });

    it("every package is the project lock's, at the same path, with the same version and integrity (nothing resolved again)", () => {
        let compared = 0;
        for (const [p, entry] of Object.entries(packages)) {
            if (p === "") continue;
            const original = projectLock.packages[p];
            assert.ok(original, `${p} is not in the project's lock`);
            assert.equal(entry.version, original.version, p);
            assert.equal(entry.integrity, original.integrity, p);
            assert.equal(entry.resolved, original.resolved, p);
            compared++;
        }
        assert.ok(compared > 300, `only ${compared} packages`);
        assert.equal(release.packages, compared);
    });

    it("holds only what openclaw reaches: none of the project's own tooling", () => {
        for (const tool of ["@pulumi/pulumi", "typescript", "eslint", "tsx", "s3rver", "prettier", "node-ssh"]) {
            assert.ok(!packages[`node_modules/${tool}`], `${tool} is in the host's lock`);
            assert.ok(projectLock.packages[`node_modules/${tool}`], `${tool} should be in the project's lock (test premise)`);
        }
    });

    it("is closed: every dependency of every package resolves (as Node resolves it) inside the derived lock", () => {
        for (const [p, entry] of Object.entries(packages)) {
            if (p === "" || entry.inBundle) continue;
            for (const name of Object.keys(entry.dependencies ?? {})) {
                assert.ok(resolveInLock(packages, p, name), `${p} needs ${name}, which the host's lock lacks`);
                // ... and to the same entry the project's tree resolves it to.
                assert.equal(resolveInLock(packages, p, name), resolveInLock(projectLock.packages, p, name), `${p} -> ${name}`);
            }
        }
    });

    it("recomputes the flags for the new root: nothing is dev; optional only what openclaw reaches through optional edges", () => {
        for (const [p, entry] of Object.entries(packages)) {
            assert.ok(!entry.dev && !entry.devOptional, `${p} is flagged dev`);
        }
        assert.ok(!packages["node_modules/openclaw"]!.optional);
        const optional = Object.entries(packages).filter(([, e]) => e.optional);
        assert.ok(optional.length > 0, "platform packages (e.g. other CPUs' binaries) are optional");
        assert.ok(
            optional.some(([p]) => /darwin|win32|arm64/.test(p)),
            "another platform's binary is among the optional ones",
        );
    });

    it("carries the project's install-script decisions for the packages in the tree, and only those", () => {
        const allow = JSON.parse(release.packageJson).allowScripts as Record<string, boolean>;
        assert.equal(allow.openclaw, true);
        assert.equal(allow.koffi, false);
        assert.equal(allow["@pulumi/command"], undefined, "a project-only package's decision stays in the project");
    });

    it("every install script in the pinned and the kept trees is decided (npm ci on the host never asks)", () => {
        for (const release of availableReleases().values()) {
            const allow = JSON.parse(release.packageJson).allowScripts ?? {};
            for (const [p, entry] of Object.entries(packagesOf(release))) {
                if (!p || !entry.hasInstallScript || entry.optional) continue;
                const name = entry.name ?? p.slice(p.lastIndexOf("node_modules/") + "node_modules/".length);
                assert.ok(name in allow, `openclaw ${release.version}: ${name}'s install script is not decided in allowScripts`);
            }
        }
    });

    it("is deterministic: the same lock gives the same bytes and digest", () => {
        const again = deriveHostRelease(projectPackage, structuredClone(projectLock));
        assert.equal(again.lockJson, release.lockJson);
        assert.equal(again.digest, release.digest);
    });

    it("refuses a lock that cannot give openclaw its tree, naming what is wrong", () => {
        const broken = structuredClone(projectLock);
        const needed = Object.keys(broken.packages["node_modules/openclaw"]!.dependencies ?? {})[0]!;
        delete broken.packages[`node_modules/${needed}`];
        delete broken.packages[`node_modules/openclaw/node_modules/${needed}`];
        assert.throws(
            () => deriveHostRelease(projectPackage, broken),
            new RegExp(`needs ${needed.replace("/", "\\/")}, which the lockfile does not have`),
        );
        const mismatch = structuredClone(projectLock);
        mismatch.packages["node_modules/openclaw"]!.version = "2026.1.1";
        assert.throws(
            () => deriveHostRelease(projectPackage, mismatch),
            /package-lock\.json has openclaw 2026\.1\.1 but package\.json pins/,
        );
        assert.throws(
            () => deriveHostRelease({ ...projectPackage, dependencies: { openclaw: "^2026.9.6" } }, projectLock),
            /exact version/,
        );
    });
});

describe("kept releases and what the host gets", () => {
    it("keeps the previous release (2026.9.5), named by its version, with every package's integrity", () => {
        const kept = readKeptRelease(path.join(PROJECT_ROOT, "releases", "openclaw-2026.9.5"));
        assert.equal(kept.version, "2026.9.5");
        for (const [p, entry] of Object.entries(packagesOf(kept))) {
            if (p === "" || entry.inBundle) continue;
            assert.match(entry.integrity ?? "", /^sha512-/, p);
        }
        assert.deepEqual([...availableReleases().keys()].sort(), ["2026.9.5", readOpenclawPin().version].sort());
        assert.throws(
            () => releaseFor("2026.9.4"),
            /no lockfile for openclaw 2026\.9\.4: the project has .*npm run upgrade -- --to 2026\.9\.4/,
        );
    });

    it("names a release by version, Node major and digest; the spec's release.env says so", () => {
        const release = readProjectRelease();
        const id = releaseId(release, 24);
        assert.match(id, new RegExp(`^${release.version.replace(/\./g, "\\.")}-node24-[0-9a-f]{12}$`));
        assert.notEqual(releaseId(release, 26), id, "another Node is another release");
        const files = Object.fromEntries(releaseSpecFiles(release, 24).map((f) => [f.name, f.content]));
        assert.deepEqual(Object.keys(files).sort(), ["package-lock.json", "package.json", "release.env"]);
        assert.match(files["release.env"]!, new RegExp(`^RELEASE_ID=${id}$`, "m"));
        assert.match(files["release.env"]!, /^NODE_MAJOR=24$/m);
        assert.throws(() => releaseSpecFiles(release, 24.5), /not a Node major/);
    });

    it("the stage script carries upgrade-openclaw.sh and the spec byte for byte, inside functions", () => {
        const release = readProjectRelease();
        const script = renderReleaseStageScript(release, 24);
        assert.match(script, /^stage_main <\/dev\/null$/m);
        const blocks = [...script.matchAll(/base64 -d >"\$dir\/([^"]+)" <<'OPENCLAW_VPS_STAGE_EOF'\n([\s\S]*?)\nOPENCLAW_VPS_STAGE_EOF/g)];
        const decoded = Object.fromEntries(blocks.map((m) => [m[1], Buffer.from(m[2]!.replace(/\n/g, ""), "base64").toString("utf8")]));
        assert.equal(decoded["package-lock.json"], release.lockJson);
        assert.equal(decoded["upgrade-openclaw.sh"], fs.readFileSync(path.join(PROJECT_ROOT, "cloud-init", "upgrade-openclaw.sh"), "utf8"));
        assert.match(script, /upgrade-openclaw\.sh" stage --spec "\$dir"/);
        const syntax = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(syntax.status, 0, syntax.stderr);
    });
});
