// `npm run channels -- login whatsapp | logout whatsapp | status [--stack NAME] [--host H --user U --key FILE --port P]`
// login: OpenClaw's own WhatsApp linking (`openclaw channels login --channel whatsapp`) on the server, in a terminal
// over SSH: the QR code appears in yours; scan it in WhatsApp (Settings > Linked devices). The link is written to the
// agent's state dir, where the running gateway picks it up and the hourly backup keeps it.
// logout: unlink (WhatsApp forgets this device). status: every configured channel as the gateway reports it (--probe).
// Exit: OpenClaw's exit code; 2 on bad arguments or a channel that cannot log in.
import { parseArgs } from "node:util";
import { agentCliCommand, ChannelsError, deployedChannels, loginRefusal } from "./lib/channels";
import { connectTarget, TARGET_OPTIONS } from "./lib/target";

const USAGE = `usage: npm run channels -- login whatsapp | logout whatsapp | status  [--stack NAME] [--host H] [--user U] [--key FILE] [--port P]`;

async function main(): Promise<number> {
    let parsed;
    try {
        parsed = parseArgs({ options: { ...TARGET_OPTIONS, help: { type: "boolean", default: false } }, allowPositionals: true });
    } catch (error) {
        console.error(`${(error as Error).message}\n${USAGE}`);
        return 2;
    }
    const [action, channel, ...extra] = parsed.positionals;
    if (parsed.values.help) {
        console.log(USAGE);
        return 0;
    }
    const valid = (action === "status" && !channel) || ((action === "login" || action === "logout") && channel);
    if (!valid || extra.length) {
        console.error(USAGE);
        return 2;
    }
    const remote = await connectTarget(parsed.values);
    try {
        if (action === "status") {
            // The gateway's live view: connected, or the reason OpenClaw gives.
            return await remote.interactive(agentCliCommand(["channels", "status", "--probe", "--timeout", "60000"]));
        }
        const refusal = loginRefusal(channel!, await deployedChannels(remote));
        if (refusal) {
            console.error(refusal);
            return 2;
        }
        if (action === "login")
            console.error(`Linking WhatsApp on ${remote.target}: scan the QR code with WhatsApp > Settings > Linked devices.`);
        return await remote.interactive(agentCliCommand(["channels", action!, "--channel", channel!]));
    } finally {
        remote.dispose();
    }
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err instanceof ChannelsError || err instanceof Error ? err.message : err);
        process.exit(1);
    },
);
