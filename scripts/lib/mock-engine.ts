// Runs the real Pulumi program under Pulumi's mock engine (no CLI, no credentials, no cloud) and records every
// resource it declares: type, name, parent, fully resolved inputs with secrets redacted, explicit dependsOn, and the
// protect / retainOnDelete / deleteBeforeReplace / import options. The offline plan and the graph tests use it.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { providerOfResourceType } from "../../components/providers";
import { emptyPlan } from "../../components/snapshots/plan";

export const SECRET = "[secret]";

export interface PlannedResource {
    type: string;
    name: string;
    parent: string | undefined;
    custom: boolean;
    inputs: Record<string, unknown>;
    dependsOn: string[];
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    import?: string;
}

export interface Plan {
    resources: PlannedResource[];
    /** Stack outputs with secrets redacted. */
    outputs: Record<string, unknown>;
}

/** Deterministic fake ids and computed outputs, shaped like the providers' real ones (documentation IP ranges). */
function computedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const digest = crypto.createHash("sha256").update(`${type}/${name}`).digest("hex");
    // Provider resources (servers, firewalls, SSH keys) are faked by their provider module.
    const owner = providerOfResourceType(type);
    if (owner) return owner.provider.mockOutputs(type, digest);
    switch (type) {
        case "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication":
            return { aud: digest };
        case "cloudflare:index/apiToken:ApiToken":
            return { value: `mock-api-token-${digest.slice(0, 40)}` };
        case "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken":
            return { clientId: `${digest.slice(0, 32)}.access`, clientSecret: digest };
        case "random:index/randomBytes:RandomBytes":
            return { base64: Buffer.from(digest.slice(0, 64), "hex").toString("base64"), hex: digest.slice(0, 64) };
        case "random:index/randomPassword:RandomPassword":
            return { result: digest.slice(0, Number(inputs.length ?? 32)) };
        case "command:remote:Command":
            return { stdout: "", stderr: "" };
        case "command:local:Command":
            // The restore planner's answer for an empty bucket (a first deploy).
            return { stdout: emptyPlan("latest", "empty", "mock").text, stderr: "" };
        default:
            return {};
    }
}

/** Numeric ids where the provider's ids are numbers (its module says so), strings elsewhere. */
function mockId(type: string, name: string): string {
    const n = parseInt(crypto.createHash("sha256").update(name).digest("hex").slice(0, 6), 16);
    return providerOfResourceType(type)?.provider.numericIds ? String(n) : `${name}-id`;
}

function invokeResult(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (token) {
        case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken":
            return { token: `mock-tunnel-token-for-${String(inputs.tunnelId)}` };
        case "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList": {
            const groupName = decodeURIComponent(String(inputs.name ?? ""));
            const id = crypto.createHash("sha256").update(groupName).digest("hex").slice(0, 32);
            return { results: [{ id, name: groupName, scopes: ["com.cloudflare.edge.r2.bucket"] }] };
        }
        default:
            return {};
    }
}

/** Component types are namespaced by their package (ours: `openclaw-vps:index:*`); everything else is a cloud resource. */
function isCustomType(type: string): boolean {
    return !type.startsWith("openclaw-vps:") && type !== "pulumi:pulumi:Stack";
}

interface OutputInternals {
    isSecret: Promise<boolean>;
    isKnown: Promise<boolean>;
    promise(): Promise<unknown>;
}

/** Resolve an Input deeply; secrets become SECRET. */
async function resolveDeep(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const out = value as unknown as OutputInternals;
        const [secret, inner] = await Promise.all([out.isSecret, out.promise()]);
        if (secret) return SECRET;
        return resolveDeep(inner);
    }
    if (value instanceof Promise) return resolveDeep(await value);
    if (pulumi.Resource.isInstance(value)) return `<resource ${(value as unknown as { __name: string }).__name}>`;
    if (Array.isArray(value)) return Promise.all(value.map((v) => resolveDeep(v)));
    if (value && typeof value === "object") {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v)] as const));
        return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
    }
    return value;
}

async function resourceNames(deps: unknown): Promise<string[]> {
    if (!deps) return [];
    const resolved = await (pulumi.Output.isInstance(deps) ? (deps as unknown as OutputInternals).promise() : deps);
    const list = Array.isArray(resolved) ? resolved : [resolved];
    return list.map((r) => (r as { __name: string }).__name);
}

/**
 * Run `program` (the default export of index.ts) under mocks with the given raw config. Pulumi's runtime state is
 * global, so call this once per process (the plan CLI and the graph tests each run in their own process).
 */
export async function planProgram(
    program: () => unknown,
    config: Record<string, string>,
    secretKeys: string[],
    opts: { project?: string; stack?: string } = {},
): Promise<Plan> {
    const recorded: { type: string; name: string; custom: boolean; props: pulumi.Inputs; opts: pulumi.CustomResourceOptions }[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({
                id: args.custom === false ? undefined : mockId(args.type, args.name),
                state: { ...args.inputs, ...computedState(args.type, args.name, args.inputs) },
            }),
            call: (args) => invokeResult(args.token, args.inputs),
        },
        opts.project ?? "openclaw-vps",
        opts.stack ?? "plan",
        false,
    );
    pulumi.runtime.setAllConfig(config, secretKeys);

    // The program's own return value, before the Stack resolves it (and with it, forgets which outputs are secret).
    let programResult: unknown;
    await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((a) => {
            recorded.push({
                type: a.type,
                name: a.name,
                custom: isCustomType(a.type),
                props: a.props,
                opts: a.opts as pulumi.CustomResourceOptions,
            });
            return undefined;
        });
        programResult = await program();
        return programResult;
    });

    const resources: PlannedResource[] = [];
    for (const r of recorded) {
        const parent = r.opts.parent as unknown as { __name?: string } | undefined;
        resources.push({
            type: r.type,
            name: r.name,
            parent: parent?.__name,
            custom: r.custom,
            inputs: (await resolveDeep(r.props)) as Record<string, unknown>,
            dependsOn: await resourceNames(r.opts.dependsOn),
            protect: r.opts.protect === true,
            retainOnDelete: r.opts.retainOnDelete === true,
            deleteBeforeReplace: r.opts.deleteBeforeReplace === true,
            ...(r.opts.import ? { import: r.opts.import } : {}),
        });
    }
    const outputs = (await resolveDeep(programResult ?? {})) as Record<string, unknown>;
    return { resources, outputs };
}
