// Owns the agent's identity workspace as the push sees it: which files of the repo's `workspace/` go to the host,
// with which ownership policy (operator-owned files are replaced when they change, agent-owned ones are only created
// when absent) and mode. HEARTBEAT.md is not among them: its content becomes the heartbeat prompt in openclaw.json,
// because OpenClaw 2026.8+ no longer reads it from the workspace (a copy there would be a file whose edits do nothing).
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../core/pins";

/** `replace`: the repo is the source of truth. `create-only`: written once, then the agent's (never overwritten). */
export type WorkspacePolicy = "replace" | "create-only";

export interface WorkspaceFile {
    /** Path relative to the workspace directory, with `/` separators, e.g. "SOUL.md" or "memory/2026-01-01.md". */
    path: string;
    content: string;
    policy: WorkspacePolicy;
    /** File mode on the host (the workspace holds private notes: owner-only). */
    mode: number;
}

/** The repo directory holding the operator's starter files. */
export const DEFAULT_WORKSPACE_SOURCE = path.join(PROJECT_ROOT, "workspace");

/** Files the operator owns: redeployed (overwritten on the host) whenever they change in the repo. */
export const OPERATOR_OWNED_FILES = ["SOUL.md", "AGENTS.md", "USER.md", "IDENTITY.md"] as const;

/**
 * What belongs to the agent: a deploy may seed these once but never overwrites or deletes them. The skills the agent
 * installs itself (and the ClawHub skills install-skills.sh adds as the agent user) live beside the repo's skills in
 * `skills/`; the push only ever writes the files the repo has there.
 */
export const AGENT_OWNED_PATHS = ["MEMORY.md", "memory/"] as const;

/** The repo's skills: `skills/<name>/SKILL.md` (+ files beside it), operator-owned, replaced when they change. */
export const SKILLS_DIR = "skills/";
const SKILL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Deploy-time input only: its content becomes `agents.defaults.heartbeat.prompt`. */
export const HEARTBEAT_FILE = "HEARTBEAT.md";

export const WORKSPACE_FILE_MODE = 0o600;

/** The ownership policy of a workspace path (relative, `/`-separated). */
export function workspacePolicy(relativePath: string): WorkspacePolicy {
    return AGENT_OWNED_PATHS.some((owned) => (owned.endsWith("/") ? relativePath.startsWith(owned) : relativePath === owned))
        ? "create-only"
        : "replace";
}

/**
 * The push's view of a workspace given as plain data (relative path -> content). Throws on a path that could
 * escape the workspace and when an operator-owned starter file is missing.
 */
export function workspaceFilesFrom(contents: Record<string, string>): WorkspaceFile[] {
    for (const required of OPERATOR_OWNED_FILES) {
        if (!(required in contents))
            throw new Error(`workspace: ${required} is missing (every deployment needs the operator's ${OPERATOR_OWNED_FILES.join(", ")})`);
    }
    if (!/\bmemory_search\b/.test(contents["AGENTS.md"])) {
        throw new Error("workspace: AGENTS.md must keep the mandatory `memory_search` recall step");
    }
    const skillNames = new Set(
        Object.keys(contents)
            .filter((p) => p.startsWith(SKILLS_DIR))
            .map((p) => p.split("/")[1]),
    );
    for (const name of skillNames) {
        if (!SKILL_NAME.test(name) || name.startsWith("@"))
            throw new Error(`workspace: skills/${name} is not a skill name (lowercase letters, digits, - and _; @owner/ is ClawHub's)`);
        if (!(`${SKILLS_DIR}${name}/SKILL.md` in contents)) throw new Error(`workspace: skills/${name}/ has no SKILL.md`);
    }
    return Object.keys(contents)
        .filter((p) => p !== HEARTBEAT_FILE)
        .sort()
        .map((p) => {
            if (p.startsWith("/") || p.split("/").some((part) => part === ".." || part === "." || part === "") || p.includes("\\")) {
                throw new Error(`workspace: ${JSON.stringify(p)} is not a plain relative path`);
            }
            return { path: p, content: contents[p], policy: workspacePolicy(p), mode: WORKSPACE_FILE_MODE };
        });
}

/** Reads every regular file below `dir` (dotfiles skipped) as relative path -> UTF-8 content. */
function readTree(dir: string): Record<string, string> {
    if (!fs.existsSync(dir)) throw new Error(`workspace: ${dir} does not exist`);
    const out: Record<string, string> = {};
    const walk = (sub: string) => {
        for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
            if (entry.name.startsWith(".")) continue;
            const rel = sub ? `${sub}/${entry.name}` : entry.name;
            if (entry.isDirectory()) walk(rel);
            else if (entry.isFile()) out[rel] = fs.readFileSync(path.join(dir, rel), "utf8");
            else throw new Error(`workspace: ${rel} is neither a file nor a directory (symlinks are not deployed)`);
        }
    };
    walk("");
    return out;
}

/** The files the push writes into the agent's workspace, read from the repo's `workspace/` (or `dir`). */
export function workspaceFiles(dir: string = DEFAULT_WORKSPACE_SOURCE): WorkspaceFile[] {
    return workspaceFilesFrom(readTree(path.resolve(PROJECT_ROOT, dir)));
}

/** The content of `HEARTBEAT.md` in `dir` ("" when absent: no heartbeat), for `renderOpenclawConfig`. */
export function heartbeatChecklist(dir: string = DEFAULT_WORKSPACE_SOURCE): string {
    const file = path.join(path.resolve(PROJECT_ROOT, dir), HEARTBEAT_FILE);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}
