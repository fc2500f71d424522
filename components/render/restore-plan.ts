// The script that puts a restore plan (components/snapshots/plan.ts) on a new server, sent as `sudo -n bash -s` with
// the script on stdin (never argv): it writes the plan, root-only (0600), to HOST_RESTORE_PLAN on the RAM-backed
// /run, where the push's first-boot restore (cloud-init/restore.sh) reads it and removes it after success. Once the
// server has restored (restore.done), the plan is not written at all. Pure: no Pulumi imports.
import { HOST_FILES } from "../core/host-contract";
import { shellQuote } from "../core/shell";

const END = "OPENCLAW_VPS_RESTORE_PLAN_EOF";
/** What a plan line may hold: KEY=value with base64, age keys, object keys and times. */
const PLAN_LINE = /^(#[^\n]*|[a-z_]+=[A-Za-z0-9+/=:. _-]*)$/;

export function renderPlanInstaller(planText: string, paths = { plan: HOST_FILES.restorePlan, marker: HOST_FILES.restoreMarker }): string {
    const lines = planText.replace(/\n$/, "").split("\n");
    const bad = lines.findIndex((l) => !PLAN_LINE.test(l) || l === END);
    if (bad >= 0) throw new Error(`renderPlanInstaller: plan line ${bad + 1} is not a plain KEY=value line`);
    const plan = shellQuote(paths.plan);
    return [
        "set -euo pipefail",
        "umask 077",
        `if [ -e ${shellQuote(paths.marker)} ]; then echo "this server has restored already: no plan needed"; exit 0; fi`,
        `mkdir -p "$(dirname ${plan})"`,
        `cat >${plan}.tmp <<'${END}'`,
        ...lines,
        END,
        `chmod 0600 ${plan}.tmp`,
        `mv -f ${plan}.tmp ${plan}`,
        `echo "restore plan in place ($(grep -c '^archive=' ${plan} || true) archives)"`,
        "",
    ].join("\n");
}
