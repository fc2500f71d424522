// The operator's side of the edge: an openclaw.json for a laptop's OpenClaw CLI/TUI that reaches the agent through
// Cloudflare Access with the stack's service token (`accessServiceToken: true`) and the gateway token. Secrets stay
// out of it: the config names env vars (CF_ACCESS_CLIENT_ID, CF_ACCESS_CLIENT_SECRET, OPENCLAW_GATEWAY_TOKEN) that the
// operator keeps in a 0600 env file. Pure; the real OpenClaw validates it in test/tools/client-config.test.ts.
import { envSecretRef } from "./openclaw-config";
import { isFqdn } from "../core/validators";

export const CLIENT_ENV = {
    accessClientId: "CF_ACCESS_CLIENT_ID",
    accessClientSecret: "CF_ACCESS_CLIENT_SECRET",
    gatewayToken: "OPENCLAW_GATEWAY_TOKEN",
} as const;

export interface ClientConfigInput {
    /** The agent's public hostname, e.g. agent.example.com. */
    hostname: string;
}

export function renderClientConfig(input: ClientConfigInput): string {
    if (!isFqdn(input.hostname)) throw new Error(`renderClientConfig: hostname ${JSON.stringify(input.hostname)} is not an FQDN`);
    const config = {
        secrets: { providers: { default: { source: "env" } } },
        gateway: {
            mode: "remote",
            remote: {
                url: `wss://${input.hostname}`,
                token: envSecretRef(CLIENT_ENV.gatewayToken),
                // Access checks these on the WebSocket upgrade; OpenClaw sends them only to this origin, over wss.
                edgeAuth: {
                    "CF-Access-Client-Id": envSecretRef(CLIENT_ENV.accessClientId),
                    "CF-Access-Client-Secret": envSecretRef(CLIENT_ENV.accessClientSecret),
                },
            },
        },
    };
    return `${JSON.stringify(config, null, 2)}\n`;
}

/** The env file holding the three values (write it 0600). Values are single-line tokens. */
export function renderClientEnv(values: { accessClientId: string; accessClientSecret: string; gatewayToken: string }): string {
    for (const [k, v] of Object.entries(values)) {
        if (!/^[\x21-\x7e]+$/.test(v)) throw new Error(`renderClientEnv: ${k} must be one printable token`);
    }
    return `${CLIENT_ENV.accessClientId}=${values.accessClientId}\n${CLIENT_ENV.accessClientSecret}=${values.accessClientSecret}\n${CLIENT_ENV.gatewayToken}=${values.gatewayToken}\n`;
}
