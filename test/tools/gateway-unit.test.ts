// The gateway's systemd unit (a system unit running as the agent user): the directives the host contract needs, memory
// limits and heap sized from the server's RAM, and systemd's own verdict (`systemd-analyze verify` and
// `security --offline`) on the file.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { gatewayMemoryBudget, renderGatewayUnit } from "../../components/render/gateway-unit";
import { PROJECT_ROOT } from "../../components/core/pins";
import { SENTINEL_SECRETS, tempDir } from "../helpers/openclaw-runtime";

if (spawnSync("sh", ["-c", "command -v systemd-analyze"]).status !== 0) {
    throw new Error("systemd-analyze is missing: apt-get install systemd");
}

/** A unit whose ExecStart points at binaries that exist here (verify checks them). */
function localUnit(extra: Partial<Parameters<typeof renderGatewayUnit>[0]> = {}) {
    return renderGatewayUnit({
        serverMemoryMb: 2048,
        swapMb: 2048,
        nodeBin: process.execPath,
        openclawBin: path.join(PROJECT_ROOT, "node_modules", "openclaw", "openclaw.mjs"),
        ...extra,
    });
}

function analyze(args: string[], unitText: string, name = "openclaw-gateway.service") {
    const dir = tempDir("oc-unit");
    const file = path.join(dir, name);
    fs.writeFileSync(file, unitText);
    const result = spawnSync("systemd-analyze", [...args, file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    return result;
}

const directives = (unit: string) => unit.split("\n").filter((l) => /^[A-Za-z]+=/.test(l));

test("the unit runs the foreground gateway with the contract's restart, secrets and read-only config", () => {
    const { unit } = renderGatewayUnit({ serverMemoryMb: 4096, swapMb: 2048 });
    const lines = directives(unit);
    for (const expected of [
        "ExecStart=/usr/local/bin/node /usr/local/bin/openclaw gateway run",
        "Restart=always",
        "RestartPreventExitStatus=78",
        "User=openclaw",
        "Group=openclaw",
        "EnvironmentFile=/home/openclaw/.openclaw/.env",
        "Environment=OPENCLAW_CONFIG_READONLY=1",
        "Environment=NODE_OPTIONS=--max-old-space-size=2048",
        // Chromium must not move itself out of the unit's cgroup through the user manager (the stand-in's browser turn).
        "Environment=DBUS_SESSION_BUS_ADDRESS=disabled:",
        "WorkingDirectory=/home/openclaw/.openclaw",
        // The unit owns the lifecycle: OpenClaw's doctor must not install a competing user service.
        "Environment=OPENCLAW_SERVICE_REPAIR_POLICY=external",
        "WantedBy=multi-user.target",
        "NoNewPrivileges=yes",
        "UMask=0077",
    ]) {
        assert.ok(lines.includes(expected), `missing ${expected}`);
    }
    assert.equal(lines.filter((l) => l.startsWith("ExecStart=")).length, 1);
    assert.ok(!/%h/.test(unit), "%h is root's home in a system unit, whatever User= says");
    for (const value of Object.values(SENTINEL_SECRETS)) assert.ok(!unit.includes(value));
    assert.doesNotMatch(unit, /TOKEN=|API_KEY=|PASSWORD=/, "no secret assignment in the unit");
});

test("memory budget fits the host: heap, MemoryHigh < MemoryMax < RAM, room left for the OS", () => {
    assert.deepEqual(gatewayMemoryBudget(2048), { heapMb: 1024, memoryHighMb: 1408, memoryMaxMb: 1664 });
    assert.deepEqual(gatewayMemoryBudget(4096), { heapMb: 2048, memoryHighMb: 3008, memoryMaxMb: 3584 });
    assert.deepEqual(gatewayMemoryBudget(8192), { heapMb: 4096, memoryHighMb: 6080, memoryMaxMb: 7168 });
    assert.equal(gatewayMemoryBudget(32768).heapMb, 4096, "heap capped at 4 GB");
    for (const ram of [1536, 2048, 3072, 4096, 8192, 16384, 32768]) {
        const b = gatewayMemoryBudget(ram);
        assert.ok(b.heapMb < b.memoryMaxMb && b.memoryHighMb < b.memoryMaxMb && b.memoryMaxMb <= ram - 384, `${ram}: ${JSON.stringify(b)}`);
    }
    const { unit } = renderGatewayUnit({ serverMemoryMb: 2048, swapMb: 2048 });
    assert.match(unit, /^MemoryHigh=1408M$/m);
    assert.match(unit, /^MemoryMax=1664M$/m);
    assert.throws(() => gatewayMemoryBudget(1024), /at least 1536 MB/);
});

test("a 2 GB host without swap is flagged; with swap it is not", () => {
    assert.equal(renderGatewayUnit({ serverMemoryMb: 2048, swapMb: 0 }).warnings.length, 1);
    assert.deepEqual(renderGatewayUnit({ serverMemoryMb: 2048, swapMb: 2048 }).warnings, []);
    assert.deepEqual(renderGatewayUnit({ serverMemoryMb: 4096, swapMb: 0 }).warnings, []);
    assert.throws(() => renderGatewayUnit({ serverMemoryMb: 2048, swapMb: 0, nodeBin: "node" }), /nodeBin/);
});

test("systemd-analyze verify accepts the unit with no warning at all", () => {
    const result = analyze(["verify"], localUnit().unit);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), "", "every directive is known and valid");
});

test("negative controls: verify reports a bad directive value and a missing binary", () => {
    const badValue = analyze(["verify"], localUnit().unit.replace("Restart=always", "Restart=sometimes"));
    assert.match(badValue.stderr, /restart specifier/i);
    const unknownKey = analyze(["verify"], localUnit().unit.replace("UMask=0077", "UMask=0077\nProtectEverything=yes"));
    assert.match(unknownKey.stderr, /ProtectEverything/);
    const missing = analyze(["verify"], localUnit({ nodeBin: "/nonexistent/node" }).unit);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /not executable/);
});

test("systemd's offline security review counts the sandbox as effective", () => {
    const hardened = analyze(["security", "--offline=yes"], localUnit().unit);
    assert.equal(hardened.status, 0, hardened.stderr);
    for (const name of [
        "NoNewPrivileges=",
        "LockPersonality=",
        "RestrictRealtime=",
        "SystemCallArchitectures=",
        "UMask=",
        "RestrictAddressFamilies=~AF_PACKET",
        "ProtectSystem=",
        "PrivateTmp=",
        "PrivateDevices=",
        "ProtectKernelTunables=",
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
        "RestrictNamespaces=~mnt",
        "SystemCallFilter=~@module",
    ]) {
        const row = hardened.stdout.split("\n").find((l) => l.includes(name));
        assert.ok(row && row.trimStart().startsWith("✓"), `${name}: ${row}`);
    }
    const plain = localUnit()
        .unit.split("\n")
        .filter(
            (l) =>
                !/^(UMask|NoNewPrivileges|LockPersonality|Restrict\w+|SystemCall\w+|Protect\w+|Private\w+|Capability\w+|Keyring\w+)=/.test(
                    l,
                ),
        )
        .join("\n");
    const score = (out: string) => Number(/exposure level for \S+: ([\d.]+)/.exec(out)?.[1]);
    const unhardened = analyze(["security", "--offline=yes"], plain);
    console.log(`# exposure: hardened ${score(hardened.stdout)}, without hardening ${score(unhardened.stdout)}`);
    assert.ok(score(hardened.stdout) < score(unhardened.stdout));
});
