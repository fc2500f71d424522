// The composed host bundle (components/render/host-bundle.ts) against docs/host-contract.md: every path the contract
// assigns to the push has the contract's owner and mode; secrets are only in secret files; restarts are wired to the
// files that need them; the agent's memory is create-only.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { bundleDigests, renderBundleScript, SECRETS_DIGEST_KEY } from "../../components/render/bundle";
import { buildHostBundle } from "../../components/render/host-bundle";
import { workspaceFiles } from "../../components/render/workspace";
import { HOST_SENTINELS as SENTINELS, sampleHostInput } from "../helpers/push";
import { CHANNEL_SENTINELS } from "../helpers/openclaw-runtime";
import { channelSecretKeys, channelsFromSettings, hostBundleInput, PLACEHOLDER_SECRETS } from "../../components/host";
import { parseHostFacts } from "../../components/render/host-facts";
import { gatewayMemoryBudget } from "../../components/render/gateway-unit";
import { parseSettings } from "../../components/settings";
import { readStackConfig } from "../../scripts/lib/stack-config";

/** `path -> [owner:group, mode]` for every row of the contract's Paths table written by the push. */
function contractRows(): Map<string, [string, string]> {
    const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/host-contract.md"), "utf8");
    const rows = new Map<string, [string, string]>();
    for (const line of doc.split("\n")) {
        const m = /^\| `([^`]+)`(?: \(dir\))? \| (\S+?)(?::(\S+))? (0\d{3}) \| ([^|]*) \|/.exec(line);
        if (!m || !/\bpush\b/.test(m[5])) continue;
        const owner = `${m[2]}:${m[3] ?? m[2]}`;
        for (const p of m[1].includes("{") ? expandBraces(m[1]) : [m[1]]) rows.set(p.replace(/\/$/, ""), [owner, m[4]]);
    }
    return rows;
}

function expandBraces(p: string): string[] {
    const m = /^(.*)\{([^}]+)\}(.*)$/.exec(p)!;
    return m[2].split(",").map((alt) => `${m[1]}${alt}${m[3]}`);
}

test("every path the contract gives the push has the contract's owner and mode", () => {
    const bundle = buildHostBundle(sampleHostInput());
    const byPath = new Map<string, { owner: string; group: string; mode: string }>([
        ...(bundle.dirs ?? []).map((d) => [d.path, d] as const),
        ...bundle.files.map((f) => [f.path, f] as const),
    ]);
    const rows = contractRows();
    assert.ok(rows.size >= 8, `parsed only ${rows.size} contract rows`);
    const applierOwned = new Set(["/var/lib/openclaw-vps/restore.done", "/var/lib/openclaw-vps/push"]); // written by the applier itself
    for (const [p, [owner, mode]] of rows) {
        if (applierOwned.has(p)) continue;
        const item = byPath.get(p);
        assert.ok(item, `the contract says the push writes ${p}, the bundle does not`);
        assert.deepEqual([`${item.owner}:${item.group}`, item.mode], [owner, mode], p);
    }
    for (const f of bundle.files.filter((x) => x.path.includes("/workspace/"))) assert.equal(f.mode, "0600", f.path);
});

test("secrets live only in the 0600 secret files, never in config, units or scripts", () => {
    const bundle = buildHostBundle(sampleHostInput());
    const secretFiles = bundle.files
        .filter((f) => f.secret)
        .map((f) => f.path)
        .sort();
    assert.deepEqual(secretFiles, [
        "/etc/cloudflared/tunnel.env",
        "/etc/openclaw-vps/alerts.env",
        "/etc/openclaw-vps/rclone.conf",
        "/home/openclaw/.openclaw/.env",
    ]);
    for (const f of bundle.files) {
        for (const [name, value] of Object.entries(SENTINELS)) {
            if (f.content.includes(value)) assert.ok(f.secret, `${name} is in the non-secret file ${f.path}`);
        }
        if (f.secret) assert.equal(f.mode, "0600");
    }
    const env = bundle.files.find((f) => f.path.endsWith("/.env"))!.content;
    assert.match(env, new RegExp(`^OPENCLAW_GATEWAY_TOKEN=${SENTINELS.gatewayToken}$`, "m"));
    assert.match(env, new RegExp(`^ANTHROPIC_API_KEY=${SENTINELS.llmApiKey}$`, "m"));
    assert.match(env, new RegExp(`^VOYAGE_API_KEY=${SENTINELS.embeddingApiKey}$`, "m"));
    assert.equal(bundle.files.find((f) => f.path === "/etc/cloudflared/tunnel.env")!.content, `TUNNEL_TOKEN=${SENTINELS.tunnelToken}\n`);
    const alerts = bundle.files.find((f) => f.path === "/etc/openclaw-vps/alerts.env")!.content;
    assert.match(alerts, new RegExp(`^ALERT_TELEGRAM_BOT_TOKEN=${SENTINELS.alertBotToken}$`, "m"));
    assert.match(alerts, /^ALERT_TELEGRAM_CHAT_ID=123456789$/m);
    assert.ok(alerts.includes(`ALERT_NTFY_URL=${SENTINELS.alertNtfyUrl}\n`));
    const script = renderBundleScript(bundle);
    for (const value of Object.values(SENTINELS)) assert.ok(!script.includes(value), "no secret in plain in the script");
    const digests = JSON.stringify(bundleDigests(bundle));
    for (const value of Object.values(SENTINELS)) assert.ok(!digests.includes(value));
});

test("restarts are wired: config, secrets and unit restart the gateway; token and unit restart cloudflared; workspace restarts nothing", () => {
    const bundle = buildHostBundle(sampleHostInput());
    const affects = (p: string) => bundle.files.find((f) => f.path === p)?.affects ?? [];
    assert.deepEqual(
        affects("/home/openclaw/.openclaw/openclaw.json").filter((a) => a.endsWith(".service")),
        ["openclaw-gateway.service"],
    );
    assert.deepEqual(affects("/home/openclaw/.openclaw/.env"), ["openclaw-gateway.service"]);
    assert.deepEqual(affects("/etc/systemd/system/openclaw-gateway.service"), ["openclaw-gateway.service"]);
    assert.deepEqual(affects("/etc/cloudflared/tunnel.env"), ["cloudflared.service"]);
    assert.deepEqual(affects("/etc/systemd/system/cloudflared.service"), ["cloudflared.service"]);
    assert.deepEqual(affects("/etc/systemd/system/openclaw-backup.timer"), ["openclaw-backup.timer"]);
    assert.deepEqual(affects("/home/openclaw/.openclaw/workspace/SOUL.md"), []);
    assert.equal(bundle.files.find((f) => f.path.endsWith("/MEMORY.md"))!.policy, "create-only");
    assert.equal(bundle.files.find((f) => f.path.endsWith("/SOUL.md"))!.policy, "replace");
    assert.deepEqual(bundle.restore, {
        from: "latest",
        script: "/opt/openclaw-vps/bin/restore.sh",
        marker: "/var/lib/openclaw-vps/restore.done",
    });
    assert.equal(bundle.readiness?.url, "http://127.0.0.1:18789/readyz");
    assert.deepEqual(
        bundle.services?.map((s) => s.unit),
        [
            "cloudflared.service",
            "openclaw-backup.timer",
            "openclaw-watchdog.timer",
            "openclaw-integrity.timer",
            "openclaw-rootkit-scan.timer",
            "openclaw-gateway.service",
        ],
    );
    // The gateway: a root-owned system unit (User= makes it the agent), written with the agent's files; an older
    // host's user unit is retired by the push.
    const unit = bundle.files.find((f) => f.path === "/etc/systemd/system/openclaw-gateway.service")!;
    assert.deepEqual([unit.owner, unit.mode, unit.stage], ["root", "0644", "agent"]);
    assert.ok(!bundle.files.some((f) => f.path.includes("/.config/systemd/user/")));
    assert.equal(bundle.retireUserUnit, "openclaw-gateway.service");
    // install-tools.sh runs install-plugins.sh with these and the skill installer before the gateway starts, and the
    // browser's (tools.env) once it is ready (--after-gateway).
    assert.deepEqual(bundle.pluginInstaller, {
        script: "/opt/openclaw-vps/bin/install-tools.sh",
        args: ["@openclaw/voyage-provider@2026.9.6"],
        afterGateway: true,
    });
    assert.deepEqual(
        affects("/home/openclaw/.openclaw/openclaw.json"),
        ["openclaw-gateway.service", "plugins"],
        "a config change reinstalls plugins",
    );
    for (const script of ["install-plugins.sh", "install-browser.sh", "install-skills.sh", "install-tools.sh"])
        assert.deepEqual(affects(`/opt/openclaw-vps/bin/${script}`), ["plugins"], script);
    assert.deepEqual(affects("/etc/openclaw-vps/tools.env"), ["plugins"], "a browser or skills change reruns the installers");
    assert.match(bundle.files.find((f) => f.path.endsWith("/openclaw-gateway.service"))!.content, /^\[Service\]/m);
    // restore.sh needs backup-lib.sh beside it.
    for (const script of ["restore.sh", "backup-lib.sh", "backup.sh", "install-plugins.sh", "install-tools.sh"]) {
        const f = bundle.files.find((x) => x.path === `/opt/openclaw-vps/bin/${script}`);
        assert.ok(f && f.mode === "0755" && f.owner === "root", script);
    }
});

test("tools: tools.env carries browser, pinned skills and the clawhub pin; the browser lands in openclaw.json", () => {
    const off = buildHostBundle(sampleHostInput());
    const toolsEnv = (b: typeof off) => b.files.find((f) => f.path === "/etc/openclaw-vps/tools.env")!.content;
    assert.match(toolsEnv(off), /^BROWSER=0$/m);
    assert.match(toolsEnv(off), /^SKILLS=$/m);
    assert.match(toolsEnv(off), /^CLAWHUB_VERSION=\d+\.\d+\.\d+$/m);
    assert.match(toolsEnv(off), /^CLAWHUB_INTEGRITY=sha512-/m);
    const config = (b: typeof off) => JSON.parse(b.files.find((f) => f.path.endsWith("/openclaw.json"))!.content);
    assert.deepEqual(config(off).browser, { enabled: false });
    const base = sampleHostInput();
    const on = buildHostBundle({ ...base, tools: { ...base.tools, browser: true, skills: ["@alice/demo@1.0.0", "notes@2.0.0"] } });
    assert.match(toolsEnv(on), /^BROWSER=1$/m);
    assert.match(toolsEnv(on), /^SKILLS=@alice\/demo@1\.0\.0 notes@2\.0\.0$/m);
    assert.equal(config(on).browser.executablePath, "/usr/bin/chromium");
    assert.equal(config(on).browser.noSandbox, false);
    assert.throws(() => buildHostBundle({ ...base, tools: { ...base.tools, skills: ["demo"] } }), /skill "demo"/);
});

test("a rotated secret moves only the secrets digest; a changed port moves the config and the layout", () => {
    const before = bundleDigests(buildHostBundle(sampleHostInput()));
    const rotated = bundleDigests(
        buildHostBundle(sampleHostInput({ tunnel: { protocol: "auto", token: "bmV3LXRva2VuLWFmdGVyLXJlYnVpbGQtMTIzNA==" } })),
    );
    assert.deepEqual(
        Object.keys(before).filter((k) => before[k] !== rotated[k]),
        [SECRETS_DIGEST_KEY],
    );
    const base = sampleHostInput();
    const ported = bundleDigests(buildHostBundle({ ...base, openclaw: { ...base.openclaw, port: 18800 } }));
    const moved = Object.keys(before).filter((k) => before[k] !== ported[k]);
    assert.ok(moved.includes("/home/openclaw/.openclaw/openclaw.json") && moved.includes("(layout)"), moved.join(", "));
});

test("a config that reads an env var no secret covers is refused; no embedding key drops it from .env", () => {
    const base = sampleHostInput();
    const keyless = buildHostBundle({
        ...base,
        openclaw: { ...base.openclaw, memorySearch: { provider: "voyage", hasEmbeddingKey: false } },
        secrets: { gatewayToken: SENTINELS.gatewayToken, llmApiKey: SENTINELS.llmApiKey },
    });
    assert.ok(!keyless.files.find((f) => f.path.endsWith("/.env"))!.content.includes("VOYAGE_API_KEY"));
    assert.ok(keyless.warnings.length > 0, "keyword-only fallback is announced");
    assert.throws(
        () => buildHostBundle({ ...base, secrets: { gatewayToken: SENTINELS.gatewayToken, llmApiKey: SENTINELS.llmApiKey } }),
        /reads VOYAGE_API_KEY, but no secret is given/,
    );
    assert.throws(
        () => buildHostBundle({ ...base, workspace: [{ path: "../escape.md", content: "", policy: "replace", mode: 0o600 }] }),
        /plain relative path/,
    );
});

test("the repository's real workspace composes: operator files replaced, agent memory create-only, all 0600", () => {
    const bundle = buildHostBundle(sampleHostInput({ workspace: workspaceFiles() }));
    const ws = bundle.files.filter((f) => f.path.startsWith("/home/openclaw/.openclaw/workspace/"));
    const policy = (name: string) => ws.find((f) => f.path.endsWith(`/workspace/${name}`))?.policy;
    for (const name of ["SOUL.md", "USER.md", "AGENTS.md", "IDENTITY.md"]) assert.equal(policy(name), "replace", name);
    assert.equal(policy("MEMORY.md"), "create-only");
    assert.equal(policy("HEARTBEAT.md"), undefined, "HEARTBEAT.md goes into the config, not the workspace");
    for (const f of ws) assert.deepEqual([f.owner, f.group, f.mode], ["openclaw", "openclaw", "0600"], f.path);
});

test("channel tokens go to the 0600 .env only, and only for the channels the settings configure", () => {
    const base = sampleHostInput();
    const bundle = buildHostBundle({
        ...base,
        openclaw: {
            ...base.openclaw,
            channels: {
                telegram: { allowFrom: ["123456789"] },
                slack: { allowFrom: ["U0123456789"] },
                whatsapp: { allowFrom: ["+4915123456789"] },
            },
        },
        secrets: { ...base.secrets, channels: CHANNEL_SENTINELS },
    });
    const env = bundle.files.find((f) => f.path.endsWith("/.env"))!;
    assert.equal(env.mode, "0600");
    assert.match(env.content, new RegExp(`^TELEGRAM_BOT_TOKEN=${CHANNEL_SENTINELS.telegramBotToken}$`, "m"));
    assert.match(env.content, new RegExp(`^SLACK_BOT_TOKEN=${CHANNEL_SENTINELS.slackBotToken}$`, "m"));
    assert.match(env.content, new RegExp(`^SLACK_APP_TOKEN=${CHANNEL_SENTINELS.slackAppToken}$`, "m"));
    assert.ok(!env.content.includes(CHANNEL_SENTINELS.discordBotToken), "Discord is not configured: its token stays off the host");
    for (const f of bundle.files.filter((x) => !x.secret)) {
        for (const value of Object.values(CHANNEL_SENTINELS)) assert.ok(!f.content.includes(value), f.path);
    }
    const script = renderBundleScript(bundle);
    for (const value of Object.values(CHANNEL_SENTINELS)) assert.ok(!script.includes(value), "no token in plain in the script");
    // The channel plugins are installed pinned, like the provider plugins, before the gateway starts.
    assert.deepEqual(bundle.pluginInstaller?.args, [
        "@openclaw/voyage-provider@2026.9.6",
        "@openclaw/slack@2026.9.6",
        "@openclaw/whatsapp@2026.9.6",
    ]);
    assert.throws(
        () => buildHostBundle({ ...base, openclaw: { ...base.openclaw, channels: { discord: { allowFrom: ["123456789012345678"] } } } }),
        /reads DISCORD_BOT_TOKEN, but no secret is given/,
    );
});

test("settings to bundle: the channels with ids are configured; their tokens (and no other) reach the host", () => {
    const raw: Record<string, string> = { ...readStackConfig("prod").config };
    raw["openclaw-vps:telegramBotToken"] = CHANNEL_SENTINELS.telegramBotToken;
    raw["openclaw-vps:telegramAllowFrom"] = '["123456789"]';
    raw["openclaw-vps:whatsappAllowFrom"] = '["+4915123456789"]';
    const { settings } = parseSettings(raw, { allowPlainSecrets: true });
    assert.deepEqual(channelsFromSettings(settings), {
        telegram: { allowFrom: ["123456789"] },
        whatsapp: { allowFrom: ["+4915123456789"] },
    });
    assert.deepEqual(channelSecretKeys(settings), ["telegramBotToken"]);
    const input = hostBundleInput(settings, { ...PLACEHOLDER_SECRETS, channels: CHANNEL_SENTINELS });
    assert.deepEqual(input.secrets.channels, { telegramBotToken: CHANNEL_SENTINELS.telegramBotToken });
});

test("the gateway's memory budget follows the memory the host reported (HOST-FACTS), not the type's nominal size", () => {
    const config = readStackConfig("prod", { set: ["provider=digitalocean", "region=fra1", "serverType=s-2vcpu-2gb"] }).config;
    const { settings } = parseSettings(config, { allowPlainSecrets: true });
    assert.equal(settings.serverMemoryMb, 2048);
    const unitFor = (hostMemoryMb?: number) => hostBundleInput(settings, PLACEHOLDER_SECRETS, { hostMemoryMb }).gatewayUnit;
    // A "2 GB" droplet reports about 1.9 GiB of MemTotal: 384 MB stay with the OS, not 2048 - 1664 = 384 of a phantom 2048.
    const real = parseHostFacts("wait-provisioned: provisioning done\nHOST-FACTS mem_total_mb=1966\n").memTotalMb;
    assert.equal(real, 1966);
    assert.deepEqual(gatewayMemoryBudget(1966), { heapMb: 960, memoryHighMb: 1280, memoryMaxMb: 1536 });
    assert.match(unitFor(real), /^MemoryHigh=1280M\nMemoryMax=1536M$/m);
    assert.match(unitFor(real), /^Environment=NODE_OPTIONS=--max-old-space-size=960$/m);
    assert.match(unitFor(undefined), /^MemoryHigh=1408M\nMemoryMax=1664M$/m, "no facts (the plan): the nominal 2048 MB");
    assert.deepEqual(parseHostFacts("no facts line\n"), {});
    assert.deepEqual(parseHostFacts("HOST-FACTS mem_total_mb=lots\n"), {});
});
