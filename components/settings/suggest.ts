// "Did you mean": the closest known name to a mistyped one (config keys, enum values, server types, regions).

/** Levenshtein distance. */
function distance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}

/** The known name closest to `unknown` (case-insensitive), if it is close enough to be a typo. */
export function suggest(unknown: string, known: readonly string[]): string | undefined {
    const lower = unknown.toLowerCase();
    let best: { name: string; d: number } | undefined;
    for (const name of known) {
        const d = name.toLowerCase() === lower ? 0 : distance(lower, name.toLowerCase());
        if (!best || d < best.d) best = { name, d };
    }
    return best && best.d <= Math.max(2, Math.floor(unknown.length / 4)) ? best.name : undefined;
}
