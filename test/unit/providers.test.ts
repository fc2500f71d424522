// The provider registry: the built-in providers satisfy the spec, a type or region of another provider is refused by
// key, and a throwaway third provider (test/fixtures/throwaway-provider.ts, registered at run time like a line in
// components/providers/index.ts) is picked up by settings, the plan (mock engine), the guided setup, the policy pack,
// verify and the generated files without touching anything else. Runs the mock engine once in this process.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { OpenClawAgent } from "../../components/agent";
import { allProviders, checkProviderSpec, providerIds, providerSpec, registerProvider } from "../../components/providers";
import { renderProviderTable, renderWorkflowCredentials, renderPulumiYaml } from "../../components/project-file";
import { ConfigError, parseSettings } from "../../components/settings";
import { renderAuditScript } from "../../components/verify/checks";
import { fromPlan, runPolicies } from "../../policy/offline";
import { POLICIES } from "../../policy/policies";
import { rebuildTypes } from "../../scripts/deploy";
import { planProgram, Plan } from "../../scripts/lib/mock-engine";
import { credentialsFor, guidedSetup, Prompter, PulumiRunner } from "../../scripts/lib/setup";
import { readStackConfig } from "../../scripts/lib/stack-config";
import { throwawayProvider } from "../fixtures/throwaway-provider";
import { generateIdentity } from "../../components/core/age";

const base = () => readStackConfig("prod").config;

function problemsOf(overrides: Record<string, string>): { key: string; expected: string }[] {
    try {
        parseSettings({ ...base(), ...overrides });
    } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
    }
    return [];
}

describe("the built-in providers", () => {
    it("each satisfies the ProviderSpec rules (default type big enough, default region known, tokens, type tokens)", () => {
        assert.deepEqual(providerIds(), ["hetzner", "digitalocean"]);
        for (const spec of allProviders()) assert.deepEqual(checkProviderSpec(spec), [], spec.id);
    });

    it("refuses another provider's server type and region by key, with this provider's nearest choices", () => {
        const type = problemsOf({
            "openclaw-vps:provider": "digitalocean",
            "openclaw-vps:region": "fra1",
            "openclaw-vps:serverType": "cx23",
        });
        assert.equal(type.length, 1, JSON.stringify(type));
        assert.equal(type[0].key, "serverType");
        assert.match(type[0].expected, /a digitalocean server type \(cx23 is hetzner's\), e\.g\. s-2vcpu-2gb/);
        const region = problemsOf({ "openclaw-vps:provider": "hetzner", "openclaw-vps:region": "fra1" });
        assert.equal(region[0]?.key, "region");
        assert.match(region[0].expected, /a hetzner location \(fra1 is digitalocean's\), e\.g\. fsn1/);
        // A type nobody knows is still allowed (providers add types), with a warning.
        const parsed = parseSettings({ ...base(), "openclaw-vps:serverType": "cx99" });
        assert.match(parsed.warnings.join("\n"), /cx99.*not a hetzner type we know/);
    });

    it("an unregistered provider is refused with the known ones", () => {
        const problems = problemsOf({ "openclaw-vps:provider": "throwaway" });
        assert.equal(problems[0]?.key, "provider");
        assert.match(problems[0].expected, /one of hetzner, digitalocean/);
    });
});

describe("a third provider from one module", () => {
    let unregister: () => void;
    let plan: Plan;
    const settings = () =>
        parseSettings({
            ...base(),
            "openclaw-vps:provider": "throwaway",
            "openclaw-vps:region": "tw-south-1",
            "openclaw-vps:serverType": "tw.large",
        });

    before(async () => {
        unregister = registerProvider(throwawayProvider);
        const { settings: s } = settings();
        plan = await planProgram(
            () => {
                const agent = new OpenClawAgent(s.agentName, {
                    settings: s,
                    llmApiKey: pulumi.secret("sk-ant-SENTINEL-third-provider"),
                    backupIdentity: pulumi.secret(generateIdentity().identity),
                });
                return { ip: agent.ipv4Address, ssh: agent.sshCommand };
            },
            {},
            [],
        );
    });
    after(() => unregister());

    it("settings: its types, regions, sizes and defaults", () => {
        const parsed = settings().settings;
        assert.equal(parsed.provider, "throwaway");
        assert.equal(parsed.serverMemoryMb, 8192);
        assert.equal(parsed.serverArch, "arm64");
        const defaults = parseSettings({
            ...base(),
            "openclaw-vps:provider": "throwaway",
            "openclaw-vps:region": "",
            "openclaw-vps:serverType": "",
        }).settings;
        assert.deepEqual([defaults.region, defaults.serverType], ["tw-north-1", "tw.small"]);
        assert.match(
            problemsOf({
                "openclaw-vps:provider": "throwaway",
                "openclaw-vps:region": "tw-north-1",
                "openclaw-vps:serverType": "tw.tiny",
            })[0].expected,
            /at least 2 vCPU/,
        );
        assert.match(
            problemsOf({ "openclaw-vps:provider": "throwaway", "openclaw-vps:region": "tw-north-1", "openclaw-vps:serverType": "cx23" })[0]
                .expected,
            /a throwaway server type \(cx23 is hetzner's\)/,
        );
    });

    it("plan: the program builds its machine, filter and key, and the agent reaches it at its address", () => {
        const types = plan.resources.map((r) => r.type);
        for (const type of Object.values(throwawayProvider.resourceTypes)) assert.ok(types.includes(type), type);
        assert.ok(!types.some((t) => t.startsWith("hcloud:") || t.startsWith("digitalocean:")), "no other provider's resources");
        const machine = plan.resources.find((r) => r.type === throwawayProvider.resourceTypes.server)!;
        assert.equal(machine.inputs.os, "ubuntu-24.04-lts");
        assert.equal(machine.inputs.zone, "tw-south-1");
        assert.match(String(machine.inputs.cloudConfig), /^#cloud-config\n/);
        assert.equal(plan.outputs.ip, "198.51.100.77", "the mock engine used the module's computed outputs");
        assert.equal(plan.outputs.ssh, "ssh ops@198.51.100.77");
    });

    it("policy pack: judges its firewall and server through the module, and stays closed for unknown types", async () => {
        const resources = fromPlan(plan.resources);
        const clean = await runPolicies(POLICIES, resources, { gatewayPort: 18789 });
        assert.deepEqual(clean.violations, []);
        const opened = resources.map((r) =>
            r.type === throwawayProvider.resourceTypes.firewall
                ? { ...r, props: { allow: [...r.props.allow, { proto: "tcp", ports: "18000-19000", from: ["0.0.0.0/0"] }] } }
                : r,
        );
        assert.match((await runPolicies(POLICIES, opened)).violations.map((v) => v.message).join("\n"), /opens the gateway port 18789/);
        const bare = resources.map((r) =>
            r.type === throwawayProvider.resourceTypes.server ? { ...r, props: { ...r.props, filterId: "", os: "debian-12" } } : r,
        );
        const bareRun = (await runPolicies(POLICIES, bare)).violations.map((v) => `${v.policy}: ${v.message}`).join("\n");
        assert.match(bareRun, /server-firewalled: Throwaway Cloud server .* is not behind a firewall/);
        assert.match(bareRun, /ubuntu-24-04: image "debian-12": expected ubuntu-24\.04-lts/);
        const leaky = resources.map((r) =>
            r.type === throwawayProvider.resourceTypes.server
                ? { ...r, props: { ...r.props, cloudConfig: `${r.props.cloudConfig}\nTUNNEL_TOKEN=eyJhIjoiSENTINELSENTINELSENTINEL` } }
                : r,
        );
        assert.match((await runPolicies(POLICIES, leaky)).violations.map((v) => v.message).join("\n"), /user data contains/);
        // The same plan once the module is gone: its resource types are unknown, and the pack fails closed.
        unregister();
        try {
            const unknown = (await runPolicies(POLICIES, resources)).violations.filter((v) => v.policy === "known-resource-types");
            assert.equal(unknown.length, 3, unknown.map((v) => v.message).join("\n"));
            assert.match(unknown[0].message, /no provider module .* knows: the pack cannot vouch for it/);
        } finally {
            unregister = registerProvider(throwawayProvider);
        }
    });

    it("setup asks for its credential (or takes it from the environment), and the rebuild replaces its server", async () => {
        assert.deepEqual(credentialsFor("throwaway")[0], throwawayProvider.credential);
        const asked: string[] = [];
        const prompter: Prompter = {
            ask: async (q) => (asked.push(q), q.startsWith("throwaway:apiKey") ? "tw-SENTINEL-key" : "cf-SENTINEL"),
            say: () => undefined,
        };
        const calls: { args: string[]; stdin?: string }[] = [];
        const runner: PulumiRunner = { run: async (args, stdin) => (calls.push({ args, stdin }), { code: 0, stdout: "", stderr: "" }) };
        const complete = {
            ...base(),
            "openclaw-vps:provider": "throwaway",
            "openclaw-vps:hostname": "agent.mydomain.dev",
            "openclaw-vps:zoneId": "a".repeat(32),
            "openclaw-vps:accountId": "b".repeat(32),
            "openclaw-vps:accessTeamName": "myteam",
            "openclaw-vps:accessEmails": JSON.stringify(["me@mydomain.dev"]),
            "openclaw-vps:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIObQEt+uo/bXbGBubPD3Z7Y5/6/9RzR04JO/vOJQm/77 me@laptop",
            "openclaw-vps:adminCidrs": JSON.stringify(["81.2.69.160/32"]),
        };
        const stored = await guidedSetup({
            stackConfig: complete,
            secretKeys: new Set(["openclaw-vps:llmApiKey"]),
            prompter,
            pulumi: runner,
            env: {},
        });
        assert.ok(
            asked.some((q) => q.startsWith("throwaway:apiKey: Throwaway Cloud API key") && q.includes("THROWAWAY_API_KEY")),
            asked.join("\n"),
        );
        assert.ok(stored.includes("throwaway:apiKey"));
        const set = calls.find((c) => c.args.includes("throwaway:apiKey"))!;
        assert.deepEqual(set.args, ["config", "set", "--secret", "throwaway:apiKey"]);
        assert.equal(set.stdin, "tw-SENTINEL-key", "the token goes on stdin, never in argv");
        const fromEnv = await guidedSetup({
            stackConfig: complete,
            secretKeys: new Set(["openclaw-vps:llmApiKey", "cloudflare:apiToken"]),
            prompter,
            pulumi: runner,
            env: { THROWAWAY_API_KEY: "x" },
        });
        assert.ok(!fromEnv.includes("throwaway:apiKey"), "a token in the environment is not asked for");
        assert.ok(rebuildTypes().includes(throwawayProvider.resourceTypes.server), "--rebuild replaces its server");
    });

    it("verify: the audit asks its metadata path for the user data", () => {
        const script = renderAuditScript({
            adminUser: "ops",
            agentUser: "openclaw",
            gatewayPort: 18789,
            backupSchedule: "hourly",
            metadataPaths: [providerSpec("throwaway").metadataUserDataPath],
        });
        assert.match(script, /^export AUDIT_METADATA_PATHS='\/throwaway\/v9\/user-data'$/m);
    });

    it("generated files: Pulumi.yaml's choices, the README's provider table and the workflows' tokens list it", () => {
        assert.match(renderPulumiYaml(), /Where the VPS runs: hetzner or digitalocean or throwaway/);
        assert.match(renderProviderTable(), /\| `throwaway` \| Throwaway Cloud \| `tw\.small` \(2 vCPU \/ 2 GB\)/);
        const block = renderWorkflowCredentials("      ");
        assert.match(block, /^ {6}THROWAWAY_API_KEY: \$\{\{ secrets\.THROWAWAY_API_KEY \}\}$/m);
        assert.match(block, /^ {6}PROVIDER_TOKEN_VARS: HCLOUD_TOKEN DIGITALOCEAN_TOKEN THROWAWAY_API_KEY$/m);
    });

    it("registering refuses a spec that breaks the rules or clashes with another provider", () => {
        assert.throws(() => registerProvider(throwawayProvider), /already registered/);
        assert.throws(
            () =>
                registerProvider({
                    ...throwawayProvider,
                    id: "clash",
                    defaultServerType: "tw.tiny",
                    resourceTypes: providerSpec("hetzner").resourceTypes,
                }),
            /defaultServerType tw\.tiny is below[\s\S]*already hetzner's/,
        );
    });
});
