// Where the operator commands (backup, snapshots, restore) connect: the same resolution `npm run verify` uses
// (scripts/lib/verify-target.ts): host and admin user from the stack's outputs or --host/--user/--port, the private key
// from --key, OPENCLAW_VPS_SSH_KEY or ~/.ssh, the host key from known_hosts (else trusted on first use, with a note).
import { ConnectOptions, RemoteHost } from "../../components/remote";
import { pulumiRunner } from "./pulumi-cli";
import { resolveVerifyTarget } from "./verify-target";

/** The CLI options every operator command accepts (for node:util parseArgs). */
export const TARGET_OPTIONS = {
    stack: { type: "string", default: "prod" },
    host: { type: "string" },
    user: { type: "string" },
    port: { type: "string" },
    key: { type: "string" },
} as const;

export interface TargetFlags {
    stack?: string;
    host?: string;
    user?: string;
    port?: string;
    key?: string;
}

export async function resolveTarget(
    flags: TargetFlags,
    env: NodeJS.ProcessEnv = process.env,
): Promise<{ connect: ConnectOptions; notes: string[] }> {
    const resolved = await resolveVerifyTarget(
        {
            stack: flags.stack,
            host: flags.host,
            user: flags.user,
            key: flags.key,
            port: flags.port ? Number(flags.port) : undefined,
            noEdge: true,
        },
        { pulumi: pulumiRunner(env), env },
    );
    return { connect: resolved.options.connect, notes: resolved.notes };
}

/** Resolve and connect, printing what the operator should know (e.g. an unpinned host key). */
export async function connectTarget(flags: TargetFlags, log: (line: string) => void = (l) => console.error(l)): Promise<RemoteHost> {
    const target = await resolveTarget(flags);
    for (const note of target.notes) log(`note: ${note}`);
    return RemoteHost.connect(target.connect);
}
