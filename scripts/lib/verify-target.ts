// Works out what `npm run verify` checks and how it connects: the host and admin user from the stack's outputs
// (`pulumi stack output --json`, binary overridable by OPENCLAW_VPS_PULUMI), the expected settings (admin user,
// gateway port, backup schedule, provider, Access team, hostname) from the stack's config, then the command line on
// top; the SSH key from --key, OPENCLAW_VPS_SSH_KEY or ~/.ssh; the host key from --host-key or known_hosts.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { AGENT_USER, DEFAULT_GATEWAY_PORT } from "../../components/core/host-contract";
import { allProviders, providerSpec } from "../../components/providers";
import { DEFAULT_BACKUP_SCHEDULE } from "../../components/render/backup-units";
import { parseSettings } from "../../components/settings";
import { VerifyOptions } from "../../components/verify/run";
import { PulumiRunner } from "./setup";
import { readStackConfig } from "./stack-config";

export interface VerifyArgs {
    stack?: string;
    host?: string;
    user?: string;
    key?: string;
    port?: number;
    /** Expected host keys (`SHA256:...` or `ssh-ed25519 AAAA...`). */
    hostKey?: string[];
    knownHosts?: string;
    /** Public URL to check from outside (default https://<hostname>/ of the stack). */
    url?: string;
    /** Zero Trust team name the login must be at (default the stack's accessTeamName). */
    team?: string;
    /** Metadata service base URL (stand-ins only). */
    metadataBase?: string;
    /** Only these audit check groups. */
    only?: string[];
    /** Skip the outside check. */
    noEdge?: boolean;
}

export interface ResolvedTarget {
    options: VerifyOptions;
    /** Things the operator should know (e.g. an unpinned host key). */
    notes: string[];
}

export interface ResolveDeps {
    pulumi: PulumiRunner;
    env: NodeJS.ProcessEnv;
    home?: string;
    root?: string;
}

interface StackOutputs {
    serverIpv4?: string;
    sshCommand?: string;
    url?: string;
}

async function stackOutputs(pulumi: PulumiRunner, stack: string): Promise<StackOutputs> {
    const result = await pulumi.run(["stack", "output", "--json", "--stack", stack]);
    if (result.code !== 0) throw new Error(`pulumi stack output --stack ${stack} failed: ${result.stderr.trim() || result.stdout.trim()}`);
    try {
        return JSON.parse(result.stdout) as StackOutputs;
    } catch {
        throw new Error(`pulumi stack output --json printed no JSON: ${result.stdout.slice(0, 200)}`);
    }
}

/** The private key text: --key, then OPENCLAW_VPS_SSH_KEY, then the usual files in ~/.ssh. */
export function readPrivateKey(explicit: string | undefined, env: NodeJS.ProcessEnv, home: string): string {
    const candidates = explicit
        ? [explicit]
        : env.OPENCLAW_VPS_SSH_KEY
          ? [env.OPENCLAW_VPS_SSH_KEY]
          : ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => path.join(home, ".ssh", f));
    for (const file of candidates) if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
    throw new Error(`no SSH private key: pass --key FILE or set OPENCLAW_VPS_SSH_KEY (looked at ${candidates.join(", ")})`);
}

/** Host key lines (`type base64`) for host[:port] in a known_hosts file, hashed entries included (ssh-keygen -F). */
export function knownHostKeys(host: string, port: number, file: string): string[] {
    if (!fs.existsSync(file)) return [];
    const name = port === 22 ? host : `[${host}]:${port}`;
    const result = spawnSync("ssh-keygen", ["-F", name, "-f", file], { encoding: "utf8" });
    if (result.error || result.status !== 0) return [];
    return result.stdout
        .split("\n")
        .filter((line) => line && !line.startsWith("#"))
        .map((line) => line.trim().split(/\s+/).slice(1, 3).join(" "))
        .filter((line) => /^\S+ \S+$/.test(line));
}

export async function resolveVerifyTarget(args: VerifyArgs, deps: ResolveDeps): Promise<ResolvedTarget> {
    const notes: string[] = [];
    const home = deps.home ?? os.homedir();
    const stack = args.stack ?? (args.host ? undefined : "prod");

    let host = args.host;
    let user = args.user;
    let url = args.url;
    let settings: ReturnType<typeof parseSettings>["settings"] | undefined;
    if (stack) {
        const raw = readStackConfig(stack, {}, deps.root ?? PROJECT_ROOT);
        settings = parseSettings(raw.config, { secretKeys: new Set(raw.secretKeys) }).settings;
        // The outputs are only needed for what the command line did not say (the URL only for the outside check).
        if (!host || !user || (!url && !args.noEdge)) {
            const outputs = await stackOutputs(deps.pulumi, stack);
            const fromCommand = /^ssh\s+([^@\s]+)@(\S+)/.exec(outputs.sshCommand ?? "");
            host ??= outputs.serverIpv4 ?? fromCommand?.[2];
            user ??= fromCommand?.[1];
            url ??= outputs.url;
        }
        user ??= settings.adminUser;
        url ??= `https://${settings.hostname}`;
    }
    if (!host) throw new Error(`no host: pass --host or deploy the stack first (its outputs have no serverIpv4)`);
    user ??= "ops";
    const port = args.port ?? 22;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port ${args.port} is not a TCP port`);

    let hostKey: string[] | "accept-any" = args.hostKey?.length
        ? args.hostKey
        : knownHostKeys(host, port, args.knownHosts ?? path.join(home, ".ssh", "known_hosts"));
    if (hostKey.length === 0) {
        hostKey = "accept-any";
        notes.push(
            `the host key of ${host} is not pinned (no --host-key, not in known_hosts): accepting whatever it presents; run \`ssh ${user}@${host}\` once to record it`,
        );
    }

    return {
        notes,
        options: {
            connect: { host, port, username: user, privateKey: readPrivateKey(args.key, deps.env, home), hostKey },
            audit: {
                adminUser: user,
                agentUser: AGENT_USER,
                gatewayPort: settings?.gatewayPort ?? DEFAULT_GATEWAY_PORT,
                backupSchedule: settings?.backupSchedule ?? DEFAULT_BACKUP_SCHEDULE,
                // The stack's provider's metadata path; without a stack, every provider's.
                metadataPaths: settings
                    ? [providerSpec(settings.provider).metadataUserDataPath]
                    : allProviders().map((p) => p.metadataUserDataPath),
                metadataBase: args.metadataBase,
                only: args.only,
            },
            edge:
                url && !args.noEdge
                    ? { url: url.endsWith("/") ? url : `${url}/`, teamName: args.team ?? settings?.accessTeamName }
                    : undefined,
        },
    };
}
