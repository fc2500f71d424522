// OpenClawAgent: one whole agent. It composes the per-concern components (server, Zero Trust edge, alerts, backup store,
// and the host push) from validated Settings and has no logic of its own beyond naming and wiring. Every child name
// derives from the agent's name, so several agents can live in one program.
import * as pulumi from "@pulumi/pulumi";
import { Settings } from "./settings";
import { AgentServer } from "./server";
import { ZeroTrustEdge } from "./edge";
import { BackupStore } from "./backup";
import { AgentAlerts } from "./alerts";
import { AgentHost } from "./host";
import { renderUserData } from "./render/user-data";
import type { ChannelSecretKey } from "./render/channels";

export interface OpenClawAgentArgs {
    /** Validated settings (components/settings.ts). */
    settings: Settings;
    /** The LLM provider's API key. */
    llmApiKey: pulumi.Input<string>;
    /** The embedding provider's API key; absent = keyword-only memory search. */
    embeddingApiKey?: pulumi.Input<string>;
    /** The operator's age identity: reads the backups on the operator's machine, never on a server. */
    backupIdentity: pulumi.Input<string>;
    /** Tokens of the configured messaging channels (secrets; render/channels.ts). */
    channelTokens?: Partial<Record<ChannelSecretKey, pulumi.Input<string>>>;
    /** The watchdog's secret alert destinations (config alertTelegramBotToken, alertNtfyUrl, alertWebhookUrl). */
    alerts?: { telegramBotToken?: pulumi.Input<string>; ntfyUrl?: pulumi.Input<string>; webhookUrl?: pulumi.Input<string> };
    /** How the deploy authenticates over SSH (agent socket or private key); not needed for a plan. */
    ssh?: { agentSocketPath?: string; privateKey?: pulumi.Input<string> };
}

export class OpenClawAgent extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;
    readonly serverId: pulumi.Output<string>;
    readonly ipv4Address: pulumi.Output<string>;
    readonly ipv6Address: pulumi.Output<string>;
    readonly sshCommand: pulumi.Output<string>;
    readonly tunnelId: pulumi.Output<string>;
    readonly bucketName: pulumi.Output<string>;
    /** The operator's read-only key pair for the bucket (`npm run snapshots`). Secret. */
    readonly backupReaderAccessKeyId: pulumi.Output<string>;
    readonly backupReaderSecretAccessKey: pulumi.Output<string>;
    /** The gateway token (token auth mode): what a new browser or the CLI presents once. Secret. */
    readonly gatewayToken: pulumi.Output<string>;
    readonly serviceTokenClientId?: pulumi.Output<string>;
    readonly serviceTokenClientSecret?: pulumi.Output<string>;
    /** Summary printed by the last push (files changed, services restarted). */
    readonly pushSummary: pulumi.Output<string>;

    constructor(name: string, args: OpenClawAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("openclaw-vps:index:OpenClawAgent", name, {}, opts);
        const s = args.settings;
        const parent = { parent: this };
        const labels = { "managed-by": "openclaw-vps", agent: s.agentName };

        const userData = renderUserData({
            hostname: s.agentName,
            adminUser: s.adminUser,
            sshPublicKey: s.sshPublicKey,
            swapMb: s.swapMb,
            timezone: s.timezone,
            gatewayPort: s.gatewayPort,
        });

        const server = new AgentServer(
            `${name}-server`,
            {
                provider: s.provider,
                region: s.region,
                serverType: s.serverType,
                serverName: s.agentName,
                sshPublicKey: s.sshPublicKey,
                existingSshKey: s.providerSshKey || undefined,
                adminCidrs: s.adminCidrs,
                userData,
                labels,
            },
            parent,
        );

        const edge = new ZeroTrustEdge(
            `${name}-edge`,
            {
                accountId: s.accountId,
                zoneId: s.zoneId,
                hostname: s.hostname,
                teamName: s.accessTeamName,
                tunnelName: `${s.agentName}-gateway`,
                applicationName: `OpenClaw AI Gateway (${s.agentName})`,
                emails: s.accessEmails,
                emailDomains: s.accessEmailDomains,
                identityProviderIds: s.accessIdentityProviderIds,
                sessionDuration: s.accessSessionDuration,
                gatewayPort: s.gatewayPort,
                serviceToken: s.accessServiceToken,
                serverId: server.serverId,
            },
            parent,
        );

        // Someone other than the server reports it when it is down: Cloudflare, by e-mail, when the tunnel is.
        new AgentAlerts(
            `${name}-alerts`,
            { accountId: s.accountId, agentName: s.agentName, emails: s.accessEmails, tunnelId: edge.tunnelId },
            parent,
        );

        const backup = new BackupStore(
            `${name}-backup`,
            {
                accountId: s.accountId,
                bucketName: s.backupBucketName,
                location: s.backupLocation,
                lockDays: s.backupLockDays,
                retentionDays: s.backupRetentionDays,
                tokenName: `${s.agentName} memory backup (openclaw-vps)`,
                adoptExistingBucket: s.backupBucketAdopt,
            },
            parent,
        );

        const host = new AgentHost(
            `${name}-host`,
            {
                settings: s,
                serverId: server.serverId,
                sshHost: server.sshHost,
                ssh: args.ssh ?? {},
                llmApiKey: args.llmApiKey,
                embeddingApiKey: args.embeddingApiKey,
                channelTokens: args.channelTokens,
                alerts: args.alerts,
                tunnelToken: edge.tunnelToken,
                backup: {
                    accessKeyId: backup.accessKeyId,
                    secretAccessKey: backup.secretAccessKey,
                    readerAccessKeyId: backup.readerAccessKeyId,
                    readerSecretAccessKey: backup.readerSecretAccessKey,
                    identity: args.backupIdentity,
                },
            },
            parent,
        );

        this.url = edge.url;
        this.serverId = server.serverId;
        this.ipv4Address = server.ipv4Address;
        this.ipv6Address = server.ipv6Address;
        this.sshCommand = pulumi.interpolate`ssh ${s.adminUser}@${server.sshHost}`;
        this.tunnelId = edge.tunnelId;
        this.bucketName = backup.bucketName;
        this.backupReaderAccessKeyId = backup.readerAccessKeyId;
        this.backupReaderSecretAccessKey = backup.readerSecretAccessKey;
        this.gatewayToken = host.gatewayToken;
        this.serviceTokenClientId = edge.serviceTokenClientId;
        this.serviceTokenClientSecret = edge.serviceTokenClientSecret;
        this.pushSummary = host.pushSummary;
        this.registerOutputs({
            url: this.url,
            serverId: this.serverId,
            ipv4Address: this.ipv4Address,
            ipv6Address: this.ipv6Address,
            sshCommand: this.sshCommand,
            tunnelId: this.tunnelId,
            bucketName: this.bucketName,
            backupReaderAccessKeyId: this.backupReaderAccessKeyId,
            backupReaderSecretAccessKey: this.backupReaderSecretAccessKey,
            gatewayToken: this.gatewayToken,
        });
    }
}
