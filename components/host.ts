// AgentHost owns what happens on the server after its first boot: it waits until provisioning is done, then pushes
// the host bundle (config, secrets, units, host scripts, workspace seed) over SSH as one script on stdin, which
// restores memory on a new server, starts the services and waits for the gateway's /readyz. It also mints the
// gateway token. The file list and its policies come from the pure renderers (render/host-bundle.ts); the same
// script is what tests and the stand-in VPS run through node-ssh (components/remote.ts).
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { Settings } from "./settings";
import { SshAuth } from "./ssh-auth";
import { bundleDigests, renderBundleScript, SECRETS_DIGEST_KEY } from "./render/bundle";
import { AGENT_USER } from "./core/host-contract";
import { buildHostBundle, HostBundle, HostBundleInput } from "./render/host-bundle";
import { renderGatewayUnit } from "./render/gateway-unit";
import { heartbeatChecklist, workspaceFiles } from "./render/workspace";
import { readClawhubPin } from "./core/pins";
import { readHostFile } from "./render/host-files";
import { renderBrowserStageScript } from "./render/stage-script";
import { renderPlanInstaller } from "./render/restore-plan";
import { r2Endpoint } from "./render/rclone";
import { PROJECT_ROOT } from "./core/pins";
import { shellQuote } from "./core/shell";
import { HostRelease, releaseFor, releaseId, renderReleaseStageScript } from "./render/openclaw-release";
import { CHANNEL_IDS, CHANNEL_SPECS, ChannelSecretKey, ChannelsInput } from "./render/channels";
import { parseHostFacts } from "./render/host-facts";
import { afterShebang, shellExports } from "./core/shell";

export { AGENT_USER };

/** The command both SSH steps run: the script arrives on stdin, so nothing secret is ever on a command line. */
export const REMOTE_COMMAND = "sudo -n bash -s";

/** The secrets a host needs, as plain strings (inside an `apply`). */
export interface HostSecrets {
    gatewayToken: string;
    llmApiKey: string;
    embeddingApiKey?: string;
    tunnelToken: string;
    backupAccessKeyId: string;
    backupSecretAccessKey: string;
    /** The messaging channels' tokens (render/channels.ts); only those of configured channels are set. */
    channels?: Partial<Record<ChannelSecretKey, string>>;
    /** Alert destinations of the watchdog (each optional; the settings require a complete one when any is set). */
    alertTelegramBotToken?: string;
    alertNtfyUrl?: string;
    alertWebhookUrl?: string;
}

/** The channels the settings configure: those with a non-empty allowlist (the schema requires their tokens with it). */
export function channelsFromSettings(s: Settings): ChannelsInput {
    const lists: Record<(typeof CHANNEL_IDS)[number], string[]> = {
        telegram: s.telegramAllowFrom,
        discord: s.discordAllowFrom,
        slack: s.slackAllowFrom,
        whatsapp: s.whatsappAllowFrom,
    };
    return Object.fromEntries(CHANNEL_IDS.filter((id) => lists[id].length > 0).map((id) => [id, { allowFrom: lists[id] }]));
}

/** The secret keys of the channels these settings configure. */
export function channelSecretKeys(s: Settings): ChannelSecretKey[] {
    const configured = channelsFromSettings(s);
    return CHANNEL_IDS.filter((id) => configured[id]).flatMap((id) => CHANNEL_SPECS[id].tokens.map((t) => t.secret));
}

/** Stand-ins used to render the non-secret files before the real secrets exist (their content never depends on them). */
export const PLACEHOLDER_SECRETS: HostSecrets = {
    gatewayToken: "placeholder-gateway-token",
    llmApiKey: "placeholder-llm-api-key",
    embeddingApiKey: "placeholder-embedding-api-key",
    tunnelToken: "placeholder-tunnel-token",
    backupAccessKeyId: "placeholder-access-key-id",
    backupSecretAccessKey: "placeholder-secret-access-key",
    channels: {
        telegramBotToken: "placeholder-telegram-bot-token",
        discordBotToken: "placeholder-discord-bot-token",
        slackBotToken: "placeholder-slack-bot-token",
        slackAppToken: "placeholder-slack-app-token",
    },
};

/** The OpenClaw release of these settings: the pin's locked tree, or a kept one (`openclawVersion`). */
export function settingsRelease(s: Settings): HostRelease {
    return releaseFor(s.openclawVersion);
}

export interface HostBundleOptions {
    /** The repository's workspace/ by default. */
    workspaceDir?: string;
    /**
     * The memory the host really has, in MiB (wait-provisioned.sh's HOST-FACTS line, `parseHostFacts`): the gateway's
     * memory budget is computed from it. Absent (the offline plan, before the server exists): the server type's
     * nominal size.
     */
    hostMemoryMb?: number;
    /** The OpenClaw release: the one of `openclawVersion` by default (tests pass others, e.g. a stand-in registry's). */
    release?: HostRelease;
}

/** Map validated settings and secrets to the host bundle's input: pure, so tests and the plan can call it. */
export function hostBundleInput(s: Settings, secrets: HostSecrets, options: HostBundleOptions = {}): HostBundleInput {
    const { workspaceDir, release } = options;
    const gateway = renderGatewayUnit({ serverMemoryMb: options.hostMemoryMb ?? s.serverMemoryMb ?? 2048, swapMb: s.swapMb });
    return {
        openclaw: {
            openclawVersion: s.openclawVersion,
            hostname: s.hostname,
            timezone: s.timezone,
            port: s.gatewayPort,
            auth: s.gatewayAuth,
            accessEmails: s.accessEmails,
            llmProvider: s.llmProvider,
            model: s.model,
            heartbeat: {
                checklist: heartbeatChecklist(workspaceDir),
                every: s.heartbeatEvery,
                activeHours: { start: s.activeHoursStart, end: s.activeHoursEnd },
            },
            memorySearch: { provider: s.memorySearchProvider, hasEmbeddingKey: secrets.embeddingApiKey !== undefined },
            toolPolicy: s.toolPolicy,
            channels: channelsFromSettings(s),
        },
        tools: { browser: s.browser, skills: s.skills, clawhub: readClawhubPin() },
        secrets: {
            gatewayToken: secrets.gatewayToken,
            llmApiKey: secrets.llmApiKey,
            ...(secrets.embeddingApiKey !== undefined ? { embeddingApiKey: secrets.embeddingApiKey } : {}),
            // Only the configured channels' tokens reach the host.
            channels: Object.fromEntries(channelSecretKeys(s).map((key) => [key, secrets.channels?.[key] ?? ""])),
        },
        tunnel: { protocol: s.tunnelProtocol, token: secrets.tunnelToken },
        backup: {
            rclone: { accountId: s.accountId, accessKeyId: secrets.backupAccessKeyId, secretAccessKey: secrets.backupSecretAccessKey },
            env: { bucketName: s.backupBucketName, restoreFrom: s.restoreFrom, recipient: s.backupRecipient },
            units: { schedule: s.backupSchedule },
        },
        workspace: workspaceFiles(workspaceDir),
        gatewayUnit: gateway.unit,
        release: { release: release ?? settingsRelease(s), nodeMajor: s.nodeMajor },
        rebootWindow: { window: s.rebootWindow, timezone: s.timezone },
        watchdog: {
            settings: {
                label: `${s.agentName} (${s.hostname})`,
                adminUser: s.adminUser,
                gatewayPort: s.gatewayPort,
                backupSchedule: s.backupSchedule,
                interval: s.watchdogInterval,
                timezone: s.timezone,
                dailyDigest: s.alertDailyDigest,
                digestAt: s.activeHoursStart,
                dailyTokens: s.alertDailyTokens,
            },
            destinations: {
                telegramBotToken: secrets.alertTelegramBotToken,
                telegramChatId: secrets.alertTelegramBotToken ? s.alertTelegramChatId : undefined,
                ntfyUrl: secrets.alertNtfyUrl,
                webhookUrl: secrets.alertWebhookUrl,
            },
        },
    };
}

/** wait-provisioned.sh with its timeout set at the top (the script is sent on stdin of `sudo -n bash -s`). */
export function waitProvisionedScript(timeoutMinutes: number): string {
    return afterShebang(readHostFile("wait-provisioned.sh"), shellExports({ WAIT_TIMEOUT_SECONDS: String(timeoutMinutes * 60) }));
}

export interface HostFileView {
    path: string;
    owner: string;
    group: string;
    mode: string;
    policy: string;
    content: string;
}

/** The bundle's files for review: secret contents replaced by "[secret]". */
export function reviewableFiles(bundle: HostBundle): HostFileView[] {
    return bundle.files.map((f) => ({
        path: f.path,
        owner: f.owner,
        group: f.group,
        mode: f.mode,
        policy: f.policy,
        content: f.secret ? "[secret]" : f.content,
    }));
}

export interface AgentHostArgs {
    settings: Settings;
    /** Provider id of the server: a new server means a new wait, a new push and a first-boot restore. */
    serverId: pulumi.Input<string>;
    sshHost: pulumi.Input<string>;
    ssh: SshAuth;
    llmApiKey: pulumi.Input<string>;
    embeddingApiKey?: pulumi.Input<string>;
    /** Tokens of the configured messaging channels (secrets). */
    channelTokens?: Partial<Record<ChannelSecretKey, pulumi.Input<string>>>;
    tunnelToken: pulumi.Input<string>;
    /** The watchdog's secret alert destinations (absent ones are simply not used). */
    alerts?: { telegramBotToken?: pulumi.Input<string>; ntfyUrl?: pulumi.Input<string>; webhookUrl?: pulumi.Input<string> };
    /** The bucket-scoped R2 credentials the backup job uses (bucket name and endpoint come from the settings). */
    backup: {
        accessKeyId: pulumi.Input<string>;
        secretAccessKey: pulumi.Input<string>;
        /** The operator's read-only key pair and age identity: used on the operator's machine only (restore plan). */
        readerAccessKeyId: pulumi.Input<string>;
        readerSecretAccessKey: pulumi.Input<string>;
        identity: pulumi.Input<string>;
    };
}

/** The restore planner as the Pulumi program runs it on the operator's machine (components/snapshots/plan-cli.ts). */
export const RESTORE_PLANNER_COMMAND = `${shellQuote(process.execPath)} --import tsx components/snapshots/plan-cli.ts`;

export class AgentHost extends pulumi.ComponentResource {
    readonly gatewayToken: pulumi.Output<string>;
    readonly pushSummary: pulumi.Output<string>;

    constructor(name: string, args: AgentHostArgs, opts?: pulumi.ComponentResourceOptions) {
        // Non-secret files never depend on secret values, so the review copy is rendered with placeholders, up front,
        // for the server type's nominal memory (the push recomputes the gateway's memory budget from the real host).
        const review = buildHostBundle(hostBundleInput(args.settings, PLACEHOLDER_SECRETS));
        // Recorded as this component's input: `npm run plan -- --out DIR` writes them out for review.
        super("openclaw-vps:index:AgentHost", name, { files: reviewableFiles(review) }, opts);
        const s = args.settings;

        // A new server gets a new gateway token: nothing a replaced host knew still opens the gateway.
        const gatewayToken = new random.RandomPassword(
            `${name}-gateway-token`,
            {
                length: 48,
                special: false,
                keepers: { serverId: args.serverId },
            },
            { parent: this },
        );
        this.gatewayToken = pulumi.secret(gatewayToken.result);

        const connection: command.types.input.remote.ConnectionArgs = {
            host: args.sshHost,
            user: s.adminUser,
            agentSocketPath: args.ssh.agentSocketPath,
            privateKey: args.ssh.privateKey,
            // A new server accepts SSH within a minute or two; keep dialling meanwhile.
            dialErrorLimit: 40,
            perDialTimeout: 15,
        };

        const waitProvisioned = new command.remote.Command(
            `${name}-wait-provisioned`,
            {
                connection,
                create: REMOTE_COMMAND,
                // The timeout travels in the script on stdin, like every other input: nothing on the command line.
                stdin: waitProvisionedScript(s.provisionTimeoutMinutes),
                // A resized server (a new type, same id) reports its memory again, and the push follows it.
                triggers: [args.serverId, s.serverType],
            },
            { parent: this },
        );
        // What the host really has (HOST-FACTS): the gateway's memory budget follows it, not the type's nominal size.
        const hostMemoryMb = waitProvisioned.stdout.apply((out) => parseHostFacts(out ?? "").memTotalMb);

        // A new server's restore is planned HERE, on the operator's machine, when the server is created: the planner
        // lists the bucket with the read-only token, chooses by R2's LastModified and unwraps the chosen archives'
        // keys with the operator's identity; only a one-time key for those archives goes to the server. It runs
        // once per server (triggers: the server id; later changes to its inputs are ignored, so a push to a live
        // server never carries a plan), and fails `pulumi up` loudly rather than start an agent with empty memory.
        const planner = new command.local.Command(
            `${name}-restore-plan`,
            {
                create: RESTORE_PLANNER_COMMAND,
                dir: PROJECT_ROOT,
                stdin: pulumi.secret(
                    pulumi
                        .all([args.backup.readerAccessKeyId, args.backup.readerSecretAccessKey, args.backup.identity])
                        .apply(([accessKeyId, secretAccessKey, identity]) =>
                            JSON.stringify({
                                endpoint: r2Endpoint(s.accountId),
                                bucket: s.backupBucketName,
                                accessKeyId,
                                secretAccessKey,
                                identity,
                                restoreFrom: s.restoreFrom,
                            }),
                        ),
                ),
                triggers: [args.serverId],
                // The plan (stdout) is a secret; stderr says what was chosen.
                logging: "stderr",
                addPreviousOutputInEnv: false,
            },
            { parent: this, additionalSecretOutputs: ["stdout"], ignoreChanges: ["create", "dir", "stdin"] },
        );
        const restoreKeys = new command.remote.Command(
            `${name}-restore-keys`,
            {
                connection,
                create: REMOTE_COMMAND,
                stdin: pulumi.secret(planner.stdout.apply((plan) => renderPlanInstaller(plan))),
                triggers: [args.serverId],
                logging: "stdout",
                addPreviousOutputInEnv: false,
            },
            // A new plan (a new server, or the planner replaced by hand) is sent again; an unchanged one never is.
            { parent: this, dependsOn: [waitProvisioned], replaceOnChanges: ["stdin"] },
        );
        // The release is installed side by side first, over its own SSH session: on a new server while it is still
        // provisioning (its base system and Node/OpenClaw overlap), on a version change while the old release keeps
        // serving. Only the push below switches to it. Its script carries no secret.
        const release = settingsRelease(s);
        const stageRelease = new command.remote.Command(
            `${name}-release`,
            {
                connection,
                create: REMOTE_COMMAND,
                stdin: renderReleaseStageScript(release, s.nodeMajor),
                triggers: [args.serverId, releaseId(release, s.nodeMajor)],
                logging: "stdoutAndStderr",
            },
            { parent: this },
        );

        // The headless browser is prefetched beside provisioning too, in a session of its own, once provisioning is
        // done with apt: sources, lists and Chromium's packages in apt's cache. The push does not wait for this stage;
        // it installs the packages after the gateway is ready (the gateway does not need Chromium to start), waiting
        // for the stage on one lock on the host. Rerun when the installer changes.
        if (s.browser) {
            const browserStage = renderBrowserStageScript();
            new command.remote.Command(
                `${name}-browser`,
                {
                    connection,
                    create: REMOTE_COMMAND,
                    stdin: browserStage,
                    triggers: [args.serverId, createHash("sha256").update(browserStage).digest("hex")],
                    logging: "stdoutAndStderr",
                },
                { parent: this },
            );
        }

        const alerts = pulumi.all([args.alerts?.telegramBotToken, args.alerts?.ntfyUrl, args.alerts?.webhookUrl]);
        const bundle = pulumi
            .all([
                gatewayToken.result,
                args.llmApiKey,
                args.embeddingApiKey,
                args.tunnelToken,
                args.backup.accessKeyId,
                args.backup.secretAccessKey,
                alerts,
                // One element for both: pulumi.all's typed overloads stop at eight.
                pulumi.all([hostMemoryMb, pulumi.all(args.channelTokens ?? {})]),
            ])
            .apply(([gateway, llm, embedding, tunnel, keyId, secretKey, [telegram, ntfy, webhook], [memoryMb, channels]]) =>
                buildHostBundle(
                    hostBundleInput(
                        s,
                        {
                            gatewayToken: gateway,
                            llmApiKey: llm,
                            embeddingApiKey: embedding,
                            tunnelToken: tunnel,
                            backupAccessKeyId: keyId,
                            backupSecretAccessKey: secretKey,
                            alertTelegramBotToken: telegram,
                            alertNtfyUrl: ntfy,
                            alertWebhookUrl: webhook,
                            channels,
                        },
                        { hostMemoryMb: memoryMb },
                    ),
                ),
            );
        for (const warning of review.warnings) pulumi.log.warn(warning, this);

        // Per-file digests are public (the files are): the preview shows which files change. They are computed from a
        // copy with placeholder secrets (so they are not secret outputs) for the host's real memory. The digest of all
        // secrets together stays secret; it still forces a push (and restarts) when a key is rotated.
        const publicDigests = hostMemoryMb.apply((memoryMb) => {
            const forHost = buildHostBundle(hostBundleInput(s, PLACEHOLDER_SECRETS, { hostMemoryMb: memoryMb }));
            if (memoryMb !== undefined) {
                for (const warning of renderGatewayUnit({ serverMemoryMb: memoryMb, swapMb: s.swapMb }).warnings)
                    pulumi.log.warn(warning, this);
            }
            return Object.fromEntries(Object.entries(bundleDigests(forHost)).filter(([key]) => key !== SECRETS_DIGEST_KEY));
        });
        const secretsDigest = pulumi.secret(bundle.apply((b) => bundleDigests(b)[SECRETS_DIGEST_KEY]));

        const push = new command.remote.Command(
            `${name}-push`,
            {
                connection,
                create: REMOTE_COMMAND,
                stdin: pulumi.secret(bundle.apply((b) => renderBundleScript(b))),
                triggers: [args.serverId, publicDigests, secretsDigest],
                // The applier prints a summary and, on failure, the gateway's last log lines; never a secret.
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: [waitProvisioned, restoreKeys, stageRelease], deleteBeforeReplace: true },
        );

        this.pushSummary = push.stdout.apply((out) =>
            out
                .split("\n")
                .filter((l) => l.startsWith("PUSH-SUMMARY"))
                .join("\n"),
        );
        this.registerOutputs({ gatewayToken: this.gatewayToken, pushSummary: this.pushSummary });
    }
}
