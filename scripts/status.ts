// `npm run status -- [--stack NAME] [--json]`: the agent on one screen, from the operator's machine. The tunnel as
// Cloudflare sees it (its API, read-only: the one view that works when the server is dead), the newest snapshot as
// the BUCKET holds it (listed from here with the stack's read-only token and checked with the age identity, like
// `npm run snapshots`: what a rebuild would restore, true even when the host is dead or lies; the host audit's record
// only when the stack has no read-only token or the bucket cannot be listed), and the host audit of `npm run verify`
// when the server answers. Exit 0: all well; 1: something is down or failing; 2: bad arguments or setup.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { parseSettings } from "../components/settings";
import { exitCodeOf, VerifyReport } from "../components/verify/checks";
import { verify } from "../components/verify/run";
import { BucketAccess, bucketAccessFromFile, bucketAccessFromStack } from "./lib/backup-access";
import { newestSnapshot } from "./lib/operations";
import { pulumiRunner } from "./lib/pulumi-cli";
import { readStackConfig } from "./lib/stack-config";
import { tunnelStatus, TunnelStatus } from "./lib/tunnel-status";
import { resolveVerifyTarget } from "./lib/verify-target";

const USAGE = "usage: npm run status -- [--stack NAME] [--json] [--key FILE] [--host-key SHA256:...] [--access FILE]";

interface Status {
    agent: string;
    tunnel: { ok: boolean; detail: string; status?: TunnelStatus };
    /** source: bucket (listed from here, read-only token) or host (the audit's record of the backup job). */
    backup: { ok: boolean; detail: string; source?: "bucket" | "host"; newest?: { id: string; kind: string; lastModified: string } };
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

/** Seconds between two runs of a backup schedule (as the host audit computes it: systemd's parser, else a day). */
export function scheduleIntervalSeconds(schedule: string): number {
    const known: Record<string, number> = { hourly: 3600, daily: 86400, weekly: 7 * 86400 };
    if (known[schedule.toLowerCase()]) return known[schedule.toLowerCase()];
    const out = spawnSync("systemd-analyze", ["calendar", "--iterations=2", schedule], {
        encoding: "utf8",
        env: { ...process.env, TZ: "UTC" },
    });
    const next = /^\s*Next elapse: \w+ (.+)$/m.exec(out.stdout ?? "")?.[1];
    const second = /^\s*Iter\. #2: \w+ (.+)$/m.exec(out.stdout ?? "")?.[1];
    const seconds =
        next && second
            ? (Date.parse(second.replace(" UTC", "Z").replace(" ", "T")) - Date.parse(next.replace(" UTC", "Z").replace(" ", "T"))) / 1000
            : NaN;
    return Number.isFinite(seconds) && seconds > 0 ? seconds : 86400;
}

/** The audit's grace on top of two missed runs (the timer's random delay, a slow upload). */
const BACKUP_GRACE_SECONDS = 1800;

/** The snapshots line from the bucket itself: the newest restorable snapshot by R2's clock, against the schedule. */
async function bucketSnapshots(access: BucketAccess, schedule: string, now = Date.now()): Promise<Status["backup"]> {
    const { newest, heldSnapshots } = await newestSnapshot(access);
    if (!newest)
        return {
            ok: false,
            source: "bucket",
            detail: heldSnapshots
                ? `bucket ${access.bucket} has held snapshots but holds no restorable one: a rebuild would refuse to start (npm run snapshots)`
                : `bucket ${access.bucket} holds no snapshot yet`,
        };
    const age = (now - newest.lastModified.getTime()) / 1000;
    const allowed = 2 * scheduleIntervalSeconds(schedule) + BACKUP_GRACE_SECONDS;
    const written = `written ${ago(newest.lastModified.toISOString(), now)} by R2's clock`;
    return {
        ok: age <= allowed,
        source: "bucket",
        newest: { id: newest.id, kind: newest.kind, lastModified: newest.lastModified.toISOString() },
        detail:
            age <= allowed
                ? `newest ${newest.kind} ${newest.id}, ${written} (bucket, read-only token)`
                : `newest ${newest.kind} ${newest.id} was ${written}: more than ${(allowed / 3600).toFixed(1).replace(/\.0$/, "")} h for schedule ${schedule} (bucket, read-only token)`,
    };
}

export async function collectStatus(
    args: { stack: string; key?: string; hostKey?: string[]; access?: string },
    env: NodeJS.ProcessEnv,
): Promise<Status> {
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

    // The snapshots, from the bucket with the read-only token when the stack has one (or --access FILE).
    let bucketProblem = "";
    try {
        const access = args.access ? bucketAccessFromFile(args.access) : await bucketAccessFromStack(args.stack, env);
        status.backup = await bucketSnapshots(access, settings.backupSchedule);
    } catch (error) {
        bucketProblem = (error as Error).message.split("\n")[0];
    }
    const fromHost = (part: { ok: boolean; detail: string }): Status["backup"] =>
        status.backup.source === "bucket"
            ? status.backup
            : {
                  ...part,
                  source: "host",
                  detail: `${part.detail} (the host's record; the bucket was not listed from here: ${bucketProblem})`,
              };

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
        status.backup = fromHost(
            backup
                ? { ok: backup.status !== "fail", detail: backup.summary }
                : { ok: false, detail: "the host did not report its backups" },
        );
    } catch (error) {
        status.host.detail = `not reachable: ${(error as Error).message}`;
        status.backup = fromHost({ ok: false, detail: "unknown (the host is not reachable)" });
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
                access: { type: "string" },
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
        status = await collectStatus(
            { stack: values.stack!, key: values.key, hostKey: values["host-key"], access: values.access },
            process.env,
        );
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
