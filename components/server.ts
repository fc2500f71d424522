// AgentServer owns the VPS itself: the admin SSH key, the provider firewall (inbound TCP 22 from adminCidrs only,
// outbound open) and the Ubuntu 24.04 server with its user data, on Hetzner (default) or DigitalOcean. Provider
// differences end here: the rest of the program sees one shape (id, IPv4, IPv6, SSH host).
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import * as digitalocean from "@pulumi/digitalocean";
import { Provider, UBUNTU_IMAGE } from "./server-types";

export interface AgentServerArgs {
    provider: Provider;
    /** Provider location, e.g. fsn1 or fra1. */
    region: string;
    /** Provider size slug, e.g. cx23 or s-2vcpu-2gb. */
    serverType: string;
    /** The server's name at the provider (fixed, so replacement deletes the old server first). */
    serverName: string;
    /** The admin's OpenSSH public key line. */
    sshPublicKey: string;
    /** A key already in the provider account (Hetzner name, DigitalOcean fingerprint) to use instead of creating one. */
    existingSshKey?: string;
    /** Networks allowed to reach TCP 22. Nothing else is ever allowed in. */
    adminCidrs: string[];
    /** Rendered #cloud-config. Must never contain a secret: any process on the host can read it back. */
    userData: pulumi.Input<string>;
    /** Labels (Hetzner) or tags (DigitalOcean) naming the agent. */
    labels: Record<string, string>;
}

/** Provider firewall rules as plain data, shared by both providers and by the tests. */
export function sshOnlyIngress(adminCidrs: string[]): { protocol: "tcp"; port: "22"; sources: string[] } {
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
        const ingress = sshOnlyIngress(args.adminCidrs);
        // Names at the provider are unique, so a replacement must delete the old resource before creating the new one.
        const fixedName = { parent: this, deleteBeforeReplace: true };

        if (args.provider === "hetzner") {
            // The provider refuses a public key it already has; then name the existing key instead.
            const keyRef = args.existingSshKey
                ? pulumi.output(args.existingSshKey)
                : new hcloud.SshKey(`${name}-ssh-key`, {
                    name: `${args.serverName}-admin`,
                    publicKey: args.sshPublicKey,
                    labels: args.labels,
                }, fixedName).id;
            const firewall = new hcloud.Firewall(`${name}-firewall`, {
                name: `${args.serverName}-ssh-only`,
                labels: args.labels,
                // Hetzner allows all outbound traffic while a firewall has no outbound rule.
                rules: [{ direction: "in", protocol: ingress.protocol, port: ingress.port, sourceIps: ingress.sources, description: "SSH from the admin networks only" }],
            }, fixedName);
            const server = new hcloud.Server(`${name}-server`, {
                name: args.serverName,
                serverType: args.serverType,
                image: UBUNTU_IMAGE.hetzner,
                location: args.region,
                // Without a key Hetzner e-mails a root password; root login is disabled by the hardening anyway.
                sshKeys: [keyRef],
                userData: args.userData,
                firewallIds: [firewall.id.apply((id) => Number(id))],
                publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
                labels: args.labels,
            }, fixedName);
            this.serverId = server.id;
            this.ipv4Address = server.ipv4Address;
            this.ipv6Address = server.ipv6Address;
        } else {
            const tag = Object.entries(args.labels).map(([k, v]) => `${k}-${v}`.replace(/[^A-Za-z0-9:_-]/g, "-"));
            const keyRef = args.existingSshKey
                ? pulumi.output(args.existingSshKey)
                : new digitalocean.SshKey(`${name}-ssh-key`, {
                    name: `${args.serverName}-admin`,
                    publicKey: args.sshPublicKey,
                }, { parent: this }).fingerprint;
            const droplet = new digitalocean.Droplet(`${name}-server`, {
                name: args.serverName,
                size: args.serverType,
                image: UBUNTU_IMAGE.digitalocean,
                region: args.region,
                sshKeys: [keyRef],
                userData: args.userData,
                ipv6: true,
                // The DO agent would be another root daemon phoning home; the gateway host does without it.
                dropletAgent: false,
                tags: tag,
            }, fixedName);
            new digitalocean.Firewall(`${name}-firewall`, {
                name: `${args.serverName}-ssh-only`,
                dropletIds: [droplet.id.apply((id) => Number(id))],
                inboundRules: [{ protocol: ingress.protocol, portRange: ingress.port, sourceAddresses: ingress.sources }],
                // A DigitalOcean firewall drops whatever it does not allow, outbound included: cloudflared, apt, npm and
                // the LLM APIs need these.
                outboundRules: [
                    { protocol: "tcp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
                    { protocol: "udp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
                    { protocol: "icmp", destinationAddresses: ["0.0.0.0/0", "::/0"] },
                ],
                tags: tag,
            }, fixedName);
            this.serverId = droplet.id;
            this.ipv4Address = droplet.ipv4Address;
            this.ipv6Address = droplet.ipv6Address;
        }
        this.sshHost = this.ipv4Address;
        this.registerOutputs({
            serverId: this.serverId,
            ipv4Address: this.ipv4Address,
            ipv6Address: this.ipv6Address,
            sshHost: this.sshHost,
        });
    }
}
