// The project's invariants as @pulumi/policy policies (the pack in policy/index.ts enforces them on `pulumi preview
// --policy-pack policy` and in CI; test/unit/policy.test.ts calls them directly on good and bad resources and on the
// real program's plan). This module never constructs a PolicyPack, so importing it starts no policy server.
//   ssh-only-inbound          provider firewalls let in TCP 22 only (from the configured CIDRs), never the gateway port
//   server-firewalled         every server sits behind such a firewall
//   tunnel-ingress-loopback   every tunnel hostname goes to a loopback service with Access required; 404 catch-all last
//   access-guards-hostnames   every tunnel hostname has an Access application, and its DNS record depends on it
//   gateway-loopback          the pushed openclaw.json binds the gateway to loopback
//   bucket-retained           the memory bucket survives `pulumi destroy`
//   no-secret-in-user-data    user data is not a secret output and carries nothing shaped like a secret
//   ubuntu-24-04              servers run Ubuntu 24.04
//   tunnel-health-alerted     every stack with a tunnel has an enabled tunnel-health notification policy with an e-mail
//   known-resource-types      every resource is of a type this pack knows how to judge (fails closed)
// Provider resources (servers, firewalls) are judged through their provider module (components/providers/): a new
// provider is covered as soon as it is registered, and a type no module and no rule here knows is a violation.
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { DEFAULT_GATEWAY_PORT } from "../components/core/host-contract";
import { allProviders, providerOfResourceType, ProviderSpec } from "../components/providers";
import { userDataPlainText } from "../components/render/user-data";

/** The non-provider resource types the policies below read. */
export const TYPES = {
    tunnelConfig: "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
    accessApplication: "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
    dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
    r2Bucket: "cloudflare:index/r2Bucket:R2Bucket",
    agentHost: "openclaw-vps:index:AgentHost",
    tunnel: "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
    notificationPolicy: "cloudflare:index/notificationPolicy:NotificationPolicy",
} as const;

/**
 * Every other resource type the program creates: known, so the pack can vouch for the stack. Provider types come from
 * the provider registry; anything else is refused by known-resource-types.
 */
export const OTHER_KNOWN_TYPES: readonly string[] = [
    "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
    "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken",
    "cloudflare:index/r2BucketLock:R2BucketLock",
    "cloudflare:index/r2BucketLifecycle:R2BucketLifecycle",
    "cloudflare:index/apiToken:ApiToken",
    "random:index/randomBytes:RandomBytes",
    "random:index/randomPassword:RandomPassword",
    "command:remote:Command",
    "pulumi:pulumi:Stack",
];

export { DEFAULT_GATEWAY_PORT };

/** Policy configuration (`pulumi preview --policy-pack-config FILE`, or the pack's defaults). */
export interface PolicyConfig {
    /** The port the gateway listens on (loopback); never allowed in. */
    gatewayPort?: number;
    /** When set, every SSH source of a provider firewall must be one of these CIDRs (the stack's adminCidrs). */
    allowedSshSources?: string[];
}

export const CONFIG_SCHEMA = {
    properties: {
        gatewayPort: { type: "integer" as const, default: DEFAULT_GATEWAY_PORT, minimum: 1, maximum: 65535 },
        allowedSshSources: { type: "array" as const, items: { type: "string" as const } },
    },
};

function config(args: { getConfig<T extends object>(): T }): Required<Pick<PolicyConfig, "gatewayPort">> & PolicyConfig {
    let given: PolicyConfig = {};
    try {
        given = args.getConfig<PolicyConfig>() ?? {};
    } catch {
        // Called outside the engine without config: the defaults.
    }
    return { ...given, gatewayPort: given.gatewayPort ?? DEFAULT_GATEWAY_PORT };
}

/** Does a firewall port spec ("22", "1-65535", "any", undefined = all) include `port`? */
export function portSpecIncludes(spec: unknown, port: number): boolean {
    if (spec === undefined || spec === null || spec === "" || spec === "any" || spec === "all") return true;
    const text = String(spec).trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(text);
    if (range) return Number(range[1]) <= port && port <= Number(range[2]);
    return Number(text) === port;
}

// ---- ssh-only-inbound -------------------------------------------------------------------------------------------

/** The provider module of a resource type, when the type plays `role` for it. */
function providerRole(type: string, role: "server" | "firewall"): ProviderSpec | undefined {
    const owner = providerOfResourceType(type);
    return owner?.role === role ? owner.provider : undefined;
}

export const sshOnlyInbound: ResourceValidationPolicy = {
    name: "ssh-only-inbound",
    description: "Provider firewalls let in TCP port 22 only (from the configured admin CIDRs); the gateway port is never opened.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        const provider = providerRole(args.type, "firewall");
        if (!provider) return;
        const { gatewayPort, allowedSshSources } = config(args);
        for (const rule of provider.inboundRules(args.props)) {
            const where = `${rule.protocol || "?"} ${rule.port ?? "all ports"} from ${rule.sources.join(", ") || "nowhere"}`;
            if ((rule.protocol === "tcp" || rule.protocol === "udp" || rule.protocol === "") && portSpecIncludes(rule.port, gatewayPort)) {
                report(
                    `inbound rule ${where} opens the gateway port ${gatewayPort}: the gateway must only be reachable through the tunnel`,
                );
                continue;
            }
            if (rule.protocol !== "tcp" || String(rule.port).trim() !== "22") {
                report(`inbound rule ${where} allows more than SSH: only TCP 22 may come in (the tunnel needs no inbound port)`);
                continue;
            }
            if (allowedSshSources) {
                const outside = rule.sources.filter((s) => !allowedSshSources.includes(s));
                if (outside.length)
                    report(`SSH is open to ${outside.join(", ")}, outside the configured admin CIDRs (${allowedSshSources.join(", ")})`);
            }
        }
    },
};

// ---- server-firewalled (stack) ----------------------------------------------------------------------------------

export const serverFirewalled: StackValidationPolicy = {
    name: "server-firewalled",
    description: "Every server is behind its provider's SSH-only firewall (as its provider module defines coverage).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        for (const r of args.resources) {
            const provider = providerRole(r.type, "server");
            if (provider && !provider.isFirewalled(r, args.resources)) {
                report(`${provider.title} server ${r.name} is not behind a firewall: attach the SSH-only firewall`, r.urn);
            }
        }
    },
};

// ---- tunnel-ingress-loopback ------------------------------------------------------------------------------------

const LOOPBACK_SERVICE = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:(\d+))?(\/.*)?$/;

export interface IngressRuleProps {
    hostname?: string;
    service?: string;
    originRequest?: { access?: { required?: boolean; teamName?: string; audTags?: string[] } };
}

export function tunnelIngresses(props: Record<string, any>): IngressRuleProps[] {
    return (props.config?.ingresses ?? []) as IngressRuleProps[];
}

export const tunnelIngressLoopback: ResourceValidationPolicy = {
    name: "tunnel-ingress-loopback",
    description:
        "Every tunnel hostname routes to the gateway on loopback with Cloudflare Access required (team and AUD); a 404 catch-all comes last.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== TYPES.tunnelConfig) return;
        const { gatewayPort } = config(args);
        const ingresses = tunnelIngresses(args.props);
        if (!ingresses.length) {
            report("the tunnel configuration has no ingress rules");
            return;
        }
        ingresses.forEach((rule, i) => {
            if (!rule.hostname) return;
            const service = String(rule.service ?? "");
            const match = LOOPBACK_SERVICE.exec(service);
            if (!match)
                report(
                    `ingress ${rule.hostname} -> ${service}: the tunnel may only reach a loopback service (http://127.0.0.1:${gatewayPort})`,
                );
            else if (match[3] !== undefined && Number(match[3]) !== gatewayPort)
                report(`ingress ${rule.hostname} -> ${service}: expected the gateway port ${gatewayPort}`);
            const access = rule.originRequest?.access;
            if (access?.required !== true)
                report(`ingress ${rule.hostname} does not require a Cloudflare Access JWT (originRequest.access.required)`);
            else if (!access.teamName || !(access.audTags ?? []).length)
                report(`ingress ${rule.hostname} requires Access but names no team or AUD tag to check the JWT against`);
            if (i === ingresses.length - 1)
                report(`the last ingress rule (${rule.hostname}) is not a catch-all: add { service: "http_status:404" } at the end`);
        });
        const last = ingresses[ingresses.length - 1];
        if (!last.hostname && last.service !== "http_status:404")
            report(`the catch-all ingress answers ${last.service}; it must be http_status:404`);
    },
};

// ---- access-guards-hostnames (stack) ----------------------------------------------------------------------------

function dependsOn(resource: PolicyResource, target: PolicyResource, seen = new Set<string>()): boolean {
    for (const dep of [...resource.dependencies, ...Object.values(resource.propertyDependencies ?? {}).flat()]) {
        if (dep.urn === target.urn) return true;
        if (seen.has(dep.urn)) continue;
        seen.add(dep.urn);
        if (dependsOn(dep, target, seen)) return true;
    }
    return false;
}

function applicationDomains(app: PolicyResource): string[] {
    const domains = [
        app.props.domain,
        ...(app.props.selfHostedDomains ?? []),
        ...((app.props.destinations ?? []) as { uri?: string }[]).map((d) => d.uri),
    ];
    return domains.filter((d): d is string => typeof d === "string").map((d) => d.toLowerCase().replace(/\/.*$/, ""));
}

export const accessGuardsHostnames: StackValidationPolicy = {
    name: "access-guards-hostnames",
    description:
        "Every tunnel hostname has a self-hosted Access application with a policy, and its DNS record is created only after that application (depends on it).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const apps = args.resources.filter((r) => r.type === TYPES.accessApplication);
        const records = args.resources.filter((r) => r.type === TYPES.dnsRecord);
        const hostnames = new Set<string>();
        for (const tunnel of args.resources.filter((r) => r.type === TYPES.tunnelConfig)) {
            for (const rule of tunnelIngresses(tunnel.props)) if (rule.hostname) hostnames.add(rule.hostname.toLowerCase());
        }
        // A record pointing at a tunnel serves a tunnel hostname even if no ingress names it (yet).
        for (const record of records) {
            if (/\.cfargotunnel\.com\.?$/.test(String(record.props.content ?? ""))) hostnames.add(String(record.props.name).toLowerCase());
        }
        for (const hostname of hostnames) {
            const app = apps.find((a) => applicationDomains(a).includes(hostname));
            if (!app) {
                report(`tunnel hostname ${hostname} has no Cloudflare Access application: anyone could reach the gateway`);
                continue;
            }
            if (app.props.type !== undefined && app.props.type !== "self_hosted")
                report(`the Access application for ${hostname} is of type ${app.props.type}, expected self_hosted`, app.urn);
            if (!Array.isArray(app.props.policies) || app.props.policies.length === 0)
                report(`the Access application for ${hostname} has no policy: nobody (or everybody) passes`, app.urn);
            for (const record of records.filter((r) => String(r.props.name).toLowerCase() === hostname)) {
                if (!dependsOn(record, app)) {
                    report(
                        `DNS record ${hostname} does not depend on its Access application: the hostname could resolve before Access guards it`,
                        record.urn,
                    );
                }
                if (record.props.proxied !== true)
                    report(`DNS record ${hostname} is not proxied: traffic would bypass Cloudflare (and Access)`, record.urn);
            }
        }
    },
};

// ---- gateway-loopback -------------------------------------------------------------------------------------------

export const gatewayLoopback: ResourceValidationPolicy = {
    name: "gateway-loopback",
    description: "The openclaw.json pushed to the host binds the gateway to loopback at the configured port.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== TYPES.agentHost) return;
        const { gatewayPort } = config(args);
        const files = (args.props.files ?? []) as { path?: string; content?: string }[];
        const file = files.find((f) => typeof f.path === "string" && f.path.endsWith("/.openclaw/openclaw.json"));
        if (!file) {
            report("the host bundle has no openclaw.json: cannot prove the gateway binds loopback");
            return;
        }
        let gateway: { bind?: string; port?: number } = {};
        try {
            gateway = (JSON.parse(String(file.content)) as { gateway?: typeof gateway }).gateway ?? {};
        } catch {
            report(`${file.path} is not JSON`);
            return;
        }
        if (gateway.bind !== "loopback")
            report(
                `openclaw.json sets gateway.bind to ${JSON.stringify(gateway.bind)}: it must be "loopback" (0.0.0.0 exposes the control plane)`,
            );
        if (gateway.port !== undefined && gateway.port !== gatewayPort)
            report(`openclaw.json sets gateway.port ${gateway.port}, but the tunnel and firewall policies expect ${gatewayPort}`);
    },
};

// ---- bucket-retained --------------------------------------------------------------------------------------------

export const bucketRetained: ResourceValidationPolicy = {
    name: "bucket-retained",
    description: "The R2 memory bucket is retained on delete (or protected), so `pulumi destroy` never takes the agent's memory with it.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== TYPES.r2Bucket) return;
        const opts = args.opts as ResourceValidationArgs["opts"] & { retainOnDelete?: boolean };
        if (opts.protect || opts.retainOnDelete === true) return;
        if (opts.retainOnDelete === false) {
            report("the memory bucket is neither retainOnDelete nor protected: `pulumi destroy` would delete every snapshot");
            return;
        }
        // @pulumi/policy 1.21 and the CLI's analyzer protocol do not carry retainOnDelete; the mock-engine run of this
        // policy in the tests (which does) is what proves it.
        args.notApplicable("the engine does not report retainOnDelete to policies");
    },
};

// ---- no-secret-in-user-data -------------------------------------------------------------------------------------

/** Shapes of secrets that must never appear in user data (any process on the host can read it back). */
export const SECRET_PATTERNS: { name: string; pattern: RegExp }[] = [
    { name: "a private key block", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
    { name: "an Anthropic API key", pattern: /\bsk-ant-[A-Za-z0-9_-]{16,}/ },
    { name: "an OpenAI or OpenRouter API key", pattern: /\bsk-(proj|or-v1|svcacct)-[A-Za-z0-9_-]{16,}/ },
    { name: "an AWS access key id", pattern: /\bAKIA[0-9A-Z]{16}\b/ },
    { name: "a GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/ },
    { name: "a Cloudflare tunnel token", pattern: /\beyJhIjoi[A-Za-z0-9+/=]{20,}/ },
    {
        name: "a secret assignment",
        pattern:
            /\b(OPENCLAW_GATEWAY_TOKEN|OPENCLAW_GATEWAY_PASSWORD|TUNNEL_TOKEN|[A-Z][A-Z0-9_]*_API_KEY|secret_access_key)\s*[=:]\s*["']?[A-Za-z0-9+/_.~-]{12,}/,
    },
    // What `npm run plan` puts where a secret config value goes: in user data it means a secret flowed there.
    { name: "a secret config value (plan placeholder)", pattern: /PLAN-PLACEHOLDER-[A-Za-z]+/ },
];

/** Names of the secret shapes found in `text`. */
export function secretShapesIn(text: string): string[] {
    return SECRET_PATTERNS.filter((p) => p.pattern.test(text)).map((p) => p.name);
}

/** The mock engine's stand-in for a secret output (scripts/lib/mock-engine.ts). */
export const PLAN_SECRET_MARKER = "[secret]";

export const noSecretInUserData: ResourceValidationPolicy = {
    name: "no-secret-in-user-data",
    description:
        "Server user data is not a secret output and contains nothing shaped like a secret (the metadata service serves it to every process on the host).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        const provider = providerRole(args.type, "server");
        if (!provider) return;
        const raw: unknown = provider.serverUserData(args.props);
        if (raw === undefined) return;
        if (raw instanceof Secret || raw === PLAN_SECRET_MARKER) {
            report("user data is a secret output: something secret flowed into it; secrets go to the host over SSH only");
            return;
        }
        const text = String(raw);
        // provision.sh travels gzipped (encoding: gz+b64): the scan reads what the host gets, not the encoding.
        const found = secretShapesIn(userDataPlainText(text));
        if (found.length) report(`user data contains ${found.join(", ")}; secrets go to the host over SSH only`);
        if (Buffer.byteLength(text) > provider.userDataLimitBytes) {
            report(`user data is ${Buffer.byteLength(text)} bytes; ${provider.title} accepts at most ${provider.userDataLimitBytes}`);
        }
    },
};

// ---- ubuntu-24-04 -----------------------------------------------------------------------------------------------

export const ubuntu2404: ResourceValidationPolicy = {
    name: "ubuntu-24-04",
    description: "Servers run Ubuntu 24.04, the image the host scripts and the host contract are written for.",
    enforcementLevel: "mandatory",
    severity: "medium",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        const provider = providerRole(args.type, "server");
        if (!provider) return;
        const image = provider.serverImage(args.props);
        if (image !== provider.image)
            report(`image ${JSON.stringify(image)}: expected ${provider.image} (Ubuntu 24.04 on ${provider.title})`);
    },
};

// ---- tunnel-health-alerted (stack) ---------------------------------------------------------------------------------

export const tunnelHealthAlerted: StackValidationPolicy = {
    name: "tunnel-health-alerted",
    description:
        "A stack with a tunnel has an enabled Cloudflare notification policy for tunnel health that e-mails someone: a dead server cannot report itself.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const tunnels = args.resources.filter((r) => r.type === TYPES.tunnel);
        if (!tunnels.length) return;
        const alerting = args.resources.filter(
            (r) =>
                r.type === TYPES.notificationPolicy &&
                r.props.alertType === "tunnel_health_event" &&
                r.props.enabled !== false &&
                Array.isArray(r.props.mechanisms?.emails) &&
                r.props.mechanisms.emails.some((e: { id?: unknown }) => typeof e?.id === "string" && e.id.includes("@")),
        );
        if (!alerting.length) {
            report(
                `the stack has ${tunnels.length} tunnel(s) but no enabled tunnel_health_event notification policy with an e-mail: nobody hears about a dead server`,
                tunnels[0].urn,
            );
        }
    },
};

// ---- known-resource-types (stack) --------------------------------------------------------------------------------

/** Is `type` one the pack knows (a provider module's, one the policies read, a listed one, a component of ours)? */
export function isKnownType(type: string): boolean {
    if (providerOfResourceType(type)) return true;
    if ((Object.values(TYPES) as string[]).includes(type) || OTHER_KNOWN_TYPES.includes(type)) return true;
    if (type.startsWith("openclaw-vps:index:")) return true;
    // The engine's provider resources, for the packages of the known types.
    const pkg = /^pulumi:providers:([a-z0-9-]+)$/.exec(type)?.[1];
    const packages = new Set(
        [...allProviders().flatMap((p) => Object.values(p.resourceTypes)), ...Object.values(TYPES), ...OTHER_KNOWN_TYPES].map(
            (t) => t.split(":")[0],
        ),
    );
    return pkg !== undefined && packages.has(pkg);
}

export const knownResourceTypes: StackValidationPolicy = {
    name: "known-resource-types",
    description:
        "Every resource is of a type this pack knows how to judge; an unknown type (e.g. a provider without a module) fails closed.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        for (const r of args.resources) {
            if (!isKnownType(r.type)) {
                report(
                    `resource ${r.name} has type ${r.type}, which no provider module (components/providers/) or policy knows: the pack cannot vouch for it`,
                    r.urn,
                );
            }
        }
    },
};

export const POLICIES: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    sshOnlyInbound,
    serverFirewalled,
    tunnelIngressLoopback,
    accessGuardsHostnames,
    gatewayLoopback,
    bucketRetained,
    noSecretInUserData,
    ubuntu2404,
    tunnelHealthAlerted,
    knownResourceTypes,
];
