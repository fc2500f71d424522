// Where the operator commands (verify, backup, snapshots, restore) connect: the host and admin user from the stack's
// outputs (or --host/--user/--port), the private key from --key, OPENCLAW_VPS_SSH_KEY or ~/.ssh, and the host key
// from ~/.ssh/known_hosts when it is there (checked), else trusted on first use with its fingerprint printed.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/pins";
import { ConnectOptions, RemoteHost } from "../../components/remote";

export interface TargetFlags {
    stack?: string;
    host?: string;
    user?: string;
    port?: string;
    key?: string;
}

/** The CLI options every operator command accepts (for node:util parseArgs). */
export const TARGET_OPTIONS = {
    stack: { type: "string", default: "prod" },
    host: { type: "string" },
    user: { type: "string" },
    port: { type: "string" },
    key: { type: "string" },
} as const;

export function pulumiBinary(env: NodeJS.ProcessEnv = process.env): string {
    return env.OPENCLAW_VPS_PULUMI ?? path.join(PROJECT_ROOT, "node_modules", ".bin", "pulumi");
}

/** Stack outputs through the Pulumi CLI (`pulumi stack output --json`); secrets stay hidden. */
export function stackOutputs(stack: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
    const res = spawnSync(pulumiBinary(env), ["stack", "output", "--json", "--stack", stack], { cwd: PROJECT_ROOT, env, encoding: "utf8" });
    if (res.status !== 0) throw new Error(`pulumi stack output --stack ${stack} failed: ${(res.stderr || res.error?.message || "").trim()}`);
    return JSON.parse(res.stdout) as Record<string, unknown>;
}

/** `ssh ops@203.0.113.10` -> { user, host }. */
export function parseSshCommand(command: string): { user: string; host: string } | undefined {
    const m = /^ssh\s+([a-z_][a-z0-9_-]*)@(\S+)$/.exec(command.trim());
    return m ? { user: m[1], host: m[2] } : undefined;
}

export function privateKeyFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
    const candidates = flag ? [flag] : env.OPENCLAW_VPS_SSH_KEY ? [env.OPENCLAW_VPS_SSH_KEY] : ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => path.join(home, ".ssh", f));
    for (const file of candidates) if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
    throw new Error(`no SSH private key found (tried ${candidates.join(", ")}): pass --key FILE or set OPENCLAW_VPS_SSH_KEY`);
}

/** Host key lines known for host:port in ~/.ssh/known_hosts (hashed entries too, via ssh-keygen -F). */
export function knownHostKeys(host: string, port: number, home: string = os.homedir()): string[] {
    const file = path.join(home, ".ssh", "known_hosts");
    if (!fs.existsSync(file)) return [];
    const name = port === 22 ? host : `[${host}]:${port}`;
    try {
        const out = execFileSync("ssh-keygen", ["-F", name, "-f", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        return out.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/\s+/).slice(1, 3).join(" "));
    } catch {
        return [];
    }
}

export interface ResolvedTarget {
    host: string;
    port: number;
    user: string;
    privateKey: string;
    hostKey: ConnectOptions["hostKey"];
}

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): ResolvedTarget {
    let host = flags.host;
    let user = flags.user;
    if (!host || !user) {
        const outputs = stackOutputs(flags.stack ?? "prod", env);
        const parsed = typeof outputs.sshCommand === "string" ? parseSshCommand(outputs.sshCommand) : undefined;
        host ??= parsed?.host ?? (typeof outputs.serverIpv4 === "string" ? outputs.serverIpv4 : undefined);
        user ??= parsed?.user;
    }
    if (!host || !user) throw new Error("cannot tell which host to reach: pass --host and --user, or deploy the stack first");
    const port = flags.port ? Number(flags.port) : 22;
    const known = knownHostKeys(host, port, home);
    return { host, port, user, privateKey: privateKeyFrom(flags.key, env, home), hostKey: known.length ? known : "accept-any" };
}

/** Connect, saying so when the host key could not be checked against known_hosts. */
export async function connectTarget(target: ResolvedTarget, log: (line: string) => void = (l) => console.error(l)): Promise<RemoteHost> {
    if (target.hostKey === "accept-any") {
        log(`note: ${target.host} is not in ~/.ssh/known_hosts; its host key is trusted on first use (run \`ssh ${target.user}@${target.host}\` once to pin it)`);
    }
    return RemoteHost.connect({ host: target.host, port: target.port, username: target.user, privateKey: target.privateKey, hostKey: target.hostKey });
}
