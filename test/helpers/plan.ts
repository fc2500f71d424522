// Runs the offline plan (scripts/plan.ts: the real program under Pulumi's mock engine) in a child process, as a user
// would, and returns its JSON rows; Pulumi's runtime state is global, so each configuration gets its own process.
import { spawnSync } from "node:child_process";
import { PROJECT_ROOT } from "../../components/core/pins";

export interface PlanRow {
    type: string;
    name: string;
    parent: string | null;
    inputs: Record<string, any>;
    dependsOn: string[];
    protect: boolean;
    retainOnDelete: boolean;
}

export interface PlanRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

export function runPlan(args: string[], env: NodeJS.ProcessEnv = {}): PlanRun {
    const res = spawnSync(process.execPath, ["--import", "tsx", "scripts/plan.ts", ...args], {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
        env: { ...process.env, ...env },
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
    });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

export function planJson(args: string[] = [], env: NodeJS.ProcessEnv = {}): PlanRow[] {
    const run = runPlan(["--json", ...args], env);
    if (run.status !== 0) throw new Error(`plan failed (${run.status}):\n${run.stderr}`);
    return JSON.parse(run.stdout) as PlanRow[];
}

export function one(rows: PlanRow[], type: string): PlanRow {
    const found = rows.filter((r) => r.type === type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0];
}
