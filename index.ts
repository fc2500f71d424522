// The Pulumi program: read the stack's config, validate all of it before anything is created, build one
// OpenClawAgent, and export what an operator needs (URL, addresses, SSH command, ids; secrets stay secret).
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseSettings } from "./components/settings";
import { OpenClawAgent } from "./components/agent";
import { sshAuthFromEnvironment } from "./components/ssh-auth";
import { channelSecretKeys } from "./components/host";

// Internal to @pulumi/pulumi but stable: the CLI passes which config keys were stored encrypted.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- not exported by the package's typings; require is the only way in
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

function optionalSecret(value: string | undefined): pulumi.Output<string> | undefined {
    return value === undefined ? undefined : pulumi.secret(value);
}

export default function main(): Record<string, pulumi.Output<unknown> | undefined> {
    const raw = pulumi.runtime.allConfig();
    const secretKeys = new Set(Object.keys(raw).filter((key) => isConfigSecret(key)));
    let parsed;
    try {
        parsed = parseSettings(raw, { secretKeys });
    } catch (err) {
        // RunError prints the report without a stack trace: the report is the whole message.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
    for (const warning of parsed.warnings) pulumi.log.warn(warning);

    const { settings, secrets } = parsed;
    const agent = new OpenClawAgent(settings.agentName, {
        settings,
        llmApiKey: pulumi.secret(secrets.llmApiKey),
        embeddingApiKey: secrets.embeddingApiKey === undefined ? undefined : pulumi.secret(secrets.embeddingApiKey),
        backupIdentity: pulumi.secret(secrets.backupIdentity),
        channelTokens: Object.fromEntries(channelSecretKeys(settings).map((key) => [key, pulumi.secret(secrets[key] ?? "")])),
        alerts: {
            telegramBotToken: optionalSecret(secrets.alertTelegramBotToken),
            ntfyUrl: optionalSecret(secrets.alertNtfyUrl),
            webhookUrl: optionalSecret(secrets.alertWebhookUrl),
        },
        ssh: sshAuthFromEnvironment(),
    });

    const outputs: Record<string, pulumi.Output<unknown> | undefined> = {
        url: agent.url,
        serverIpv4: agent.ipv4Address,
        serverIpv6: agent.ipv6Address,
        sshCommand: agent.sshCommand,
        tunnelId: agent.tunnelId,
        bucketName: agent.bucketName,
        backupReaderAccessKeyId: agent.backupReaderAccessKeyId,
        backupReaderSecretAccessKey: agent.backupReaderSecretAccessKey,
        gatewayToken: agent.gatewayToken,
        serviceTokenClientId: agent.serviceTokenClientId,
        serviceTokenClientSecret: agent.serviceTokenClientSecret,
        pushSummary: agent.pushSummary,
    };
    // Optional outputs (the service token) are left out rather than exported as undefined.
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
}
