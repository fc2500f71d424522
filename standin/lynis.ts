// Lynis, the independent host auditor, run inside a stand-in VPS: Debian's package installed for the audit only and
// purged after it. It takes minutes (it inspects every package, file mode and kernel setting), so it belongs to the
// benchmark (`npm run bench`), which reports the hardening index and every finding for the README; the stand-in tests
// keep the fast auditors (ssh-audit, systemd-analyze security).
import type { StandInVps } from "./vps";

export interface LynisReport {
    hardeningIndex: number;
    warnings: string[];
    /** "TEST-ID text (detail)" for each suggestion. */
    suggestions: string[];
    seconds: number;
    /** Lynis's own hardening points from its log ("Currently having N points (out of M)"), when it has them. */
    points?: { have: number; of: number };
}

/** The last "Currently having N points (out of M)" of Lynis's log. */
export function parseLynisPoints(log: string): { have: number; of: number } | undefined {
    const all = [...log.matchAll(/Currently having (\d+) points \(out of (\d+)\)/g)];
    const last = all.at(-1);
    return last ? { have: Number(last[1]), of: Number(last[2]) } : undefined;
}

/** Parses Lynis's report file (`key=value` and `key[]=a|b|c|` lines). */
export function parseLynisReport(report: string): Omit<LynisReport, "seconds"> {
    const hardeningIndex = Number(/^hardening_index=(\d+)$/m.exec(report)?.[1]);
    if (!Number.isInteger(hardeningIndex)) throw new Error(`no hardening_index in the Lynis report:\n${report.slice(0, 500)}`);
    const suggestions = [...report.matchAll(/^suggestion\[\]=([^|]+)\|([^|]*)\|([^|]*)\|/gm)].map((m) => `${m[1]} ${m[2]} (${m[3]})`);
    const warnings = [...report.matchAll(/^warning\[\]=([^|]+)\|([^|]*)\|/gm)].map((m) => `${m[1]} ${m[2]}`);
    return { hardeningIndex, warnings, suggestions };
}

/** Installs Lynis in the stand-in, runs `lynis audit system --quick`, purges it again; the report's findings. */
export async function runLynis(vps: StandInVps): Promise<LynisReport> {
    await vps.exec("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lynis >/dev/null", {
        timeoutMs: 600_000,
    });
    const started = Date.now();
    try {
        await vps.exec("lynis audit system --quick --no-colors --report-file /root/lynis-report.dat --logfile /root/lynis.log >/dev/null", {
            allowFailure: true,
            timeoutMs: 1_800_000,
        });
        const seconds = (Date.now() - started) / 1000;
        const points = parseLynisPoints((await vps.exec("grep 'Currently having' /root/lynis.log", { allowFailure: true })).stdout);
        return { ...parseLynisReport((await vps.exec("cat /root/lynis-report.dat")).stdout), seconds, ...(points ? { points } : {}) };
    } finally {
        await vps.exec("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q lynis >/dev/null", { allowFailure: true });
    }
}
