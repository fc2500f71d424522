// Turns raw stack config (strings, as Pulumi stores them) into typed Settings, or reports *every* problem at once
// (key, value given, what is expected) before anything is created. The rules themselves live in schema.ts.
// No Pulumi imports: the offline plan, the guided setup and the tests call it directly.
import { OpenclawPin, readOpenclawPin } from "../core/pins";
import { findProvider } from "../providers";
import { NAMESPACE, RawValues, Settings, SettingSpec, SettingsSecrets, settingSpecs } from "./schema";
import { suggest } from "./suggest";

export interface ConfigProblem {
    key: string;
    given: string;
    expected: string;
}

export class ConfigError extends Error {
    constructor(readonly problems: ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

export function formatProblems(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => `  - ${NAMESPACE}:${p.key}: got ${p.given}; expected ${p.expected}`);
    return `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n${lines.join("\n")}`;
}

/** Kept under its old name: the closest known key to a mistyped one. */
export const suggestKey = suggest;

function show(raw: string, secret: boolean): string {
    return secret ? "[secret]" : JSON.stringify(raw);
}

type Value = string | number | boolean | string[];

/** Parse one raw config string into the key's kind, or return what was expected. */
function parseValue(spec: SettingSpec, raw: string): { value?: Value; expected?: string } {
    switch (spec.kind) {
        case "string":
            return { value: raw };
        case "integer":
            return /^-?\d+$/.test(raw.trim()) ? { value: Number(raw.trim()) } : { expected: "a whole number" };
        case "boolean":
            return raw === "true" || raw === "false" ? { value: raw === "true" } : { expected: "true or false" };
        case "array": {
            try {
                const parsed: unknown = JSON.parse(raw);
                if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return { value: parsed.map((x) => x.trim()) };
            } catch {
                // fall through: a single bare value is accepted as a one-element list
            }
            if (raw.trim() && !raw.trim().startsWith("[")) {
                return {
                    value: raw
                        .split(",")
                        .map((s) => s.trim())
                        .filter(Boolean),
                };
            }
            return { expected: 'a list of strings, e.g. ["a", "b"] (pulumi config set --path "key[0]" a)' };
        }
    }
}

export interface ParsedSettings {
    settings: Settings;
    secrets: SettingsSecrets;
    warnings: string[];
}

export interface ParseOptions {
    pin?: OpenclawPin;
    /** Full keys (`openclaw-vps:llmApiKey`) that were stored as secrets; a secret key stored in plaintext is an error. */
    secretKeys?: ReadonlySet<string>;
    /** Skip the "must be stored as a secret" rule (offline plan with --secret / placeholders). */
    allowPlainSecrets?: boolean;
}

/**
 * Validate raw stack config (`{"openclaw-vps:hostname": "agent.example.com", "hcloud:token": ...}`, values as Pulumi
 * stores them: strings, JSON for lists) and return typed settings. Throws ConfigError listing every problem.
 */
export function parseSettings(raw: Record<string, string>, options: ParseOptions = {}): ParsedSettings {
    const schema = settingSpecs(options.pin ?? readOpenclawPin());
    const keys = Object.keys(schema);
    const problems: ConfigProblem[] = [];
    const warnings: string[] = [];
    const values: RawValues = {};

    for (const fullKey of Object.keys(raw)) {
        const [ns, ...rest] = fullKey.split(":");
        if (ns !== NAMESPACE || rest.length === 0) continue; // other namespaces (hcloud:token, ...) are providers'
        const key = rest.join(":");
        if (!schema[key]) {
            const hint = suggest(key, keys);
            problems.push({
                key,
                given: "an unknown key",
                expected: hint
                    ? `a known key: did you mean ${NAMESPACE}:${hint}?`
                    : `one of the known keys (see Pulumi.yaml): ${keys.join(", ")}`,
            });
        }
    }

    for (const key of keys) {
        const spec = schema[key];
        const fullKey = `${NAMESPACE}:${key}`;
        const rawValue = raw[fullKey];
        if (rawValue === undefined || rawValue === "") continue;
        if (spec.secret && options.secretKeys && !options.allowPlainSecrets && !options.secretKeys.has(fullKey)) {
            problems.push({
                key,
                given: "a plaintext value",
                expected: `a secret: pulumi config set --secret ${key} (and rotate the key: it is now in Pulumi.<stack>.yaml)`,
            });
            continue;
        }
        const parsed = parseValue(spec, rawValue);
        if (parsed.expected) {
            problems.push({ key, given: show(rawValue, !!spec.secret), expected: parsed.expected });
            continue;
        }
        if (spec.enum && !spec.enum.includes(parsed.value as string)) {
            const hint = suggest(String(parsed.value), [...spec.enum]);
            problems.push({
                key,
                given: show(rawValue, !!spec.secret),
                expected: `one of ${spec.enum.join(", ")}${hint ? ` (did you mean ${hint}?)` : ""}`,
            });
            continue;
        }
        values[key] = parsed.value;
    }

    // Defaults: plain ones first, then those derived from other settings.
    for (const key of keys) {
        if (values[key] === undefined && schema[key].default !== undefined) values[key] = schema[key].default as Value;
    }
    for (const key of keys) {
        const derive = schema[key].derivedDefault;
        if (values[key] === undefined && derive) values[key] = derive(values) as Value;
    }

    for (const key of keys) {
        const spec = schema[key];
        const value = values[key];
        if (value === undefined) {
            if (!spec.optional && !problems.some((p) => p.key === key)) {
                problems.push({
                    key,
                    given: "nothing (the key is not set)",
                    expected: `${spec.description} Set it with: pulumi config set ${spec.secret ? "--secret " : ""}${key} <value>`,
                });
            }
            continue;
        }
        const expected = spec.check?.(value, values);
        if (expected) {
            const given = Array.isArray(value) ? JSON.stringify(value) : show(String(value), !!spec.secret);
            problems.push({ key, given, expected });
            continue;
        }
        if (spec.normalize) values[key] = spec.normalize(value) as Value;
    }

    if (problems.length) throw new ConfigError(problems);

    const provider = findProvider(String(values.provider))!;
    const size = provider.serverTypes[String(values.serverType)];
    if (!size) {
        warnings.push(
            `${NAMESPACE}:serverType ${JSON.stringify(values.serverType)} is not a ${provider.id} type we know; it is used as given. ` +
                `Make sure it has at least 2 vCPU / 2 GB.`,
        );
    }
    if (!provider.regions.includes(String(values.region))) {
        warnings.push(
            `${NAMESPACE}:region ${JSON.stringify(values.region)} is not a ${provider.id} location we know (${provider.regions.join(", ")}); it is used as given.`,
        );
    }
    const openCidrs = (values.adminCidrs as string[]).filter((c) => /\/0$/.test(c));
    if (openCidrs.length) {
        warnings.push(
            `${NAMESPACE}:adminCidrs includes ${openCidrs.join(", ")}: SSH is reachable from the whole Internet (key-only, rate-limited, fail2ban). Prefer your own address.`,
        );
    }
    const pin = options.pin ?? readOpenclawPin();
    if (values.openclawVersion !== pin.version) {
        warnings.push(
            `${NAMESPACE}:openclawVersion ${values.openclawVersion} differs from the pinned ${pin.version}: the rendered config was validated against ${pin.version} only. Bump the pin in package.json instead.`,
        );
    }
    if (values.memorySearchProvider !== "none" && !values.embeddingApiKey) {
        warnings.push(
            `${NAMESPACE}:embeddingApiKey is not set: memory search falls back to KEYWORD-ONLY (BM25) search, without ${values.memorySearchProvider} embeddings. ` +
                `Set it with: pulumi config set --secret embeddingApiKey <key>`,
        );
    }

    // Split by the schema's own `secret` flag: no key is listed by hand here.
    const plain: Record<string, unknown> = {};
    const secret: Record<string, unknown> = {};
    for (const key of keys) {
        if (values[key] === undefined) continue;
        (schema[key].secret ? secret : plain)[key] = values[key];
    }
    const serverType = String(values.serverType);
    const settings = {
        ...plain,
        serverMemoryMb: size?.memoryMb,
        serverArch: size?.arch ?? (serverType.startsWith("cax") ? "arm64" : "x64"),
    } as Settings;
    return { settings, secrets: secret as SettingsSecrets, warnings };
}
