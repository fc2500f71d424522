// `npm run status -- [--stack NAME] [--json]`: the agent on one screen, from the operator's machine. The tunnel as
// Cloudflare sees it (its API, read-only: the one view that works when the server is dead), the newest snapshot, and
// the host audit of `npm run verify` when the server answers. Exit 0: all well; 1: something is down or failing;
// 2: bad arguments or setup.
import { parseArgs } from "node:util";
import { parseSettings } from "../components/settings";
import { exitCodeOf, VerifyReport } from "../components/verify/checks";
import { verify } from "../components/verify/run";
import { pulumiRunner } from "./lib/pulumi-cli";
import { readStackConfig } from "./lib/stack-config";
import { tunnelStatus, TunnelStatus } from "./lib/tunnel-status";
import { resolveVerifyTarget } from "./lib/verify-target";

const USAGE = "usage: npm run status -- [--stack NAME] [--json] [--key FILE] [--host-key SHA256:...]";

interface Status {
    agent: string;
    tunnel: { ok: boolean; detail: string; status?: TunnelStatus };
    backup: { ok: boolean; detail: string };
    host: { ok: boolean; detail: string; report?: VerifyReport };
}

function ago(iso: string | undefined, now = Date.now()): string {
    if (!iso) return "";
    const minutes = Math.round((now - Date.parse(iso)) / 60_000);
    return minutes < 90
        ? `${minutes} min ago`
        : minutes < 48 * 60
          ? `${Math.round(minutes / 60)} h ago`
          : `${Math.round(minutes / 1440)} days ago`;
}

export async function collectStatus(args: { stack: string; key?: string; hostKey?: string[] }, env: NodeJS.ProcessEnv): Promise<Status> {
    const pulumi = pulumiRunner(env);
    const { settings } = parseSettings(readStackConfig(args.stack).config, { allowPlainSecrets: true });
    const outputs = await pulumi.run(["stack", "output", "--json", "--stack", args.stack]);
    const values = outputs.code === 0 ? (JSON.parse(outputs.stdout || "{}") as { tunnelId?: string }) : {};
    const status: Status = {
        agent: `${settings.agentName} (${settings.hostname})`,
        tunnel: { ok: false, detail: "" },
        backup: { ok: false, detail: "" },
        host: { ok: false, detail: "" },
    };

    // The tunnel, from Cloudflare: this works even when the server cannot answer.
    const token = env.CLOUDFLARE_API_TOKEN;
    if (!values.tunnelId) status.tunnel.detail = "no tunnelId in the stack outputs (deployed?)";
    else if (!token) status.tunnel.detail = "set CLOUDFLARE_API_TOKEN to ask Cloudflare";
    else {
        try {
            const t = await tunnelStatus({
                accountId: settings.accountId,
                tunnelId: values.tunnelId,
                token,
                base: env.CLOUDFLARE_API_BASE,
            });
            status.tunnel = {
                ok: t.status === "healthy",
                status: t,
                detail:
                    t.status === "healthy"
                        ? `healthy, ${t.connections.length} connection(s) (${t.connections.map((c) => c.colo).join(", ")})`
                        : `${t.status}${t.lastActiveAt ? `, last connected ${ago(t.lastActiveAt)}` : ""}: the server or cloudflared is not reaching Cloudflare`,
            };
        } catch (error) {
            status.tunnel.detail = (error as Error).message;
        }
    }

    // The host: the verify audit (read-only, as root over SSH) and the edge check.
    try {
        const target = await resolveVerifyTarget({ stack: args.stack, key: args.key, hostKey: args.hostKey }, { pulumi, env });
        const report = await verify(target.options);
        const failed = report.checks.filter((c) => c.status === "fail");
        status.host = {
            ok: exitCodeOf(report) === 0,
            report,
            detail: failed.length
                ? `${report.critical} critical, ${report.warnings} warning(s): ${failed.map((c) => `${c.id} (${c.summary})`).join("; ")}`
                : `${report.checks.filter((c) => c.status === "pass").length} checks pass`,
        };
        // The newest snapshot, as the host's backup job recorded it (the audit's backup check).
        const backup = report.checks.find((c) => c.id === "backup");
        status.backup = backup
            ? { ok: backup.status !== "fail", detail: backup.summary }
            : { ok: false, detail: "the host did not report its backups" };
    } catch (error) {
        status.host.detail = `not reachable: ${(error as Error).message}`;
        status.backup.detail = "unknown (the host is not reachable)";
    }
    return status;
}

export function formatStatus(s: Status): string {
    const line = (name: string, part: { ok: boolean; detail: string }) => `${part.ok ? "✓" : "✗"} ${name.padEnd(10)} ${part.detail}`;
    return [`${s.agent}`, line("tunnel", s.tunnel), line("snapshots", s.backup), line("host", s.host)].join("\n");
}

async function main(): Promise<number> {
    let values;
    try {
        ({ values } = parseArgs({
            options: {
                stack: { type: "string", default: "prod" },
                json: { type: "boolean", default: false },
                key: { type: "string" },
                "host-key": { type: "string", multiple: true },
                help: { type: "boolean", default: false },
            },
        }));
    } catch (error) {
        console.error(`${(error as Error).message}\n${USAGE}`);
        return 2;
    }
    if (values.help) {
        console.log(USAGE);
        return 0;
    }
    let status: Status;
    try {
        status = await collectStatus({ stack: values.stack!, key: values.key, hostKey: values["host-key"] }, process.env);
    } catch (error) {
        console.error(`status: ${(error as Error).message}`);
        return 2;
    }
    console.log(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return status.tunnel.ok && status.host.ok && status.backup.ok ? 0 : 1;
}

if (require.main === module) {
    main().then(
        (code) => process.stdout.write("", () => process.exit(code)),
        (error) => {
            console.error(`status failed: ${error instanceof Error ? error.message : error}`);
            process.exit(2);
        },
    );
}
