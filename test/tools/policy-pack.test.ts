// The policy pack as the Pulumi CLI runs it: policy/index.ts started as a process (it prints its gRPC port), then
// asked over Pulumi's analyzer protocol for its policies and to analyze resources, one at a time and as a stack.
// The CLI itself cannot be downloaded here; this is the same protocol it speaks to the pack.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { PROJECT_ROOT } from "../../components/core/pins";
import { POLICIES, TYPES } from "../../policy/policies";
import { providerSpec } from "../../components/providers";

const HETZNER = providerSpec("hetzner").resourceTypes;

const PACK_DIR = path.join(PROJECT_ROOT, "policy");

interface Finding {
    policy: string;
    message: string;
    mandatory: boolean;
    urn: string;
}

function findings(response: analyzerPb.AnalyzeResponse): Finding[] {
    return response.getDiagnosticsList().map((d) => ({
        policy: d.getPolicyname(),
        message: d.getMessage(),
        mandatory: d.getEnforcementlevel() === analyzerPb.EnforcementLevel.MANDATORY,
        urn: d.getUrn(),
    }));
}

function options(): analyzerPb.AnalyzerResourceOptions {
    return new analyzerPb.AnalyzerResourceOptions().setProtect(false);
}

function urn(type: string, name: string): string {
    return `urn:pulumi:ci::openclaw-vps::${type}::${name}`;
}

describe("policy pack over the analyzer protocol", { timeout: 600_000 }, () => {
    let pack: ChildProcess;
    let client: analyzerGrpc.AnalyzerClient;
    let stderr = "";

    before(async () => {
        pack = spawn(process.execPath, ["--import", "tsx", "index.ts"], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
        pack.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`the pack printed no port in 60 s: ${stderr}`)), 60_000);
            let out = "";
            pack.stdout!.on("data", (d) => {
                out += d;
                const match = /^(\d+)\s*$/m.exec(out);
                if (match) {
                    clearTimeout(timer);
                    resolve(Number(match[1]));
                }
            });
            pack.on("exit", (code) => reject(new Error(`the pack exited ${code}: ${stderr}`)));
        });
        client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        pack?.kill("SIGKILL");
    });

    const call = <Req, Res>(method: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req) =>
        new Promise<Res>((resolve, reject) => method.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));

    it("announces every policy, mandatory", async () => {
        const info = await call<Empty, analyzerPb.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
        assert.equal(info.getName(), "openclaw-vps");
        assert.equal(info.getVersion(), "0.1.0");
        const policies = info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]);
        assert.deepEqual(policies.map(([name]) => name).sort(), POLICIES.map((p) => p.name).sort());
        for (const [name, level] of policies) assert.equal(level, analyzerPb.EnforcementLevel.MANDATORY, String(name));
    });

    it("analyzes one resource: the gateway port on a firewall is a mandatory violation, SSH alone is not", async () => {
        const firewall = (port: string) =>
            new analyzerPb.AnalyzeRequest()
                .setType(HETZNER.firewall)
                .setName("fw")
                .setUrn(urn(HETZNER.firewall, "fw"))
                .setOptions(options())
                .setProperties(
                    Struct.fromJavaScript({ rules: [{ direction: "in", protocol: "tcp", port, sourceIps: ["203.0.113.7/32"] }] }),
                );
        const bad = findings(await call(client.analyze, firewall("18789")));
        assert.equal(bad.length, 1, JSON.stringify(bad));
        assert.equal(bad[0].policy, "ssh-only-inbound");
        assert.equal(bad[0].mandatory, true);
        assert.match(bad[0].message, /opens the gateway port 18789/);
        assert.deepEqual(findings(await call(client.analyze, firewall("22"))), []);
    });

    it("analyzes the stack: a DNS record created without its Access application is a violation", async () => {
        const resource = (type: string, name: string, props: Record<string, unknown>, deps: string[] = []) =>
            new analyzerPb.AnalyzerResource()
                .setType(type)
                .setName(name)
                .setUrn(urn(type, name))
                .setOptions(options())
                .setProperties(Struct.fromJavaScript(props as Record<string, never>))
                .setDependenciesList(deps);
        const app = resource(TYPES.accessApplication, "app", {
            domain: "agent.example.com",
            type: "self_hosted",
            policies: [{ id: "p", precedence: 1 }],
        });
        const dns = (deps: string[]) =>
            resource(
                TYPES.dnsRecord,
                "dns",
                { name: "agent.example.com", type: "CNAME", content: "t.cfargotunnel.com", proxied: true },
                deps,
            );
        const independent = findings(
            await call(client.analyzeStack, new analyzerPb.AnalyzeStackRequest().setResourcesList([app, dns([])])),
        );
        assert.deepEqual(
            independent.map((f) => f.policy),
            ["access-guards-hostnames"],
        );
        assert.match(independent[0].message, /does not depend on its Access application/);
        const ordered = findings(
            await call(
                client.analyzeStack,
                new analyzerPb.AnalyzeStackRequest().setResourcesList([app, dns([urn(TYPES.accessApplication, "app")])]),
            ),
        );
        assert.deepEqual(ordered, []);
    });
});
