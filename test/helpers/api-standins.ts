// Local HTTP stand-ins for the APIs `npm run preflight` calls, shaped as each provider documents its responses:
// Cloudflare's v4 envelope ({success, errors: [{code, message}], messages, result}), Hetzner Cloud's
// ({"error": {"code", "message", "details"}}; token_readonly, invalid_input, unauthorized), DigitalOcean's
// ({"id", "message"}; 401 Unauthorized, 403 Forbidden, 422 unprocessable_entity), the npm registry's per-version
// documents, ClawHub's package versions (the paths OpenClaw's own ClawHub client asks), and a Zero Trust team domain's
// public signing keys. One server, one mutable "world" per test; every request is recorded.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { sshKeyMd5Fingerprint } from "../../components/core/validators";

export interface CloudflareWorld {
    token: string;
    tokenStatus: "active" | "disabled" | "expired";
    /** GET /user/tokens/{id} answers (the token holds API Tokens Write). */
    canReadOwnToken: boolean;
    policies: { effect: "allow" | "deny"; permission_groups: { id: string; name: string }[]; resources: Record<string, unknown> }[];
    zone?: { id: string; name: string; status: string; accountId: string };
    dnsRecords: { name: string; type: string; content: string; comment?: string }[];
    /** The account's Zero Trust organization: its auth domain, "none" (404), or "forbidden" (the token may not read it). */
    organization: string;
    /** Team names whose team domain serves signing keys. */
    teams: string[];
    r2Enabled: boolean;
}

export interface HetznerWorld {
    token: string;
    readOnly: boolean;
    serverTypes: { id: number; name: string; deprecation: unknown }[];
    datacenters: { name: string; location: string; available: number[] }[];
    sshKeys: { name: string; publicKey: string }[];
}

export interface DigitalOceanWorld {
    token: string;
    accountStatus: string;
    scopes: string[];
    sizes: { slug: string; available: boolean; regions: string[] }[];
    sshKeys: { name: string; publicKey: string }[];
}

export interface World {
    cloudflare: CloudflareWorld;
    hetzner: HetznerWorld;
    digitalocean: DigitalOceanWorld;
    /** NAME@VERSION on each plugin route. */
    npm: string[];
    clawhub: string[];
}

export interface Recorded {
    method: string;
    path: string;
    body: string;
    authorization: string;
}

export interface ApiStandIns {
    world: World;
    requests: Recorded[];
    endpoints: { cloudflare: string; accessTeam: string; npm: string; clawhub: string; hetzner: string; digitalocean: string };
    close(): Promise<void>;
}

const ACCOUNT = "fedcba9876543210fedcba9876543210";
const ZONE = "0123456789abcdef0123456789abcdef";
const TOKEN_ID = "ed17574386854bf78a67040be0a770b0";

/** Every permission the program needs, on the example stack's account, zone and a user (a token that passes). */
export function fullPolicies(): CloudflareWorld["policies"] {
    const group = (name: string) => ({ id: name.toLowerCase().replace(/\W+/g, "-"), name });
    return [
        {
            effect: "allow",
            permission_groups: [
                "Cloudflare Tunnel Write",
                "Access: Apps and Policies Write",
                "Access: Service Tokens Write",
                "Workers R2 Storage Write",
            ].map(group),
            resources: { [`com.cloudflare.api.account.${ACCOUNT}`]: "*" },
        },
        { effect: "allow", permission_groups: [group("DNS Write")], resources: { [`com.cloudflare.api.account.zone.${ZONE}`]: "*" } },
        { effect: "allow", permission_groups: [group("API Tokens Write")], resources: { "com.cloudflare.api.user.4d5e6f": "*" } },
    ];
}

/** A world in which every check passes for the example stack (Pulumi.prod.yaml) on either provider. */
export function healthyWorld(): World {
    return {
        cloudflare: {
            token: "cf-token-STANDIN",
            tokenStatus: "active",
            canReadOwnToken: true,
            policies: fullPolicies(),
            zone: { id: ZONE, name: "example.com", status: "active", accountId: ACCOUNT },
            dnsRecords: [{ name: "www.example.com", type: "A", content: "192.0.2.1" }],
            organization: "example.cloudflareaccess.com",
            teams: ["example"],
            r2Enabled: true,
        },
        hetzner: {
            token: "hcloud-token-STANDIN",
            readOnly: false,
            serverTypes: [
                { id: 104, name: "cx23", deprecation: null },
                { id: 22, name: "cx22", deprecation: { announced: "2025-06-01T00:00:00Z", unavailable_after: "2025-09-01T00:00:00Z" } },
            ],
            datacenters: [
                { name: "fsn1-dc14", location: "fsn1", available: [104] },
                { name: "nbg1-dc3", location: "nbg1", available: [104] },
                { name: "ash-dc1", location: "ash", available: [] },
            ],
            sshKeys: [],
        },
        digitalocean: {
            token: "do-token-STANDIN",
            accountStatus: "active",
            scopes: ["droplet:create", "firewall:create", "tag:create", "ssh_key:create"],
            sizes: [
                { slug: "s-2vcpu-2gb", available: true, regions: ["fra1", "ams3", "nyc3"] },
                { slug: "s-2vcpu-4gb", available: true, regions: ["nyc3"] },
            ],
            sshKeys: [],
        },
        npm: [],
        clawhub: [],
    };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
}

const cf = (result: unknown) => ({ success: true, errors: [], messages: [], result });
const cfError = (code: number, message: string) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

function cloudflare(world: CloudflareWorld, path: string, auth: string, res: http.ServerResponse): void {
    if (auth !== `Bearer ${world.token}`) return send(res, 401, cfError(1000, "Invalid API Token"));
    const url = new URL(path, "http://x");
    const p = url.pathname;
    if (p === "/user/tokens/verify") {
        return send(res, 200, {
            ...cf({ id: TOKEN_ID, status: world.tokenStatus }),
            messages: [{ code: 10000, message: "This API Token is valid and active", type: null }],
        });
    }
    if (p === `/user/tokens/${TOKEN_ID}`) {
        if (!world.canReadOwnToken) return send(res, 403, cfError(9109, "Unauthorized to access requested resource"));
        return send(res, 200, cf({ id: TOKEN_ID, name: "openclaw-vps deploy", status: world.tokenStatus, policies: world.policies }));
    }
    const zone = /^\/zones\/([0-9a-f]{32})(\/dns_records)?$/.exec(p);
    if (zone) {
        if (!world.zone || world.zone.id !== zone[1]) {
            return send(res, 403, cfError(9109, "Unauthorized to access requested resource"));
        }
        if (!zone[2]) {
            return send(
                res,
                200,
                cf({
                    id: world.zone.id,
                    name: world.zone.name,
                    status: world.zone.status,
                    account: { id: world.zone.accountId, name: "Example" },
                }),
            );
        }
        const wanted = url.searchParams.get("name.exact");
        const records = world.dnsRecords
            .filter((r) => !wanted || r.name === wanted)
            .map((r, i) => ({ id: `rec${i}`, proxied: true, ttl: 1, ...r }));
        return send(res, 200, {
            ...cf(records),
            result_info: { page: 1, per_page: 100, count: records.length, total_count: records.length },
        });
    }
    if (p === `/accounts/${ACCOUNT}/access/organizations`) {
        if (world.organization === "forbidden") return send(res, 403, cfError(10000, "Authentication error"));
        if (world.organization === "none") return send(res, 404, cfError(12130, "access.api.error.not_found"));
        return send(res, 200, cf({ auth_domain: world.organization, name: "Example" }));
    }
    if (p === `/accounts/${ACCOUNT}/r2/buckets`) {
        if (!world.r2Enabled) return send(res, 403, cfError(10042, "Please enable R2 through the Cloudflare Dashboard."));
        return send(res, 200, cf({ buckets: [] }));
    }
    return send(res, 404, cfError(7003, `Could not route to ${p}, perhaps your object identifier is invalid?`));
}

const hcloudError = (code: string, message: string) => ({ error: { code, message, details: {} } });

function hetzner(world: HetznerWorld, method: string, path: string, auth: string, res: http.ServerResponse): void {
    if (auth !== `Bearer ${world.token}`) return send(res, 401, hcloudError("unauthorized", "unable to authenticate"));
    const url = new URL(path, "http://x");
    const p = url.pathname;
    if (method === "POST") {
        if (world.readOnly) return send(res, 403, hcloudError("token_readonly", "The token is only allowed to perform GET requests"));
        return send(res, 400, hcloudError("invalid_input", "invalid input in fields 'name', 'public_key'"));
    }
    if (p === "/locations") {
        const names = [...new Set(world.datacenters.map((d) => d.location))];
        return send(res, 200, { locations: names.map((name, i) => ({ id: i + 1, name })) });
    }
    if (p === "/server_types") {
        const name = url.searchParams.get("name");
        return send(res, 200, { server_types: world.serverTypes.filter((t) => !name || t.name === name) });
    }
    if (p === "/datacenters") {
        return send(res, 200, {
            datacenters: world.datacenters.map((d, i) => ({
                id: i + 1,
                name: d.name,
                location: { name: d.location },
                server_types: { supported: d.available, available: d.available, available_for_migration: d.available },
            })),
        });
    }
    if (p === "/ssh_keys") {
        const fingerprint = url.searchParams.get("fingerprint");
        const name = url.searchParams.get("name");
        const keys = world.sshKeys
            .map((k, i) => ({
                id: i + 1,
                name: k.name,
                fingerprint: sshKeyMd5Fingerprint(k.publicKey),
                public_key: k.publicKey,
                labels: {},
            }))
            .filter((k) => (!fingerprint || k.fingerprint === fingerprint) && (!name || k.name === name));
        return send(res, 200, { ssh_keys: keys });
    }
    return send(res, 404, hcloudError("not_found", "not found"));
}

function digitalocean(world: DigitalOceanWorld, method: string, path: string, auth: string, res: http.ServerResponse): void {
    if (auth !== `Bearer ${world.token}`) return send(res, 401, { id: "Unauthorized", message: "Unable to authenticate you" });
    const url = new URL(path, "http://x");
    const p = url.pathname;
    const scopeOf: Record<string, string> = {
        "/droplets": "droplet:create",
        "/firewalls": "firewall:create",
        "/tags": "tag:create",
        "/account/keys": "ssh_key:create",
    };
    if (method === "POST") {
        const scope = scopeOf[p];
        if (!scope || !world.scopes.includes(scope))
            return send(res, 403, { id: "Forbidden", message: "You are not authorized to perform this operation" });
        return send(res, 422, { id: "unprocessable_entity", message: "You must specify a name." });
    }
    if (p === "/account") {
        return send(res, 200, {
            account: {
                droplet_limit: 25,
                email: "you@example.com",
                uuid: "b6fr89dbf6d9156cace5f3c78dc9851d957381ef",
                email_verified: true,
                status: world.accountStatus,
                status_message: "",
            },
        });
    }
    if (p === "/sizes") return send(res, 200, { sizes: world.sizes, links: {}, meta: { total: world.sizes.length } });
    const key = /^\/account\/keys\/(.+)$/.exec(p);
    if (key) {
        const found = world.sshKeys.find((k) => sshKeyMd5Fingerprint(k.publicKey) === decodeURIComponent(key[1]));
        if (!found) return send(res, 404, { id: "not_found", message: "The resource you were accessing could not be found." });
        return send(res, 200, {
            ssh_key: { id: 512189, fingerprint: sshKeyMd5Fingerprint(found.publicKey), public_key: found.publicKey, name: found.name },
        });
    }
    return send(res, 404, { id: "not_found", message: "The resource you were accessing could not be found." });
}

export async function startApiStandIns(world: World = healthyWorld()): Promise<ApiStandIns> {
    const requests: Recorded[] = [];
    const state = { world };
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
            const full = req.url ?? "/";
            const auth = req.headers.authorization ?? "";
            requests.push({ method: req.method ?? "GET", path: decodeURIComponent(full), body, authorization: auth });
            const w = state.world;
            const [, service, rest = ""] = /^\/([a-z]+)(\/.*)?$/.exec(full) ?? [];
            switch (service) {
                case "cloudflare":
                    return cloudflare(w.cloudflare, rest, auth, res);
                case "hetzner":
                    return hetzner(w.hetzner, req.method ?? "GET", rest, auth, res);
                case "digitalocean":
                    return digitalocean(w.digitalocean, req.method ?? "GET", rest, auth, res);
                case "access": {
                    const team = /^\/([^/]+)\/cdn-cgi\/access\/certs$/.exec(rest)?.[1];
                    if (team && w.cloudflare.teams.includes(team)) {
                        return send(res, 200, {
                            keys: [{ kid: "k1", kty: "RSA", alg: "RS256", use: "sig", e: "AQAB", n: "standin" }],
                            public_cert: { kid: "k1", cert: "" },
                        });
                    }
                    res.writeHead(404).end();
                    return;
                }
                case "npm": {
                    // /{name with %2f}/{version}
                    const m = /^\/(.+)\/([^/]+)$/.exec(decodeURIComponent(rest));
                    if (m && w.npm.includes(`${m[1]}@${m[2]}`))
                        return send(res, 200, { name: m[1], version: m[2], dist: { tarball: "x" } });
                    return send(res, 404, { error: "Not found" });
                }
                case "clawhub": {
                    const m = /^\/api\/v1\/packages\/(.+)\/versions\/([^/]+)$/.exec(decodeURIComponent(rest));
                    if (m && w.clawhub.includes(`${m[1]}@${m[2]}`)) {
                        return send(res, 200, {
                            package: { name: m[1], family: "code-plugin" },
                            version: { version: m[2], compatibility: null },
                        });
                    }
                    return send(res, 404, { error: "Package not found" });
                }
                default:
                    res.writeHead(404).end();
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        get world() {
            return state.world;
        },
        set world(w: World) {
            state.world = w;
        },
        requests,
        endpoints: {
            cloudflare: `${base}/cloudflare`,
            accessTeam: `${base}/access/{team}`,
            npm: `${base}/npm`,
            clawhub: `${base}/clawhub`,
            hetzner: `${base}/hetzner`,
            digitalocean: `${base}/digitalocean`,
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
