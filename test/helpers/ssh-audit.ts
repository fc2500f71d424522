// Reading ssh-audit's (Debian 12: 2.5.0) text report, shared by test/tools/ssh-audit.test.ts (a local sshd) and
// test/vps/deploy.test.ts (the stand-in's sshd).

/**
 * What ssh-audit 2.5.0 may still say, and why it is not a finding: both are algorithms newer than its database.
 * - sntrup761x25519-sha512@openssh.com: the post-quantum hybrid OpenSSH itself uses by default since 9.0 (2022); 2.5.0
 *   (2021) still calls it "experimental" (later ssh-audit versions list it as recommended).
 * - kex-strict-s-v00@openssh.com: not an algorithm but the strict-KEX marker of the Terrapin fix (CVE-2023-48795),
 *   which Debian 12's and Ubuntu 24.04's OpenSSH advertise; 2.5.0 predates it ("unknown algorithm").
 */
export const EXPLAINED_WARNINGS: Record<string, RegExp> = {
    "sntrup761x25519-sha512@openssh.com": /using experimental algorithm/,
    "kex-strict-s-v00@openssh.com": /unknown algorithm/,
};

export interface Finding {
    algorithm: string;
    level: "fail" | "warn";
    text: string;
}

/** The [fail]/[warn] notes of ssh-audit's text report, each with the algorithm line it belongs to. */
export function findings(report: string): Finding[] {
    const out: Finding[] = [];
    let algorithm = "";
    for (const line of report.split("\n")) {
        const head = /^\((?:kex|key|enc|mac|gen)\) (\S+)/.exec(line);
        if (head) algorithm = head[1]!;
        else if (!/^\s+`-/.test(line)) algorithm = "";
        const note = /\[(fail|warn)\] (.*)$/.exec(line);
        if (note && algorithm) out.push({ algorithm, level: note[1] as "fail" | "warn", text: note[2]!.trim() });
    }
    return out;
}

/** The findings that are neither explained warnings nor anything below a warning: must be empty. */
export function unexplained(report: string): Finding[] {
    return findings(report).filter((f) => f.level === "fail" || !(EXPLAINED_WARNINGS[f.algorithm]?.test(f.text) ?? false));
}
