// The guided first-time setup of `npm run deploy`: it asks exactly what the stack lacks, re-asks on a bad answer
// with the schema's own expectation, stores lists with --path and every value on stdin (secrets never in argv).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { rebuildUrns } from "../../scripts/deploy";
import { guidedSetup, isPlaceholderValue, keysNeedingAnswers, Prompter, PulumiRunner } from "../../scripts/lib/setup";
import { readStackConfig } from "../../scripts/lib/stack-config";
import { PROJECT_ROOT } from "../../components/core/pins";

const SENTINEL_LLM = "sk-ant-SENTINEL-llm-7f3a9c";
const SENTINEL_CF = "cf-SENTINEL-token-19d2";

function scripted(answers: string[]): Prompter & { questions: string[]; said: string[] } {
    const questions: string[] = [];
    const said: string[] = [];
    return {
        questions,
        said,
        ask: async (q, opts) => {
            questions.push(q);
            const a = answers.shift();
            if (a === undefined) throw new Error(`unexpected question: ${q}`);
            return a || opts?.defaultValue || "";
        },
        say: (l) => said.push(l),
    };
}

function recorder(): PulumiRunner & { calls: { args: string[]; stdin?: string }[] } {
    const calls: { args: string[]; stdin?: string }[] = [];
    return { calls, run: async (args, stdin) => (calls.push({ args, stdin }), { code: 0, stdout: "", stderr: "" }) };
}

test("the example stack's values are recognised as placeholders, real ones are not", () => {
    assert.equal(isPlaceholderValue("hostname", "agent.example.com"), true);
    assert.equal(isPlaceholderValue("hostname", "agent.mydomain.dev"), false);
    assert.equal(isPlaceholderValue("adminCidrs", ["203.0.113.7/32"]), true);
    assert.equal(isPlaceholderValue("adminCidrs", ["2001:db8:1234::/48"]), true);
    assert.equal(isPlaceholderValue("adminCidrs", ["81.2.69.160/32"]), false);
    assert.equal(isPlaceholderValue("accessEmails", ["ops@mydomain.dev"]), false);
    const example = readStackConfig("prod").config;
    const needed = keysNeedingAnswers(example, new Set());
    for (const key of ["hostname", "zoneId", "accountId", "accessTeamName", "accessEmails", "sshPublicKey", "adminCidrs", "llmApiKey"]) {
        assert.ok(needed.includes(key), `${key} must be asked for on the example stack`);
    }
});

test("a complete stack needs no setup", () => {
    const complete = {
        "openclaw-vps:hostname": "agent.mydomain.dev",
        "openclaw-vps:zoneId": "a".repeat(32),
        "openclaw-vps:accountId": "b".repeat(32),
        "openclaw-vps:accessTeamName": "myteam",
        "openclaw-vps:accessEmails": ["me@mydomain.dev"],
        "openclaw-vps:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIObQEt+uo/bXbGBubPD3Z7Y5/6/9RzR04JO/vOJQm/77 me@laptop",
        "openclaw-vps:adminCidrs": ["81.2.69.160/32"],
    };
    assert.deepEqual(keysNeedingAnswers(complete, new Set(["openclaw-vps:llmApiKey"])), []);
});

test("the setup stores answers with pulumi config set, secrets on stdin only, and re-asks bad answers", async () => {
    // provider, timezone, llmProvider and memorySearchProvider already have real values in the example stack.
    const prompter = scripted([
        "agent", // hostname: not an FQDN -> asked again
        "agent.mydomain.dev",
        "c".repeat(32), // zoneId
        "d".repeat(32), // accountId
        "myteam",
        "me@mydomain.dev, partner@mydomain.dev",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIObQEt+uo/bXbGBubPD3Z7Y5/6/9RzR04JO/vOJQm/77 me@laptop",
        "81.2.69.160/32",
        SENTINEL_LLM,
        "", // embedding key: skipped
        SENTINEL_CF, // cloudflare token (hcloud token comes from env)
    ]);
    const pulumi = recorder();
    const stored = await guidedSetup({
        stackConfig: readStackConfig("prod").config,
        secretKeys: new Set(),
        prompter,
        pulumi,
        env: { HCLOUD_TOKEN: "from-env" },
    });
    assert.ok(
        prompter.said.some((l) => /hostname: expected a fully qualified domain name/.test(l)),
        "bad answer explained",
    );
    assert.ok(stored.includes("llmApiKey") && stored.includes("cloudflare:apiToken"));
    assert.ok(!stored.includes("hcloud:token"), "a token in the environment is not asked for");
    assert.ok(!stored.includes("embeddingApiKey"), "an empty optional answer stores nothing");
    assert.equal(prompter.questions.length, 11, prompter.questions.join("\n"));
    for (const call of pulumi.calls) {
        assert.ok(!call.args.some((a) => a.includes("SENTINEL")), `secret in argv: ${call.args.join(" ")}`);
    }
    const llm = pulumi.calls.find((c) => c.args.includes("openclaw-vps:llmApiKey"));
    assert.deepEqual(llm?.args, ["config", "set", "--secret", "openclaw-vps:llmApiKey"]);
    assert.equal(llm?.stdin, SENTINEL_LLM);
    const emails = pulumi.calls.filter((c) => c.args.some((a) => a.startsWith("openclaw-vps:accessEmails[")));
    assert.deepEqual(
        emails.map((c) => [c.args.at(-1), c.stdin]),
        [
            ["openclaw-vps:accessEmails[0]", "me@mydomain.dev"],
            ["openclaw-vps:accessEmails[1]", "partner@mydomain.dev"],
        ],
    );
    const cf = pulumi.calls.find((c) => c.args.includes("cloudflare:apiToken"));
    assert.ok(cf?.args.includes("--secret"));
});

test("npm run deploy --setup-only drives a real pulumi command line without secrets in argv", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-"));
    const log = path.join(dir, "calls.log");
    const fake = path.join(dir, "pulumi");
    // A stand-in for the Pulumi CLI: records argv and stdin; `stack export` says the stack has no resources.
    fs.writeFileSync(
        fake,
        `#!/usr/bin/env bash\nprintf 'ARGV %s\\n' "$*" >> ${JSON.stringify(log)}\nif [ ! -t 0 ]; then printf 'STDIN %s\\n' "$(cat)" >> ${JSON.stringify(log)}; fi\n[ "$1" = stack ] && [ "$2" = export ] && echo '{}'\nexit 0\n`,
        { mode: 0o755 },
    );
    const answers = [
        "agent.mydomain.dev",
        "c".repeat(32),
        "d".repeat(32),
        "myteam",
        "me@mydomain.dev",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIObQEt+uo/bXbGBubPD3Z7Y5/6/9RzR04JO/vOJQm/77 me@laptop",
        "81.2.69.160/32",
        SENTINEL_LLM,
        "",
        SENTINEL_CF,
    ].join("\n");
    const res = spawnSync(process.execPath, ["--import", "tsx", "scripts/deploy.ts", "--setup-only", "--stack", "prod"], {
        cwd: PROJECT_ROOT,
        input: `${answers}\n`,
        env: {
            ...process.env,
            OPENCLAW_VPS_PULUMI: fake,
            PULUMI_CONFIG_PASSPHRASE: "test-passphrase",
            HCLOUD_TOKEN: "x",
            CLOUDFLARE_API_TOKEN: "",
        },
        encoding: "utf8",
        timeout: 300_000,
    });
    assert.equal(res.status, 0, res.stderr);
    const calls = fs.readFileSync(log, "utf8");
    assert.match(calls, /ARGV stack select --create prod --secrets-provider passphrase/);
    assert.match(calls, /ARGV config set --secret openclaw-vps:llmApiKey\nSTDIN sk-ant-SENTINEL/);
    for (const line of calls.split("\n").filter((l) => l.startsWith("ARGV"))) assert.doesNotMatch(line, /SENTINEL/);
    assert.doesNotMatch(res.stdout + res.stderr, /SENTINEL/, "secrets are not echoed");
    fs.rmSync(dir, { recursive: true, force: true });
});

test("--rebuild replaces the server and every credential the host held, never the bucket", () => {
    const resources = [
        ["hcloud:index/server:Server", "openclaw-server-server"],
        ["cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared", "openclaw-edge-tunnel"],
        ["random:index/randomBytes:RandomBytes", "openclaw-edge-tunnel-secret"],
        ["random:index/randomPassword:RandomPassword", "openclaw-host-gateway-token"],
        ["cloudflare:index/apiToken:ApiToken", "openclaw-backup-token"],
        ["cloudflare:index/r2Bucket:R2Bucket", "openclaw-backup-bucket"],
        ["cloudflare:index/r2BucketLock:R2BucketLock", "openclaw-backup-bucket-lock"],
        ["cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication", "openclaw-edge-access-app"],
    ].map(([type, name]) => ({ type, urn: `urn:pulumi:prod::openclaw-vps::${type}::${name}` }));
    const urns = rebuildUrns(JSON.stringify({ deployment: { resources } }));
    assert.deepEqual(urns.map((u) => u.split("::").pop()).sort(), [
        "openclaw-backup-token",
        "openclaw-edge-tunnel",
        "openclaw-edge-tunnel-secret",
        "openclaw-host-gateway-token",
        "openclaw-server-server",
    ]);
});

test("npm run deploy takes a snapshot before updating a live server, warns and goes on when it cannot, and never on --rebuild", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-update-"));
    const stackFile = path.join(PROJECT_ROOT, "Pulumi.deploy-test.yaml");
    const log = path.join(dir, "calls.log");
    const fake = path.join(dir, "pulumi");
    const state = JSON.stringify({
        deployment: {
            resources: [
                {
                    urn: "urn:pulumi:deploy-test::openclaw-vps::hcloud:index/server:Server::openclaw-server-server",
                    type: "hcloud:index/server:Server",
                },
                {
                    urn: "urn:pulumi:deploy-test::openclaw-vps::random:index/randomPassword:RandomPassword::openclaw-host-gateway-token",
                    type: "random:index/randomPassword:RandomPassword",
                },
                {
                    urn: "urn:pulumi:deploy-test::openclaw-vps::cloudflare:index/r2Bucket:R2Bucket::openclaw-backup-bucket",
                    type: "cloudflare:index/r2Bucket:R2Bucket",
                },
            ],
        },
    });
    // A stand-in Pulumi CLI: a deployed stack whose server (127.0.0.1:22 here) does not answer SSH.
    fs.writeFileSync(
        fake,
        [
            "#!/usr/bin/env bash",
            `printf 'ARGV %s\\n' "$*" >> ${JSON.stringify(log)}`,
            `case "$1 $2" in`,
            `  "stack export") cat ${JSON.stringify(path.join(dir, "state.json"))} ;;`,
            `  "stack output") echo '{"sshCommand":"ssh ops@127.0.0.1","serverIpv4":"127.0.0.1"}' ;;`,
            "esac",
            "exit 0",
        ].join("\n") + "\n",
        { mode: 0o755 },
    );
    fs.writeFileSync(path.join(dir, "state.json"), state);
    const keyFileName = path.join(dir, "id_ed25519");
    fs.writeFileSync(keyFileName, "not a real key\n", { mode: 0o600 });
    const complete =
        fs
            .readFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), "utf8")
            .replace("agent.example.com", "agent.mydomain.dev")
            .replace("0123456789abcdef0123456789abcdef", "c".repeat(32))
            .replace("fedcba9876543210fedcba9876543210", "d".repeat(32))
            .replace("accessTeamName: example", "accessTeamName: myteam")
            .replace("you@example.com\n", "me@mydomain.dev\n")
            .replace(/ you@example\.com$/m, " me@laptop")
            .replace("203.0.113.7/32", "81.2.69.160/32")
            .replace("    - 2001:db8:1234::/48\n", "") + "  openclaw-vps:llmApiKey:\n    secure: v1:AAAA\n";
    fs.writeFileSync(stackFile, complete);
    const env = {
        ...process.env,
        OPENCLAW_VPS_PULUMI: fake,
        PULUMI_CONFIG_PASSPHRASE: "x",
        OPENCLAW_VPS_SSH_KEY: keyFileName,
        HCLOUD_TOKEN: "x",
        CLOUDFLARE_API_TOKEN: "x",
    };
    const run = (args: string[]) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
            // The account checks are preflight.test.ts's (and the next test's); this one is about the snapshot.
            const child = spawn(
                process.execPath,
                ["--import", "tsx", "scripts/deploy.ts", "--stack", "deploy-test", "--yes", "--skip-preflight", ...args],
                {
                    cwd: PROJECT_ROOT,
                    env,
                    stdio: ["ignore", "pipe", "pipe"],
                },
            );
            let out = "";
            child.stdout.on("data", (d) => (out += d));
            child.stderr.on("data", (d) => (out += d));
            child.on("close", (code) => resolve({ code, out }));
        });
    try {
        const update = await run([]);
        assert.equal(update.code, 0, update.out);
        assert.match(update.out, /warning: no snapshot before the update \(.*127\.0\.0\.1/, "a failed pre-update snapshot is reported");
        let calls = fs.readFileSync(log, "utf8");
        assert.match(calls, /ARGV stack output --json --stack deploy-test/, "it looked the server up to snapshot it");
        assert.match(calls, /ARGV up --yes --skip-preview\n/, "and still deployed");

        fs.writeFileSync(log, "");
        const rebuild = await run(["--rebuild"]);
        assert.equal(rebuild.code, 0, rebuild.out);
        assert.doesNotMatch(rebuild.out, /snapshot before the update/, "a rebuild never snapshots the suspect host");
        calls = fs.readFileSync(log, "utf8");
        assert.doesNotMatch(calls, /stack output/);
        assert.match(
            calls,
            /ARGV up --replace urn:pulumi:deploy-test::openclaw-vps::hcloud:index\/server:Server::openclaw-server-server --replace urn:\S+::openclaw-host-gateway-token --yes --skip-preview/,
        );
    } finally {
        fs.rmSync(stackFile, { force: true });
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("npm run deploy checks the accounts first and stops before anything is created when one is not ready", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-preflight-"));
    const stackFile = path.join(PROJECT_ROOT, "Pulumi.preflight-test.yaml");
    const log = path.join(dir, "calls.log");
    const fake = path.join(dir, "pulumi");
    // A stand-in Pulumi CLI with a new stack: it records every call; `config get` finds no token in the stack.
    fs.writeFileSync(fake, ["#!/usr/bin/env bash", `printf 'ARGV %s\\n' "$*" >> ${JSON.stringify(log)}`, "exit 0"].join("\n") + "\n", {
        mode: 0o755,
    });
    const complete =
        fs
            .readFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), "utf8")
            .replace("agent.example.com", "agent.mydomain.dev")
            .replace("0123456789abcdef0123456789abcdef", "c".repeat(32))
            .replace("fedcba9876543210fedcba9876543210", "d".repeat(32))
            .replace("accessTeamName: example", "accessTeamName: myteam")
            .replace("you@example.com\n", "me@mydomain.dev\n")
            .replace(/ you@example\.com$/m, " me@laptop")
            .replace("203.0.113.7/32", "81.2.69.160/32")
            .replace("    - 2001:db8:1234::/48\n", "") +
        "  openclaw-vps:llmApiKey:\n    secure: v1:AAAA\n  hcloud:token:\n    secure: v1:BBBB\n  cloudflare:apiToken:\n    secure: v1:CCCC\n";
    fs.writeFileSync(stackFile, complete);
    const env: NodeJS.ProcessEnv = { ...process.env, OPENCLAW_VPS_PULUMI: fake, PULUMI_CONFIG_PASSPHRASE: "x" };
    delete env.HCLOUD_TOKEN;
    delete env.CLOUDFLARE_API_TOKEN;
    try {
        // No token reaches the checks, so none of them calls out: this test touches no network.
        const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/deploy.ts", "--stack", "preflight-test", "--yes"], {
            cwd: PROJECT_ROOT,
            env,
            encoding: "utf8",
            timeout: 300_000,
        });
        const out = `${result.stdout}${result.stderr}`;
        assert.equal(result.status, 1, out);
        assert.match(out, /Checking the accounts before anything is created \(npm run preflight\)/);
        assert.match(out, /✗ Cloudflare token is active: no Cloudflare token/);
        assert.match(out, /✗ Hetzner token works, with Read & Write: no Hetzner token/);
        assert.match(out, / {4}fix: .*Security > API tokens/);
        assert.match(out, /the accounts are not ready .*nothing was created\. --skip-preflight skips the checks/);
        const calls = fs.readFileSync(log, "utf8");
        assert.match(calls, /ARGV config get cloudflare:apiToken/, "it looked for the stack's own token");
        assert.doesNotMatch(calls, /ARGV up\b/, "pulumi up never ran");
    } finally {
        fs.rmSync(stackFile, { force: true });
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
