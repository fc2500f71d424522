// Reading Lynis's report file (standin/lynis.ts), which `npm run bench` prints for the README: the index, each warning
// and suggestion with its test id; a report without an index is an error, not a zero.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseLynisPoints, parseLynisReport } from "../../standin/lynis";

const REPORT = [
    "# Lynis Report",
    "report_version_major=1",
    "hardening_index=78",
    "suggestion[]=SSH-7408|Consider hardening SSH configuration|MaxAuthTries (3 --> 2)|-|",
    "suggestion[]=KRNL-6000|One or more sysctl values differ from the scan profile and could be tweaked|-|-|",
    "warning[]=FIRE-4512|iptables module(s) loaded, but no rules active|-|-|",
    "hardening_index_comment=not the index",
].join("\n");

test("a Lynis report gives the index, each warning and each suggestion with its test id and detail", () => {
    const report = parseLynisReport(REPORT);
    assert.equal(report.hardeningIndex, 78);
    assert.deepEqual(report.warnings, ["FIRE-4512 iptables module(s) loaded, but no rules active"]);
    assert.deepEqual(report.suggestions, [
        "SSH-7408 Consider hardening SSH configuration (MaxAuthTries (3 --> 2))",
        "KRNL-6000 One or more sysctl values differ from the scan profile and could be tweaked (-)",
    ]);
});

test("a report without a hardening index (Lynis stopped early) is an error naming what it got", () => {
    assert.throws(
        () => parseLynisReport("report_version_major=1\nsuggestion[]=X|y|-|-|\n"),
        /no hardening_index.*\n.*report_version_major=1/s,
    );
});

test("Lynis's points come from the last running total of its log; none is undefined", () => {
    const log = [
        "2026-12-02 04:40:01 Hardening: assigned maximum number of hardening points for this item (3). Currently having 190 points (out of 214)",
        "2026-12-02 04:58:29 Result: found at least one malware scanner",
        "2026-12-02 04:58:29 Hardening: assigned maximum number of hardening points for this item (3). Currently having 252 points (out of 295)",
    ].join("\n");
    assert.deepEqual(parseLynisPoints(log), { have: 252, of: 295 });
    assert.equal(parseLynisPoints("no points here"), undefined);
});
