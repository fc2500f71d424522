// The figures `npm run bench` reads from upgrade-openclaw.sh's log lines (`YYYY-MM-DDTHH:MM:SSZ [openclaw-vps upgrade]
// ...`, in the push's output): pure parsing, unit-tested (test/unit/upgrade-log.test.ts).

/** The time (ms) of the first `YYYY-MM-DDTHH:MM:SSZ ...` log line that matches. */
export function lineTime(log: string, pattern: RegExp): number {
    const line = log.split("\n").find((l) => pattern.test(l));
    return line ? Date.parse(line.slice(0, 20)) : NaN;
}

/**
 * The upgrade's phases from its log lines (upgrade-openclaw.sh apply, in the push's output; 1 s resolution). The
 * downtime ends at /readyz, before the script's `openclaw health --json`: with `downSeconds` (the script's own stop to
 * /readyz figure) the last phase is split there.
 */
export function upgradePhases(output: string, downSeconds?: number): Record<string, number> {
    const t = (pattern: RegExp) => lineTime(output, pattern);
    const seconds = (a: number, b: number) => (b - a) / 1000;
    const readyAt = downSeconds === undefined ? NaN : t(/upgrade: stopping the gateway/) + downSeconds * 1000;
    const rolledBack = /ROLLBACK:/.test(output);
    const [startedAt, endedAt] = rolledBack
        ? [t(/ROLLBACK:/), t(/rollback: openclaw .* is back/)]
        : [t(/upgrade: starting the gateway/), t(/is ready and healthy/)];
    const phases: Record<string, number> = {
        "checks on a copy of the state (config validate, doctor --lint, doctor --non-interactive), the old release serving": seconds(
            t(/check: openclaw/),
            t(/check: passed/),
        ),
        "verified backup (openclaw-backup.service), the old release serving": seconds(t(/backup: starting/), t(/backup: snapshot/)),
        "down: gateway stop and state copied aside": seconds(t(/upgrade: stopping the gateway/), t(/upgrade: state copied aside/)),
        "down: config, release switch and plugins": seconds(t(/upgrade: state copied aside/), t(/upgrade: starting the gateway/)),
        ...(rolledBack
            ? {
                  "down: the new gateway's start until it failed": seconds(t(/upgrade: starting the gateway/), t(/ROLLBACK:/)),
                  "down: rollback (state and release back, the old gateway's start) to /readyz": seconds(startedAt, readyAt),
              }
            : { "down: the new gateway's start to /readyz": seconds(startedAt, readyAt) }),
        "then `openclaw health --json` ok (the gateway already serving)": seconds(readyAt, endedAt),
    };
    if (Number.isNaN(readyAt)) {
        // Without the script's figure: the start to ready and healthy, as one phase.
        phases[rolledBack ? "down: rollback to ready and healthy" : "down: the new gateway's start to ready and healthy"] = seconds(
            startedAt,
            endedAt,
        );
    }
    return Object.fromEntries(Object.entries(phases).filter(([, v]) => !Number.isNaN(v)));
}
