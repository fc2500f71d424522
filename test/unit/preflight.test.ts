// `npm run preflight` (components/preflight, the provider modules' preflight) against local stand-ins of Cloudflare,
// Hetzner, DigitalOcean, the npm registry and ClawHub whose answers follow each one's API documentation
// (test/helpers/api-standins.ts): one test per account problem, each reported with what is wrong and where to fix it;
// a healthy account passes everything; nothing is ever created (every write is an empty, invalid body); the throwaway
// provider's own preflight is picked up from its module.
import { after, before, beforeEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { registerProvider } from "../../components/providers";
import { formatPreflight, runPreflight, type PreflightReport } from "../../components/preflight";
import { parseSettings, type Settings } from "../../components/settings";
import { readStackConfig } from "../../scripts/lib/stack-config";
import { throwawayProvider } from "../fixtures/throwaway-provider";
import { healthyWorld, startApiStandIns, type ApiStandIns } from "../helpers/api-standins";

const VERSION = "2026.9.6";

function settingsWith(overrides: string[] = []): Settings {
    const config = readStackConfig("prod", { set: overrides }).config;
    return parseSettings(config, { allowPlainSecrets: true }).settings;
}

describe("npm run preflight: the accounts, checked before anything is created", () => {
    let apis: ApiStandIns;
    before(async () => (apis = await startApiStandIns()));
    after(() => apis?.close());
    beforeEach(() => {
        apis.world = healthyWorld();
        apis.requests.length = 0;
    });

    async function preflight(
        options: { overrides?: string[]; hasEmbeddingKey?: boolean; tokens?: { cloudflare?: string; provider?: string } } = {},
    ): Promise<PreflightReport> {
        const settings = settingsWith(options.overrides);
        const world = apis.world;
        const providerToken = settings.provider === "digitalocean" ? world.digitalocean.token : world.hetzner.token;
        return runPreflight(
            {
                settings,
                hasEmbeddingKey: options.hasEmbeddingKey ?? false,
                tokens: options.tokens ?? { cloudflare: world.cloudflare.token, provider: providerToken },
            },
            {
                cloudflare: apis.endpoints.cloudflare,
                accessTeam: apis.endpoints.accessTeam,
                npm: apis.endpoints.npm,
                clawhub: apis.endpoints.clawhub,
                provider: settings.provider === "digitalocean" ? apis.endpoints.digitalocean : apis.endpoints.hetzner,
            },
        );
    }

    const check = (report: PreflightReport, id: string) => {
        const found = report.checks.find((c) => c.id === id);
        assert.ok(found, `no check ${id} in ${report.checks.map((c) => c.id).join(", ")}`);
        return found;
    };

    /** The one check that must fail, with what is wrong and where to fix it; every other one passes or is skipped. */
    function assertOnlyFailure(report: PreflightReport, id: string, summary: RegExp, fix: RegExp): void {
        const c = check(report, id);
        assert.equal(c.status, "fail", formatPreflight(report));
        assert.match(c.summary, summary);
        assert.match(c.fix, fix);
        const others = report.checks.filter((x) => x.id !== id && x.status === "fail");
        assert.deepEqual(
            others.map((x) => x.id),
            [],
            formatPreflight(report),
        );
        assert.equal(report.ok, false);
        assert.match(formatPreflight(report), new RegExp(`✗ .*\\n    fix: `));
    }

    function assertNothingCreated(): void {
        for (const r of apis.requests.filter((r) => r.method !== "GET")) {
            assert.equal(r.method, "POST", `${r.method} ${r.path}`);
            assert.equal(r.body, "{}", `${r.path}: the only writes are empty bodies an API refuses as invalid`);
        }
        for (const r of apis.requests) assert.ok(!r.path.includes("STANDIN"), "a token never travels in a URL");
    }

    it("passes everything on a healthy Hetzner account, without creating anything", async () => {
        const report = await preflight();
        assert.ok(report.ok, formatPreflight(report));
        assert.deepEqual(
            report.checks.map((c) => c.id),
            [
                "cloudflare-token",
                "cloudflare-permissions",
                "cloudflare-zone",
                "cloudflare-dns",
                "cloudflare-access",
                "cloudflare-r2",
                "hetzner-token",
                "hetzner-server-type",
                "hetzner-ssh-key",
                "plugins",
            ],
        );
        assertNothingCreated();
        assert.match(formatPreflight(report), /preflight: all 10 checks passed; nothing was created$/);
    });

    it("passes everything on a healthy DigitalOcean account", async () => {
        const report = await preflight({ overrides: ["provider=digitalocean", "region=fra1", "serverType=s-2vcpu-2gb"] });
        assert.ok(report.ok, formatPreflight(report));
        assert.deepEqual(
            report.checks.filter((c) => c.id.startsWith("digitalocean")).map((c) => c.status),
            ["pass", "pass", "pass"],
        );
        assertNothingCreated();
    });

    describe("Cloudflare", () => {
        it("no token at all: says which variable or config key to set", async () => {
            const report = await preflight({ tokens: { provider: apis.world.hetzner.token } });
            assertOnlyFailure(
                report,
                "cloudflare-token",
                /CLOUDFLARE_API_TOKEN is not set and neither is cloudflare:apiToken/,
                /My Profile > API Tokens/,
            );
        });

        it("a token that is not active (disabled, expired)", async () => {
            apis.world.cloudflare.tokenStatus = "expired";
            assertOnlyFailure(await preflight(), "cloudflare-token", /the token is expired/, /My Profile > API Tokens/);
        });

        it("a token Cloudflare does not know", async () => {
            const report = await preflight({ tokens: { cloudflare: "not-a-token", provider: apis.world.hetzner.token } });
            assertOnlyFailure(
                report,
                "cloudflare-token",
                /refuses it as a user API token \(1000 Invalid API Token\)/,
                /Create Custom Token/,
            );
            for (const id of ["cloudflare-permissions", "cloudflare-zone", "cloudflare-r2"]) assert.equal(check(report, id).status, "skip");
        });

        it("a token missing one permission: names it as the dashboard shows it and by its API name", async () => {
            apis.world.cloudflare.policies[0].permission_groups = apis.world.cloudflare.policies[0].permission_groups.filter(
                (g) => g.name !== "Cloudflare Tunnel Write",
            );
            assertOnlyFailure(
                await preflight(),
                "cloudflare-permissions",
                /missing: Account > Cloudflare Tunnel > Edit \(API: Cloudflare Tunnel Write\) on account fedcba9876543210fedcba9876543210, for the tunnel/,
                /your token > Edit: add Account > Cloudflare Tunnel > Edit/,
            );
        });

        it("a permission granted on another zone does not count", async () => {
            apis.world.cloudflare.policies[1].resources = { "com.cloudflare.api.account.zone.ffffffffffffffffffffffffffffffff": "*" };
            assertOnlyFailure(
                await preflight(),
                "cloudflare-permissions",
                /Zone > DNS > Edit \(API: DNS Write\) on zone 0123456789abcdef/,
                /Zone > DNS > Edit/,
            );
        });

        it("the service token's permission is needed only with accessServiceToken", async () => {
            apis.world.cloudflare.policies[0].permission_groups = apis.world.cloudflare.policies[0].permission_groups.filter(
                (g) => g.name !== "Access: Service Tokens Write",
            );
            assert.ok((await preflight()).ok);
            assertOnlyFailure(
                await preflight({ overrides: ["accessServiceToken=true"] }),
                "cloudflare-permissions",
                /Account > Access: Service Tokens > Edit/,
                /Access: Service Tokens > Edit/,
            );
        });

        it("a token that cannot read its own permissions lacks API Tokens Edit (the deploy mints the backup's token)", async () => {
            apis.world.cloudflare.canReadOwnToken = false;
            assertOnlyFailure(
                await preflight(),
                "cloudflare-permissions",
                /cannot read its own permissions \(9109 Unauthorized to access requested resource\)/,
                /add User > API Tokens > Edit \(API name: API Tokens Write\)/,
            );
        });

        it("a zone the token cannot see (wrong zoneId)", async () => {
            apis.world.cloudflare.zone = undefined;
            const report = await preflight();
            assertOnlyFailure(report, "cloudflare-zone", /the token sees no zone 0123456789abcdef/, /domain > Overview > API/);
            assert.equal(check(report, "cloudflare-dns").status, "skip");
        });

        it("a hostname outside the zone", async () => {
            assertOnlyFailure(
                await preflight({ overrides: ["hostname=agent.example.org"] }),
                "cloudflare-zone",
                /agent\.example\.org is not a name in the zone example\.com/,
                /set hostname to a name under example\.com/,
            );
        });

        it("a zone that belongs to another account", async () => {
            apis.world.cloudflare.zone!.accountId = "11111111111111111111111111111111";
            assertOnlyFailure(await preflight(), "cloudflare-zone", /belongs to account 1111/, /set accountId/);
        });

        it("a zone still pending (nameservers not moved)", async () => {
            apis.world.cloudflare.zone!.status = "pending";
            assertOnlyFailure(await preflight(), "cloudflare-zone", /is pending/, /nameservers/);
        });

        it("a foreign DNS record already at the hostname", async () => {
            apis.world.cloudflare.dnsRecords.push({ name: "agent.example.com", type: "A", content: "198.51.100.9" });
            assertOnlyFailure(
                await preflight(),
                "cloudflare-dns",
                /agent\.example\.com already has A 198\.51\.100\.9: creating the tunnel's CNAME would fail/,
                /DNS > Records/,
            );
        });

        it("this agent's own record (an earlier deploy) is fine", async () => {
            apis.world.cloudflare.dnsRecords.push({
                name: "agent.example.com",
                type: "CNAME",
                content: "3f2a.cfargotunnel.com",
                comment: "OpenClaw gateway tunnel (openclaw-gateway), managed by openclaw-vps",
            });
            const report = await preflight();
            assert.ok(report.ok, formatPreflight(report));
            assert.match(check(report, "cloudflare-dns").summary, /this agent's own/);
        });

        it("no Zero Trust organization on the account", async () => {
            apis.world.cloudflare.organization = "none";
            assertOnlyFailure(await preflight(), "cloudflare-access", /has no Zero Trust organization yet/, /one\.dash\.cloudflare\.com/);
        });

        it("an organization with another team name than accessTeamName", async () => {
            apis.world.cloudflare.organization = "acme.cloudflareaccess.com";
            assertOnlyFailure(
                await preflight(),
                "cloudflare-access",
                /team domain is acme\.cloudflareaccess\.com, not example\.cloudflareaccess\.com/,
                /set accessTeamName to acme/,
            );
        });

        it("a token that may not read organizations: the team domain's public keys decide", async () => {
            apis.world.cloudflare.organization = "forbidden";
            const ok = await preflight();
            assert.ok(ok.ok, formatPreflight(ok));
            assert.match(check(ok, "cloudflare-access").summary, /answers with its signing keys/);
            apis.world.cloudflare.teams = [];
            assertOnlyFailure(
                await preflight(),
                "cloudflare-access",
                /example\.cloudflareaccess\.com does not exist/,
                /create the organization/,
            );
        });

        it("R2 not enabled on the account", async () => {
            apis.world.cloudflare.r2Enabled = false;
            assertOnlyFailure(
                await preflight(),
                "cloudflare-r2",
                /R2 is not enabled on account fedcba9876543210fedcba9876543210 \(10042 Please enable R2/,
                /R2 Object Storage > Purchase R2 Plan/,
            );
        });
    });

    describe("Hetzner", () => {
        it("no token", async () => {
            const report = await preflight({ tokens: { cloudflare: apis.world.cloudflare.token } });
            assertOnlyFailure(report, "hetzner-token", /no Hetzner token: HCLOUD_TOKEN is not set/, /Security > API tokens/);
            assert.equal(check(report, "hetzner-server-type").status, "skip");
        });

        it("a token Hetzner refuses", async () => {
            const report = await preflight({ tokens: { cloudflare: apis.world.cloudflare.token, provider: "wrong" } });
            assertOnlyFailure(report, "hetzner-token", /Hetzner refuses the token \(unable to authenticate\)/, /Read & Write/);
        });

        it("a read-only token (the deploy creates a key, a firewall and a server)", async () => {
            apis.world.hetzner.readOnly = true;
            assertOnlyFailure(await preflight(), "hetzner-token", /the token is read-only/, /permission Read & Write/);
            assertNothingCreated();
        });

        it("a server type not offered in the region now", async () => {
            assertOnlyFailure(
                await preflight({ overrides: ["region=ash"] }),
                "hetzner-server-type",
                /cx23 is not available in ash now \(it is in fsn1, nbg1\)/,
                /another serverType or region/,
            );
        });

        it("a server type Hetzner does not have", async () => {
            assertOnlyFailure(
                await preflight({ overrides: ["serverType=cx99"] }),
                "hetzner-server-type",
                /Hetzner has no server type cx99/,
                /serverType/,
            );
        });

        it("the SSH key already registered under another name", async () => {
            const settings = settingsWith();
            apis.world.hetzner.sshKeys.push({ name: "laptop", publicKey: settings.sshPublicKey });
            assertOnlyFailure(
                await preflight(),
                "hetzner-ssh-key",
                /your public key \([0-9a-f:]{47}\) is already in the project as "laptop": Hetzner refuses the same key twice/,
                /set providerSshKey to "laptop"/,
            );
            // Named as providerSshKey, the same key is fine; and the agent's own key from an earlier deploy is too.
            assert.ok((await preflight({ overrides: ["providerSshKey=laptop"] })).ok);
            apis.world.hetzner.sshKeys = [{ name: "openclaw-admin", publicKey: settings.sshPublicKey }];
            assert.ok((await preflight()).ok);
        });

        it("providerSshKey names a key the project does not have", async () => {
            assertOnlyFailure(
                await preflight({ overrides: ["providerSshKey=gone"] }),
                "hetzner-ssh-key",
                /the project has no SSH key by that name/,
                /providerSshKey/,
            );
        });
    });

    describe("DigitalOcean", () => {
        const doStack = ["provider=digitalocean", "region=fra1", "serverType=s-2vcpu-2gb"];

        it("a token without the create scopes: names each missing scope", async () => {
            apis.world.digitalocean.scopes = ["droplet:create", "ssh_key:create"];
            assertOnlyFailure(
                await preflight({ overrides: doStack }),
                "digitalocean-token",
                /the token lacks the scope\(s\) firewall:create, tag:create/,
                /API > Tokens > the token's scopes: add firewall:create, tag:create/,
            );
            assertNothingCreated();
        });

        it("a locked account", async () => {
            apis.world.digitalocean.accountStatus = "locked";
            assertOnlyFailure(await preflight({ overrides: doStack }), "digitalocean-token", /the account is locked/, /Billing/);
        });

        it("a size not offered in the region", async () => {
            assertOnlyFailure(
                await preflight({ overrides: ["provider=digitalocean", "region=fra1", "serverType=s-2vcpu-4gb"] }),
                "digitalocean-size",
                /s-2vcpu-4gb is not available in fra1 \(it is in nyc3\)/,
                /another serverType or region/,
            );
        });

        it("the SSH key already registered under another name", async () => {
            apis.world.digitalocean.sshKeys.push({ name: "work laptop", publicKey: settingsWith().sshPublicKey });
            assertOnlyFailure(
                await preflight({ overrides: doStack }),
                "digitalocean-ssh-key",
                /already in the account as "work laptop"/,
                /set providerSshKey to its fingerprint \(`pulumi config set providerSshKey [0-9a-f:]{47}`\)/,
            );
        });
    });

    describe("plugins", () => {
        it("the default (OpenAI embeddings, bundled) needs none", async () => {
            const report = await preflight({ hasEmbeddingKey: true });
            assert.match(check(report, "plugins").summary, /needs no plugin/);
        });

        it("Voyage resolves on ClawHub when npm lacks it, pinned to the OpenClaw version", async () => {
            apis.world.clawhub = [`@openclaw/voyage-provider@${VERSION}`];
            const report = await preflight({ overrides: ["memorySearchProvider=voyage"], hasEmbeddingKey: true });
            assert.ok(report.ok, formatPreflight(report));
            assert.match(check(report, "plugins").summary, new RegExp(`ClawHub: clawhub:@openclaw/voyage-provider@${VERSION}`));
            assert.ok(
                apis.requests.some((r) => r.path === `/npm/@openclaw/voyage-provider/${VERSION}`),
                "npm asked first",
            );
        });

        it("a plugin on neither route fails before anything is created", async () => {
            apis.world.npm = [`@openclaw/mistral-provider@2026.9.5`];
            assertOnlyFailure(
                await preflight({ overrides: ["memorySearchProvider=mistral"], hasEmbeddingKey: true }),
                "plugins",
                new RegExp(`neither npm nor ClawHub has @openclaw/mistral-provider@${VERSION}`),
                /memorySearchProvider openai or gemini/,
            );
        });
    });

    it("a provider module's own preflight is what runs: the throwaway provider's, from its module alone", async () => {
        const unregister = registerProvider(throwawayProvider);
        try {
            const settings = settingsWith(["provider=throwaway", "region=tw-north-1", "serverType=tw.small"]);
            const report = await runPreflight(
                { settings, hasEmbeddingKey: false, tokens: { cloudflare: apis.world.cloudflare.token, provider: "tw-token" } },
                {
                    cloudflare: apis.endpoints.cloudflare,
                    accessTeam: apis.endpoints.accessTeam,
                    npm: apis.endpoints.npm,
                    clawhub: apis.endpoints.clawhub,
                    provider: `${apis.endpoints.cloudflare}/no-such-api`,
                },
            );
            const c = check(report, "throwaway-token");
            assert.equal(c.status, "fail");
            assert.match(c.summary, /whoami answered 401/);
        } finally {
            unregister();
        }
    });
});
