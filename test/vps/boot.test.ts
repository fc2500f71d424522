// Smoke test of the stand-in VPS: the REAL user data (components/render/user-data.ts, which carries
// cloud-init/provision.sh) boots with the real cloud-init in a systemd-nspawn container fed by the local
// mirrors, and the host comes up the way `pulumi up` needs it: provisioned, reachable over SSH with the admin key
// only, firewalled, nothing but sshd listening on the network; and it all comes back after a reboot. The image
// behaves like an Ubuntu 24.04 cloud server where it matters to provisioning (standin/rootfs/configure.sh): an apt job
// holds apt's locks at boot, needrestart restarts services by itself, no legacy zone names; the stack asks for
// US/Eastern; the agent user must not reach the metadata service (one is served outside the container).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { standInAptKeyFingerprint } from "../../standin/internet";
import { netnsLauncher, run } from "../../standin/process";
import { answersWithin, createAdminKey, provisionStepSeconds, sshTo, standInUserData, type AdminKey } from "../../standin/scenario";
import { StandInVps, standInInternet, type BootState } from "../../standin/vps";

/** Where the provider's metadata service answers (outside the server, reached through its interface). */
const METADATA = "169.254.169.254";

/** A port the test opens inside the container without allowing it in UFW: it must stay unreachable. */
const UNALLOWED_PORT = 8099;

describe("stand-in VPS boots the real user data", { timeout: 12 * 60_000 }, () => {
    let vps: StandInVps;
    let admin: AdminKey;
    let firstBoot: BootState;
    let metadataService: ChildProcess | undefined;
    const metadataRoot = mkdtempSync(join(tmpdir(), "standin-metadata-"));

    before(async () => {
        admin = await createAdminKey();
        vps = await StandInVps.boot({
            name: "smoke",
            // A legacy zone name, as an operator in New York may well write it; Ubuntu 24.04 has no such file.
            userData: standInUserData(admin.publicKey, { timezone: "US/Eastern" }),
            guestPorts: [22, UNALLOWED_PORT],
        });
        firstBoot = await vps.waitBooted();
        // A metadata service on the instance's side of the bridge (where a provider's is: off the server, through its
        // default route), answering 200 to anyone who reaches it.
        const netns = vps.resources().netns;
        await run("ip", ["-n", netns, "addr", "add", `${METADATA}/32`, "dev", "br0"]);
        const [launcher, ...prefix] = netnsLauncher(netns);
        metadataService = spawn(
            launcher,
            [...prefix, "python3", "-m", "http.server", "--bind", METADATA, "--directory", metadataRoot, "80"],
            { stdio: "ignore" },
        );
    });

    after(async () => {
        metadataService?.kill("SIGKILL");
        rmSync(metadataRoot, { recursive: true, force: true });
        await vps?.destroy();
    });

    /** HTTP status the metadata service gives root and the agent user inside the server ("000": nothing reached it). */
    async function metadataAnswers(): Promise<{ root: string; agent: string }> {
        const curl = `curl -s -o /dev/null -w '%{http_code}' --max-time 20 http://${METADATA}/`;
        // Wait until root gets through (the service may still be starting): the agent's answer is then meaningful.
        const root = await vps.exec(
            `for _ in $(seq 60); do code=$(${curl} || true); [ "$code" = 200 ] && break; sleep 1; done; echo "$code"`,
        );
        const agent = await vps.exec(`runuser -u openclaw -- ${curl} || true`);
        return { root: root.stdout.trim(), agent: agent.stdout.trim() || "000" };
    }

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
        assert.equal(status.stdout.trim(), "done 11/11 done", await provisionLogTail());
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

    it("waited for the apt job that held apt's locks at boot (a bare apt-get update would have failed at once)", async () => {
        const log = (await vps.exec("cat /var/log/openclaw-vps/provision.log")).stdout;
        assert.match(log, /apt: apt-daily or apt-daily-upgrade is running; waiting up to \d+ s for it to finish/);
        assert.match(log, /apt: the daily job finished/);
        const holder = await vps.exec("journalctl -b -u standin-apt-lock-holder.service --no-pager -o cat");
        assert.match(holder.stdout, /apt lock holder: holding \/var\/lib\/apt\/daily_lock and \/var\/lib\/apt\/lists\/lock/);
        assert.match(holder.stdout, /apt lock holder: provision\.sh is waiting for it/);
    });

    it("kept needrestart (automatic, as Ubuntu's) from restarting anything, and reported what needs a restart instead", async () => {
        // provisioning's apt-get upgrade replaced the canary's binary (standin-canary 1 -> 2)...
        assert.equal((await vps.exec("dpkg-query -W -f='${Version}' standin-canary")).stdout, "2");
        // ...and the canary still runs the old one: nobody restarted it.
        const exe = await vps.exec("readlink /proc/$(systemctl show -p MainPID --value standin-canary.service)/exe");
        assert.equal(exe.stdout.trim(), "/usr/libexec/standin-canary/canary (deleted)");
        const log = (await vps.exec("cat /var/log/openclaw-vps/provision.log")).stdout;
        assert.match(log, /packages have been installed but needrestart is suspended/);
        assert.match(log, /needs a restart \(not restarted during provisioning; .*\): .*\bstandin-canary\.service\b/);
        // The image's needrestart really would have restarted it (its configuration, as Ubuntu's).
        assert.match((await vps.exec("cat /etc/needrestart/conf.d/90-standin-ubuntu.conf")).stdout, /^\$nrconf\{restart\} = 'a';$/m);
    });

    it("deploys a legacy zone name (US/Eastern) as the zone it links to, on a tzdata without legacy names", async () => {
        assert.equal(
            (await vps.exec("test -e /usr/share/zoneinfo/US/Eastern; echo $?")).stdout.trim(),
            "1",
            "the image has no legacy names",
        );
        assert.equal((await vps.exec("cat /etc/timezone")).stdout, "America/New_York\n");
        assert.equal((await vps.exec("readlink /etc/localtime")).stdout.trim(), "/usr/share/zoneinfo/America/New_York");
        assert.match((await vps.exec("grep ^TIMEZONE= /etc/openclaw-vps/provision.env")).stdout, /^TIMEZONE=America\/New_York$/m);
    });

    it("trusted the cloudflared repository's key only for its pinned fingerprint, on the suite `any`", async () => {
        const list = await vps.exec("cat /etc/apt/sources.list.d/cloudflared.list");
        assert.match(list.stdout, /^deb \[signed-by=\/usr\/share\/keyrings\/cloudflare-main\.gpg\] http:\/\/\S+\/cloudflared any main$/m);
        const keyring = await vps.exec(
            "gpg --batch --with-colons --show-keys /usr/share/keyrings/cloudflare-main.gpg 2>/dev/null | awk -F: '$1 == \"fpr\" { print $10; exit }'",
        );
        assert.equal(keyring.stdout.trim(), standInAptKeyFingerprint());
        assert.match(
            (await vps.exec("grep ^CLOUDFLARED_APT_KEY_FINGERPRINT= /etc/openclaw-vps/provision.env")).stdout,
            new RegExp(standInAptKeyFingerprint()),
        );
    });

    it("lets root reach the metadata service and not the agent user", async () => {
        assert.deepEqual(await metadataAnswers(), { root: "200", agent: "000" });
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
        assert.deepEqual(await metadataAnswers(), { root: "200", agent: "000" }, "the metadata block survives the reboot");
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
