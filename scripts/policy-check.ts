// `npx tsx scripts/policy-check.ts [--stack NAME] [--set KEY=VALUE]... [--secret KEY=VALUE]... [--json]`
// The policy pack without the Pulumi CLI or any credentials: plans the real program under the mock engine with the
// stack's config (as `npm run plan` does) and runs every policy of policy/policies.ts over the planned resources,
// with the stack's adminCidrs and gatewayPort as the policies' config. Exit 0: no violation; 1: violations; 2: the
// config is invalid. CI posts this next to the offline plan where a live `pulumi preview --policy-pack` cannot run.
import { parseArgs } from "node:util";
import { ConfigError, parseSettings } from "../components/settings";
import { fromPlan, runPolicies } from "../policy/offline";
import { POLICIES } from "../policy/policies";
import { planProgram } from "./lib/mock-engine";
import { readStackConfig } from "./lib/stack-config";

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "prod" },
            set: { type: "string", multiple: true, default: [] },
            secret: { type: "string", multiple: true, default: [] },
            json: { type: "boolean", default: false },
        },
    });
    const stack = readStackConfig(values.stack!, { set: values.set, secret: values.secret });
    let settings;
    try {
        settings = parseSettings(stack.config, { secretKeys: new Set(stack.secretKeys) }).settings;
    } catch (error) {
        if (error instanceof ConfigError) {
            console.error(error.message);
            return 2;
        }
        throw error;
    }
    const program = (await import("../index")).default;
    const plan = await planProgram(program, stack.config, stack.secretKeys, { stack: values.stack });
    const run = await runPolicies(POLICIES, fromPlan(plan.resources), {
        allowedSshSources: settings.adminCidrs,
        gatewayPort: settings.gatewayPort,
    });
    if (values.json) {
        console.log(JSON.stringify({ stack: values.stack, policies: POLICIES.map((p) => p.name), ...run }, null, 2));
    } else {
        const failed = new Set(run.violations.map((v) => v.policy));
        for (const policy of POLICIES) {
            const mark = failed.has(policy.name) ? "✗" : run.notApplicable[policy.name] ? "–" : "✓";
            console.log(`${mark} ${policy.name}: ${policy.description}`);
            for (const v of run.violations.filter((x) => x.policy === policy.name))
                console.log(`    ${v.message}${v.urn ? ` (${v.urn.split("::").pop()})` : ""}`);
        }
        console.log(
            run.violations.length
                ? `\n${run.violations.length} policy violation(s) in stack ${values.stack}`
                : `\nAll ${POLICIES.length} policies pass on stack ${values.stack}`,
        );
    }
    return run.violations.length ? 1 : 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error) => {
            console.error(`policy check failed: ${error instanceof Error ? error.message : error}`);
            process.exit(2);
        },
    );
}
