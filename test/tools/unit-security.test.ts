// Every systemd unit the project renders, rated by systemd's own reviewer: `systemd-analyze security --offline=true`
// (Debian 12's systemd 252; Ubuntu 24.04's 255 scores the same way). Bounds: every service we render at most 3.0
// ("OK"), the gateway included (a system unit running as the agent user; README "Host hardening"). Each unit must
// also pass `systemd-analyze verify` with the sandbox in place, and a control proves the bound can fail.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HOST_DIRS } from "../../components/core/host-contract";
import { BACKUP_SERVICE_PATH, renderBackupService } from "../../components/render/backup-units";
import { CLOUDFLARED_UNIT_PATH, renderCloudflaredUnit } from "../../components/render/cloudflared-unit";
import { EXPOSURE_BOUND_KEY, exposureBoundOf } from "../../components/render/exposure";
import { GATEWAY_UNIT_NAME, renderGatewayUnit } from "../../components/render/gateway-unit";
import { renderWatchdogService, WATCHDOG_SERVICE_PATH } from "../../components/render/watchdog";
import {
    INTEGRITY_SERVICE_PATH,
    INTEGRITY_TIMER_PATH,
    renderIntegrityService,
    renderIntegrityTimer,
    renderRootkitService,
    renderRootkitTimer,
    ROOTKIT_SERVICE_PATH,
    ROOTKIT_TIMER_PATH,
} from "../../components/render/integrity";

/** Each rendered system service (path on the host → rendered text) with the bound it states (render/exposure.ts). */
const RENDERED_UNITS: { path: string; render: () => string }[] = [
    { path: BACKUP_SERVICE_PATH, render: () => renderBackupService() },
    { path: WATCHDOG_SERVICE_PATH, render: () => renderWatchdogService() },
    { path: CLOUDFLARED_UNIT_PATH, render: () => renderCloudflaredUnit({ protocol: "auto" }) },
    { path: `${HOST_DIRS.systemUnits}/${GATEWAY_UNIT_NAME}`, render: () => renderGatewayUnit({ serverMemoryMb: 2048, swapMb: 2048 }).unit },
    { path: INTEGRITY_SERVICE_PATH, render: () => renderIntegrityService() },
    { path: ROOTKIT_SERVICE_PATH, render: () => renderRootkitService() },
];
/** The one unit that may create user namespaces: Chromium's sandbox puts each renderer in its own (gateway-unit.ts). */
const USER_NAMESPACES_ALLOWED = new Set<string>([GATEWAY_UNIT_NAME]);
export const SYSTEM_UNITS = RENDERED_UNITS.map((unit) => {
    const bound = exposureBoundOf(unit.render());
    if (bound === undefined) throw new Error(`${unit.path} states no ${EXPOSURE_BOUND_KEY}`);
    return { ...unit, bound };
});

let root: string;

function score(output: string): number {
    const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(output);
    assert.ok(m, output);
    return Number(m[1]);
}

function securityOf(unitPath: string, text: string): { exposure: number; output: string } {
    fs.mkdirSync(path.join(root, path.dirname(unitPath)), { recursive: true });
    fs.writeFileSync(path.join(root, unitPath), text);
    const r = spawnSync("systemd-analyze", ["security", "--offline=true", `--root=${root}`, unitPath], { encoding: "utf8" });
    if (r.error) throw new Error(`systemd-analyze is missing (${r.error.message}): apt-get install systemd`);
    const output = `${r.stdout}${r.stderr}`;
    return { exposure: score(output), output };
}

before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "unit-security-"));
    fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe("systemd-analyze security of every rendered unit", () => {
    for (const unit of SYSTEM_UNITS) {
        test(`${path.basename(unit.path)}: exposure at most ${unit.bound.toFixed(1)}`, (t) => {
            const { exposure, output } = securityOf(unit.path, unit.render());
            t.diagnostic(`${path.basename(unit.path)}: exposure ${exposure.toFixed(1)}`);
            assert.ok(exposure <= unit.bound, `exposure ${exposure}:\n${output}`);
            // The fully sandboxed units (bound 3.0): each of these counted as hardened by systemd itself.
            if (unit.bound <= 3.0) {
                // The rootkit scan sees the host's /tmp and /dev on purpose (it looks for planted files there).
                const hostDev = /^PrivateDevices=no$/m.test(unit.render());
                const namespaces = USER_NAMESPACES_ALLOWED.has(path.basename(unit.path))
                    ? "RestrictNamespaces=~mnt"
                    : "RestrictNamespaces=~user";
                for (const directive of [
                    "NoNewPrivileges=",
                    "ProtectSystem=",
                    ...(hostDev ? [] : ["PrivateDevices="]),
                    namespaces,
                    "ProtectKernelTunables=",
                ]) {
                    assert.ok(
                        output.split("\n").some((l) => l.startsWith(`✓ ${directive}`)),
                        `${path.basename(unit.path)}: ${directive} is not counted as hardened\n${output}`,
                    );
                }
                assert.ok(
                    output.split("\n").some((l) => l.startsWith("✓ CapabilityBoundingSet=~CAP_SYS_ADMIN")),
                    `${path.basename(unit.path)} keeps CAP_SYS_ADMIN`,
                );
            }
        });
    }

    test("the backup and watchdog units pass systemd-analyze verify", () => {
        const bin = path.join(root, HOST_DIRS.bin);
        fs.mkdirSync(bin, { recursive: true });
        for (const script of ["backup.sh", "watchdog.sh"]) fs.writeFileSync(path.join(bin, script), "#!/bin/sh\n", { mode: 0o755 });
        for (const unit of SYSTEM_UNITS.slice(0, 2)) {
            const text = unit.render();
            assert.match(text, /^NoNewPrivileges=yes$/m);
            fs.writeFileSync(path.join(root, unit.path), text);
            const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, unit.path], { encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.doesNotMatch(r.stderr, /Unknown|Invalid|Failed to parse/i, r.stderr);
        }
        assert.match(renderWatchdogService(), /^StateDirectory=openclaw-vps\/watchdog$/m);
    });

    test("the integrity check and the rootkit scan (units and timers) pass systemd-analyze verify", () => {
        const bin = path.join(root, HOST_DIRS.bin);
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(bin, "integrity.sh"), "#!/bin/sh\n", { mode: 0o755 });
        const units: [string, string][] = [
            [INTEGRITY_SERVICE_PATH, renderIntegrityService()],
            [INTEGRITY_TIMER_PATH, renderIntegrityTimer()],
            [ROOTKIT_SERVICE_PATH, renderRootkitService()],
            [ROOTKIT_TIMER_PATH, renderRootkitTimer()],
        ];
        for (const [p, text] of units) fs.writeFileSync(path.join(root, p), text);
        const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...units.map(([p]) => p)], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /Unknown|Invalid|Failed to parse/i, r.stderr);
        // The AIDE check needs no network at all; the scan sees the interfaces but sends nothing.
        assert.match(renderIntegrityService(), /^PrivateNetwork=yes$/m);
        assert.match(renderRootkitService(), /^IPAddressDeny=any$/m);
        assert.match(renderRootkitService(), /^PrivateTmp=no$/m);
    });

    test("control: the same unit without its sandbox is rated EXPOSED (so the bound can fail)", () => {
        const bare = renderBackupService()
            .split("\n")
            .filter((l) => !/^(Capability|Ambient|NoNew|UMask|Protect|ReadWrite|Private|Keyring|Restrict|Lock|SystemCall)/.test(l))
            .join("\n");
        const { exposure } = securityOf("/etc/systemd/system/bare-backup.service", bare);
        assert.ok(exposure > 8.0, `bare exposure ${exposure}`);
    });
});
