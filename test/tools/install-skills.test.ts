// cloud-init/install-skills.sh with the pinned clawhub CLI fetched from the real npm registry (its tarball checked
// against the sha512 our package-lock.json pins) and a stand-in ClawHub registry on loopback (the real one is not
// reachable here; standin/clawhub-registry.ts serves the API the CLI calls). It installs pinned skills as the agent
// user into the workspace, reports version + fingerprint, changes nothing on a rerun, backs a skill up before a new
// pin replaces it, leaves the agent's own skills alone, and refuses a tampered CLI pin and unpinned specs.
import "../helpers/contract";
import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { PROJECT_ROOT, readClawhubPin } from "../../components/core/pins";
import { startClawhubRegistry } from "../../standin/clawhub-registry";
import { assertNode24, run, tempDir } from "../helpers/openclaw-runtime";

assertNode24();
const script = path.join(PROJECT_ROOT, "cloud-init", "install-skills.sh");
const AGENT = "nobody";
const root = tempDir("oc-skills");
fs.chmodSync(root, 0o755);
const home = path.join(root, "home");
const workspace = path.join(home, ".openclaw", "workspace");
const bin = path.join(root, "bin");
const prefix = path.join(root, "clawhub");
fs.mkdirSync(bin);
fs.mkdirSync(workspace, { recursive: true, mode: 0o700 });
try {
    fs.linkSync(process.execPath, path.join(bin, "node"));
} catch {
    fs.copyFileSync(process.execPath, path.join(bin, "node"));
    fs.chmodSync(path.join(bin, "node"), 0o755);
}
// The agent's own skill, installed by itself earlier: must never be touched.
const ownSkill = path.join(workspace, "skills", "my-own", "SKILL.md");
fs.mkdirSync(path.dirname(ownSkill), { recursive: true });
fs.writeFileSync(ownSkill, "---\nname: my-own\ndescription: the agent's\n---\nmine\n");
spawnSync("chown", ["-R", `${AGENT}:`, home]);

const skillMd = (name: string, v: string) =>
    `---\nname: ${name}\ndescription: ${name} ${v} from the stand-in ClawHub\n---\n\nVersion ${v}.\n`;
const registryPromise = startClawhubRegistry([
    {
        owner: "alice",
        slug: "demo-skill",
        versions: { "1.0.0": { "SKILL.md": skillMd("demo-skill", "1.0.0") }, "1.1.0": { "SKILL.md": skillMd("demo-skill", "1.1.0") } },
    },
    { owner: "bob", slug: "notes", versions: { "2.0.0": { "SKILL.md": skillMd("notes", "2.0.0"), "scripts/run.sh": "#!/bin/sh\n" } } },
]);
after(async () => (await registryPromise).close());

const pin = readClawhubPin();
const npmBin = spawnSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).stdout.trim();
async function installSkills(specs: string[], overrides: Record<string, string> = {}) {
    const registry = await registryPromise;
    return run("bash", [script, ...specs], {
        timeoutMs: 600_000,
        env: {
            ...process.env,
            AGENT_USER: AGENT,
            AGENT_HOME: home,
            WORKSPACE_DIR: workspace,
            NODE_BIN: path.join(bin, "node"),
            NPM_BIN: npmBin,
            CLAWHUB_PREFIX: prefix,
            CLAWHUB_VERSION: pin.version,
            CLAWHUB_INTEGRITY: pin.integrity,
            CLAWHUB_REGISTRY: registry.url,
            PROVISION_ENV: "/nonexistent",
            ...overrides,
        },
    });
}

test("the clawhub pin comes from package.json and its integrity from package-lock.json", () => {
    assert.match(pin.version, /^\d+\.\d+\.\d+$/);
    assert.match(pin.integrity, /^sha512-[A-Za-z0-9+/]+=*$/);
});

test("refuses unpinned specs and a CLI tarball that is not the one the lock pins, before installing anything", async () => {
    for (const bad of ["demo-skill", "@alice/demo-skill@latest", "demo-skill@^1.0.0", "../x@1.0.0"]) {
        const r = await installSkills([bad]);
        assert.notEqual(r.code, 0, bad);
        assert.match(r.stderr, /is not slug@X\.Y\.Z or @owner\/slug@X\.Y\.Z/, bad);
    }
    const tampered = await installSkills(["@alice/demo-skill@1.0.0"], {
        CLAWHUB_INTEGRITY: `sha512-${Buffer.alloc(64).toString("base64")}`,
    });
    assert.notEqual(tampered.code, 0);
    assert.match(tampered.stderr, /the lock pins sha512-/);
    assert.ok(!fs.existsSync(path.join(prefix, "lib", "node_modules", "clawhub")), "nothing installed from a tarball that does not match");
});

test("installs pinned skills as the agent user, reports version + fingerprint, reruns change nothing", { timeout: 900_000 }, async () => {
    const registry = await registryPromise;
    const first = await installSkills(["@alice/demo-skill@1.0.0", "@bob/notes@2.0.0"]);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split("\n");
    assert.equal(lines.length, 2, first.stdout);
    assert.match(lines[0], /^skill @alice\/demo-skill 1\.0\.0 installed sha256:[0-9a-f]{64}$/);
    assert.match(lines[1], /^skill @bob\/notes 2\.0\.0 installed sha256:[0-9a-f]{64}$/);
    const installed = path.join(workspace, "skills", "@alice", "demo-skill", "SKILL.md");
    assert.match(fs.readFileSync(installed, "utf8"), /Version 1\.0\.0/);
    const uid = Number(spawnSync("id", ["-u", AGENT], { encoding: "utf8" }).stdout.trim());
    assert.equal(fs.statSync(installed).uid, uid, "the skill belongs to the agent user");
    // The CLI is root's: the agent cannot change the tool that installs its skills.
    assert.equal(fs.statSync(path.join(prefix, "lib", "node_modules", "clawhub", "package.json")).uid, 0);
    assert.ok(
        registry.requests.some((r) => r.startsWith("GET /api/v1/download?") && r.includes("version=1.0.0")),
        registry.requests.join("\n"),
    );

    const mtime = fs.statSync(installed).mtimeMs;
    const downloads = registry.requests.filter((r) => r.startsWith("GET /api/v1/download")).length;
    const second = await installSkills(["@alice/demo-skill@1.0.0", "@bob/notes@2.0.0"]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^skill @alice\/demo-skill 1\.0\.0 unchanged sha256:/m);
    assert.equal(fs.statSync(installed).mtimeMs, mtime, "a rerun rewrites nothing");
    assert.equal(registry.requests.filter((r) => r.startsWith("GET /api/v1/download")).length, downloads, "and downloads nothing");

    // A new pin: the old version is kept in the backups, the new one installed.
    fs.appendFileSync(installed, "\nThe agent's note in the skill.\n");
    const bump = await installSkills(["@alice/demo-skill@1.1.0"]);
    assert.equal(bump.code, 0, bump.stderr);
    assert.match(bump.stdout, /^skill @alice\/demo-skill 1\.1\.0 installed sha256:/m);
    assert.match(fs.readFileSync(installed, "utf8"), /Version 1\.1\.0/);
    const backups = fs.readdirSync(path.join(home, "openclaw-skill-backups"));
    assert.equal(backups.length, 1, backups.join());
    assert.match(backups[0], /^@alice_demo-skill-1\.0\.0-\d{8}T\d{6}Z$/);
    assert.match(fs.readFileSync(path.join(home, "openclaw-skill-backups", backups[0], "SKILL.md"), "utf8"), /The agent's note/);

    // The agent's own skill was never touched.
    assert.equal(fs.readFileSync(ownSkill, "utf8"), "---\nname: my-own\ndescription: the agent's\n---\nmine\n");

    // A version the registry does not have fails the push, naming the skill.
    const missing = await installSkills(["@bob/notes@9.9.9"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /@bob\/notes/);
});
