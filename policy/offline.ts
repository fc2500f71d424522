// Runs the pack's policies (./policies.ts) without the Pulumi engine: on the resources of the program's offline plan
// (produced by scripts/lib/mock-engine.ts for `scripts/policy-check.ts`, the fork-safe CI preview, the tests) and on hand-made
// resources in tests, shaped the way @pulumi/policy hands them to validateResource / validateStack (urn, type, name,
// props, opts, dependencies, parent). Unlike the engine, the plan reports retainOnDelete, so bucket-retained judges it.
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { PolicyConfig } from "./policies";

/** A resource as the plan (or a test) describes it. `retainOnDelete` is reported as the engine would if it could. */
export interface TestResource {
    type: string;
    name: string;
    props: Record<string, any>;
    parent?: string;
    dependsOn?: string[];
    protect?: boolean;
    retainOnDelete?: boolean;
}

export interface Violation {
    policy: string;
    message: string;
    urn?: string;
}

export interface PolicyRun {
    violations: Violation[];
    /** policy name -> reasons it declared itself not applicable. */
    notApplicable: Record<string, string[]>;
}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:plan::openclaw-vps::${type}::${name}`;
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

function options(r: TestResource): PolicyResourceOptions & { retainOnDelete?: boolean } {
    return {
        protect: r.protect === true,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: urnOf("parent", r.parent) } : {}),
        ...(r.retainOnDelete !== undefined ? { retainOnDelete: r.retainOnDelete } : {}),
    };
}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason ?? "not applicable");
}

/** The stack view: every resource with its dependencies resolved to the other resources' objects. */
export function policyResources(resources: TestResource[]): PolicyResource[] {
    const byName = new Map<string, PolicyResource>();
    const list = resources.map((r) => {
        const resource: PolicyResource = {
            type: r.type,
            name: r.name,
            urn: urnOf(r.type, r.name),
            props: r.props,
            opts: options(r),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        };
        byName.set(r.name, resource);
        return resource;
    });
    resources.forEach((r, i) => {
        list[i].dependencies = (r.dependsOn ?? []).map((name) => {
            const dep = byName.get(name);
            if (!dep) throw new Error(`${r.name} depends on unknown ${name}`);
            return dep;
        });
        if (r.parent) list[i].parent = byName.get(r.parent);
    });
    return list;
}

/** Every policy over every resource (resource policies) and over the whole list (stack policies). */
export async function runPolicies(
    policies: (ResourceValidationPolicy | StackValidationPolicy)[],
    resources: TestResource[],
    config: PolicyConfig = {},
): Promise<PolicyRun> {
    const run: PolicyRun = { violations: [], notApplicable: {} };
    const stack = policyResources(resources);
    for (const policy of policies) {
        const report = (message: string, urn?: string) => run.violations.push({ policy: policy.name, message, urn });
        try {
            if ("validateStack" in policy) {
                const args: StackValidationArgs = {
                    resources: stack,
                    stackTags: new Map(),
                    getConfig: <T extends object>() => config as T,
                    notApplicable,
                };
                await policy.validateStack(args, report);
                continue;
            }
            const validations = [policy.validateResource ?? []].flat();
            for (const resource of stack) {
                const args: ResourceValidationArgs = {
                    type: resource.type,
                    props: resource.props,
                    urn: resource.urn,
                    name: resource.name,
                    opts: resource.opts,
                    stackTags: new Map(),
                    isType: () => false,
                    asType: () => undefined,
                    getConfig: <T extends object>() => config as T,
                    notApplicable,
                };
                for (const validate of validations) {
                    try {
                        await validate(args, (message) => report(message, resource.urn));
                    } catch (error) {
                        if (!(error instanceof NotApplicable)) throw error;
                        (run.notApplicable[policy.name] ??= []).push(error.reason);
                    }
                }
            }
        } catch (error) {
            if (!(error instanceof NotApplicable)) throw error;
            (run.notApplicable[policy.name] ??= []).push(error.reason);
        }
    }
    return run;
}

/** A resource of the offline plan (scripts/lib/mock-engine.ts's PlannedResource has this shape). */
export interface PlanResource {
    type: string;
    name: string;
    parent: string | undefined;
    inputs: Record<string, unknown>;
    dependsOn: string[];
    protect: boolean;
    retainOnDelete: boolean;
}

/** The plan's resources as test resources (inputs become props; dependsOn and options carried over). */
export function fromPlan(resources: PlanResource[]): TestResource[] {
    return resources.map((r) => ({
        type: r.type,
        name: r.name,
        props: r.inputs,
        parent: r.parent,
        dependsOn: r.dependsOn,
        protect: r.protect,
        retainOnDelete: r.retainOnDelete,
    }));
}
