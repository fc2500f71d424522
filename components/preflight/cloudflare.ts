// The Cloudflare half of `npm run preflight`: read-only API calls that show, before anything is created, that the
// deploy token is an active user token holding each permission the program uses, that the zone holds the hostname and
// no foreign record sits there, that the Zero Trust organization of accessTeamName exists, and that R2 is enabled.
// Response shapes follow Cloudflare's API documentation (the v4 envelope: success, errors[{code, message}], result).
import { requestJson } from "../core/http";
import { failed, guarded, passed, skipped } from "../providers/preflight";
import type { PreflightCheck } from "../providers";

export interface CloudflarePreflightInput {
    token: string | undefined;
    accountId: string;
    zoneId: string;
    hostname: string;
    accessTeamName: string;
    /** The tunnel's name (`<agentName>-gateway`): the DNS record the program made carries it in its comment. */
    tunnelName: string;
    accessServiceToken: boolean;
}

export interface CloudflareEndpoints {
    /** The API's base, https://api.cloudflare.com/client/v4. */
    api: string;
    /** The team domain, with `{team}` for accessTeamName: https://{team}.cloudflareaccess.com. */
    accessTeam: string;
}

/** A permission the program uses: its name in the API (what token details list) and where the dashboard shows it. */
interface Permission {
    api: string;
    dashboard: string;
    scope: "account" | "zone" | "user";
    why: string;
}

/** The permissions of the deploy token, as README "Cloud tokens" lists them. */
export function neededPermissions(accessServiceToken: boolean): Permission[] {
    return [
        { api: "Cloudflare Tunnel Write", dashboard: "Account > Cloudflare Tunnel > Edit", scope: "account", why: "the tunnel" },
        {
            api: "Access: Apps and Policies Write",
            dashboard: "Account > Access: Apps and Policies > Edit",
            scope: "account",
            why: "the Access application and its policy",
        },
        ...(accessServiceToken
            ? [
                  {
                      api: "Access: Service Tokens Write",
                      dashboard: "Account > Access: Service Tokens > Edit",
                      scope: "account",
                      why: "the service token (accessServiceToken)",
                  } as Permission,
              ]
            : []),
        { api: "Workers R2 Storage Write", dashboard: "Account > Workers R2 Storage > Edit", scope: "account", why: "the memory bucket" },
        { api: "DNS Write", dashboard: "Zone > DNS > Edit", scope: "zone", why: "the hostname's record" },
        { api: "API Tokens Write", dashboard: "User > API Tokens > Edit", scope: "user", why: "the backup's bucket-scoped token" },
    ];
}

interface TokenPolicy {
    effect?: string;
    permission_groups?: { name?: string }[];
    resources?: Record<string, unknown>;
}

/** Does the policy's resources map cover the account, the zone or the user (including nested account -> zone maps)? */
function covers(policy: TokenPolicy, scope: Permission["scope"], accountId: string, zoneId: string): boolean {
    const resources = policy.resources ?? {};
    const accountKeys = [`com.cloudflare.api.account.${accountId}`, "com.cloudflare.api.account.*"];
    const zoneKeys = [`com.cloudflare.api.account.zone.${zoneId}`, "com.cloudflare.api.account.zone.*"];
    if (scope === "user") return Object.keys(resources).some((k) => k.startsWith("com.cloudflare.api.user."));
    if (scope === "account") return accountKeys.some((k) => k in resources);
    if (zoneKeys.some((k) => k in resources)) return true;
    return accountKeys.some((k) => {
        const nested = resources[k];
        return typeof nested === "object" && nested !== null && zoneKeys.some((z) => z in (nested as Record<string, unknown>));
    });
}

/** The permission by its API name ("... Write") or, as some listings show it, its dashboard word ("... Edit"). */
function names(policy: TokenPolicy, permission: Permission): boolean {
    const wanted = [permission.api, permission.api.replace(/ Write$/, " Edit")];
    return (policy.permission_groups ?? []).some((g) => wanted.includes(String(g.name)));
}

function errorsOf(body: unknown): { code: number; message: string }[] {
    return ((body as { errors?: { code?: number; message?: string }[] })?.errors ?? []).map((e) => ({
        code: Number(e.code),
        message: String(e.message ?? ""),
    }));
}

const describeErrors = (body: unknown, status: number) =>
    errorsOf(body)
        .map((e) => `${e.code} ${e.message}`)
        .join("; ") || `HTTP ${status}`;

const TOKEN_FIX =
    'Cloudflare dashboard > My Profile > API Tokens > Create Token > Create Custom Token, with the permissions in README "Cloud tokens"; then CLOUDFLARE_API_TOKEN or `pulumi config set --secret cloudflare:apiToken`';

export async function cloudflareChecks(input: CloudflarePreflightInput, endpoints: CloudflareEndpoints): Promise<PreflightCheck[]> {
    const api = (path: string) => requestJson(`${endpoints.api.replace(/\/+$/, "")}${path}`, { token: input.token });
    const titles = {
        token: "Cloudflare token is active",
        permissions: "Cloudflare token holds every permission the deploy uses",
        zone: `zone ${input.zoneId} holds ${input.hostname}`,
        dns: `no other DNS record at ${input.hostname}`,
        access: `Zero Trust organization ${input.accessTeamName} exists`,
        r2: "R2 is enabled on the account",
    };
    if (!input.token) {
        return [
            failed(
                "cloudflare-token",
                titles.token,
                "no Cloudflare token: CLOUDFLARE_API_TOKEN is not set and neither is cloudflare:apiToken",
                TOKEN_FIX,
            ),
            ...(["permissions", "zone", "dns", "access", "r2"] as const).map((k) =>
                skipped(`cloudflare-${k}`, titles[k], "needs a Cloudflare token"),
            ),
        ];
    }
    let tokenId = "";
    const token = await guarded("cloudflare-token", titles.token, TOKEN_FIX, async () => {
        const verify = await api("/user/tokens/verify");
        const result = (verify.body as { result?: { id?: string; status?: string } })?.result;
        if (verify.status !== 200 || !result) {
            return failed(
                "cloudflare-token",
                titles.token,
                `Cloudflare refuses it as a user API token (${describeErrors(verify.body, verify.status)})`,
                TOKEN_FIX,
            );
        }
        if (result.status !== "active") {
            return failed(
                "cloudflare-token",
                titles.token,
                `the token is ${result.status}`,
                "Cloudflare dashboard > My Profile > API Tokens: roll or re-enable it, or create a new one",
            );
        }
        tokenId = String(result.id ?? "");
        return passed("cloudflare-token", titles.token, "a user API token, active");
    });
    if (token.status !== "pass") {
        return [
            token,
            ...(["permissions", "zone", "dns", "access", "r2"] as const).map((k) =>
                skipped(`cloudflare-${k}`, titles[k], "needs an active token"),
            ),
        ];
    }

    const editFix = "Cloudflare dashboard > My Profile > API Tokens > your token > Edit";
    const permissions = await guarded("cloudflare-permissions", titles.permissions, editFix, async () => {
        const details = await api(`/user/tokens/${encodeURIComponent(tokenId)}`);
        if (details.status !== 200) {
            return failed(
                "cloudflare-permissions",
                titles.permissions,
                `the token cannot read its own permissions (${describeErrors(details.body, details.status)}): it lacks User > API Tokens > Edit, which the deploy needs to mint the backup's token`,
                `${editFix}: add User > API Tokens > Edit (API name: API Tokens Write)`,
            );
        }
        const policies = (details.body as { result?: { policies?: TokenPolicy[] } })?.result?.policies ?? [];
        const missing = neededPermissions(input.accessServiceToken).filter((permission) => {
            const allowed = policies.some(
                (p) => p.effect !== "deny" && names(p, permission) && covers(p, permission.scope, input.accountId, input.zoneId),
            );
            const denied = policies.some(
                (p) => p.effect === "deny" && names(p, permission) && covers(p, permission.scope, input.accountId, input.zoneId),
            );
            return !allowed || denied;
        });
        if (!missing.length)
            return passed(
                "cloudflare-permissions",
                titles.permissions,
                "Tunnel, Access, R2, DNS and API Tokens, on this account, zone and user",
            );
        const where = (p: Permission) =>
            p.scope === "account" ? `account ${input.accountId}` : p.scope === "zone" ? `zone ${input.zoneId}` : "your user";
        return failed(
            "cloudflare-permissions",
            titles.permissions,
            `missing: ${missing.map((p) => `${p.dashboard} (API: ${p.api}) on ${where(p)}, for ${p.why}`).join("; ")}`,
            `${editFix}: add ${missing.map((p) => p.dashboard).join(", ")}`,
        );
    });

    const zoneFix =
        "zoneId is on the domain's Overview page (Cloudflare dashboard > your domain > Overview > API); the hostname must be a name in that zone";
    let zoneOk = false;
    const zone = await guarded("cloudflare-zone", titles.zone, zoneFix, async () => {
        const answer = await api(`/zones/${encodeURIComponent(input.zoneId)}`);
        const result = (answer.body as { result?: { name?: string; status?: string; account?: { id?: string } } })?.result;
        if (answer.status !== 200 || !result?.name) {
            return failed(
                "cloudflare-zone",
                titles.zone,
                `the token sees no zone ${input.zoneId} (${describeErrors(answer.body, answer.status)})`,
                `${zoneFix}; the token's Zone resources must include it (${editFix})`,
            );
        }
        const name = result.name.toLowerCase();
        if (input.hostname !== name && !input.hostname.endsWith(`.${name}`)) {
            return failed(
                "cloudflare-zone",
                titles.zone,
                `${input.hostname} is not a name in the zone ${name}`,
                `set hostname to a name under ${name}, or zoneId to the zone of ${input.hostname}`,
            );
        }
        if (result.account?.id && result.account.id !== input.accountId) {
            return failed(
                "cloudflare-zone",
                titles.zone,
                `the zone ${name} belongs to account ${result.account.id}, not accountId ${input.accountId}`,
                "set accountId to the account that holds the zone (Cloudflare dashboard > your domain > Overview > API > Account ID)",
            );
        }
        if (result.status !== "active") {
            return failed(
                "cloudflare-zone",
                titles.zone,
                `the zone ${name} is ${result.status}: Cloudflare does not answer for it yet`,
                "finish adding the site: set the nameservers Cloudflare shows at your registrar (Cloudflare dashboard > your domain > Overview)",
            );
        }
        zoneOk = true;
        return passed("cloudflare-zone", titles.zone, `${input.hostname} is in ${name} (active), account ${input.accountId}`);
    });

    const dns = !zoneOk
        ? skipped("cloudflare-dns", titles.dns, "needs the zone")
        : await guarded("cloudflare-dns", titles.dns, "Cloudflare dashboard > your domain > DNS > Records", async () => {
              const answer = await api(
                  `/zones/${encodeURIComponent(input.zoneId)}/dns_records?name.exact=${encodeURIComponent(input.hostname)}&per_page=100`,
              );
              if (answer.status !== 200) {
                  return failed(
                      "cloudflare-dns",
                      titles.dns,
                      `cannot list the zone's records (${describeErrors(answer.body, answer.status)})`,
                      `${editFix}: Zone > DNS > Edit`,
                  );
              }
              const records = (
                  (answer.body as { result?: { name?: string; type?: string; content?: string; comment?: string }[] })?.result ?? []
              ).filter((r) => String(r.name).toLowerCase() === input.hostname);
              const ours = (r: { comment?: string }) => String(r.comment ?? "").includes(`(${input.tunnelName}), managed by openclaw-vps`);
              const foreign = records.filter((r) => !ours(r));
              if (foreign.length) {
                  return failed(
                      "cloudflare-dns",
                      titles.dns,
                      `${input.hostname} already has ${foreign.map((r) => `${r.type} ${r.content}`).join(", ")}: creating the tunnel's CNAME would fail`,
                      `delete it in Cloudflare dashboard > your domain > DNS > Records, or choose another hostname`,
                  );
              }
              return passed(
                  "cloudflare-dns",
                  titles.dns,
                  records.length
                      ? "the record there is this agent's own (an earlier deploy)"
                      : `nothing at ${input.hostname} yet: the deploy adds the CNAME`,
              );
          });

    const team = `${input.accessTeamName}.cloudflareaccess.com`;
    const accessFix = `Cloudflare Zero Trust dashboard (one.dash.cloudflare.com): create the organization (its team name), then set accessTeamName (Zero Trust > Settings > Custom Pages shows <team>.cloudflareaccess.com)`;
    const access = await guarded("cloudflare-access", titles.access, accessFix, async () => {
        const org = await api(`/accounts/${encodeURIComponent(input.accountId)}/access/organizations`);
        const domain = (org.body as { result?: { auth_domain?: string } })?.result?.auth_domain;
        if (org.status === 200 && domain) {
            if (domain.toLowerCase() === team)
                return passed("cloudflare-access", titles.access, `the account's Zero Trust team domain is ${domain}`);
            return failed(
                "cloudflare-access",
                titles.access,
                `the account's Zero Trust team domain is ${domain}, not ${team}`,
                `set accessTeamName to ${domain.replace(/\.cloudflareaccess\.com$/, "")}`,
            );
        }
        if (org.status === 404)
            return failed("cloudflare-access", titles.access, "the account has no Zero Trust organization yet", accessFix);
        // The deploy token need not read organizations: the team domain's public signing keys (what origins validate
        // Access JWTs with) exist exactly when the team does.
        const certs = await requestJson(
            `${endpoints.accessTeam.replace("{team}", input.accessTeamName).replace(/\/+$/, "")}/cdn-cgi/access/certs`,
        );
        const keys = (certs.body as { keys?: unknown[] })?.keys;
        if (certs.status === 200 && Array.isArray(keys) && keys.length) {
            return passed(
                "cloudflare-access",
                titles.access,
                `${team} answers with its signing keys (the token may not read organizations; not needed)`,
            );
        }
        return failed(
            "cloudflare-access",
            titles.access,
            `${team} does not exist (its /cdn-cgi/access/certs answered ${certs.status})`,
            accessFix,
        );
    });

    const r2Fix = "Cloudflare dashboard > R2 Object Storage > Purchase R2 Plan (the free tier needs a payment method on file)";
    const r2 = await guarded("cloudflare-r2", titles.r2, r2Fix, async () => {
        const answer = await api(`/accounts/${encodeURIComponent(input.accountId)}/r2/buckets`);
        if (answer.status === 200) return passed("cloudflare-r2", titles.r2, "R2 answers for the account");
        if (errorsOf(answer.body).some((e) => e.code === 10042)) {
            return failed(
                "cloudflare-r2",
                titles.r2,
                `R2 is not enabled on account ${input.accountId} (${describeErrors(answer.body, answer.status)})`,
                r2Fix,
            );
        }
        return failed(
            "cloudflare-r2",
            titles.r2,
            `listing buckets failed (${describeErrors(answer.body, answer.status)})`,
            `${r2Fix}; the token needs Account > Workers R2 Storage > Edit (${editFix})`,
        );
    });
    return [token, permissions, zone, dns, access, r2];
}
