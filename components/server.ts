// AgentServer owns the VPS itself: the admin SSH key, the provider firewall (inbound TCP 22 from adminCidrs only)
// and the Ubuntu 24.04 server with its user data. What each provider creates is its module's business
// (components/providers/): this component picks the spec from the registry and gives the rest of the program one
// shape (id, IPv4, IPv6, SSH host).
import * as pulumi from "@pulumi/pulumi";
import { InboundRule, providerSpec } from "./providers";

export interface AgentServerArgs {
    /** A provider id of the registry (components/providers), e.g. "hetzner". */
    provider: string;
    /** Provider location, e.g. fsn1 or fra1. */
    region: string;
    /** Provider size slug, e.g. cx23 or s-2vcpu-2gb. */
    serverType: string;
    /** The server's name at the provider (fixed, so replacement deletes the old server first). */
    serverName: string;
    /** The admin's OpenSSH public key line. */
    sshPublicKey: string;
    /** A key already in the provider account (e.g. Hetzner name, DigitalOcean fingerprint) to use instead of creating one. */
    existingSshKey?: string;
    /** Networks allowed to reach TCP 22. Nothing else is ever allowed in. */
    adminCidrs: string[];
    /** Rendered #cloud-config. Must never contain a secret: any process on the host can read it back. */
    userData: string;
    /** Labels (or tags) naming the agent. */
    labels: Record<string, string>;
}

/** The only inbound rule any provider firewall gets: SSH from the admin networks. */
export function sshOnlyIngress(adminCidrs: string[]): InboundRule & { protocol: "tcp"; port: "22" } {
    return { protocol: "tcp", port: "22", sources: [...adminCidrs] };
}

export class AgentServer extends pulumi.ComponentResource {
    /** Provider id of the server (a change means a new machine: the push and the restore run again). */
    readonly serverId: pulumi.Output<string>;
    readonly ipv4Address: pulumi.Output<string>;
    readonly ipv6Address: pulumi.Output<string>;
    /** Where SSH connects (the public IPv4 address). */
    readonly sshHost: pulumi.Output<string>;

    constructor(name: string, args: AgentServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("openclaw-vps:index:AgentServer", name, {}, opts);
        const provider = providerSpec(args.provider);
        const bytes = Buffer.byteLength(args.userData, "utf8");
        if (bytes > provider.userDataLimitBytes) {
            throw new Error(`user data is ${bytes} bytes; ${provider.title} accepts at most ${provider.userDataLimitBytes}`);
        }
        const server = provider.createServer(
            name,
            {
                region: args.region,
                serverType: args.serverType,
                serverName: args.serverName,
                sshPublicKey: args.sshPublicKey,
                existingSshKey: args.existingSshKey,
                sshIngress: sshOnlyIngress(args.adminCidrs),
                userData: args.userData,
                labels: args.labels,
            },
            this,
        );
        this.serverId = server.serverId;
        this.ipv4Address = server.ipv4Address;
        this.ipv6Address = server.ipv6Address;
        this.sshHost = this.ipv4Address;
        this.registerOutputs({
            serverId: this.serverId,
            ipv4Address: this.ipv4Address,
            ipv6Address: this.ipv6Address,
            sshHost: this.sshHost,
        });
    }
}
