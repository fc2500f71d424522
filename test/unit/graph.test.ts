// The resource graph of the real program under Pulumi's mock engine (npm run plan -- --json), for both providers
// and the edge and backup options: what is created, with which inputs, in which order, and that secrets stay secret.
import { before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { one, planJson, PlanRow, runPlan } from "../helpers/plan";

const SENTINEL_LLM = "sk-ant-SENTINEL-LLM-4242";
const SENTINEL_EMBEDDING = "pa-SENTINEL-EMBEDDING-4242";
const secrets = ["--secret", `llmApiKey=${SENTINEL_LLM}`, "--secret", `embeddingApiKey=${SENTINEL_EMBEDDING}`];
const CIDRS = ["203.0.113.7/32", "2001:db8:1234::/48"];

function assertNoSecretValues(rows: PlanRow[]) {
    const text = JSON.stringify(rows);
    for (const s of [SENTINEL_LLM, SENTINEL_EMBEDDING, "mock-tunnel-token", "mock-api-token"]) {
        assert.ok(!text.includes(s), `${s} leaked into the plan's non-secret inputs`);
    }
}

describe("hetzner (the default) with token auth", () => {
    let rows: PlanRow[];
    before(() => {
        rows = planJson(secrets);
    });

    test("one Ubuntu 24.04 cx23 server, its SSH key, and a firewall that admits only TCP 22 from adminCidrs", () => {
        const server = one(rows, "hcloud:index/server:Server");
        assert.equal(server.inputs.image, "ubuntu-24.04");
        assert.equal(server.inputs.serverType, "cx23");
        assert.equal(server.inputs.location, "fsn1");
        assert.deepEqual(server.inputs.labels, { "managed-by": "openclaw-vps", agent: "openclaw" });
        assert.equal(server.inputs.sshKeys.length, 1);
        const firewall = one(rows, "hcloud:index/firewall:Firewall");
        assert.deepEqual(
            firewall.inputs.rules.map((r: any) => [r.direction, r.protocol, r.port, r.sourceIps]),
            [["in", "tcp", "22", CIDRS]],
        );
        assert.equal(server.inputs.firewallIds.length, 1);
        assert.equal(typeof server.inputs.firewallIds[0], "number", "Hetzner firewall ids are numbers");
        assert.ok(!rows.some((r) => /18789/.test(JSON.stringify(r.inputs.rules ?? ""))), "the gateway port is never opened");
    });

    test("user data is plain (not secret), within Hetzner's 32 KiB and free of every secret", () => {
        const userData = one(rows, "hcloud:index/server:Server").inputs.userData;
        assert.equal(typeof userData, "string");
        assert.notEqual(userData, "[secret]", "nothing secret may flow into user data");
        assert.match(userData, /^#cloud-config\n/);
        assert.ok(Buffer.byteLength(userData) <= 32 * 1024);
        for (const s of [SENTINEL_LLM, SENTINEL_EMBEDDING, "mock-tunnel-token", "mock-api-token", "PLAN-PLACEHOLDER"]) {
            assert.ok(!userData.includes(s), `${s} in user data`);
        }
    });

    test("servers, keys, firewalls and tunnels with fixed names are replaced delete-first", () => {
        const text = runPlan(secrets).stdout;
        for (const name of ["openclaw-server-server", "openclaw-server-firewall", "openclaw-server-ssh-key", "openclaw-edge-tunnel"]) {
            assert.match(text, new RegExp(`${name}  \\[deleteBeforeReplace`), `${name} is deleteBeforeReplace`);
        }
    });

    test("the tunnel is remotely managed with a secret 32-byte secret", () => {
        const tunnel = one(rows, "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared");
        assert.equal(tunnel.inputs.configSrc, "cloudflare");
        assert.equal(tunnel.inputs.tunnelSecret, "[secret]");
        const secret = one(rows, "random:index/randomBytes:RandomBytes");
        assert.equal(secret.inputs.length, 32);
        const serverId = rows.find((r) => r.name === "openclaw-host-wait-provisioned")!.inputs.triggers[0];
        assert.deepEqual(secret.inputs.keepers, { serverId }, "a new server gets a new tunnel and token");
        assert.deepEqual(one(rows, "random:index/randomPassword:RandomPassword").inputs.keepers, { serverId }, "and a new gateway token");
    });

    test("ingress: hostname to the loopback gateway with the Access JWT required (the app's aud), catch-all 404 last", () => {
        const config = one(rows, "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig");
        const ingresses = config.inputs.config.ingresses;
        assert.equal(ingresses.length, 2);
        assert.equal(ingresses[0].hostname, "agent.example.com");
        assert.equal(ingresses[0].service, "http://127.0.0.1:18789");
        assert.equal(ingresses[0].originRequest.access.required, true);
        assert.equal(ingresses[0].originRequest.access.teamName, "example");
        assert.equal(ingresses[0].originRequest.access.audTags.length, 1);
        assert.match(ingresses[0].originRequest.access.audTags[0], /^[0-9a-f]{64}$/, "the application's aud (mock)");
        assert.deepEqual(ingresses.at(-1), { service: "http_status:404" });
        assert.equal(config.inputs.tunnelId, "openclaw-edge-tunnel-id");
    });

    test("DNS: a proxied CNAME to the tunnel, created only after the Access application and the tunnel config", () => {
        const dns = one(rows, "cloudflare:index/dnsRecord:DnsRecord");
        assert.equal(dns.inputs.type, "CNAME");
        assert.equal(dns.inputs.name, "agent.example.com");
        assert.equal(dns.inputs.content, "openclaw-edge-tunnel-id.cfargotunnel.com");
        assert.equal(dns.inputs.proxied, true);
        assert.ok(dns.dependsOn.includes("openclaw-edge-access-app"), "DNS depends on the Access app");
        assert.ok(dns.dependsOn.includes("openclaw-edge-tunnel-config"));
    });

    test("Access: a self-hosted application on the hostname with one Allow policy of exactly the listed e-mails", () => {
        const app = one(rows, "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication");
        assert.equal(app.inputs.type, "self_hosted");
        assert.equal(app.inputs.domain, "agent.example.com");
        assert.equal(app.inputs.sessionDuration, "24h");
        const policy = one(rows, "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy");
        assert.equal(policy.inputs.decision, "allow");
        assert.deepEqual(policy.inputs.includes, [{ email: { email: "you@example.com" } }]);
        assert.deepEqual(app.inputs.policies, [{ id: "openclaw-edge-allow-policy-id", precedence: 1 }]);
        assert.ok(!rows.some((r) => r.type.endsWith("ZeroTrustAccessServiceToken")), "no service token unless asked");
    });

    test("backup: the bucket survives destroy; snapshots locked 7 days, expired after 30; token scoped to the one bucket", () => {
        const bucket = one(rows, "cloudflare:index/r2Bucket:R2Bucket");
        assert.equal(bucket.retainOnDelete, true);
        assert.equal(bucket.inputs.name, "openclaw-memory");
        const lock = one(rows, "cloudflare:index/r2BucketLock:R2BucketLock");
        assert.deepEqual(lock.inputs.rules, [
            { id: "lock-snapshots", enabled: true, prefix: "snapshots/", condition: { type: "Age", maxAgeSeconds: 7 * 86400 } },
        ]);
        const lifecycle = one(rows, "cloudflare:index/r2BucketLifecycle:R2BucketLifecycle");
        const expire = lifecycle.inputs.rules.find((r: any) => r.id === "expire-snapshots");
        assert.equal(expire.conditions.prefix, "snapshots/");
        assert.equal(expire.deleteObjectsTransition.condition.maxAge, 30 * 86400);
        assert.ok(lock.inputs.rules[0].condition.maxAgeSeconds < expire.deleteObjectsTransition.condition.maxAge);
        const token = one(rows, "cloudflare:index/apiToken:ApiToken");
        assert.equal(token.inputs.policies.length, 1);
        const resources = JSON.parse(token.inputs.policies[0].resources);
        assert.deepEqual(resources, { "com.cloudflare.edge.r2.bucket.fedcba9876543210fedcba9876543210_default_openclaw-memory": "*" });
        assert.equal(token.inputs.policies[0].permissionGroups.length, 2, "object read and object write only");
    });

    test("the push waits for provisioning, carries its script as a secret and names each file in its triggers", () => {
        const wait = rows.find((r) => r.name === "openclaw-host-wait-provisioned")!;
        const push = rows.find((r) => r.name === "openclaw-host-push")!;
        assert.deepEqual(push.dependsOn, ["openclaw-host-wait-provisioned"]);
        assert.equal(push.inputs.stdin, "[secret]");
        assert.equal(push.inputs.create, "sudo -n bash -s");
        const serverId = wait.inputs.triggers[0];
        assert.equal(push.inputs.triggers[0], serverId, "a new server means a new push");
        const digests = push.inputs.triggers[1];
        for (const f of [
            "/home/openclaw/.openclaw/openclaw.json",
            "/home/openclaw/.openclaw/workspace/SOUL.md",
            "/etc/systemd/system/cloudflared.service",
        ]) {
            assert.match(digests[f], /^[0-9a-f]{64}$/, `${f} has a digest`);
        }
        assert.ok(
            !Object.keys(digests).some((k) => k.endsWith(".env") && k.includes(".openclaw")),
            "secret files are digested only together",
        );
        assert.equal(push.inputs.triggers[2], "[secret]");
    });

    test("the wait carries its timeout in the script (provisionTimeoutMinutes, default 30) and reruns on a resize", () => {
        const wait = rows.find((r) => r.name === "openclaw-host-wait-provisioned")!;
        assert.equal(wait.inputs.create, "sudo -n bash -s", "nothing but the fixed command on the command line");
        assert.match(wait.inputs.stdin, /^#!\/usr\/bin\/env bash\nexport WAIT_TIMEOUT_SECONDS='1800'\n/);
        assert.deepEqual(wait.inputs.triggers.slice(1), ["cx23"], "a new server type means the host's memory is read again");
    });

    test("without the host's facts (the plan has no host), the gateway unit's budget is the server type's nominal size", () => {
        const host = one(rows, "openclaw-vps:index:AgentHost");
        const unit = (host.inputs.files as { path: string; content: string }[]).find((f) => f.path.endsWith("/openclaw-gateway.service"))!;
        // cx23: 4096 MB nominal.
        assert.match(unit.content, /^MemoryHigh=3008M$/m);
        assert.match(unit.content, /^MemoryMax=3584M$/m);
    });

    test("no secret value appears anywhere in the plan's inputs", () => assertNoSecretValues(rows));
});

describe("digitalocean with a service token and Access auth", () => {
    let rows: PlanRow[];
    before(() => {
        rows = planJson([
            ...secrets,
            "--set",
            "provider=digitalocean",
            "--set",
            "region=",
            "--set",
            "serverType=",
            "--set",
            "accessServiceToken=true",
            "--set",
            "gatewayAuth=access",
        ]);
    });

    test("an Ubuntu 24.04 s-2vcpu-2gb droplet behind a firewall: in TCP 22 from adminCidrs, out open (tcp, udp, icmp)", () => {
        const droplet = one(rows, "digitalocean:index/droplet:Droplet");
        assert.equal(droplet.inputs.image, "ubuntu-24-04-x64");
        assert.equal(droplet.inputs.size, "s-2vcpu-2gb");
        assert.equal(droplet.inputs.region, "fra1");
        assert.equal(droplet.inputs.ipv6, true);
        const fw = one(rows, "digitalocean:index/firewall:Firewall");
        assert.deepEqual(fw.inputs.inboundRules, [{ protocol: "tcp", portRange: "22", sourceAddresses: CIDRS }]);
        assert.deepEqual(fw.inputs.outboundRules.map((r: any) => r.protocol).sort(), ["icmp", "tcp", "udp"]);
        for (const r of fw.inputs.outboundRules) assert.deepEqual(r.destinationAddresses, ["0.0.0.0/0", "::/0"]);
        assert.equal(fw.inputs.dropletIds.length, 1);
        assert.ok(!rows.some((r) => r.type.startsWith("hcloud:")));
    });

    test("a service token gets its own Service Auth policy on the same application", () => {
        one(rows, "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken");
        const policies = rows.filter((r) => r.type === "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy");
        const service = policies.find((p) => p.inputs.decision === "non_identity")!;
        assert.deepEqual(service.inputs.includes, [{ serviceToken: { tokenId: "openclaw-edge-service-token-id" } }]);
        const app = one(rows, "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication");
        assert.deepEqual(
            app.inputs.policies.map((p: any) => p.precedence),
            [1, 2],
        );
    });

    test("no secret value appears anywhere in the plan's inputs", () => assertNoSecretValues(rows));
});

describe("bad input plans nothing", () => {
    test("an invalid setting exits non-zero naming the key, the value and what is expected", () => {
        const run = runPlan(["--set", "hostname=not a host", "--set", "timezone=Mars/Base"]);
        assert.equal(run.status, 2);
        assert.match(run.stderr, /openclaw-vps:hostname: got "not a host"; expected a fully qualified domain name/);
        assert.match(run.stderr, /openclaw-vps:timezone: got "Mars\/Base"; expected an IANA time zone/);
        assert.equal(run.stdout, "", "nothing is planned");
    });

    test("a typo in a key is caught with a suggestion", () => {
        const run = runPlan(["--set", 'acessEmails=["a@b.co"]']);
        assert.equal(run.status, 2);
        assert.match(run.stderr, /did you mean openclaw-vps:accessEmails\?/);
    });
});

describe("an SSH key already in the provider account", () => {
    test("providerSshKey is used instead of creating a key (providers refuse the same public key twice)", () => {
        const rows = planJson([...secrets, "--set", "providerSshKey=laptop-2026"]);
        assert.ok(!rows.some((r) => r.type === "hcloud:index/sshKey:SshKey"), "no key resource");
        assert.deepEqual(one(rows, "hcloud:index/server:Server").inputs.sshKeys, ["laptop-2026"]);
    });
});

describe("npm run plan -- --out DIR", () => {
    test("writes the user data and every host file with its owner, mode and policy; secrets only as [secret]", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-out-"));
        try {
            const run = runPlan([...secrets, "--out", dir]);
            assert.equal(run.status, 0, run.stderr);
            const userData = fs.readFileSync(path.join(dir, "user-data.yaml"), "utf8");
            assert.match(userData, /^#cloud-config\n/);
            const manifest = fs
                .readFileSync(path.join(dir, "host-files.tsv"), "utf8")
                .trim()
                .split("\n")
                .slice(1)
                .map((l) => l.split("\t"));
            const byPath = new Map(manifest.map(([p, owner, mode, policy, sha]) => [p, { owner, mode, policy, sha }]));
            assert.deepEqual(byPath.get("/home/openclaw/.openclaw/workspace/MEMORY.md")?.policy, "create-only");
            assert.deepEqual(byPath.get("/home/openclaw/.openclaw/workspace/SOUL.md")?.policy, "replace");
            assert.equal(byPath.get("/home/openclaw/.openclaw/.env")?.sha, "[secret]");
            assert.equal(byPath.get("/etc/cloudflared/tunnel.env")?.mode, "0600");
            const config = JSON.parse(fs.readFileSync(path.join(dir, "host/home/openclaw/.openclaw/openclaw.json"), "utf8"));
            assert.equal(config.gateway.bind, "loopback");
            assert.equal(fs.readFileSync(path.join(dir, "host/home/openclaw/.openclaw/.env"), "utf8"), "[secret]");
            const soul = fs.readFileSync(path.join(dir, "host/home/openclaw/.openclaw/workspace/SOUL.md"), "utf8");
            assert.equal(
                soul,
                fs.readFileSync(path.join(PROJECT_ROOT, "workspace/SOUL.md"), "utf8"),
                "workspace files are the repository's",
            );
            const everything = execFileSync("cat", ["-v", ...walk(dir)], { encoding: "utf8", maxBuffer: 32 * 1024 * 1024 });
            assert.ok(!everything.includes("SENTINEL"), "no secret in any written file");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

function walk(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
