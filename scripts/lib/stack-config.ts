// Reads a stack's config the way the Pulumi CLI hands it to the program (namespaced keys, string values, lists as
// JSON), without the CLI: from Pulumi.<stack>.yaml plus command-line overrides. Encrypted (`secure:`) values cannot
// be read without the CLI and the passphrase, so they, and required secrets that are not set, become marked
// placeholders, each with a warning.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../components/core/pins";
import { PLAN_PLACEHOLDER_PREFIX } from "../../components/core/rules";
import { NAMESPACE, settingSpecs } from "../../components/settings";

export interface StackConfig {
    /** `openclaw-vps:key` (and other namespaces) -> string value, as Pulumi passes config to a program. */
    config: Record<string, string>;
    /** Keys whose value is a secret. */
    secretKeys: string[];
    /** Human-readable notes (placeholders used). */
    warnings: string[];
}

export function placeholderFor(key: string): string {
    return `${PLAN_PLACEHOLDER_PREFIX}${key}`;
}

/** `KEY=VALUE` with KEY with or without the namespace; VALUE parsed as JSON when it parses, else kept as a string. */
export function parseOverride(arg: string): { key: string; value: string } {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new Error(`expected KEY=VALUE, got ${JSON.stringify(arg)}`);
    const rawKey = arg.slice(0, eq).trim();
    const rawValue = arg.slice(eq + 1);
    const key = rawKey.includes(":") ? rawKey : `${NAMESPACE}:${rawKey}`;
    let value = rawValue;
    try {
        const parsed: unknown = JSON.parse(rawValue);
        value = typeof parsed === "string" ? parsed : JSON.stringify(parsed);
    } catch {
        // not JSON: a plain string
    }
    return { key, value };
}

function toConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

export function stackFilePath(stack: string, root: string = PROJECT_ROOT): string {
    return path.join(root, `Pulumi.${stack}.yaml`);
}

export function readStackConfig(
    stack: string,
    overrides: { set?: string[]; secret?: string[] } = {},
    root: string = PROJECT_ROOT,
): StackConfig {
    const file = stackFilePath(stack, root);
    if (!fs.existsSync(file))
        throw new Error(
            `no stack file ${path.basename(file)}: create it with \`npm run deploy -- --stack ${stack}\` or copy Pulumi.prod.yaml`,
        );
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const encrypted = new Set<string>();
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (value && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            encrypted.add(key);
            secretKeys.add(key);
            continue;
        }
        config[key] = toConfigString(value);
    }
    for (const arg of overrides.set ?? []) {
        const { key, value } = parseOverride(arg);
        config[key] = value;
    }
    for (const arg of overrides.secret ?? []) {
        const { key, value } = parseOverride(arg);
        config[key] = value;
        secretKeys.add(key);
        encrypted.delete(key);
    }

    const warnings: string[] = [];
    const schema = settingSpecs();
    for (const [name, spec] of Object.entries(schema)) {
        if (!spec.secret) continue;
        const key = `${NAMESPACE}:${name}`;
        if (encrypted.has(key)) {
            config[key] = placeholderFor(name);
            warnings.push(
                `${key} is encrypted in ${path.basename(file)}; the plan uses a placeholder (pass --secret ${name}=... to use a value)`,
            );
        } else if (config[key] === undefined && !spec.optional) {
            config[key] = placeholderFor(name);
            secretKeys.add(key);
            warnings.push(
                `${key} is not set; the plan uses a placeholder (set it with \`pulumi config set --secret ${name}\` before deploying)`,
            );
        }
    }
    for (const key of encrypted) {
        if (config[key] === undefined) config[key] = placeholderFor(key.split(":").pop() ?? key);
    }
    return { config, secretKeys: [...secretKeys], warnings };
}
