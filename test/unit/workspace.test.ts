// Pure tests of components/render/workspace.ts and the starter files in workspace/: ownership policies, modes,
// HEARTBEAT.md kept out of the workspace but turned into the heartbeat prompt, and the content the guide requires.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { heartbeatChecklist, workspaceFiles, workspaceFilesFrom, workspacePolicy } from "../../components/render/workspace";
import { heartbeatPromptFrom, renderOpenclawConfig } from "../../components/render/openclaw-config";
import { baseConfigInput, tempDir } from "../helpers/openclaw-runtime";

test("the repo's workspace: operator files replaced, MEMORY.md seeded once, all 0600, no HEARTBEAT.md", () => {
    const files = workspaceFiles();
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    assert.deepEqual(Object.keys(byPath).sort(), ["AGENTS.md", "IDENTITY.md", "MEMORY.md", "SOUL.md", "USER.md"]);
    for (const name of ["SOUL.md", "USER.md", "AGENTS.md", "IDENTITY.md"]) assert.equal(byPath[name].policy, "replace", name);
    assert.equal(byPath["MEMORY.md"].policy, "create-only");
    for (const f of files) {
        assert.equal(f.mode, 0o600, f.path);
        assert.ok(f.content.trim().length > 200, `${f.path} has real content`);
    }
});

test("starter files say what the guide requires", () => {
    const byPath = Object.fromEntries(workspaceFiles().map((f) => [f.path, f.content]));
    const agents = byPath["AGENTS.md"];
    assert.match(agents, /## Tools/);
    assert.match(agents, /Recall first \(mandatory\)[\s\S]*`memory_search`/);
    const soul = byPath["SOUL.md"];
    for (const must of [/isolated/i, /rm -rf/, /API keys/, /e-mail/i, /payment/i, /delete files/i, /memory_search/, /127\.0\.0\.1/]) {
        assert.match(soul, must);
    }
    const user = byPath["USER.md"];
    for (const must of [/## Language/, /time zone/i, /## Output formats/, /## Risk tolerance/, /No secrets/]) assert.match(user, must);
    assert.match(byPath["IDENTITY.md"], /- \*\*Name:\*\* \S+/);
    assert.match(byPath["MEMORY.md"], /## Environment/);
    // Nothing that looks like a credential in files that are pushed and backed up.
    for (const [name, content] of Object.entries(byPath))
        assert.doesNotMatch(content, /sk-[A-Za-z0-9-]{10,}|pa-[A-Za-z0-9]{10,}|BEGIN [A-Z ]*PRIVATE KEY/, name);
});

test("the repo's HEARTBEAT.md becomes the heartbeat prompt, without the operator's comments", () => {
    const checklist = heartbeatChecklist();
    const prompt = heartbeatPromptFrom(checklist);
    assert.ok(prompt, "the starter checklist enables the heartbeat");
    assert.doesNotMatch(prompt, /<!--|Deploy-time input/);
    assert.match(prompt, /NO_REPLY/);
    const config = JSON.parse(renderOpenclawConfig({ ...baseConfigInput(), heartbeat: { checklist } }).json);
    assert.equal(config.agents.defaults.heartbeat.prompt, prompt);
    assert.equal(config.agents.defaults.heartbeat.every, "30m");
});

test("agent-owned paths are create-only wherever they appear; everything else is operator-owned", () => {
    assert.equal(workspacePolicy("MEMORY.md"), "create-only");
    assert.equal(workspacePolicy("memory/2026-01-01.md"), "create-only");
    // The repo's skills are the operator's: replaced when they change (the agent's own skills are never in the bundle).
    assert.equal(workspacePolicy("skills/backup/SKILL.md"), "replace");
    assert.equal(workspacePolicy("SOUL.md"), "replace");
    assert.equal(workspacePolicy("notes/MEMORY.md"), "replace");
    assert.equal(workspacePolicy("memoryless.md"), "replace");
});

test("repo skills: skills/<name>/SKILL.md (+ files) pushed operator-owned; a skill dir without SKILL.md or an @owner name is refused", () => {
    const base = Object.fromEntries(workspaceFiles().map((f) => [f.path, f.content]));
    const files = workspaceFilesFrom({
        ...base,
        "skills/weekly-review/SKILL.md": "---\nname: weekly-review\ndescription: d\n---\nbody\n",
        "skills/weekly-review/scripts/run.sh": "#!/bin/sh\n",
    });
    const skill = files.filter((f) => f.path.startsWith("skills/"));
    assert.deepEqual(
        skill.map((f) => [f.path, f.policy]),
        [
            ["skills/weekly-review/SKILL.md", "replace"],
            ["skills/weekly-review/scripts/run.sh", "replace"],
        ],
    );
    assert.throws(() => workspaceFilesFrom({ ...base, "skills/notes/README.md": "x" }), /skills\/notes\/ has no SKILL\.md/);
    assert.throws(() => workspaceFilesFrom({ ...base, "skills/@alice/x/SKILL.md": "x" }), /not a skill name/);
});

test("a custom workspace dir: nested files, dotfiles skipped, missing HEARTBEAT.md = empty checklist", () => {
    const dir = tempDir("ws-src");
    const files = workspaceFiles();
    for (const f of files) fs.writeFileSync(path.join(dir, f.path), f.content);
    fs.mkdirSync(path.join(dir, "memory"));
    fs.writeFileSync(path.join(dir, "memory", "2026-01-01.md"), "- seeded note\n");
    fs.writeFileSync(path.join(dir, ".DS_Store"), "junk");
    const custom = workspaceFiles(dir);
    assert.deepEqual(
        custom.map((f) => f.path),
        ["AGENTS.md", "IDENTITY.md", "MEMORY.md", "SOUL.md", "USER.md", "memory/2026-01-01.md"],
    );
    assert.equal(custom.find((f) => f.path === "memory/2026-01-01.md")?.policy, "create-only");
    assert.equal(heartbeatChecklist(dir), "");
    fs.rmSync(dir, { recursive: true, force: true });
});

test("refuses workspaces the push could get wrong", () => {
    const base = Object.fromEntries(workspaceFiles().map((f) => [f.path, f.content]));
    assert.throws(() => workspaceFilesFrom({ ...base, "../etc/passwd": "x" }), /plain relative path/);
    assert.throws(() => workspaceFilesFrom({ ...base, "/abs.md": "x" }), /plain relative path/);
    const { ["SOUL.md"]: _soul, ...withoutSoul } = base;
    void _soul;
    assert.throws(() => workspaceFilesFrom(withoutSoul), /SOUL\.md is missing/);
    assert.throws(() => workspaceFilesFrom({ ...base, "AGENTS.md": "# no recall step" }), /memory_search/);
    assert.ok(!workspaceFilesFrom({ ...base, "HEARTBEAT.md": "- x" }).some((f) => f.path === "HEARTBEAT.md"));
});
