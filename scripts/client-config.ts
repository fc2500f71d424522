// `npm run client-config -- [--stack NAME] [--env-file FILE]`: prints the openclaw.json a laptop's OpenClaw CLI or
// TUI uses to reach this agent through Cloudflare Access (service token) and, with --env-file, writes the three
// secrets it reads (service token id and secret, gateway token) to FILE with mode 0600. Needs
// `accessServiceToken: true` and `gatewayAuth: token` (a service token carries no e-mail, which `access` mode needs).
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { parseSettings } from "../components/settings";
import { renderClientConfig, renderClientEnv } from "../components/render/client-config";
import { readStackConfig } from "./lib/stack-config";
import { pulumiRunner } from "./lib/pulumi-cli";

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { stack: { type: "string", default: "prod" }, "env-file": { type: "string" } } });
    const { settings } = parseSettings(readStackConfig(values.stack!).config);
    if (!settings.accessServiceToken)
        throw new Error("the stack has no service token: pulumi config set accessServiceToken true, then npm run deploy");
    if (settings.gatewayAuth !== "token")
        throw new Error("gatewayAuth must be token for CLI clients: a service token carries no e-mail for access mode");
    process.stdout.write(renderClientConfig({ hostname: settings.hostname }));
    const envFile = values["env-file"];
    if (envFile) {
        // Secrets come from the stack on a pipe and go straight into a 0600 file; they are never printed.
        const res = await pulumiRunner(process.env).run(["stack", "output", "--json", "--show-secrets", "--stack", values.stack!]);
        if (res.code !== 0) throw new Error(`pulumi stack output failed: ${res.stderr.trim()}`);
        const out = JSON.parse(res.stdout) as Record<string, string>;
        const env = renderClientEnv({
            accessClientId: out.serviceTokenClientId,
            accessClientSecret: out.serviceTokenClientSecret,
            gatewayToken: out.gatewayToken,
        });
        fs.writeFileSync(envFile, env, { mode: 0o600 });
        fs.chmodSync(envFile, 0o600);
        console.error(`wrote ${envFile} (0600): load it into the CLI's environment, e.g. \`set -a; . ${envFile}; set +a\``);
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
