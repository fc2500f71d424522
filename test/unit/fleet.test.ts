// OpenClawAgent is a reusable component: two agents in one program get disjoint resource names (logical and at the
// providers), and the program's secret outputs stay secret. Runs the mock engine in this process (once).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { OpenClawAgent } from "../../components/agent";
import { parseSettings } from "../../components/settings";
import { readStackConfig } from "../../scripts/lib/stack-config";
import { planProgram } from "../../scripts/lib/mock-engine";
import { generateIdentity } from "../../components/core/age";

test("two agents in one program: no name collisions, secrets stay secret", async () => {
    const base = readStackConfig("prod").config;
    const settingsFor = (agentName: string, hostname: string) =>
        parseSettings({ ...base, "openclaw-vps:agentName": agentName, "openclaw-vps:hostname": hostname }).settings;

    const plan = await planProgram(
        () => {
            const agents = [
                new OpenClawAgent("alice", {
                    settings: settingsFor("alice", "alice.example.com"),
                    llmApiKey: pulumi.secret("sk-SENTINEL-alice"),
                    backupIdentity: pulumi.secret(generateIdentity().identity),
                }),
                new OpenClawAgent("bob", {
                    settings: settingsFor("bob", "bob.example.com"),
                    llmApiKey: pulumi.secret("sk-SENTINEL-bob"),
                    backupIdentity: pulumi.secret(generateIdentity().identity),
                }),
            ];
            return { urls: agents.map((a) => a.url), tokens: agents.map((a) => a.gatewayToken) };
        },
        {},
        [],
    );

    const names = plan.resources.map((r) => `${r.type}::${r.name}`);
    assert.equal(new Set(names).size, names.length, "logical names are unique");
    const custom = plan.resources.filter((r) => r.custom);
    assert.equal(custom.filter((r) => r.name.startsWith("alice-")).length, custom.filter((r) => r.name.startsWith("bob-")).length);
    assert.ok(
        custom.every((r) => r.name.startsWith("alice-") || r.name.startsWith("bob-")),
        "every child is named after its agent",
    );

    // Names at the providers must differ too: servers, tunnels, buckets, DNS names.
    const providerNames = (type: string) => plan.resources.filter((r) => r.type === type).map((r) => r.inputs.name);
    for (const type of [
        "hcloud:index/server:Server",
        "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
        "cloudflare:index/r2Bucket:R2Bucket",
        "cloudflare:index/dnsRecord:DnsRecord",
        "hcloud:index/firewall:Firewall",
    ]) {
        const list = providerNames(type);
        assert.equal(list.length, 2, type);
        assert.notEqual(list[0], list[1], `${type} names collide: ${list}`);
    }
    assert.deepEqual(plan.outputs.urls, ["https://alice.example.com", "https://bob.example.com"]);
    assert.deepEqual(plan.outputs.tokens, ["[secret]", "[secret]"], "gateway tokens are secret outputs");
    assert.ok(!JSON.stringify(plan.resources).includes("SENTINEL"), "no secret value in any non-secret input");
});
