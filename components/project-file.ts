// Renders Pulumi.yaml: the project, its runtime, the embedded local state backend, and the `config:` block with
// every setting's type, default and description taken from the settings schema (one source of truth).
import { stringify } from "yaml";
import { settingsSchema } from "./settings";

export const PROJECT_NAME = "openclaw-vps";
/** Local file backend inside the project (gitignored): no Pulumi Cloud account is needed. */
export const LOCAL_BACKEND_URL = "file://./.pulumi-state";

export function renderPulumiYaml(): string {
    const config: Record<string, Record<string, unknown>> = {};
    for (const [key, spec] of Object.entries(settingsSchema())) {
        const entry: Record<string, unknown> = { type: spec.kind, description: spec.description };
        if (spec.kind === "array") entry.items = { type: "string" };
        // Pulumi treats a declared key without a default as required; optional keys get "" (= use the derived default).
        if (spec.default !== undefined) entry.default = spec.default;
        else if (spec.optional) entry.default = "";
        // `secret: true` makes Pulumi refuse a plaintext value; an optional secret cannot have a default, so that
        // rule is enforced by parseSettings instead.
        if (spec.secret && !spec.optional) entry.secret = true;
        config[key] = entry;
    }
    const project = {
        name: PROJECT_NAME,
        description: "A personal OpenClaw agent on a cheap VPS, sealed behind Cloudflare Zero Trust, with its memory backed up to R2.",
        runtime: { name: "nodejs", options: { typescript: true, packagemanager: "npm" } },
        main: "index.ts",
        backend: { url: LOCAL_BACKEND_URL },
        config,
    };
    const header =
        "# Generated from components/settings.ts by `npx tsx scripts/sync-pulumi-yaml.ts`; edit the schema, not this file.\n" +
        "# State lives in ./.pulumi-state (gitignored) with the passphrase secrets provider; see README \"State\".\n";
    return header + stringify(project, { lineWidth: 0 });
}
