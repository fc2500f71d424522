// The root oneshots' sandbox (components/render/sandbox.ts): bad input is refused by name, and every place the backup
// and the watchdog write to stays writable under ProtectSystem=strict. A path missing here is exactly how the sandbox
// broke on the stand-in once (OpenClaw's CLI temp dir); systemd's own rating is in test/tools/unit-security.test.ts
// and the units run for real inside it on the stand-in (test/vps/deploy.test.ts, watchdog.test.ts, upgrade.test.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HOST_DIRS, HOST_FILES } from "../../components/core/host-contract";
import { renderBackupService } from "../../components/render/backup-units";
import { renderGatewayUnit } from "../../components/render/gateway-unit";
import { renderIntegrityService, renderRootkitService } from "../../components/render/integrity";
import { backgroundPriority, BACKGROUND_CPU_WEIGHT, OPENCLAW_CLI_WRITABLE, renderSandbox } from "../../components/render/sandbox";
import { renderWatchdogService } from "../../components/render/watchdog";

function directive(unit: string, key: string): string[] {
    return unit
        .split("\n")
        .filter((l) => l.startsWith(`${key}=`))
        .map((l) => l.slice(key.length + 1));
}

function writable(unit: string): string[] {
    return directive(unit, "ReadWritePaths").flatMap((v) => v.split(" ").map((p) => p.replace(/^-/, "")));
}

const under = (path: string, dirs: string[]) => dirs.some((d) => path === d || path.startsWith(`${d}/`));

describe("the root oneshots' sandbox", () => {
    test("refuses a capability or a path it cannot render, naming it", () => {
        assert.throws(() => renderSandbox({ why: "x", capabilities: { SYS_ADMIN: "no CAP_ prefix" } }), /SYS_ADMIN is not a capability/);
        assert.throws(
            () => renderSandbox({ why: "x", capabilities: {}, readWritePaths: ["var/lib"] }),
            /"var\/lib" is not a plain absolute path/,
        );
        assert.throws(
            () => renderSandbox({ why: "x", capabilities: {}, readWritePaths: ["/tmp/a b"] }),
            /"\/tmp\/a b" is not a plain absolute path/,
        );
    });

    test("the backup can write its state, the agent's state and OpenClaw's CLI temp dir, and nothing else", () => {
        const unit = renderBackupService();
        assert.deepEqual(directive(unit, "ProtectSystem"), ["strict"]);
        const dirs = writable(unit);
        for (const path of [HOST_FILES.backupStatus, HOST_FILES.backupLock, HOST_FILES.backupIndex, `${HOST_DIRS.state}/backup-staging`])
            assert.ok(under(path, dirs), `${path} is not writable in the backup's sandbox (${dirs.join(" ")})`);
        assert.ok(
            under(`${HOST_DIRS.agentState}/state/openclaw.sqlite`, dirs),
            "the agent's state dir (OpenClaw's backup writes its lock there)",
        );
        assert.ok(under(`${OPENCLAW_CLI_WRITABLE}/openclaw-1001`, dirs), "OpenClaw's CLI temp dir");
        assert.deepEqual(dirs.sort(), [HOST_DIRS.state, HOST_DIRS.agentState, OPENCLAW_CLI_WRITABLE].sort());
    });

    test("the watchdog writes only its own state directory, ufw's lock and OpenClaw's CLI temp dir", () => {
        const unit = renderWatchdogService();
        assert.deepEqual(directive(unit, "ProtectSystem"), ["strict"]);
        assert.deepEqual(directive(unit, "StateDirectory"), [HOST_FILES.watchdogState.replace(/^\/var\/lib\//, "")]);
        assert.deepEqual(writable(unit).sort(), ["/run/ufw.lock", OPENCLAW_CLI_WRITABLE].sort());
    });

    test("each capability kept is explained in the unit, and the bounding set is exactly those", () => {
        for (const unit of [renderBackupService(), renderWatchdogService()]) {
            const caps = directive(unit, "CapabilityBoundingSet")[0].split(" ");
            assert.ok(caps.length > 0 && !caps.includes("CAP_SYS_ADMIN"), caps.join(" "));
            for (const cap of caps) assert.match(unit, new RegExp(`^#   ${cap}: \\S`, "m"), `${cap} has no reason`);
            assert.deepEqual(directive(unit, "AmbientCapabilities"), [""]);
        }
    });
});

describe("background units yield to the gateway", () => {
    const background = {
        backup: renderBackupService(),
        watchdog: renderWatchdogService(),
        integrity: renderIntegrityService(),
        "rootkit scan": renderRootkitService(),
    };
    // systemd's default weight (100) where the gateway's unit sets none.
    const gatewayWeight = Number(directive(renderGatewayUnit({ serverMemoryMb: 2048, swapMb: 2048 }).unit, "CPUWeight")[0] ?? 100);

    test("each weighs a fifth of the gateway or less on the CPU, runs niced and in the idle I/O class, each directive once", () => {
        for (const [name, unit] of Object.entries(background)) {
            const weights = directive(unit, "CPUWeight").map(Number);
            assert.equal(weights.length, 1, `${name}: ${weights.length} CPUWeight lines`);
            assert.ok(weights[0]! * 5 <= gatewayWeight, `${name} weighs ${weights[0]}, the gateway ${gatewayWeight}`);
            const nice = directive(unit, "Nice").map(Number);
            assert.equal(nice.length, 1, name);
            assert.ok(nice[0]! >= 10 && nice[0]! <= 19, `${name}: Nice=${nice[0]}`);
            assert.deepEqual(directive(unit, "IOSchedulingClass"), ["idle"], name);
        }
    });

    test("the lines are one renderer's, which refuses a nice value systemd would not take", () => {
        assert.deepEqual(directive(backgroundPriority(12).join("\n"), "CPUWeight"), [String(BACKGROUND_CPU_WEIGHT)]);
        for (const bad of [0, 20, -5, 2.5, Number.NaN])
            assert.throws(() => backgroundPriority(bad), new RegExp(`nice ${bad} is not an integer from 1 to 19`));
    });
});
