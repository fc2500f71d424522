// The policy pack's invariants, called directly (validateResource / validateStack) on good and bad resources, then
// over the real program's offline plan for both providers: the program as written must pass every policy.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { Secret } from "@pulumi/policy";
import {
    accessGuardsHostnames,
    bucketRetained,
    gatewayLoopback,
    noSecretInUserData,
    POLICIES,
    portSpecIncludes,
    secretShapesIn,
    serverFirewalled,
    sshOnlyInbound,
    tunnelIngressLoopback,
    TYPES,
    ubuntu2404,
} from "../../policy/policies";
import { spawnSync } from "node:child_process";
import { PROJECT_ROOT } from "../../components/core/pins";
import { fromPlan, runPolicies, TestResource } from "../helpers/policy";
import { planJson, PlanRow } from "../helpers/plan";
import { providerSpec } from "../../components/providers";
import { gzipDeterministic } from "../../components/render/user-data";

const HETZNER = providerSpec("hetzner").resourceTypes;
const DIGITALOCEAN = providerSpec("digitalocean").resourceTypes;

const hcloudFirewall = (rules: Record<string, unknown>[]): TestResource => ({
    type: HETZNER.firewall,
    name: "fw",
    props: { name: "x-ssh-only", rules },
});
const doFirewall = (inboundRules: Record<string, unknown>[]): TestResource => ({
    type: DIGITALOCEAN.firewall,
    name: "dofw",
    props: { inboundRules, dropletIds: [1] },
});
const sshRule = { direction: "in", protocol: "tcp", port: "22", sourceIps: ["203.0.113.7/32"] };

async function messages(policy: Parameters<typeof runPolicies>[0][number], resources: TestResource[], config = {}): Promise<string[]> {
    return (await runPolicies([policy], resources, config)).violations.map((v) => v.message);
}

describe("ssh-only-inbound", () => {
    it("passes SSH from the admin networks on both providers", async () => {
        assert.deepEqual(await messages(sshOnlyInbound, [hcloudFirewall([sshRule])], { allowedSshSources: ["203.0.113.7/32"] }), []);
        assert.deepEqual(
            await messages(sshOnlyInbound, [doFirewall([{ protocol: "tcp", portRange: "22", sourceAddresses: ["203.0.113.7/32"] }])]),
            [],
        );
        // Outbound rules are not inbound.
        assert.deepEqual(
            await messages(sshOnlyInbound, [
                hcloudFirewall([sshRule, { direction: "out", protocol: "tcp", port: "any", destinationIps: ["0.0.0.0/0"] }]),
            ]),
            [],
        );
    });

    it("refuses the gateway port, other ports, all ports, ICMP and SSH from outside the CIDRs", async () => {
        assert.match(
            (await messages(sshOnlyInbound, [hcloudFirewall([{ ...sshRule, port: "18789" }])]))[0],
            /opens the gateway port 18789/,
        );
        assert.match(
            (await messages(sshOnlyInbound, [doFirewall([{ protocol: "tcp", portRange: "1-65535", sourceAddresses: ["0.0.0.0/0"] }])]))[0],
            /opens the gateway port/,
        );
        assert.match((await messages(sshOnlyInbound, [hcloudFirewall([{ ...sshRule, port: "443" }])]))[0], /allows more than SSH/);
        assert.match(
            (await messages(sshOnlyInbound, [hcloudFirewall([{ direction: "in", protocol: "icmp", sourceIps: ["0.0.0.0/0"] }])]))[0],
            /allows more than SSH/,
        );
        assert.match(
            (await messages(sshOnlyInbound, [hcloudFirewall([{ ...sshRule, port: "8000" }])], { gatewayPort: 8000 }))[0],
            /gateway port 8000/,
        );
        const outside = await messages(sshOnlyInbound, [hcloudFirewall([{ ...sshRule, sourceIps: ["0.0.0.0/0", "203.0.113.7/32"] }])], {
            allowedSshSources: ["203.0.113.7/32"],
        });
        assert.deepEqual(outside, ["SSH is open to 0.0.0.0/0, outside the configured admin CIDRs (203.0.113.7/32)"]);
    });

    it("reads port specs the way the providers do", () => {
        assert.equal(portSpecIncludes("22", 22), true);
        assert.equal(portSpecIncludes("1-65535", 18789), true);
        assert.equal(portSpecIncludes("18000-18788", 18789), false);
        assert.equal(portSpecIncludes("any", 18789), true);
        assert.equal(portSpecIncludes(undefined, 18789), true);
    });
});

describe("server-firewalled and ubuntu-24-04", () => {
    it("wants a firewall on every server", async () => {
        const server = (firewallIds?: number[]): TestResource => ({
            type: HETZNER.server,
            name: "srv",
            props: { image: "ubuntu-24.04", firewallIds },
        });
        assert.deepEqual(await messages(serverFirewalled, [server([42])]), []);
        assert.match((await messages(serverFirewalled, [server([])]))[0], /not behind a firewall/);
        const droplet: TestResource = { type: DIGITALOCEAN.server, name: "drop", props: { image: "ubuntu-24-04-x64" } };
        assert.match((await messages(serverFirewalled, [droplet]))[0], /DigitalOcean server drop is not behind a firewall/);
        assert.deepEqual(await messages(serverFirewalled, [droplet, { ...doFirewall([]), dependsOn: ["drop"] }]), []);
    });

    it("wants Ubuntu 24.04 on both providers", async () => {
        assert.deepEqual(await messages(ubuntu2404, [{ type: HETZNER.server, name: "a", props: { image: "ubuntu-24.04" } }]), []);
        assert.deepEqual(await messages(ubuntu2404, [{ type: DIGITALOCEAN.server, name: "b", props: { image: "ubuntu-24-04-x64" } }]), []);
        assert.match(
            (await messages(ubuntu2404, [{ type: HETZNER.server, name: "a", props: { image: "ubuntu-22.04" } }]))[0],
            /expected ubuntu-24\.04/,
        );
        assert.match(
            (await messages(ubuntu2404, [{ type: DIGITALOCEAN.server, name: "b", props: { image: "debian-12-x64" } }]))[0],
            /expected ubuntu-24-04-x64/,
        );
    });
});

const goodIngress = [
    {
        hostname: "agent.example.com",
        service: "http://127.0.0.1:18789",
        originRequest: { access: { required: true, teamName: "example", audTags: ["aud123"] } },
    },
    { service: "http_status:404" },
];
const tunnelConfig = (ingresses: unknown[]): TestResource => ({
    type: TYPES.tunnelConfig,
    name: "tunnel-config",
    props: { config: { ingresses } },
});

describe("tunnel-ingress-loopback", () => {
    it("passes the loopback gateway behind Access with the 404 catch-all", async () => {
        assert.deepEqual(await messages(tunnelIngressLoopback, [tunnelConfig(goodIngress)]), []);
    });

    it("refuses a public origin, a missing Access requirement, a wrong port and a missing catch-all", async () => {
        const [first, last] = goodIngress;
        assert.match(
            (await messages(tunnelIngressLoopback, [tunnelConfig([{ ...first, service: "http://10.0.0.5:18789" }, last])]))[0],
            /only reach a loopback service/,
        );
        assert.match(
            (await messages(tunnelIngressLoopback, [tunnelConfig([{ ...first, originRequest: undefined }, last])]))[0],
            /does not require a Cloudflare Access JWT/,
        );
        assert.match(
            (
                await messages(tunnelIngressLoopback, [
                    tunnelConfig([{ ...first, originRequest: { access: { required: true, teamName: "", audTags: [] } } }, last]),
                ])
            )[0],
            /names no team or AUD tag/,
        );
        assert.match(
            (await messages(tunnelIngressLoopback, [tunnelConfig([{ ...first, service: "http://127.0.0.1:3000" }, last])]))[0],
            /expected the gateway port 18789/,
        );
        assert.match((await messages(tunnelIngressLoopback, [tunnelConfig([first])]))[0], /not a catch-all/);
        assert.match(
            (await messages(tunnelIngressLoopback, [tunnelConfig([first, { service: "http://127.0.0.1:18789" }])]))[0],
            /must be http_status:404/,
        );
    });
});

describe("access-guards-hostnames", () => {
    const app: TestResource = {
        type: TYPES.accessApplication,
        name: "app",
        props: { domain: "agent.example.com", type: "self_hosted", policies: [{ id: "p", precedence: 1 }] },
    };
    const dns = (dependsOn: string[], extra: Record<string, unknown> = {}): TestResource => ({
        type: TYPES.dnsRecord,
        name: "dns",
        props: { name: "agent.example.com", type: "CNAME", content: "tid.cfargotunnel.com", proxied: true, ...extra },
        dependsOn,
    });

    it("passes when Access guards the hostname and the record depends on it (directly or through the tunnel config)", async () => {
        assert.deepEqual(await messages(accessGuardsHostnames, [tunnelConfig(goodIngress), app, dns(["app"])]), []);
        const viaConfig = { ...tunnelConfig(goodIngress), dependsOn: ["app"] };
        assert.deepEqual(await messages(accessGuardsHostnames, [app, viaConfig, dns(["tunnel-config"])]), []);
    });

    it("refuses a hostname without Access, a record created independently, an unproxied record, an app without policy", async () => {
        assert.match(
            (await messages(accessGuardsHostnames, [tunnelConfig(goodIngress), dns([])]))[0],
            /has no Cloudflare Access application/,
        );
        // A record that points at a tunnel counts even when no ingress names it.
        assert.match((await messages(accessGuardsHostnames, [dns([])]))[0], /agent\.example\.com has no Cloudflare Access application/);
        assert.match(
            (await messages(accessGuardsHostnames, [tunnelConfig(goodIngress), app, dns([])]))[0],
            /does not depend on its Access application/,
        );
        assert.match(
            (await messages(accessGuardsHostnames, [tunnelConfig(goodIngress), app, dns(["app"], { proxied: false })]))[0],
            /not proxied/,
        );
        const noPolicy = { ...app, props: { ...app.props, policies: [] } };
        assert.match((await messages(accessGuardsHostnames, [tunnelConfig(goodIngress), noPolicy, dns(["app"])]))[0], /has no policy/);
    });
});

describe("gateway-loopback", () => {
    const host = (json: string): TestResource => ({
        type: TYPES.agentHost,
        name: "host",
        props: { files: [{ path: "/home/openclaw/.openclaw/openclaw.json", content: json }] },
    });
    it("passes bind loopback at the configured port and refuses lan, other ports and a missing config", async () => {
        assert.deepEqual(await messages(gatewayLoopback, [host('{"gateway":{"bind":"loopback","port":18789}}')]), []);
        assert.match((await messages(gatewayLoopback, [host('{"gateway":{"bind":"lan","port":18789}}')]))[0], /must be "loopback"/);
        assert.match((await messages(gatewayLoopback, [host('{"gateway":{"bind":"loopback","port":9999}}')]))[0], /gateway\.port 9999/);
        assert.match(
            (await messages(gatewayLoopback, [{ type: TYPES.agentHost, name: "h", props: { files: [] } }]))[0],
            /has no openclaw\.json/,
        );
    });
});

describe("bucket-retained", () => {
    const bucket = (opts: Partial<TestResource>): TestResource => ({ type: TYPES.r2Bucket, name: "bucket", props: { name: "m" }, ...opts });
    it("passes retainOnDelete or protect, refuses neither, and says when the engine cannot tell", async () => {
        assert.deepEqual((await runPolicies([bucketRetained], [bucket({ retainOnDelete: true })])).violations, []);
        assert.deepEqual((await runPolicies([bucketRetained], [bucket({ protect: true })])).violations, []);
        assert.match((await messages(bucketRetained, [bucket({ retainOnDelete: false })]))[0], /neither retainOnDelete nor protected/);
        const unknown = await runPolicies([bucketRetained], [bucket({})]);
        assert.deepEqual(unknown.violations, []);
        assert.deepEqual(unknown.notApplicable, { "bucket-retained": ["the engine does not report retainOnDelete to policies"] });
    });
});

describe("no-secret-in-user-data", () => {
    const server = (userData: unknown): TestResource => ({ type: HETZNER.server, name: "srv", props: { image: "ubuntu-24.04", userData } });
    it("passes plain cloud-config and refuses secret outputs and secret shapes", async () => {
        assert.deepEqual(
            await messages(noSecretInUserData, [server("#cloud-config\npackages: [curl]\n# TUNNEL_TOKEN is pushed over SSH\n")]),
            [],
        );
        assert.match((await messages(noSecretInUserData, [server(new Secret("#cloud-config\n"))]))[0], /is a secret output/);
        assert.match((await messages(noSecretInUserData, [server("[secret]")]))[0], /is a secret output/);
        const cases: [string, RegExp][] = [
            ["write_files:\n- content: ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnop\n", /an Anthropic API key, a secret assignment/],
            ["TUNNEL_TOKEN=eyJhIjoiMDEyMzQ1Njc4OWFiY2RlZiIsInQiOiJ4In0=\n", /a Cloudflare tunnel token/],
            ["key: |\n  -----BEGIN OPENSSH PRIVATE KEY-----\n", /a private key block/],
            ["secret_access_key = 0123456789abcdef0123\n", /a secret assignment/],
            ["OPENCLAW_GATEWAY_TOKEN: PLAN-PLACEHOLDER-gatewayToken\n", /plan placeholder/],
        ];
        for (const [text, expected] of cases) assert.match((await messages(noSecretInUserData, [server(text)])).join("\n"), expected, text);
        assert.match((await messages(noSecretInUserData, [server("#" + "x".repeat(33 * 1024))]))[0], /Hetzner Cloud accepts at most 32768/);
        // A secret inside a gzipped file (encoding: gz+b64, as provision.sh travels) is found too.
        const hidden = gzipDeterministic("#!/bin/bash\nexport ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnop\n").toString("base64");
        assert.match(
            (
                await messages(noSecretInUserData, [
                    server(`#cloud-config\nwrite_files:\n- path: /x\n  encoding: gz+b64\n  content: "${hidden}"\n`),
                ])
            ).join("\n"),
            /an Anthropic API key/,
        );
        assert.deepEqual(secretShapesIn("OPENCLAW_GATEWAY_TOKEN is read from ~/.openclaw/.env"), []);
    });
});

describe("the real program's plan passes every policy", () => {
    const LLM_SENTINEL = "sk-ant-policy-sentinel-0123456789abcdef";
    let hetzner: PlanRow[];
    let digitalocean: PlanRow[];
    before(() => {
        hetzner = planJson(["--secret", `llmApiKey=${LLM_SENTINEL}`]);
        digitalocean = planJson([
            "--set",
            "provider=digitalocean",
            "--set",
            "region=fra1",
            "--set",
            "serverType=s-2vcpu-2gb",
            "--secret",
            `llmApiKey=${LLM_SENTINEL}`,
        ]);
    });

    for (const [provider, rows] of [
        ["hetzner", () => hetzner],
        ["digitalocean", () => digitalocean],
    ] as const) {
        it(`${provider}: no violation, and every policy had something to check`, async () => {
            const resources = fromPlan(rows() as unknown as Parameters<typeof fromPlan>[0]);
            const run = await runPolicies(POLICIES, resources, { allowedSshSources: ["203.0.113.7/32", "2001:db8:1234::/48"] });
            assert.deepEqual(run.violations, []);
            assert.deepEqual(run.notApplicable, {}, "the plan reports retainOnDelete, so no policy is left out");
            // The policies are not vacuous on this plan: each type they judge is in it.
            const types = new Set(resources.map((r) => r.type));
            for (const type of [TYPES.tunnelConfig, TYPES.accessApplication, TYPES.dnsRecord, TYPES.r2Bucket, TYPES.agentHost])
                assert.ok(types.has(type), type);
            assert.ok(types.has(provider === "hetzner" ? HETZNER.server : DIGITALOCEAN.server));
            assert.ok(types.has(provider === "hetzner" ? HETZNER.firewall : DIGITALOCEAN.firewall));
        });
    }

    it("would catch the program breaking an invariant (the same plan, mutated)", async () => {
        const resources = fromPlan(hetzner as unknown as Parameters<typeof fromPlan>[0]);
        const mutate = (type: string, change: (r: TestResource) => void) => change(resources.find((r) => r.type === type)!);
        mutate(HETZNER.firewall, (r) => r.props.rules.push({ direction: "in", protocol: "tcp", port: "18789", sourceIps: ["0.0.0.0/0"] }));
        mutate(TYPES.dnsRecord, (r) => (r.dependsOn = []));
        mutate(TYPES.r2Bucket, (r) => (r.retainOnDelete = false));
        mutate(HETZNER.server, (r) => (r.props.userData += `\n# ANTHROPIC_API_KEY=${LLM_SENTINEL}\n`));
        mutate(TYPES.agentHost, (r) => {
            const file = r.props.files.find((f: { path: string }) => f.path.endsWith("openclaw.json"));
            file.content = file.content.replace('"bind": "loopback"', '"bind": "lan"');
        });
        const run = await runPolicies(POLICIES, resources);
        assert.deepEqual([...new Set(run.violations.map((v) => v.policy))].sort(), [
            "access-guards-hostnames",
            "bucket-retained",
            "gateway-loopback",
            "no-secret-in-user-data",
            "ssh-only-inbound",
        ]);
    });
});

describe("scripts/policy-check.ts (the pack without the CLI, as the fork-safe CI preview runs it)", () => {
    it("plans the stack and reports every policy passing, as JSON, exit 0", { timeout: 600_000 }, () => {
        const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/policy-check.ts", "--json"], {
            cwd: PROJECT_ROOT,
            encoding: "utf8",
            timeout: 590_000,
        });
        assert.equal(run.status, 0, run.stderr);
        const report = JSON.parse(run.stdout);
        assert.equal(report.stack, "prod");
        assert.deepEqual(
            report.policies,
            POLICIES.map((p) => p.name),
        );
        assert.deepEqual(report.violations, []);
        assert.deepEqual(report.notApplicable, {});
    });
});
