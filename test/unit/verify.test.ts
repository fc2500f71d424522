// `npm run verify` without a server: the audit script's parameters, the parsing and judging of its output, the
// checklist and exit code, the outside check against local HTTP servers standing in for Cloudflare's edge, and the
// CLI resolving its target from a stack (a fake `pulumi` via OPENCLAW_VPS_PULUMI) down to a failed connection.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { CHANNEL_IDS } from "../../components/render/channels";
import {
    AUDIT_GROUPS,
    buildReport,
    checkResult,
    CHECKS,
    exitCodeOf,
    formatChecklist,
    parseAuditOutput,
    renderAuditScript,
} from "../../components/verify/checks";
import { checkEdge } from "../../components/verify/edge";
import { knownHostKeys, resolveVerifyTarget } from "../../scripts/lib/verify-target";
import { keyFile, runVerifyCli, startEdgeStandIn, STANDIN_TEAM } from "../helpers/verify";

const AUDIT_SETTINGS = {
    adminUser: "ops",
    agentUser: "openclaw",
    gatewayPort: 18789,
    backupSchedule: "*-*-* 00/6:00:00",
    metadataPaths: ["/hetzner/v1/userdata"],
};

describe("audit script parameters", () => {
    it("puts the settings right after the shebang, shell-quoted, and leaves the script itself unchanged", () => {
        const script = renderAuditScript({
            ...AUDIT_SETTINGS,
            metadataPaths: ["/metadata/v1/user-data", "/other/path"],
            only: ["sshd", "sockets"],
        });
        const lines = script.split("\n");
        assert.equal(lines[0], "#!/usr/bin/env bash");
        assert.deepEqual(lines.slice(1, 7), [
            "export AUDIT_ADMIN_USER='ops'",
            "export AUDIT_AGENT_USER='openclaw'",
            "export AUDIT_GATEWAY_PORT='18789'",
            "export AUDIT_BACKUP_SCHEDULE='*-*-* 00/6:00:00'",
            "export AUDIT_METADATA_PATHS='/metadata/v1/user-data /other/path'",
            "export AUDIT_ONLY='sshd,sockets'",
        ]);
        const original = fs.readFileSync(path.join(__dirname, "..", "..", "cloud-init", "audit-host.sh"), "utf8");
        assert.equal(lines.slice(7).join("\n"), original.split("\n").slice(1).join("\n"));
        // bash sees exactly the values (a schedule with spaces and a star stays one word, unexpanded).
        const probe = spawnSync("bash", ["-c", `${lines.slice(1, 7).join("\n")}\nprintf '%s|' "$AUDIT_BACKUP_SCHEDULE" "$AUDIT_ONLY"`], {
            encoding: "utf8",
        });
        assert.equal(probe.stdout, "*-*-* 00/6:00:00|sshd,sockets|");
    });

    it("refuses values that could inject shell or break the audit", () => {
        assert.throws(() => renderAuditScript({ ...AUDIT_SETTINGS, gatewayPort: 70000 }), /not a TCP port/);
        assert.throws(() => renderAuditScript({ ...AUDIT_SETTINGS, adminUser: "ops; reboot" }), /plain login names/);
        assert.throws(() => renderAuditScript({ ...AUDIT_SETTINGS, backupSchedule: "hourly\nreboot" }), /one line/);
        assert.throws(() => renderAuditScript({ ...AUDIT_SETTINGS, only: ["sshd", "nope"] }), /unknown check group.*nope/);
        assert.throws(() => renderAuditScript({ ...AUDIT_SETTINGS, metadataPaths: ["/x; reboot"] }), /absolute URL paths/);
        const quoted = renderAuditScript({ ...AUDIT_SETTINGS, backupSchedule: "daily'; reboot; '" });
        const probe = spawnSync("bash", ["-c", `${quoted.split("\n").slice(1, 5).join("\n")}\nprintf '%s' "$AUDIT_BACKUP_SCHEDULE"`], {
            encoding: "utf8",
        });
        assert.equal(probe.stdout, "daily'; reboot; '");
    });

    it("has a title and a fix hint for every check the script can print", () => {
        const script = fs.readFileSync(path.join(__dirname, "..", "..", "cloud-init", "audit-host.sh"), "utf8");
        const ids = new Set([...script.matchAll(/emit "?([a-z-]+)(?:\$\{[^}]+\})?"? (?:pass|fail|skip)/g)].map((m) => m[1]));
        // service-${unit%%.*} expands to these two.
        ids.delete("service-");
        for (const id of [...ids, "service-cloudflared", "service-openclaw-backup", "edge-access", "connect"]) {
            assert.ok(CHECKS[id]?.hint, `no hint for check ${id}`);
        }
        for (const group of AUDIT_GROUPS) assert.match(script, new RegExp(`wanted ${group}\\b`), `group ${group} is not in the script`);
        // emit "channel-$channel": one check per channel the config enables.
        assert.match(script, /emit "channel-\$channel"/);
        for (const channel of CHANNEL_IDS) assert.ok(CHECKS[`channel-${channel}`]?.hint, `no hint for check channel-${channel}`);
        assert.ok(ids.size >= 14, [...ids].join(" "));
    });
});

describe("audit output", () => {
    const output = [
        "[noise that is not a result]",
        "AUDIT\tsshd\tfail\tcritical\teffective sshd settings: passwordauthentication yes",
        "AUDIT\tdisk\tfail\twarning\troot filesystem 88% used",
        "AUDIT\tbackup\tskip\tcritical\tno snapshot yet",
        "AUDIT\tfirewall\tpass\tcritical\tactive, deny incoming",
        "AUDIT-END\t4",
        "",
    ].join("\n");

    it("becomes results with titles, and fix hints on failures only", () => {
        const results = parseAuditOutput(output);
        assert.deepEqual(
            results.map((r) => [r.id, r.status, r.severity]),
            [
                ["sshd", "fail", "critical"],
                ["disk", "fail", "warning"],
                ["backup", "skip", "critical"],
                ["firewall", "pass", "critical"],
            ],
        );
        assert.equal(results[0].title, CHECKS.sshd.title);
        assert.equal(results[0].hint, CHECKS.sshd.hint);
        assert.equal(results[2].hint, "");
        assert.equal(results[3].hint, "");
    });

    it("is refused when the audit stopped early or printed a bad line", () => {
        assert.throws(() => parseAuditOutput(output.replace("AUDIT-END\t4", "")), /stopped before its end/);
        assert.throws(() => parseAuditOutput(`AUDIT\tsshd\tmaybe\tcritical\tx\nAUDIT-END\t1\n`), /unreadable audit line/);
    });

    it("fails the run on a critical failure only; warnings and skips do not", () => {
        const critical = buildReport("ops@h:22", parseAuditOutput(output));
        assert.equal(critical.critical, 1);
        assert.equal(critical.warnings, 1);
        assert.equal(critical.ok, false);
        assert.equal(exitCodeOf(critical), 1);
        const text = formatChecklist(critical);
        assert.match(
            text,
            /^✗ sshd: key-only, no root, MaxAuthTries <= 3 \[CRITICAL\]: effective sshd settings: passwordauthentication yes$/m,
        );
        assert.match(text, /^ {4}fix: a drop-in in \/etc\/ssh\/sshd_config\.d\//m);
        assert.match(text, /^✗ disk headroom \[warning\]: root filesystem 88% used$/m);
        assert.match(text, /^– last successful backup within the schedule: no snapshot yet$/m);
        assert.match(text, /^✓ UFW active, deny incoming, SSH only: active, deny incoming$/m);
        assert.match(text, /^FAILED: 1 critical failure, 1 warning$/m);

        const warningsOnly = buildReport("ops@h:22", [
            checkResult("disk", "fail", "warning", "88%"),
            checkResult("backup", "skip", "critical", "none yet"),
        ]);
        assert.equal(exitCodeOf(warningsOnly), 0);
        assert.match(formatChecklist(warningsOnly), /^OK: no critical failure \(1 warning\)$/m);
    });
});

/** A local server answering every request with the given status and headers. */
async function answering(status: number, headers: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((_req, res) => {
        res.writeHead(status, headers);
        res.end(status === 200 ? '{"ok":true}' : "");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

describe("outside check (local servers standing in for the edge)", () => {
    const cases: { name: string; status: number; headers: Record<string, string>; expect: [string, string]; summary: RegExp }[] = [
        {
            name: "Access redirect to the team's login passes",
            status: 302,
            headers: {
                location: "https://example.cloudflareaccess.com/cdn-cgi/access/login/agent.example.com?kid=1",
                server: "cloudflare",
            },
            expect: ["pass", "critical"],
            summary: /HTTP 302 to the Access login at example\.cloudflareaccess\.com/,
        },
        {
            name: "a redirect to another team's login is a warning",
            status: 302,
            headers: { location: "https://someone-else.cloudflareaccess.com/cdn-cgi/access/login/x" },
            expect: ["fail", "warning"],
            summary: /not example\.cloudflareaccess\.com/,
        },
        {
            name: "a redirect to Access on the hostname itself passes",
            status: 302,
            headers: { location: "/cdn-cgi/access/login?redirect_url=%2F" },
            expect: ["pass", "critical"],
            summary: /Cloudflare Access \(\/cdn-cgi\/access\/login\)/,
        },
        {
            name: "a redirect anywhere else is critical",
            status: 302,
            headers: { location: "https://evil.example.net/login" },
            expect: ["fail", "critical"],
            summary: /redirects to https:\/\/evil\.example\.net\/login, not to Cloudflare Access/,
        },
        {
            name: "403 from Cloudflare passes",
            status: 403,
            headers: { server: "cloudflare", "cf-ray": "1-FRA" },
            expect: ["pass", "critical"],
            summary: /HTTP 403 from Cloudflare/,
        },
        {
            name: "401 not from Cloudflare is critical",
            status: 401,
            headers: { server: "nginx" },
            expect: ["fail", "critical"],
            summary: /answered HTTP 401 without Access/,
        },
        {
            name: "the gateway answering 200 is critical",
            status: 200,
            headers: { "content-type": "application/json" },
            expect: ["fail", "critical"],
            summary: /HTTP 200 .*the gateway may be public/,
        },
    ];
    for (const c of cases) {
        it(c.name, async () => {
            const server = await answering(c.status, c.headers);
            try {
                const result = await checkEdge({ url: server.url, teamName: "example" });
                assert.equal(result.id, "edge-access");
                assert.deepEqual([result.status, result.severity], c.expect, result.summary);
                assert.match(result.summary, c.summary);
                assert.equal(result.hint === "", result.status !== "fail");
            } finally {
                await server.close();
            }
        });
    }

    it("an unreachable hostname is critical", async () => {
        const server = await answering(200, {});
        const url = server.url;
        await server.close();
        const result = await checkEdge({ url, teamName: "example", timeoutMs: 3_000 });
        assert.deepEqual([result.status, result.severity], ["fail", "critical"]);
        assert.match(result.summary, /unreachable: .*ECONNREFUSED/);
    });
});

describe("verify target from a stack", () => {
    let dir: string;
    const calls: string[][] = [];
    const pulumi = {
        run: async (args: string[]) => {
            calls.push(args);
            return {
                code: 0,
                stdout: JSON.stringify({
                    serverIpv4: "203.0.113.10",
                    sshCommand: "ssh admin7@203.0.113.10",
                    url: "https://agent.example.com",
                    gatewayToken: "[secret]",
                }),
                stderr: "",
            };
        },
    };

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-target-"));
        const example = fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.prod.yaml"), "utf8");
        fs.writeFileSync(
            path.join(dir, "Pulumi.live.yaml"),
            example
                .replace(
                    "openclaw-vps:backupSchedule: hourly",
                    "openclaw-vps:backupSchedule: daily\n  openclaw-vps:gatewayPort: 18800\n  openclaw-vps:adminUser: admin7",
                )
                .replace("openclaw-vps:provider: hetzner", "openclaw-vps:provider: digitalocean")
                .replace("openclaw-vps:region: fsn1", "openclaw-vps:region: fra1")
                .replace("openclaw-vps:serverType: cx23", "openclaw-vps:serverType: s-2vcpu-2gb"),
        );
        fs.mkdirSync(path.join(dir, ".ssh"));
        fs.writeFileSync(path.join(dir, ".ssh", "id_ed25519"), "KEY-TEXT");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("takes host and user from the outputs and the expected settings from the config", async () => {
        const { options, notes } = await resolveVerifyTarget({ stack: "live" }, { pulumi, env: {}, home: dir, root: dir });
        assert.deepEqual(calls.at(-1), ["stack", "output", "--json", "--stack", "live"]);
        assert.equal(options.connect.host, "203.0.113.10");
        assert.equal(options.connect.username, "admin7");
        assert.equal(options.connect.port, 22);
        assert.equal(options.connect.privateKey, "KEY-TEXT");
        assert.equal(options.connect.hostKey, "accept-any");
        assert.match(notes.join("\n"), /host key of 203\.0\.113\.10 is not pinned/);
        assert.deepEqual(options.audit, {
            adminUser: "admin7",
            agentUser: "openclaw",
            gatewayPort: 18800,
            backupSchedule: "daily",
            metadataPaths: ["/metadata/v1/user-data"],
            metadataBase: undefined,
            only: undefined,
        });
        assert.deepEqual(options.edge, { url: "https://agent.example.com/", teamName: "example" });
    });

    it("lets the command line win, and pins the host key from known_hosts (hashed entries too)", async () => {
        const knownHosts = path.join(dir, "known_hosts");
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIObQEt+uo/bXbGBubPD3Z7Y5/6/9RzR04JO/vOJQm/77";
        fs.writeFileSync(knownHosts, `[198.51.100.4]:2222 ${key}\n`);
        spawnSync("ssh-keygen", ["-H", "-f", knownHosts]);
        assert.doesNotMatch(fs.readFileSync(knownHosts, "utf8"), /198\.51\.100\.4/, "known_hosts is hashed");
        assert.deepEqual(knownHostKeys("198.51.100.4", 2222, knownHosts), [key]);
        const { options, notes } = await resolveVerifyTarget(
            {
                stack: "live",
                host: "198.51.100.4",
                port: 2222,
                user: "ops",
                knownHosts,
                url: "https://other.example.org",
                team: "t2",
                only: ["sshd"],
            },
            { pulumi, env: {}, home: dir, root: dir },
        );
        assert.equal(options.connect.host, "198.51.100.4");
        assert.equal(options.connect.username, "ops");
        assert.deepEqual(options.connect.hostKey, [key]);
        assert.deepEqual(notes, []);
        assert.equal(options.audit.adminUser, "ops");
        assert.deepEqual(options.audit.only, ["sshd"]);
        assert.deepEqual(options.edge, { url: "https://other.example.org/", teamName: "t2" });
    });

    it("says what is missing instead of guessing", async () => {
        await assert.rejects(
            resolveVerifyTarget({ host: "198.51.100.4" }, { pulumi, env: {}, home: path.join(dir, "nowhere") }),
            /no SSH private key/,
        );
        await assert.rejects(
            resolveVerifyTarget({ stack: "absent" }, { pulumi, env: {}, home: dir, root: dir }),
            /no stack file Pulumi\.absent\.yaml/,
        );
        const failing = { run: async () => ({ code: 255, stdout: "", stderr: "error: no stack named 'live' found" }) };
        await assert.rejects(
            resolveVerifyTarget({ stack: "live" }, { pulumi: failing, env: {}, home: dir, root: dir }),
            /pulumi stack output --stack live failed: error: no stack named/,
        );
    });
});

describe("verify CLI", () => {
    it(
        "reads the stack through OPENCLAW_VPS_PULUMI, checks the edge, and exits 1 when the host is unreachable",
        { timeout: 600_000 },
        async () => {
            const edge = await startEdgeStandIn("access");
            const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "verify-cli-"));
            const key = keyFile("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n");
            try {
                // A closed local port: the connection fails fast.
                const closed = await answering(200, {});
                const port = Number(new URL(closed.url).port);
                await closed.close();
                const fakePulumi = path.join(tmp, "pulumi");
                fs.writeFileSync(
                    fakePulumi,
                    `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >>${tmp}/calls\nprintf '%s' '${JSON.stringify({ serverIpv4: "127.0.0.1", sshCommand: "ssh ops@127.0.0.1", url: edge.url.replace(/\/$/, "") })}'\n`,
                    { mode: 0o755 },
                );
                const result = await runVerifyCli(
                    ["--stack", "prod", "--port", String(port), "--key", key.file, "--json", "--team", STANDIN_TEAM],
                    {
                        OPENCLAW_VPS_PULUMI: fakePulumi,
                    },
                );
                assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
                assert.equal(fs.readFileSync(path.join(tmp, "calls"), "utf8"), "stack output --json --stack prod\n");
                const report = JSON.parse(result.stdout);
                assert.equal(report.target, `ops@127.0.0.1:${port}`);
                assert.equal(report.ok, false);
                const byId = Object.fromEntries(report.checks.map((c: { id: string }) => [c.id, c]));
                assert.equal(byId.connect.status, "fail");
                assert.match(byId.connect.summary, /cannot connect to ops@127\.0\.0\.1/);
                assert.equal(byId["edge-access"].status, "pass", byId["edge-access"].summary);
                assert.equal(edge.hits, 1);

                const usage = await runVerifyCli(["--bogus"]);
                assert.equal(usage.code, 2);
                assert.match(usage.stderr, /usage: npm run verify/);
            } finally {
                key.remove();
                fs.rmSync(tmp, { recursive: true, force: true });
                await edge.close();
            }
        },
    );
});
