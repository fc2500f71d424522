// A stand-in ClawHub registry on loopback: the part of ClawHub's HTTP API (v1) that `clawhub install` and
// `openclaw skills install` call, serving skills given as plain data (zip archives built on the fly with fflate, the
// library the clawhub CLI itself unpacks with). Tests point the pinned CLI at it with `--registry`/CLAWHUB_REGISTRY;
// the real registry is not reachable from here. Every request is recorded, so tests can prove what was asked.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { strToU8, zipSync } from "fflate";

export interface StandInSkill {
    owner: string;
    slug: string;
    /** version -> files (relative path -> content); SKILL.md is what makes it a skill. */
    versions: Record<string, Record<string, string>>;
    /** Moderation as ClawHub reports it (default clean). */
    moderation?: { isSuspicious?: boolean; isMalwareBlocked?: boolean };
}

export interface StandInClawhub {
    url: string;
    requests: string[];
    close(): Promise<void>;
}

export async function startClawhubRegistry(skills: StandInSkill[], host = "127.0.0.1"): Promise<StandInClawhub> {
    const requests: string[] = [];
    const find = (slug: string, owner?: string | null) => skills.find((s) => s.slug === slug && (!owner || s.owner === owner));
    const latest = (s: StandInSkill) => Object.keys(s.versions).sort().pop()!;
    const server = http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        const url = new URL(req.url ?? "/", "http://registry");
        const json = (body: unknown, status = 200) => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(JSON.stringify(body));
        };
        const parts = url.pathname.split("/").map(decodeURIComponent);
        // /api/v1/skills/<slug>[/versions/<v>]
        if (parts[1] === "api" && parts[2] === "v1" && parts[3] === "skills" && parts[4] && parts[4] !== "-") {
            const skill = find(parts[4], url.searchParams.get("ownerHandle"));
            if (!skill) return json({ error: "not found" }, 404);
            if (parts[5] === "versions" && parts[6]) {
                if (!skill.versions[parts[6]]) return json({ error: "version not found" }, 404);
                return json({
                    version: { version: parts[6], createdAt: 1, changelog: "" },
                    skill: { slug: skill.slug, displayName: skill.slug },
                });
            }
            return json({
                skill: { slug: skill.slug, displayName: skill.slug, summary: null, tags: {}, stats: {}, createdAt: 1, updatedAt: 1 },
                latestVersion: { version: latest(skill), createdAt: 1, changelog: "" },
                owner: { handle: skill.owner },
                moderation: {
                    isSuspicious: skill.moderation?.isSuspicious ?? false,
                    isMalwareBlocked: skill.moderation?.isMalwareBlocked ?? false,
                    verdict: "clean",
                },
            });
        }
        if (url.pathname === "/api/v1/download") {
            const skill = find(url.searchParams.get("slug") ?? "", url.searchParams.get("ownerHandle"));
            const files = skill?.versions[url.searchParams.get("version") ?? ""];
            if (!files) return json({ error: "not found" }, 404);
            const zip = zipSync(Object.fromEntries(Object.entries(files).map(([p, c]) => [p, strToU8(c)])));
            res.writeHead(200, { "content-type": "application/zip" });
            return res.end(Buffer.from(zip));
        }
        json({ error: "not found" }, 404);
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://${host}:${port}`,
        requests,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
