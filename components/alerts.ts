// AgentAlerts owns the outside-in alarm: a Cloudflare notification policy that e-mails the owners when the agent's
// tunnel turns unhealthy or down. A server that is down cannot report itself; Cloudflare's edge sees its tunnel
// disappear and says so. (The host's own watchdog, for everything else, is pushed by AgentHost.)
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";

/** Cloudflare's alert type for tunnel health changes (healthy, degraded, down, inactive). */
export const TUNNEL_HEALTH_ALERT = "tunnel_health_event";

export interface AgentAlertsArgs {
    accountId: string;
    /** Names the policy in the dashboard (Notifications), e.g. "openclaw". */
    agentName: string;
    /** Who gets the e-mails: the same people Access lets in. */
    emails: string[];
    /** The tunnel the policy is about (named in the description; Cloudflare's tunnel alerts take no filter). */
    tunnelId: pulumi.Input<string>;
}

export class AgentAlerts extends pulumi.ComponentResource {
    readonly policyId: pulumi.Output<string>;

    constructor(name: string, args: AgentAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("openclaw-vps:index:AgentAlerts", name, {}, opts);
        if (args.emails.length === 0) throw new Error("AgentAlerts: at least one e-mail address receives the tunnel alerts");
        const policy = new cloudflare.NotificationPolicy(
            `${name}-tunnel-health`,
            {
                accountId: args.accountId,
                name: `${args.agentName}: tunnel health (openclaw-vps)`,
                description: pulumi.interpolate`The agent's tunnel ${args.tunnelId} changed health (down or degraded means the server or cloudflared stopped).`,
                alertType: TUNNEL_HEALTH_ALERT,
                enabled: true,
                mechanisms: { emails: args.emails.map((id) => ({ id })) },
            },
            { parent: this },
        );
        this.policyId = policy.id;
        this.registerOutputs({ policyId: this.policyId });
    }
}
