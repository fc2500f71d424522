// The exposure bound of a system unit we render (systemd-analyze security's "Overall exposure level"), stated once in
// the unit itself as an `X-` key, which systemd ignores: the tests, `npm run verify` and the watchdog read it from
// there instead of repeating the number. Pure: no Pulumi imports.

export const EXPOSURE_BOUND_KEY = "X-OpenclawVps-ExposureBound";

/** The [Unit] lines that state the bound and why it is what it is. */
export function exposureBoundLines(bound: number, why: string): string {
    if (!(bound > 0 && bound <= 10)) throw new Error(`exposure bound ${bound}: expected a systemd exposure level, 0-10`);
    return `# systemd-analyze security must rate this unit at most ${bound.toFixed(1)}: ${why}\n${EXPOSURE_BOUND_KEY}=${bound.toFixed(1)}`;
}

/** The bound a rendered unit states, or undefined when it states none. */
export function exposureBoundOf(unitText: string): number | undefined {
    const m = new RegExp(`^${EXPOSURE_BOUND_KEY}=(\\d+(?:\\.\\d+)?)$`, "m").exec(unitText);
    return m ? Number(m[1]) : undefined;
}
