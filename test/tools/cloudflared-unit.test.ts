// The cloudflared system unit (components/render/cloudflared-unit.ts) checked by systemd itself: `systemd-analyze
// verify` accepts it without a single warning for every protocol, `systemd-analyze security` rates its hardening, and
// the tunnel token is in no part of the unit or its command line (only in the 0600 environment file).
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    CLOUDFLARED_BINARY,
    CLOUDFLARED_UNIT_PATH,
    TUNNEL_ENV_PATH,
    renderCloudflaredUnit,
    renderTunnelEnv,
} from "../../components/render/cloudflared-unit";

const SENTINEL_TOKEN = "eyJhIjoiU0VOVElORUwtdHVubmVsLXRva2VuLWE5YjhjNyJ9"; // base64 like a real token
let root: string;

function analyze(args: string[]): { code: number; output: string } {
    const r = spawnSync("systemd-analyze", args, { encoding: "utf8" });
    if (r.error) throw new Error(`systemd-analyze is missing (${r.error.message}): apt-get install systemd`);
    return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** Installs the unit into an offline root that has systemd's own units and a stand-in cloudflared binary. */
function install(unit: string): void {
    fs.writeFileSync(path.join(root, CLOUDFLARED_UNIT_PATH), unit);
}

before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "cloudflared-unit-"));
    fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true });
    fs.mkdirSync(path.join(root, path.dirname(CLOUDFLARED_UNIT_PATH)), { recursive: true });
    fs.mkdirSync(path.join(root, path.dirname(CLOUDFLARED_BINARY)), { recursive: true });
    // verify checks that ExecStart is executable; cloudflared itself comes from Cloudflare's .deb on the host.
    fs.writeFileSync(path.join(root, CLOUDFLARED_BINARY), "#!/bin/sh\n", { mode: 0o755 });
    fs.mkdirSync(path.join(root, path.dirname(TUNNEL_ENV_PATH)), { recursive: true });
    fs.writeFileSync(path.join(root, TUNNEL_ENV_PATH), renderTunnelEnv(SENTINEL_TOKEN), { mode: 0o600 });
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

for (const protocol of ["auto", "http2", "quic"] as const) {
    test(`systemd-analyze verify accepts the unit without warnings (protocol ${protocol})`, () => {
        const unit = renderCloudflaredUnit({ protocol });
        install(unit);
        const { code, output } = analyze(["verify", `--root=${root}`, CLOUDFLARED_UNIT_PATH]);
        assert.equal(code, 0, output);
        assert.equal(output.trim(), "", `systemd warned:\n${output}`);
        const execStart = unit.split("\n").filter((l) => l.startsWith("ExecStart="));
        assert.deepEqual(execStart, [`ExecStart=${CLOUDFLARED_BINARY} --no-autoupdate tunnel --protocol ${protocol} run`]);
    });
}

test("verify is a real check: a misspelt directive is reported", () => {
    install(renderCloudflaredUnit({ protocol: "auto" }).replace("ProtectClock=", "ProtectClok="));
    const { output } = analyze(["verify", `--root=${root}`, CLOUDFLARED_UNIT_PATH]);
    assert.match(output, /Unknown key 'ProtectClok'/);
});

test("the token reaches cloudflared only through EnvironmentFile (TUNNEL_TOKEN), never in the unit or its argv", () => {
    const unit = renderCloudflaredUnit({ protocol: "auto" });
    assert.ok(!unit.includes(SENTINEL_TOKEN));
    assert.ok(!/--token|TUNNEL_TOKEN=/.test(unit.replace(/^#.*$/gm, "")), "no token flag or inline token");
    assert.match(unit, new RegExp(`^EnvironmentFile=${TUNNEL_ENV_PATH}$`, "m"));
    assert.equal(renderTunnelEnv(SENTINEL_TOKEN), `TUNNEL_TOKEN=${SENTINEL_TOKEN}\n`);
    // A token that could inject another setting is refused, and the refusal does not echo it.
    const hostile = "abcdefghijklmnopqrstuvwxyz\nExecStartPre=/bin/sh";
    assert.throws(
        () => renderTunnelEnv(hostile),
        (err: Error) => /does not look like a Cloudflare tunnel token/.test(err.message) && !err.message.includes("abcdefghij"),
    );
    assert.throws(() => renderCloudflaredUnit({ protocol: "udp" as never }), /protocol must be one of auto, http2, quic/);
});

test("systemd-analyze security rates the hardening OK (exposure at most 2.0)", () => {
    install(renderCloudflaredUnit({ protocol: "auto" }));
    const { output } = analyze(["security", "--offline=true", `--root=${root}`, CLOUDFLARED_UNIT_PATH]);
    const m = /Overall exposure level for cloudflared\.service: (\d+\.\d+)/.exec(output);
    assert.ok(m, output);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}:\n${output}`);
    for (const directive of [
        "User=/DynamicUser=",
        "NoNewPrivileges=",
        "ProtectSystem=",
        "ProtectHome=",
        "PrivateDevices=",
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
    ]) {
        assert.ok(
            output.split("\n").some((l) => l.startsWith(`✓ ${directive} `)),
            `${directive} is not counted as hardened`,
        );
    }
});
