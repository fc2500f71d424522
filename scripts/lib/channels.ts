// The operator's side of the messaging channels on a live host (`npm run channels`): which channels the deployed
// openclaw.json configures, and the OpenClaw CLI run as the agent user exactly as the gateway sees its state (same
// HOME, state dir and config, the config read-only), so a WhatsApp link written
// by `channels login` is the one the running gateway uses. Nothing here carries a secret: tokens stay in ~/.openclaw/.env.
import { AGENT_HOME, AGENT_USER, HOST_DIRS, HOST_FILES } from "../../components/core/host-contract";
import { shellQuote } from "../../components/core/shell";
import { CHANNEL_IDS, CHANNEL_SPECS, ChannelId } from "../../components/render/channels";
import { RemoteHost } from "../../components/remote";

/** Channels whose link needs a person at a terminal (a QR code to scan); the others are configured by token. */
export const LOGIN_CHANNELS: readonly ChannelId[] = ["whatsapp"];

export class ChannelsError extends Error {}

/**
 * The host command line that runs `openclaw <args>` as the agent user, from the gateway's state dir, with only the
 * environment the gateway's system unit gives it (HOME, PATH, its read-only config switch), so OpenClaw sees the same
 * state as the running gateway (it refuses to write credentials otherwise).
 */
export function agentCliCommand(args: readonly string[]): string {
    const inner = [
        `uid=$(id -u ${AGENT_USER})`,
        `gid=$(id -g ${AGENT_USER})`,
        `cd ${HOST_DIRS.agentState}`,
        [
            'exec setpriv --reuid="$uid" --regid="$gid" --init-groups --',
            `env -i HOME=${AGENT_HOME} USER=${AGENT_USER} LANG=C.UTF-8 TERM="\${TERM:-xterm-256color}"`,
            "PATH=/usr/local/bin:/usr/bin:/bin OPENCLAW_CONFIG_READONLY=1 OPENCLAW_SERVICE_REPAIR_POLICY=external",
            "openclaw",
            ...args.map(shellQuote),
        ].join(" "),
    ].join("; ");
    return `sudo -n bash -c ${shellQuote(inner)}`;
}

/** The channels the deployed openclaw.json enables (it holds no secret, only env var names). */
export async function deployedChannels(remote: RemoteHost): Promise<ChannelId[]> {
    const read = await remote.runScript(`cat ${HOST_FILES.openclawConfig}`, { sudo: true });
    if (read.code !== 0) throw new ChannelsError(`cannot read ${HOST_FILES.openclawConfig} on ${remote.target}: ${read.stderr.trim()}`);
    const config = JSON.parse(read.stdout) as { channels?: Record<string, { enabled?: boolean }> };
    return CHANNEL_IDS.filter((id) => config.channels?.[id] && config.channels[id].enabled !== false);
}

/** Why `login <channel>` cannot run, or undefined when it can. */
export function loginRefusal(channel: string, deployed: readonly ChannelId[]): string | undefined {
    if (!(CHANNEL_IDS as readonly string[]).includes(channel)) return `unknown channel '${channel}'; channels: ${CHANNEL_IDS.join(", ")}`;
    const id = channel as ChannelId;
    const spec = CHANNEL_SPECS[id];
    if (!LOGIN_CHANNELS.includes(id)) {
        const keys = spec.tokens.map((t) => `openclaw-vps:${t.secret}`).join(" and ");
        return `${spec.label} needs no login: its bot signs in with ${keys} (set with \`pulumi config set --secret\`, then deploy)`;
    }
    if (!deployed.includes(id))
        return `${spec.label} is not configured on this host: set openclaw-vps:${id}AllowFrom to your own number and deploy first`;
    return undefined;
}
