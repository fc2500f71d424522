// The laptop-side config for reaching the agent through Access: the pinned OpenClaw accepts it, it names env vars
// only (no secret inside), and the env file it pairs with is written 0600.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { CLIENT_ENV, renderClientConfig, renderClientEnv } from "../../components/render/client-config";

const openclaw = path.join(PROJECT_ROOT, "node_modules", ".bin", "openclaw");

function validate(json: string): { status: number | null; out: string } {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "client-config-"));
    const file = path.join(home, "openclaw.json");
    fs.writeFileSync(file, json, { mode: 0o600 });
    const res = spawnSync(openclaw, ["config", "validate", "--json"], {
        env: { PATH: process.env.PATH, HOME: home, OPENCLAW_CONFIG_PATH: file },
        encoding: "utf8",
    });
    fs.rmSync(home, { recursive: true, force: true });
    return { status: res.status, out: res.stdout + res.stderr };
}

test("the pinned OpenClaw accepts the remote client config; a wrong mode is rejected", () => {
    const json = renderClientConfig({ hostname: "agent.example.com" });
    const ok = validate(json);
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /"valid":\s*true/);
    const parsed = JSON.parse(json);
    assert.equal(parsed.gateway.remote.url, "wss://agent.example.com");
    assert.deepEqual(Object.keys(parsed.gateway.remote.edgeAuth).sort(), ["CF-Access-Client-Id", "CF-Access-Client-Secret"]);
    const bad = validate(json.replace('"remote",', '"remote-ish",'));
    assert.notEqual(bad.status, 0, "the negative control must fail validation");
});

test("the config names env vars only; the env file carries the values", () => {
    const values = { accessClientId: "SENTINEL-id.access", accessClientSecret: "SENTINEL-secret", gatewayToken: "SENTINEL-token" };
    assert.doesNotMatch(renderClientConfig({ hostname: "agent.example.com" }), /SENTINEL/);
    const env = renderClientEnv(values);
    for (const name of Object.values(CLIENT_ENV)) assert.match(env, new RegExp(`^${name}=SENTINEL`, "m"));
    assert.throws(() => renderClientEnv({ ...values, gatewayToken: "two words" }), /one printable token/);
    assert.throws(() => renderClientConfig({ hostname: "not a host" }), /not an FQDN/);
});
