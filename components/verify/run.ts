// Runs one verification: the host audit (cloud-init/audit-host.sh, on stdin as root over SSH through
// components/remote.ts) and, at the same time, the outside check of the public hostname; returns one report.
// Never throws for a broken host: every problem, a failed connection included, is a failed check.
import { ConnectOptions, RemoteHost } from "../remote";
import { AuditSettings, buildReport, CheckResult, checkResult, parseAuditOutput, renderAuditScript, VerifyReport } from "./checks";
import { checkEdge, EdgeCheckInput } from "./edge";

export interface VerifyOptions {
    connect: ConnectOptions;
    audit: AuditSettings;
    /** The outside check; undefined reports it as skipped (no hostname known). */
    edge?: EdgeCheckInput;
    /** Progress lines of the audit (its stderr), e.g. to the operator's terminal. */
    onProgress?: (text: string) => void;
}

async function auditHost(options: VerifyOptions): Promise<CheckResult[]> {
    let host: RemoteHost;
    try {
        host = await RemoteHost.connect(options.connect);
    } catch (error) {
        return [checkResult("connect", "fail", "critical", (error as Error).message)];
    }
    try {
        const result = await host.runScript(renderAuditScript(options.audit), {
            sudo: true,
            onStderr: options.onProgress ? (chunk) => options.onProgress!(chunk.toString()) : undefined,
        });
        const lastError = result.stderr.trim().split("\n").slice(-3).join(" / ");
        if (result.code !== 0) {
            return [checkResult("connect", "fail", "critical", `the audit exited ${result.code} on ${host.target}: ${lastError}`)];
        }
        try {
            return [checkResult("connect", "pass", "critical", `${host.target}, audit ran as root`), ...parseAuditOutput(result.stdout)];
        } catch (error) {
            return [checkResult("connect", "fail", "critical", `${(error as Error).message}: ${lastError}`)];
        }
    } finally {
        host.dispose();
    }
}

export async function verify(options: VerifyOptions): Promise<VerifyReport> {
    const target = `${options.connect.username}@${options.connect.host}:${options.connect.port ?? 22}`;
    const [hostChecks, edgeCheck] = await Promise.all([
        auditHost(options),
        options.edge
            ? checkEdge(options.edge)
            : Promise.resolve(
                  checkResult("edge-access", "skip", "critical", "no public hostname given (--stack or --url): not checked from outside"),
              ),
    ]);
    return buildReport(target, [...hostChecks, edgeCheck]);
}
