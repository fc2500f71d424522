// Alerts as config and the outside-in alarm: alert keys are refused by key before anything is created (bad tokens,
// chat ids and URLs, half a Telegram destination, a digest or token alert with nowhere to send it); the plan has a
// Cloudflare tunnel-health notification policy e-mailing accessEmails; the policy pack requires one; alert secrets
// stay secret in the plan and land only in the 0600 alerts.env. Runs the mock engine once in this process.
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { OpenClawAgent } from "../../components/agent";
import { hostBundleInput, PLACEHOLDER_SECRETS } from "../../components/host";
import { buildHostBundle } from "../../components/render/host-bundle";
import { ConfigError, parseSettings } from "../../components/settings";
import { fromPlan, runPolicies } from "../../policy/offline";
import { POLICIES, TYPES } from "../../policy/policies";
import { planProgram, Plan } from "../../scripts/lib/mock-engine";
import { readStackConfig } from "../../scripts/lib/stack-config";
import { generateIdentity } from "../../components/core/age";

const TOKEN = "123456789:AAESENTINELalertbotTOKENabcdefghijklmn";
const base = () => ({ ...readStackConfig("prod").config });

function problems(overrides: Record<string, string>): { key: string; given: string; expected: string }[] {
    try {
        parseSettings({ ...base(), ...overrides });
        return [];
    } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
    }
}

describe("alert settings", () => {
    it("accept a complete Telegram, ntfy or webhook destination, and the defaults need none", () => {
        assert.deepEqual(problems({}), []);
        const parsed = parseSettings({
            ...base(),
            "openclaw-vps:alertTelegramBotToken": TOKEN,
            "openclaw-vps:alertTelegramChatId": "-1001234567890",
            "openclaw-vps:alertDailyDigest": "true",
        });
        assert.equal(parsed.secrets.alertTelegramBotToken, TOKEN);
        assert.equal(parsed.settings.alertTelegramChatId, "-1001234567890");
        assert.equal(parsed.settings.watchdogInterval, "2min");
        assert.deepEqual(
            problems({ "openclaw-vps:alertNtfyUrl": "https://ntfy.sh/my-agent-7f3a", "openclaw-vps:alertDailyTokens": "2000000" }),
            [],
        );
        assert.deepEqual(problems({ "openclaw-vps:alertWebhookUrl": "https://hooks.slack.com/services/T0/B0/XYZ" }), []);
    });

    it("refuse each bad value by key, never echoing a secret", () => {
        const bad = problems({
            "openclaw-vps:alertTelegramBotToken": "not-a-token-SENTINEL",
            "openclaw-vps:alertTelegramChatId": "@me",
            "openclaw-vps:alertNtfyUrl": "http://ntfy.sh/topic",
            "openclaw-vps:alertWebhookUrl": "hooks.slack.com/x",
            "openclaw-vps:watchdogInterval": "10s",
        });
        const byKey = Object.fromEntries(bad.map((p) => [p.key, p]));
        assert.match(byKey.alertTelegramBotToken.expected, /BotFather/);
        assert.equal(byKey.alertTelegramBotToken.given, "[secret]");
        assert.match(byKey.alertTelegramChatId.expected, /numeric Telegram chat id/);
        assert.match(byKey.alertNtfyUrl.expected, /https:\/\//);
        assert.equal(byKey.alertNtfyUrl.given, "[secret]");
        assert.match(byKey.alertWebhookUrl.expected, /https:\/\//);
        assert.match(byKey.watchdogInterval.expected, /between 1min and 1h/);
        assert.ok(!JSON.stringify(bad).includes("SENTINEL"));
    });

    it("refuse half a Telegram destination, and a digest or token alert with nowhere to go", () => {
        assert.match(problems({ "openclaw-vps:alertTelegramBotToken": TOKEN })[0].expected, /together with alertTelegramChatId/);
        assert.match(problems({ "openclaw-vps:alertTelegramChatId": "123456789" })[0].expected, /together with alertTelegramBotToken/);
        assert.match(problems({ "openclaw-vps:alertDailyDigest": "true" })[0].expected, /an alert destination first/);
        assert.match(problems({ "openclaw-vps:alertDailyTokens": "100000" })[0].expected, /an alert destination first/);
    });

    it("land only in the 0600 alerts.env of the push, next to the watchdog's settings", () => {
        const { settings, secrets } = parseSettings({
            ...base(),
            "openclaw-vps:alertTelegramBotToken": TOKEN,
            "openclaw-vps:alertTelegramChatId": "42424242",
        });
        const bundle = buildHostBundle(
            hostBundleInput(settings, { ...PLACEHOLDER_SECRETS, alertTelegramBotToken: secrets.alertTelegramBotToken }),
        );
        const holding = bundle.files.filter((f) => f.content.includes(TOKEN));
        assert.deepEqual(
            holding.map((f) => [f.path, f.mode, f.secret]),
            [["/etc/openclaw-vps/alerts.env", "0600", true]],
        );
        const env = bundle.files.find((f) => f.path === "/etc/openclaw-vps/watchdog.env")!;
        assert.match(env.content, /^WATCHDOG_LABEL=openclaw \(agent\.example\.com\)$/m);
        assert.match(env.content, /^WATCHDOG_BACKUP_SCHEDULE=hourly$/m);
        assert.ok(bundle.services!.some((s) => s.unit === "openclaw-watchdog.timer"));
    });
});

describe("the outside-in alarm", () => {
    let plan: Plan;
    before(async () => {
        const { settings } = parseSettings({
            ...base(),
            "openclaw-vps:accessEmails": JSON.stringify(["me@mydomain.dev", "ops@mydomain.dev"]),
            "openclaw-vps:alertTelegramBotToken": TOKEN,
            "openclaw-vps:alertTelegramChatId": "42424242",
        });
        plan = await planProgram(
            () => {
                const agent = new OpenClawAgent(settings.agentName, {
                    settings,
                    llmApiKey: pulumi.secret("sk-ant-SENTINEL-llm"),
                    backupIdentity: pulumi.secret(generateIdentity().identity),
                    alerts: {
                        telegramBotToken: pulumi.secret(TOKEN),
                        webhookUrl: pulumi.secret("https://hooks.slack.com/services/SENTINEL"),
                    },
                });
                return { url: agent.url };
            },
            {},
            [],
        );
    });

    it("the plan has a tunnel-health notification policy that e-mails accessEmails", () => {
        const policies = plan.resources.filter((r) => r.type === TYPES.notificationPolicy);
        assert.equal(policies.length, 1);
        const policy = policies[0];
        assert.equal(policy.inputs.alertType, "tunnel_health_event");
        assert.equal(policy.inputs.enabled, true);
        assert.deepEqual(policy.inputs.mechanisms, { emails: [{ id: "me@mydomain.dev" }, { id: "ops@mydomain.dev" }] });
        assert.equal(policy.parent, "openclaw-alerts");
        assert.ok(!JSON.stringify(plan.resources).includes("SENTINEL"), "alert secrets never show in the plan");
    });

    it("the policy pack requires it: the same plan without it (or disabled) is refused", async () => {
        const resources = fromPlan(plan.resources);
        assert.deepEqual((await runPolicies(POLICIES, resources)).violations, []);
        const without = resources.filter((r) => r.type !== TYPES.notificationPolicy);
        assert.match(
            (await runPolicies(POLICIES, without)).violations.map((v) => `${v.policy}: ${v.message}`).join("\n"),
            /tunnel-health-alerted: the stack has 1 tunnel\(s\) but no enabled/,
        );
        const disabled = resources.map((r) => (r.type === TYPES.notificationPolicy ? { ...r, props: { ...r.props, enabled: false } } : r));
        assert.ok((await runPolicies(POLICIES, disabled)).violations.some((v) => v.policy === "tunnel-health-alerted"));
    });
});
