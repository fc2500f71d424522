// The plugin half of `npm run preflight`: every plugin package the rendered config needs, pinned as the push installs it
// (NAME@VERSION), must exist on one of its two install routes, npm (the registry's per-version document) or ClawHub
// (`GET /api/v1/packages/{name}/versions/{version}`, what OpenClaw's own ClawHub client asks), in that order, the order
// cloud-init/install-plugins.sh tries them.
import { requestJson } from "../core/http";
import { failed, passed } from "../providers/preflight";
import type { PreflightCheck } from "../providers";

export interface PluginEndpoints {
    /** https://registry.npmjs.org */
    npm: string;
    /** https://clawhub.ai */
    clawhub: string;
}

const TITLE = "every plugin the config needs resolves on its install route";

/** Where `NAME@VERSION` installs from: "npm", "clawhub", or a reason it cannot. */
async function routeOf(spec: string, endpoints: PluginEndpoints): Promise<{ route?: "npm" | "clawhub"; why?: string }> {
    const at = spec.lastIndexOf("@");
    const name = spec.slice(0, at);
    const version = spec.slice(at + 1);
    const npm = await requestJson(`${endpoints.npm.replace(/\/+$/, "")}/${name.replace("/", "%2f")}/${encodeURIComponent(version)}`);
    if (npm.status === 200) return { route: "npm" };
    if (npm.status !== 404) return { why: `the npm registry answered ${npm.status} for ${spec}` };
    const hub = await requestJson(
        `${endpoints.clawhub.replace(/\/+$/, "")}/api/v1/packages/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
    );
    if (hub.status === 200) return { route: "clawhub" };
    if (hub.status === 404) return { why: `neither npm nor ClawHub has ${spec}` };
    return { why: `npm has no ${spec} and ClawHub answered ${hub.status}` };
}

export async function pluginChecks(specs: string[], endpoints: PluginEndpoints): Promise<PreflightCheck[]> {
    if (!specs.length) return [passed("plugins", TITLE, "the config needs no plugin (its providers ship with OpenClaw)")];
    const found: string[] = [];
    const problems: string[] = [];
    for (const spec of specs) {
        try {
            const { route, why } = await routeOf(spec, endpoints);
            if (route) found.push(`${spec} (${route === "npm" ? "npm" : `ClawHub: clawhub:${spec}`})`);
            else problems.push(why ?? spec);
        } catch (error) {
            problems.push(`${spec}: ${(error as Error).message}`);
        }
    }
    if (problems.length) {
        return [
            failed(
                "plugins",
                TITLE,
                problems.join("; "),
                "choose a provider OpenClaw ships itself (memorySearchProvider openai or gemini; an LLM provider other than mistral), or an openclawVersion whose plugins are published",
            ),
        ];
    }
    return [passed("plugins", TITLE, found.join(", "))];
}
