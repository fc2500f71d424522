// The messaging channels the agent can talk on (Telegram, Discord, Slack, WhatsApp): how each one lands in
// openclaw.json for the pinned OpenClaw (2026.9.6), which env vars hold its tokens, which plugin package it needs, and
// who its owner is. Every channel is owner-only: DM policy `allowlist` with the operator's own ids (never `pairing`,
// whose approvals live in state a rebuild can lose, never `open`), groups off. The owner's DM on the first configured
// channel (in CHANNEL_IDS order) gets the heartbeat's reports and the exec approval prompts.
// Pure: no Pulumi, no I/O. The real OpenClaw validates and audits the output in test/tools/.
import {
    DISCORD_USER_ID_RULE,
    E164_RULE,
    Rule,
    SLACK_APP_TOKEN_RULE,
    SLACK_BOT_TOKEN_RULE,
    DISCORD_BOT_TOKEN_RULE,
    SLACK_USER_ID_RULE,
    TELEGRAM_BOT_TOKEN_RULE,
    TELEGRAM_USER_ID_RULE,
} from "../core/rules";
import type { ExternalPlugin } from "./openclaw-config";

/** In this order: the first configured one is where the owner gets heartbeat reports and approval prompts. */
export const CHANNEL_IDS = ["telegram", "discord", "slack", "whatsapp"] as const;
export type ChannelId = (typeof CHANNEL_IDS)[number];

/** One token a channel needs: the secret's settings key, the env var OpenClaw reads it from, and its shape. */
export interface ChannelToken {
    /** Key in the host bundle's `secrets.channels` (and the settings key). */
    secret: ChannelSecretKey;
    /** The env var in ~/.openclaw/.env that the config's SecretRef names. */
    env: string;
    rule: Rule<string>;
}

export type ChannelSecretKey = "telegramBotToken" | "discordBotToken" | "slackBotToken" | "slackAppToken";

export interface ChannelSpec {
    id: ChannelId;
    label: string;
    /** Official plugin package when the channel is not bundled in `openclaw` (installed pinned before the gateway starts). */
    plugin?: ExternalPlugin;
    tokens: ChannelToken[];
    /** What one allowlist entry (the owner's id on that platform) must look like. */
    idRule: Rule<string>;
    /** A native approval client (buttons in the owner's DM); otherwise approvals are forwarded as text (`/approve`). */
    nativeApprovals: boolean;
}

export const CHANNEL_SPECS: Record<ChannelId, ChannelSpec> = {
    telegram: {
        id: "telegram",
        label: "Telegram",
        tokens: [{ secret: "telegramBotToken", env: "TELEGRAM_BOT_TOKEN", rule: TELEGRAM_BOT_TOKEN_RULE }],
        idRule: TELEGRAM_USER_ID_RULE,
        nativeApprovals: true,
    },
    discord: {
        id: "discord",
        label: "Discord",
        plugin: { id: "discord", package: "@openclaw/discord" },
        tokens: [{ secret: "discordBotToken", env: "DISCORD_BOT_TOKEN", rule: DISCORD_BOT_TOKEN_RULE }],
        idRule: DISCORD_USER_ID_RULE,
        nativeApprovals: true,
    },
    slack: {
        id: "slack",
        label: "Slack",
        plugin: { id: "slack", package: "@openclaw/slack" },
        tokens: [
            { secret: "slackBotToken", env: "SLACK_BOT_TOKEN", rule: SLACK_BOT_TOKEN_RULE },
            { secret: "slackAppToken", env: "SLACK_APP_TOKEN", rule: SLACK_APP_TOKEN_RULE },
        ],
        idRule: SLACK_USER_ID_RULE,
        nativeApprovals: true,
    },
    whatsapp: {
        id: "whatsapp",
        label: "WhatsApp",
        plugin: { id: "whatsapp", package: "@openclaw/whatsapp" },
        // Linked by scanning a QR code (`npm run channels -- login whatsapp`), not by a token.
        tokens: [],
        idRule: E164_RULE,
        nativeApprovals: false,
    },
};

/** Every channel token's env var -> its secret key (the host bundle fills ~/.openclaw/.env with it). */
export const CHANNEL_TOKEN_ENV: Record<string, ChannelSecretKey> = Object.fromEntries(
    Object.values(CHANNEL_SPECS).flatMap((spec) => spec.tokens.map((t) => [t.env, t.secret])),
);

/** Per channel: the owner's ids there (non-empty). Only the channels given are configured. */
export type ChannelsInput = Partial<Record<ChannelId, { allowFrom: readonly string[] }>>;

/**
 * Where WhatsApp keeps its link (Baileys session) below the state dir: deliberately outside `credentials/`, which
 * backups leave out, so a rebuilt server restores the link instead of asking for a new QR scan.
 */
export const WHATSAPP_AUTH_SUBDIR = "whatsapp-link/default";

/** Stand-in hooks (tests only; production passes none): a Bot API root other than api.telegram.org. */
export interface ChannelEndpoints {
    telegramApiRoot?: string;
}

export interface RenderedChannels {
    /** `channels.<id>` blocks. */
    channels: Record<string, Record<string, unknown>>;
    /** `commands.ownerAllowFrom`: the owner's ids, `<channel>:<id>`, first channel first (heartbeat target "owner"). */
    ownerAllowFrom: string[];
    /** `approvals.exec` when the first channel has no native approval client (WhatsApp): prompts forwarded to the owner. */
    execApprovalForwarding?: Record<string, unknown>;
    /** The first configured channel and the owner's id on it. */
    owner?: { channel: ChannelId; id: string };
    /** Env vars the blocks reference. */
    env: string[];
    plugins: ExternalPlugin[];
}

function fail(field: string, value: unknown, expected: string): never {
    throw new Error(`openclaw config: ${field} is ${JSON.stringify(value)}; expected ${expected}`);
}

const envRef = (id: string) => ({ source: "env", provider: "default", id });

/** The channel blocks for `input` (throws, naming the field, on an id that breaks its channel's rule). */
export function renderChannels(input: ChannelsInput, stateDir: string, endpoints: ChannelEndpoints = {}): RenderedChannels {
    const configured = CHANNEL_IDS.filter((id) => input[id] !== undefined);
    const out: RenderedChannels = { channels: {}, ownerAllowFrom: [], env: [], plugins: [] };
    for (const id of configured) {
        const spec = CHANNEL_SPECS[id];
        const allowFrom = [...new Set(input[id]!.allowFrom.map((v) => v.trim()))];
        if (allowFrom.length === 0) fail(`channels.${id}.allowFrom`, allowFrom, `at least one id: ${spec.idRule.expected}`);
        for (const value of allowFrom) if (!spec.idRule.test(value)) fail(`channels.${id}.allowFrom`, value, spec.idRule.expected);
        const first = id === configured[0];
        out.owner ??= { channel: id, id: allowFrom[0]! };
        out.ownerAllowFrom.push(...allowFrom.map((v) => `${id}:${v}`));
        out.env.push(...spec.tokens.map((t) => t.env));
        if (spec.plugin) out.plugins.push(spec.plugin);
        // Owner-only: allowlisted DMs, no pairing requests from strangers, no groups.
        const block: Record<string, unknown> = { enabled: true, dmPolicy: "allowlist", allowFrom, groupPolicy: "disabled" };
        // Approval prompts go to one place: the owner's DM on the first channel (buttons where the channel has them).
        const approvals = spec.nativeApprovals
            ? { execApprovals: first ? { enabled: true, approvers: allowFrom, target: "dm" } : { enabled: false } }
            : {};
        switch (id) {
            case "telegram":
                Object.assign(block, { botToken: envRef("TELEGRAM_BOT_TOKEN"), ...approvals });
                if (endpoints.telegramApiRoot) {
                    if (!/^https?:\/\/[^\s/]+$/.test(endpoints.telegramApiRoot))
                        fail("telegramApiRoot", endpoints.telegramApiRoot, "http(s)://host[:port]");
                    block.apiRoot = endpoints.telegramApiRoot;
                }
                break;
            case "discord":
                Object.assign(block, { token: envRef("DISCORD_BOT_TOKEN"), ...approvals });
                break;
            case "slack":
                // Socket mode: the app dials out to Slack, so the host needs no inbound port.
                Object.assign(block, {
                    mode: "socket",
                    botToken: envRef("SLACK_BOT_TOKEN"),
                    appToken: envRef("SLACK_APP_TOKEN"),
                    ...approvals,
                });
                break;
            case "whatsapp":
                block.accounts = { default: { authDir: `${stateDir}/${WHATSAPP_AUTH_SUBDIR}` } };
                if (first) {
                    out.execApprovalForwarding = { enabled: true, mode: "targets", targets: [{ channel: "whatsapp", to: allowFrom[0] }] };
                }
                break;
        }
        out.channels[id] = block;
    }
    return out;
}
