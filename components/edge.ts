// ZeroTrustEdge owns everything between the Internet and the host: the remotely managed Cloudflare Tunnel (its
// 32-byte secret and connector token), the tunnel's ingress rules (hostname -> the gateway on loopback, Access JWT
// required, catch-all 404 last), the Access application and its Allow policy (plus an optional service token for
// machine clients), and the proxied DNS record, which is created only after Access guards the hostname.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as random from "@pulumi/random";

export interface ZeroTrustEdgeArgs {
    accountId: string;
    zoneId: string;
    /** Public hostname, e.g. agent.example.com. */
    hostname: string;
    /** Zero Trust team name (<team>.cloudflareaccess.com): cloudflared validates Access JWTs against it. */
    teamName: string;
    /** Tunnel name at Cloudflare (unique in the account). */
    tunnelName: string;
    /** Name shown in the Zero Trust dashboard and the App Launcher. */
    applicationName: string;
    /** Exactly these addresses may pass Access. */
    emails: string[];
    /** Whole e-mail domains that may pass (optional). */
    emailDomains: string[];
    /** Identity providers offered on the login page (empty: all of the account's). */
    identityProviderIds: string[];
    /** Access session length, e.g. 24h. */
    sessionDuration: string;
    /** Loopback port of the gateway the tunnel forwards to. */
    gatewayPort: number;
    /** Create a service token (and a Service Auth policy) for the OpenClaw CLI and other machine clients. */
    serviceToken: boolean;
    /** The server's id: a new server gets a new tunnel (and so a new connector token) automatically. */
    serverId?: pulumi.Input<string>;
}

export interface IngressRule {
    hostname?: string;
    service: string;
    originRequest?: { access: { required: boolean; teamName: string; audTags: string[] } };
}

/** The tunnel's ingress, as plain data: the hostname to the gateway with Access enforced by cloudflared, then 404. */
export function tunnelIngress(hostname: string, gatewayPort: number, teamName: string, aud: string): IngressRule[] {
    return [
        {
            hostname,
            // 127.0.0.1, not localhost: the gateway binds loopback and we do not want a resolver deciding v4 or v6.
            service: `http://127.0.0.1:${gatewayPort}`,
            originRequest: { access: { required: true, teamName, audTags: [aud] } },
        },
        { service: "http_status:404" },
    ];
}

/** Access policy includes: each listed e-mail, then each listed domain. */
export function allowIncludes(emails: string[], emailDomains: string[]): cloudflare.types.input.ZeroTrustAccessPolicyInclude[] {
    return [...emails.map((email) => ({ email: { email } })), ...emailDomains.map((domain) => ({ emailDomain: { domain } }))];
}

export class ZeroTrustEdge extends pulumi.ComponentResource {
    readonly tunnelId: pulumi.Output<string>;
    /** The connector token `cloudflared tunnel run` needs. Secret. */
    readonly tunnelToken: pulumi.Output<string>;
    /** Audience tag of the Access application (what cloudflared checks in the JWT). */
    readonly accessAud: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;
    readonly serviceTokenClientId?: pulumi.Output<string>;
    readonly serviceTokenClientSecret?: pulumi.Output<string>;

    constructor(name: string, args: ZeroTrustEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("openclaw-vps:index:ZeroTrustEdge", name, {}, opts);
        const parent = { parent: this };

        // Keyed on the server: whatever a replaced server knew of the tunnel dies with it.
        const tunnelSecret = new random.RandomBytes(
            `${name}-tunnel-secret`,
            {
                length: 32,
                keepers: args.serverId ? { serverId: args.serverId } : undefined,
            },
            parent,
        );
        const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
            `${name}-tunnel`,
            {
                accountId: args.accountId,
                name: args.tunnelName,
                configSrc: "cloudflare",
                tunnelSecret: pulumi.secret(tunnelSecret.base64),
            },
            { parent: this, deleteBeforeReplace: true },
        );

        const allowPolicy = new cloudflare.ZeroTrustAccessPolicy(
            `${name}-allow-policy`,
            {
                accountId: args.accountId,
                name: `${args.applicationName}: allowed people`,
                decision: "allow",
                includes: allowIncludes(args.emails, args.emailDomains),
                sessionDuration: args.sessionDuration,
            },
            parent,
        );
        const policies: cloudflare.types.input.ZeroTrustAccessApplicationPolicy[] = [{ id: allowPolicy.id, precedence: 1 }];

        if (args.serviceToken) {
            const token = new cloudflare.ZeroTrustAccessServiceToken(
                `${name}-service-token`,
                {
                    accountId: args.accountId,
                    name: `${args.applicationName}: CLI and nodes`,
                    duration: "8760h",
                },
                parent,
            );
            const servicePolicy = new cloudflare.ZeroTrustAccessPolicy(
                `${name}-service-policy`,
                {
                    accountId: args.accountId,
                    name: `${args.applicationName}: service token`,
                    // Service Auth: a valid token passes without an identity login.
                    decision: "non_identity",
                    includes: [{ serviceToken: { tokenId: token.id } }],
                },
                parent,
            );
            policies.push({ id: servicePolicy.id, precedence: 2 });
            this.serviceTokenClientId = pulumi.secret(token.clientId);
            this.serviceTokenClientSecret = pulumi.secret(token.clientSecret);
        }

        const application = new cloudflare.ZeroTrustAccessApplication(
            `${name}-access-app`,
            {
                accountId: args.accountId,
                name: args.applicationName,
                type: "self_hosted",
                domain: args.hostname,
                sessionDuration: args.sessionDuration,
                policies,
                allowedIdps: args.identityProviderIds.length ? args.identityProviderIds : undefined,
                autoRedirectToIdentity: args.identityProviderIds.length === 1,
                appLauncherVisible: false,
                httpOnlyCookieAttribute: true,
                sameSiteCookieAttribute: "lax",
                // The binding cookie ties the session to the browser that logged in.
                enableBindingCookie: true,
            },
            parent,
        );

        const tunnelConfig = new cloudflare.ZeroTrustTunnelCloudflaredConfig(
            `${name}-tunnel-config`,
            {
                accountId: args.accountId,
                tunnelId: tunnel.id,
                config: {
                    ingresses: application.aud.apply((aud) => tunnelIngress(args.hostname, args.gatewayPort, args.teamName, aud)),
                },
            },
            parent,
        );

        // Only once Access guards the hostname (and the tunnel enforces its JWT) may the name resolve.
        new cloudflare.DnsRecord(
            `${name}-dns`,
            {
                zoneId: args.zoneId,
                name: args.hostname,
                type: "CNAME",
                content: pulumi.interpolate`${tunnel.id}.cfargotunnel.com`,
                proxied: true,
                ttl: 1,
                comment: `OpenClaw gateway tunnel (${args.tunnelName}), managed by openclaw-vps`,
            },
            { parent: this, dependsOn: [application, tunnelConfig] },
        );

        this.tunnelId = tunnel.id;
        this.tunnelToken = pulumi.secret(
            cloudflare.getZeroTrustTunnelCloudflaredTokenOutput({ accountId: args.accountId, tunnelId: tunnel.id }, parent).token,
        );
        this.accessAud = application.aud;
        this.url = pulumi.output(`https://${args.hostname}`);
        this.registerOutputs({
            tunnelId: this.tunnelId,
            tunnelToken: this.tunnelToken,
            accessAud: this.accessAud,
            url: this.url,
            serviceTokenClientId: this.serviceTokenClientId,
            serviceTokenClientSecret: this.serviceTokenClientSecret,
        });
    }
}
