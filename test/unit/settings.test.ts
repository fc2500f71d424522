// The config schema: the example stack is accepted; every bad input is rejected with the key, the value given and
// what is expected; all problems are reported at once; the Node range comes from the installed OpenClaw.
import { test } from "node:test";
import { spawnSync } from "node:child_process";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { BACKUP_SCHEDULE_RULE } from "../../components/core/rules";
import { ConfigError, DEFAULT_MODEL, NAMESPACE, parseSettings, settingSpecs, nodeMajorSatisfies } from "../../components/settings";
import { readOpenclawPin, PROJECT_ROOT } from "../../components/core/pins";
import { renderPulumiYaml, withConfigReference } from "../../components/project-file";
import { readStackConfig } from "../../scripts/lib/stack-config";
import { CHANNEL_SENTINELS } from "../helpers/openclaw-runtime";

const example = () => readStackConfig("prod").config;

function problemsOf(overrides: Record<string, string | undefined>, base = example()) {
    const raw: Record<string, string> = { ...base };
    for (const [k, v] of Object.entries(overrides)) {
        const key = `${NAMESPACE}:${k}`;
        if (v === undefined) delete raw[key];
        else raw[key] = v;
    }
    try {
        parseSettings(raw);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.problems;
    }
    return [];
}

function assertRejected(key: string, value: string, expectedFragment: RegExp) {
    const problems = problemsOf({ [key]: value });
    const problem = problems.find((p) => p.key === key);
    assert.ok(problem, `${key}=${value} should be rejected; problems: ${JSON.stringify(problems)}`);
    assert.match(problem.expected, expectedFragment);
    return problem;
}

test("the example stack (Pulumi.prod.yaml) is accepted, with defaults filled in", () => {
    const { settings, secrets, warnings } = parseSettings(example());
    assert.equal(settings.provider, "hetzner");
    assert.equal(settings.serverType, "cx23");
    assert.equal(settings.hostname, "agent.example.com");
    assert.deepEqual(settings.accessEmails, ["you@example.com"]);
    assert.equal(settings.gatewayPort, 18789);
    assert.equal(settings.openclawVersion, readOpenclawPin().version);
    assert.equal(settings.nodeMajor, 24);
    assert.equal(settings.backupBucketName, "openclaw-memory");
    assert.equal(settings.model, DEFAULT_MODEL.anthropic);
    assert.match(settings.model, /^anthropic\//);
    assert.match(secrets.llmApiKey, /^PLAN-PLACEHOLDER-/);
    assert.ok(
        warnings.some((w) => /KEYWORD-ONLY/.test(w)),
        "no embedding key must warn about keyword-only search",
    );
});

test("provider-dependent defaults follow the provider", () => {
    const { settings } = parseSettings({
        ...example(),
        [`${NAMESPACE}:provider`]: "digitalocean",
        [`${NAMESPACE}:region`]: "",
        [`${NAMESPACE}:serverType`]: "",
    });
    assert.equal(settings.serverType, "s-2vcpu-2gb");
    assert.equal(settings.region, "fra1");
});

test("a malformed e-mail is rejected, naming the address", () => {
    const p = assertRejected("accessEmails", JSON.stringify(["you@example.com", "not-an-email"]), /e-mail/);
    assert.match(p.expected, /"not-an-email"/);
});

test("an empty access list is rejected", () => {
    assertRejected("accessEmails", "[]", /at least one e-mail/);
});

test("a hostname that is not an FQDN is rejected", () => {
    for (const bad of ["agent", "agent..example.com", "-agent.example.com", "agent.example.c0m", "https://agent.example.com"]) {
        const p = assertRejected("hostname", bad, /fully qualified domain name/);
        assert.equal(p.given, JSON.stringify(bad));
    }
});

test("a timezone that is not an IANA zone is rejected", () => {
    for (const bad of ["Mars/Olympus", "GMT+25", "new york"]) assertRejected("timezone", bad, /IANA time zone/);
    assert.equal(parseSettings({ ...example(), [`${NAMESPACE}:timezone`]: "Europe/Berlin" }).settings.timezone, "Europe/Berlin");
});

test("a legacy timezone (tzdata-legacy on Ubuntu 24.04) is accepted as the zone it links to; names only ICU knows are refused", () => {
    const zone = (value: string) => parseSettings({ ...example(), [`${NAMESPACE}:timezone`]: value }).settings.timezone;
    assert.equal(zone("US/Eastern"), "America/New_York");
    assert.equal(zone("Japan"), "Asia/Tokyo");
    assert.equal(zone("Europe/Kiev"), "Europe/Kyiv");
    assert.equal(zone("UTC"), "UTC");
    // Node's Intl accepts these, tzdata has no such file: provision.sh could never set them.
    for (const icuOnly of ["IST", "US/Pacific-New", "SystemV/EST5"]) assertRejected("timezone", icuOnly, /IANA time zone/);
});

test("an unknown provider is rejected with a suggestion", () => {
    const p = assertRejected("provider", "hetzer", /one of hetzner, digitalocean/);
    assert.match(p.expected, /did you mean hetzner/);
});

test("invalid CIDRs are rejected; IPv4 and IPv6 CIDRs are accepted", () => {
    for (const bad of ["203.0.113.7", "203.0.113.7/33", "2001:db8::/129", "example.com/32", "300.1.1.1/32"]) {
        assertRejected("adminCidrs", JSON.stringify([bad]), /CIDR/);
    }
    assertRejected("adminCidrs", "[]", /at least one CIDR/);
    const ok = parseSettings({ ...example(), [`${NAMESPACE}:adminCidrs`]: JSON.stringify(["198.51.100.0/24", "2001:db8::/32"]) });
    assert.deepEqual(ok.settings.adminCidrs, ["198.51.100.0/24", "2001:db8::/32"]);
});

test("nodeMajor must satisfy the installed OpenClaw's engines range", () => {
    const pin = readOpenclawPin();
    const installed = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules/openclaw/package.json"), "utf8"));
    assert.equal(pin.nodeEngines, installed.engines.node, "the range is read from the installed package");
    for (const bad of ["20", "22", "25"]) {
        const p = assertRejected("nodeMajor", bad, /engines/);
        assert.match(p.expected, new RegExp(pin.nodeEngines.replace(/[|.*+?^${}()[\]\\]/g, "\\$&")));
    }
    assert.equal(parseSettings({ ...example(), [`${NAMESPACE}:nodeMajor`]: "26" }).settings.nodeMajor, 26);
});

test("the Node range is not hard-coded: a different pin changes the verdict", () => {
    const pin = { version: "2026.9.6", nodeEngines: ">=26.1.0" };
    assert.equal(nodeMajorSatisfies(24, pin.nodeEngines), false);
    assert.throws(
        () => parseSettings({ ...example(), [`${NAMESPACE}:nodeMajor`]: "24" }, { pin }),
        (err: ConfigError) => err.problems.some((p) => p.key === "nodeMajor"),
    );
    // And with that pin the default nodeMajor becomes 26.
    assert.equal(parseSettings(example(), { pin }).settings.nodeMajor, 26);
});

test("OpenClaw older than 2026.1.29 is rejected (CVE-2026-25253)", () => {
    assertRejected("openclawVersion", "2026.1.28", /CVE-2026-25253/);
    assertRejected("openclawVersion", "latest", /release version/);
});

test("an unknown key is rejected with a did-you-mean for typos", () => {
    const problems = problemsOf({ hostnmae: "agent.example.com", acessEmails: "[]" });
    const typo = problems.find((p) => p.key === "hostnmae");
    assert.ok(typo);
    assert.match(typo.expected, /did you mean openclaw-vps:hostname\?/);
    assert.match(problems.find((p) => p.key === "acessEmails")!.expected, /did you mean openclaw-vps:accessEmails\?/);
    // Keys of other namespaces (provider credentials) are not ours to judge.
    assert.equal(problemsOf({}, { ...example(), "hcloud:token": "x", "cloudflare:apiToken": "y" }).length, 0);
});

test("all problems are reported at once, each with key, value and expectation", () => {
    const problems = problemsOf({ hostname: "nope", timezone: "Nowhere/Land", provider: "aws", accessEmails: "[]", nodeMajor: "25" });
    assert.deepEqual(problems.map((p) => p.key).sort(), ["accessEmails", "hostname", "nodeMajor", "provider", "timezone"]);
    const err = new ConfigError(problems);
    assert.match(err.message, /5 problems/);
    assert.match(err.message, /openclaw-vps:hostname: got "nope"; expected a fully qualified domain name/);
    assert.match(err.message, /nothing was created/);
});

test("missing required keys are reported with how to set them", () => {
    const problems = problemsOf({ hostname: undefined, zoneId: undefined });
    assert.match(problems.find((p) => p.key === "hostname")!.expected, /pulumi config set hostname/);
    assert.ok(problems.some((p) => p.key === "zoneId"));
});

test("server types below 2 vCPU / 2 GB and retired types are rejected; unknown types warn", () => {
    assertRejected("serverType", "cpx12", /at least 2 vCPU \/ 2 GB/);
    assertRejected("serverType", "cx22", /retired/);
    const doSmall = problemsOf({ provider: "digitalocean", region: "fra1", serverType: "s-1vcpu-2gb" });
    assert.match(doSmall.find((p) => p.key === "serverType")!.expected, /1 vCPU/);
    const unknown = parseSettings({ ...example(), [`${NAMESPACE}:serverType`]: "cx99" });
    assert.ok(unknown.warnings.some((w) => /cx99/.test(w) && /not a hetzner type we know/.test(w)));
});

test("secrets stored in plaintext are refused, and their value is never echoed", () => {
    const raw = { ...example(), [`${NAMESPACE}:llmApiKey`]: "sk-SENTINEL-plaintext-0001" };
    try {
        parseSettings(raw, { secretKeys: new Set() });
        assert.fail("a plaintext llmApiKey must be refused");
    } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /llmApiKey: got a plaintext value; expected a secret/);
        assert.doesNotMatch(err.message, /SENTINEL/);
    }
    const bad = problemsOf({ llmApiKey: "short" });
    assert.equal(bad.find((p) => p.key === "llmApiKey")!.given, "[secret]");
});

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

test("a backup schedule must be one systemd calendar line that fires at most once an hour (the rule's own message)", () => {
    for (const tooOften of ["minutely", "*:0/2", "*:0/30", "*:00,30"])
        assertRejected("backupSchedule", tooOften, new RegExp(escapeRegExp(BACKUP_SCHEDULE_RULE.expected)));
    assertRejected("backupSchedule", "hourly\nExecStart=/bin/sh", /calendar expression/);
    // The docs reuse the same sentence: the key's description (Pulumi.yaml, README) carries it.
    assert.ok(settingSpecs().backupSchedule.description.includes(BACKUP_SCHEDULE_RULE.expected));
    assert.equal(
        parseSettings({ ...example(), "openclaw-vps:backupSchedule": "*-*-* 00/6:00:00" }).settings.backupSchedule,
        "*-*-* 00/6:00:00",
    );
});

test("the lock must be shorter than the retention", () => {
    assertRejected("backupLockDays", "30", /fewer days than backupRetentionDays/);
});

test("the README's configuration reference is generated from the schema", () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    assert.equal(readme, withConfigReference(readme), "README.md is stale: run `npm run sync`");
    for (const key of Object.keys(settingSpecs())) assert.ok(readme.includes(`| \`${key}\` |`), `${key} is documented`);
});

test("Pulumi.yaml declares every setting with its type, default and description (generated from the schema)", () => {
    const onDisk = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8");
    assert.equal(onDisk, renderPulumiYaml(), "Pulumi.yaml is stale: run `npm run sync`");
    for (const [key, spec] of Object.entries(settingSpecs())) {
        assert.match(onDisk, new RegExp(`\\n  ${key}:\\n    type: ${spec.kind}\\n`), `${key} is declared with its type`);
    }
    for (const required of [
        "provider",
        "region",
        "serverType",
        "hostname",
        "zoneId",
        "accountId",
        "accessEmails",
        "sshPublicKey",
        "adminCidrs",
        "openclawVersion",
        "nodeMajor",
        "timezone",
        "llmApiKey",
    ]) {
        assert.ok(settingSpecs()[required], `${required} is a setting`);
    }
});

test("every generated file is current (`npm run sync -- --check`: Pulumi.yaml, README tables, workflow tokens)", () => {
    const check = spawnSync(process.execPath, ["--import", "tsx", "scripts/sync.ts", "--check"], { cwd: PROJECT_ROOT, encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
});

test("tools: toolPolicy ask and browser on by default; bad policies and unpinned or repeated skills are refused by key", () => {
    const { settings } = parseSettings(example());
    assert.equal(settings.toolPolicy, "ask");
    assert.equal(settings.browser, true);
    assert.deepEqual(settings.skills, []);
    assertRejected("toolPolicy", "yolo", /ask|allowlist|full/);
    for (const bad of ["github", "github@latest", "@steipete/github@^1.0.0", "@Owner/x@1.0.0", "../x@1.0.0"]) {
        const problem = assertRejected("skills", JSON.stringify([bad]), /slug@X\.Y\.Z or @owner\/slug@X\.Y\.Z/);
        assert.match(problem.expected, new RegExp(escapeRegExp(JSON.stringify(bad))));
    }
    assertRejected("skills", JSON.stringify(["@a/notes@1.0.0", "@b/notes@2.0.0"]), /notes is listed twice/);
    const ok = parseSettings({ ...example(), [`${NAMESPACE}:skills`]: JSON.stringify(["@alice/demo@1.2.0", "notes@0.1.0"]) });
    assert.deepEqual(ok.settings.skills, ["@alice/demo@1.2.0", "notes@0.1.0"]);
});

// ---- messaging channels --------------------------------------------------------------------------------------------

test("channels: each channel with its token(s) and ids parses; the tokens stay secrets, the ids settings", () => {
    const raw: Record<string, string> = { ...example() };
    for (const [key, value] of Object.entries(CHANNEL_SENTINELS)) raw[`${NAMESPACE}:${key}`] = value;
    raw[`${NAMESPACE}:telegramAllowFrom`] = '["123456789"]';
    raw[`${NAMESPACE}:discordAllowFrom`] = '["123456789012345678"]';
    raw[`${NAMESPACE}:slackAllowFrom`] = '["U0123456789"]';
    raw[`${NAMESPACE}:whatsappAllowFrom`] = '["+4915123456789"]';
    const { settings, secrets } = parseSettings(raw);
    assert.deepEqual(settings.telegramAllowFrom, ["123456789"]);
    assert.deepEqual(settings.whatsappAllowFrom, ["+4915123456789"]);
    for (const [key, value] of Object.entries(CHANNEL_SENTINELS)) {
        assert.equal(secrets[key as keyof typeof secrets], value, key);
        assert.equal((settings as unknown as Record<string, unknown>)[key], undefined, `${key} is not a plain setting`);
    }
    // The default: no channel at all.
    const plain = parseSettings(example()).settings;
    assert.deepEqual([plain.telegramAllowFrom, plain.discordAllowFrom, plain.slackAllowFrom, plain.whatsappAllowFrom], [[], [], [], []]);
});

test("channels: malformed tokens are refused by key with the expected shape, never echoing the value", () => {
    const cases: [string, string, RegExp][] = [
        ["telegramBotToken", "123456789-not-a-token", /BotFather prints it: <bot id>:/],
        ["discordBotToken", `Bot ${CHANNEL_SENTINELS.discordBotToken}`, /three dot-separated parts.*without a `Bot ` prefix/],
        ["slackBotToken", CHANNEL_SENTINELS.slackAppToken, /xoxb-/],
        ["slackAppToken", CHANNEL_SENTINELS.slackBotToken, /connections:write.*xapp-/],
    ];
    for (const [key, value, expected] of cases) {
        const problem = assertRejected(key, value, expected);
        assert.equal(problem.given, "[secret]", key);
        assert.doesNotMatch(JSON.stringify(problem), /sentinel/i, key);
    }
});

test("channels: ids that are not the platform's are refused by key, naming each bad one", () => {
    const tokens = Object.fromEntries(Object.entries(CHANNEL_SENTINELS));
    const cases: [string, string, RegExp][] = [
        ["telegramAllowFrom", '["123456789", "@alice"]', /numeric Telegram user ids.*"@alice"/],
        ["discordAllowFrom", '["alice#1234"]', /snowflakes.*"alice#1234"/],
        ["slackAllowFrom", '["alice@example.com"]', /member ids such as U0123456789.*"alice@example.com"/],
        ["whatsappAllowFrom", '["0151 2345 6789"]', /E\.164.*"0151 2345 6789"/],
    ];
    for (const [key, value, expected] of cases) {
        const problem = problemsOf({ ...tokens, [key]: value }).find((p) => p.key === key);
        assert.ok(problem, key);
        assert.match(problem.expected, expected, key);
    }
});

test("channels: a token without ids, ids without a token, and Slack without its app token are refused by the list key", () => {
    const noIds = problemsOf({ telegramBotToken: CHANNEL_SENTINELS.telegramBotToken }).find((p) => p.key === "telegramAllowFrom");
    assert.match(noIds!.expected, /at least one id with telegramBotToken set/);
    const noToken = problemsOf({ discordAllowFrom: '["123456789012345678"]' }).find((p) => p.key === "discordAllowFrom");
    assert.match(noToken!.expected, /discordBotToken set too/);
    const halfSlack = problemsOf({ slackBotToken: CHANNEL_SENTINELS.slackBotToken, slackAllowFrom: '["U0123456789"]' }).find(
        (p) => p.key === "slackAllowFrom",
    );
    assert.match(halfSlack!.expected, /slackAppToken set too/);
    assert.deepEqual(problemsOf({ whatsappAllowFrom: '["+4915123456789"]' }), [], "WhatsApp needs no token");
});

test("channels: a channel token stored in plaintext is refused like any secret", () => {
    const raw = {
        ...example(),
        [`${NAMESPACE}:telegramBotToken`]: CHANNEL_SENTINELS.telegramBotToken,
        [`${NAMESPACE}:telegramAllowFrom`]: "123456789",
    };
    assert.throws(
        () => parseSettings(raw, { secretKeys: new Set() }),
        (err: Error) => /telegramBotToken: got a plaintext value; expected a secret/.test(err.message) && !/sentinel/i.test(err.message),
    );
});
