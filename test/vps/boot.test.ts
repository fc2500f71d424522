// Smoke test of the stand-in VPS: the REAL user data (components/render/user-data.ts, which carries
// cloud-init/provision.sh) boots with the real cloud-init in a systemd-nspawn container fed by the local
// mirrors, and the host comes up the way `pulumi up` needs it: provisioned, reachable over SSH with the admin key
// only, firewalled, nothing but sshd listening on the network; and it all comes back after a reboot.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { answersWithin, createAdminKey, provisionStepSeconds, sshTo, standInUserData, type AdminKey } from "../../standin/scenario";
import { StandInVps, standInInternet, type BootState } from "../../standin/vps";

/** A port the test opens inside the container without allowing it in UFW: it must stay unreachable. */
const UNALLOWED_PORT = 8099;

describe("stand-in VPS boots the real user data", { timeout: 12 * 60_000 }, () => {
    let vps: StandInVps;
    let admin: AdminKey;
    let firstBoot: BootState;

    before(async () => {
        admin = await createAdminKey();
        vps = await StandInVps.boot({
            name: "smoke",
            userData: standInUserData(admin.publicKey),
            guestPorts: [22, UNALLOWED_PORT],
        });
        firstBoot = await vps.waitBooted();
    });

    after(async () => {
        await vps?.destroy();
    });

    async function provisionLogTail(): Promise<string> {
        return (await vps.exec("tail -n 30 /var/log/openclaw-vps/provision.log", { allowFailure: true })).stdout;
    }

    async function assertCloudInitDone(state: BootState): Promise<void> {
        const why = `${state.cloudInit}\n--- provision.log ---\n${await provisionLogTail()}\n${vps.consoleTail(20)}`;
        assert.equal(state.cloudInitCode, 0, why);
        assert.match(state.cloudInit, /^status: done$/m, why);
        assert.equal(
            state.systemState,
            "running",
            `systemd: ${state.systemState}\n${(await vps.exec("systemctl --failed --no-legend", { allowFailure: true })).stdout}`,
        );
    }

    it("cloud-init finishes without errors and provision.sh reports done", async (t) => {
        await assertCloudInitDone(firstBoot);
        t.diagnostic(`boot to cloud-init done (provisioning included): ${firstBoot.seconds.toFixed(1)} s`);
        const tracebacks = await vps.exec("grep -c Traceback /var/log/cloud-init.log", { allowFailure: true });
        assert.equal(tracebacks.stdout.trim(), "0", "cloud-init.log has Python tracebacks");

        const status = await vps.exec('. /var/lib/openclaw-vps/provision.status && echo "$state $step $name"');
        assert.equal(status.stdout.trim(), "done 10/10 done", await provisionLogTail());
        const steps = await vps.exec("grep -E 'step [0-9]+/[0-9]+ [a-z_]+: (start|ok)' /var/log/openclaw-vps/provision.log");
        for (const [name, seconds] of provisionStepSeconds(steps.stdout)) t.diagnostic(`provision step ${name}: ${seconds} s`);

        // Every mirror provisioning needs was used through provision.sh's own code path (not preinstalled behind its
        // back).
        const stats = (await standInInternet()).stats.requests;
        for (const route of ["apt", "cloudflared"]) {
            assert.ok((stats[route] ?? 0) > 0, `provisioning never asked the ${route} mirror: ${JSON.stringify(stats)}`);
        }
        assert.match((await vps.exec("cloudflared --version")).stdout, /stand-in/);
        // The base system only: Node and OpenClaw come with the push (test/vps/upgrade.test.ts), not with user data.
        const runtime = await vps.exec("command -v node openclaw; ls /opt/openclaw-vps", { allowFailure: true });
        assert.equal(runtime.stdout.trim(), "bin", runtime.stdout);
    });

    it("lets the admin in over SSH with the key, and nobody else", async () => {
        const ssh = await sshTo(vps, "ops", admin.privateKey);
        try {
            const who = await ssh.execCommand("id -un && sudo -n true && echo sudo-ok");
            assert.equal(who.stdout.trim(), "ops\nsudo-ok", who.stderr);
        } finally {
            ssh.dispose();
        }
        const stranger = await createAdminKey();
        await assert.rejects(sshTo(vps, "ops", stranger.privateKey, 1_000), /authentication/i);
        await assert.rejects(sshTo(vps, "root", admin.privateKey, 1_000), /authentication/i);
    });

    it("has UFW active, denying incoming, and really filtering", async () => {
        const ufw = await vps.exec("ufw status verbose");
        assert.match(ufw.stdout, /^Status: active$/m);
        assert.match(ufw.stdout, /^Default: deny \(incoming\)/m);
        // A listener on all interfaces that UFW does not allow: answers inside, unreachable from the network.
        await vps.exec(`systemd-run --unit=standin-probe python3 -m http.server --bind 0.0.0.0 ${UNALLOWED_PORT}`);
        try {
            await vps.exec(`curl -fsS --retry 20 --retry-delay 1 --retry-connrefused -o /dev/null http://127.0.0.1:${UNALLOWED_PORT}/`);
            assert.equal(await answersWithin(vps.forwardedPort(UNALLOWED_PORT), 3_000), false, "UFW let the probe port through");
        } finally {
            await vps.exec("systemctl stop standin-probe", { allowFailure: true });
        }
    });

    it("listens on the network with sshd only", async () => {
        assert.deepEqual(await publicListeners(vps), ["sshd"]);
    });

    it("comes back after a reboot with no one touching it", async () => {
        const provisionedBefore = await vps.exec("grep -c 'provisioning done' /var/log/openclaw-vps/provision.log");
        await vps.reboot();
        const again = await vps.waitBooted(3 * 60_000);
        await assertCloudInitDone(again);
        const status = await vps.exec(". /var/lib/openclaw-vps/provision.status && echo $state");
        assert.equal(status.stdout.trim(), "done");
        // Same server, same instance: provisioning does not run again on a reboot.
        const provisionedAfter = await vps.exec("grep -c 'provisioning done' /var/log/openclaw-vps/provision.log");
        assert.equal(provisionedAfter.stdout, provisionedBefore.stdout);
        assert.match((await vps.exec("ufw status")).stdout, /^Status: active$/m);
        assert.deepEqual(await publicListeners(vps), ["sshd"]);
        const ssh = await sshTo(vps, "ops", admin.privateKey);
        try {
            assert.equal((await ssh.execCommand("id -un")).stdout.trim(), "ops");
        } finally {
            ssh.dispose();
        }
    });
});

/** Names of the processes listening on anything but loopback (TCP and UDP), deduplicated and sorted. */
async function publicListeners(vps: StandInVps): Promise<string[]> {
    const sockets = await vps.exec("ss -H -l -n -p -t -u");
    const names = new Set<string>();
    for (const line of sockets.stdout.split("\n").filter(Boolean)) {
        const fields = line.trim().split(/\s+/);
        const local = fields[4] ?? "";
        const address = local.slice(0, local.lastIndexOf(":"));
        if (/^(127\.|\[::1\]|::1)/.test(address) || /%lo$/.test(address)) continue;
        names.add(/users:\(\("([^"]+)"/.exec(line)?.[1] ?? `unknown: ${line}`);
    }
    return [...names].sort();
}
