// Shell quoting, once: every place that puts a value into a bash script or an env-style file we send to the host
// (the push script, the audit, wait-provisioned's settings) quotes with these. No imports.

/** `value` as one single-quoted bash word: safe for any content, including quotes and newlines. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `export NAME='value'` lines (names checked), to prepend to a script sent on stdin. */
export function shellExports(values: Record<string, string | undefined>): string {
    return Object.entries(values)
        .filter((entry): entry is [string, string] => entry[1] !== undefined)
        .map(([name, value]) => {
            if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`${name} is not an environment variable name`);
            return `export ${name}=${shellQuote(value)}\n`;
        })
        .join("");
}

/** Puts lines right after a script's shebang (or at its top when it has none). */
export function afterShebang(script: string, lines: string): string {
    return script.replace(/^(#!.*\n)?/, (shebang) => shebang + lines);
}
