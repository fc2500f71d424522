// Unit tests of the push bundle model (components/render/bundle.ts): validation, the rendered script's shape (contents
// only inside quoted base64 heredocs, secrets nowhere in plain), and the digests Pulumi uses as triggers.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
    Bundle,
    BundleFile,
    LAYOUT_DIGEST_KEY,
    SECRETS_DIGEST_KEY,
    bundleDigests,
    fileEffects,
    renderBundleScript,
    validateBundle,
} from "../../components/render/bundle";

const SENTINEL_TOKEN = "SENTINEL-tunnel-token-7f3a9c";
const SENTINEL_KEY = "SENTINEL-llm-key-b41d2e";

function sampleBundle(): Bundle {
    return {
        agentUser: "openclaw",
        services: [{ unit: "cloudflared.service" }, { unit: "openclaw-gateway.service" }],
        dirs: [{ path: "/home/openclaw/.openclaw", owner: "openclaw", group: "openclaw", mode: "0700" }],
        files: [
            {
                path: "/etc/systemd/system/cloudflared.service",
                content: "[Unit]\n",
                owner: "root",
                group: "root",
                mode: "0644",
                policy: "replace",
                secret: false,
                affects: ["cloudflared.service"],
            },
            {
                path: "/etc/cloudflared/tunnel.env",
                content: `TUNNEL_TOKEN=${SENTINEL_TOKEN}\n`,
                owner: "root",
                group: "root",
                mode: "0600",
                policy: "replace",
                secret: true,
                affects: ["cloudflared.service"],
            },
            {
                path: "/home/openclaw/.openclaw/.env",
                content: `ANTHROPIC_API_KEY=${SENTINEL_KEY}\n`,
                owner: "openclaw",
                group: "openclaw",
                mode: "0600",
                policy: "replace",
                secret: true,
                affects: ["openclaw-gateway.service"],
            },
            {
                path: "/home/openclaw/.openclaw/workspace/SOUL.md",
                content: "# Soul\nNever run rm -rf.\n",
                owner: "openclaw",
                group: "openclaw",
                mode: "0600",
                policy: "replace",
                secret: false,
            },
            {
                path: "/home/openclaw/.openclaw/workspace/MEMORY.md",
                content: "# Memory\n",
                owner: "openclaw",
                group: "openclaw",
                mode: "0600",
                policy: "create-only",
                secret: false,
            },
        ],
        restore: { from: "latest", script: "/opt/openclaw-vps/bin/restore.sh", marker: "/var/lib/openclaw-vps/restore.done" },
        readiness: { url: "http://127.0.0.1:18789/readyz", unit: "openclaw-gateway.service", timeoutSeconds: 120 },
    };
}

function withFile(bundle: Bundle, p: string, change: Partial<BundleFile>): Bundle {
    return { ...bundle, files: bundle.files.map((f) => (f.path === p ? { ...f, ...change } : f)) };
}

/** The bundle_file calls of a rendered script with their decoded contents, and the script with heredocs cut out. */
function parseScript(script: string): { files: Map<string, { header: string; content: string }>; outside: string } {
    const files = new Map<string, { header: string; content: string }>();
    const outside: string[] = [];
    const lines = script.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const m = /^ {4}bundle_file '([^']+)' .*<<'(\w+)'$/.exec(lines[i]);
        outside.push(lines[i]);
        if (!m) continue;
        const body: string[] = [];
        for (i++; lines[i] !== m[2]; i++) {
            assert.ok(i < lines.length, `heredoc of ${m[1]} is not terminated`);
            body.push(lines[i]);
        }
        files.set(m[1], { header: lines[i - body.length - 1], content: Buffer.from(body.join(""), "base64").toString("utf8") });
    }
    return { files, outside: outside.join("\n") };
}

test("every file's content round-trips byte for byte through its heredoc, even content that looks like a terminator", () => {
    const tricky = "line\nOPENCLAW_VPS_BUNDLE_EOF\n$(rm -rf /) `id` ${HOME} 'q' \"dq\" \\ ünïcødé ✓";
    const bundle: Bundle = {
        ...sampleBundle(),
        files: [
            ...sampleBundle().files,
            {
                path: "/etc/openclaw-vps/tricky",
                content: tricky,
                owner: "root",
                group: "root",
                mode: "0644",
                policy: "replace",
                secret: false,
            },
            { path: "/etc/openclaw-vps/empty", content: "", owner: "root", group: "root", mode: "0644", policy: "replace", secret: false },
        ],
    };
    const { files } = parseScript(renderBundleScript(bundle));
    assert.equal(files.size, bundle.files.length);
    for (const f of bundle.files) assert.equal(files.get(f.path)?.content, f.content, f.path);
});

test("secrets appear in the script only base64-encoded inside their own heredoc, never in plain", () => {
    const bundle = sampleBundle();
    const script = renderBundleScript(bundle);
    const { outside, files } = parseScript(script);
    for (const sentinel of [SENTINEL_TOKEN, SENTINEL_KEY]) {
        assert.ok(!script.includes(sentinel), `${sentinel} in plain text`);
    }
    for (const f of bundle.files.filter((x) => x.secret)) {
        const encoded = Buffer.from(f.content).toString("base64");
        assert.ok(!outside.includes(encoded.slice(0, 20)), `${f.path}: its base64 leaks outside its heredoc`);
        assert.equal(files.get(f.path)?.content, f.content);
        // The call line carries path, owner, mode and effects only.
        assert.ok(!files.get(f.path)!.header.includes("SENTINEL"));
    }
    assert.ok(!/set -x|xtrace/.test(script.replace(/^#.*$/gm, "")), "the script must never trace commands");
    assert.match(script, /\nbundle_main <\/dev\/null\n$/, "everything runs from one call at the very end");
});

test("the generated calls carry owner, group, mode, policy, stage and effects", () => {
    const { files } = parseScript(renderBundleScript(sampleBundle()));
    assert.equal(
        files.get("/etc/systemd/system/cloudflared.service")?.header,
        "    bundle_file '/etc/systemd/system/cloudflared.service' 'root' 'root' '0644' replace host " +
            "'daemon-reload,restart:cloudflared.service' <<'OPENCLAW_VPS_BUNDLE_EOF'",
    );
    assert.match(files.get("/home/openclaw/.openclaw/workspace/MEMORY.md")!.header, / '0600' create-only agent '-' </);
    assert.match(files.get("/home/openclaw/.openclaw/.env")!.header, / replace agent 'restart:openclaw-gateway.service' </);
});

test("file effects: units reload systemd, affects restart their units or reinstall the plugins", () => {
    const base = { content: "", owner: "root", group: "root", mode: "0644", policy: "replace" as const, secret: false };
    assert.deepEqual(fileEffects({ ...base, path: "/etc/systemd/system/openclaw-backup.timer", affects: ["openclaw-backup.timer"] }), [
        "daemon-reload",
        "restart:openclaw-backup.timer",
    ]);
    assert.deepEqual(
        fileEffects({
            ...base,
            path: "/etc/systemd/system/openclaw-gateway.service",
            affects: ["openclaw-gateway.service", "plugins"],
        }),
        ["daemon-reload", "restart:openclaw-gateway.service", "install-plugins"],
    );
    assert.deepEqual(fileEffects({ ...base, path: "/home/openclaw/.openclaw/workspace/SOUL.md" }), []);
});

test("a content change moves exactly that file's digest; a secret change moves only the secrets digest", () => {
    const before = bundleDigests(sampleBundle());
    assert.deepEqual(bundleDigests(sampleBundle()), before, "digests are deterministic");
    assert.deepEqual(
        Object.keys(before).sort(),
        [
            "/etc/systemd/system/cloudflared.service",
            "/home/openclaw/.openclaw/workspace/MEMORY.md",
            "/home/openclaw/.openclaw/workspace/SOUL.md",
            LAYOUT_DIGEST_KEY,
            SECRETS_DIGEST_KEY,
        ].sort(),
        "one digest per non-secret file, one for all secrets, one for the layout",
    );

    const soul = bundleDigests(withFile(sampleBundle(), "/home/openclaw/.openclaw/workspace/SOUL.md", { content: "# Soul v2\n" }));
    const moved = Object.keys(before).filter((k) => soul[k] !== before[k]);
    assert.deepEqual(moved, ["/home/openclaw/.openclaw/workspace/SOUL.md"]);

    const rotated = bundleDigests(withFile(sampleBundle(), "/etc/cloudflared/tunnel.env", { content: "TUNNEL_TOKEN=SENTINEL-new\n" }));
    assert.deepEqual(
        Object.keys(before).filter((k) => rotated[k] !== before[k]),
        [SECRETS_DIGEST_KEY],
    );

    const remoded = bundleDigests(withFile(sampleBundle(), "/home/openclaw/.openclaw/workspace/SOUL.md", { mode: "0640" }));
    assert.deepEqual(
        Object.keys(before).filter((k) => remoded[k] !== before[k]),
        [LAYOUT_DIGEST_KEY],
        "metadata changes move only the layout digest",
    );

    const text = JSON.stringify(before);
    assert.ok(!text.includes(SENTINEL_TOKEN) && !text.includes(SENTINEL_KEY), "no secret in the digests");
});

test("validation names every problem: relative or odd paths, readable secrets, unknown units, bad snapshots", () => {
    const bad: Bundle = {
        ...sampleBundle(),
        files: [
            ...sampleBundle().files,
            { path: "etc/relative", content: "", owner: "root", group: "root", mode: "0644", policy: "replace", secret: false },
            { path: "/etc/a/../b", content: "", owner: "root", group: "root", mode: "0644", policy: "replace", secret: false },
            { path: "/etc/with space", content: "", owner: "root", group: "root", mode: "0644", policy: "replace", secret: false },
            { path: "/etc/leaky.env", content: "K=v", owner: "root", group: "root", mode: "0640", policy: "replace", secret: true },
            {
                path: "/etc/x",
                content: "",
                owner: "Root;",
                group: "root",
                mode: "644",
                policy: "replace",
                secret: false,
                affects: ["nginx.service"],
            },
            {
                path: "/etc/cloudflared/tunnel.env",
                content: "",
                owner: "root",
                group: "root",
                mode: "0600",
                policy: "replace",
                secret: true,
            },
        ],
        restore: { from: "yesterday", script: "/opt/openclaw-vps/bin/restore.sh", marker: "/var/lib/openclaw-vps/restore.done" },
        readiness: { url: "http://0.0.0.0:18789/readyz", unit: "openclaw-gateway.service", timeoutSeconds: 0 },
        retireUserUnit: "gateway; rm -rf /",
    };
    const problems = validateBundle(bad).join("\n");
    for (const expected of [
        /etc\/relative.*must be absolute/,
        /\/etc\/a\/\.\.\/b.*must be absolute/,
        /with space.*must be absolute/,
        /leaky\.env: a secret must not be readable/,
        /owner "Root;" is not a user name/,
        /mode "644" must look like 0644/,
        /affects "nginx.service", which is not a declared service/,
        /\/etc\/cloudflared\/tunnel.env is listed twice/,
        /restore.from "yesterday"/,
        /readiness.url .* must be http:\/\/127\.0\.0\.1/,
        /timeoutSeconds must be a positive integer/,
        /retireUserUnit "gateway; rm -rf \/" is not a unit name/,
    ]) {
        assert.match(problems, expected);
    }
    assert.throws(() => renderBundleScript(bad), /invalid push bundle/);
    assert.deepEqual(validateBundle(sampleBundle()), []);
});

test("only PATH and OPENCLAW_VPS_* may be overridden, and only by explicit render options", () => {
    assert.ok(!renderBundleScript(sampleBundle()).includes("export OPENCLAW_VPS_ROOT"));
    assert.match(
        renderBundleScript(sampleBundle(), { environment: { OPENCLAW_VPS_ROOT: "/tmp/r o'ot" } }),
        /^export OPENCLAW_VPS_ROOT='\/tmp\/r o'\\''ot'$/m,
    );
    assert.throws(() => renderBundleScript(sampleBundle(), { environment: { LD_PRELOAD: "/x.so" } }), /not allowed/);
});
