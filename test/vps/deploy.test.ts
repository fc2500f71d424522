// End to end on the stand-in VPS: the real user data boots with the real cloud-init, then the two SSH steps of
// `pulumi up` (components/host.ts: wait-provisioned.sh, then the host bundle built from the prod stack's settings,
// both on stdin of `sudo -n bash -s`) deploy the agent with sentinel secrets. The host is then checked the way an
// operator would: cloud-init clean, only sshd on the network, the gateway on loopback under the agent user's systemd,
// UFW and sshd hardened, the tunnel token only in the environment, encrypted backups to the bucket stand-in (s3rver)
// listed from outside (`npm run snapshots` with the read-only key, never through the host), a killed gateway and a
// reboot recovered by systemd alone, a second push that changes nothing; finally the server is thrown away and a fresh
// one deployed with restoreFrom=latest (planned on the operator's side, as `pulumi up` does) gets the agent's memory
// back byte for byte.
// One booted instance serves everything but the rebuild, whose fresh instance boots while the first is tested.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RemoteHost } from "../../components/remote";
import { gatewayMemoryBudget } from "../../components/render/gateway-unit";
import { BACKGROUND_CPU_WEIGHT } from "../../components/render/sandbox";
import { HOST_UNITS } from "../../components/core/host-contract";
import { DEFAULT_WORKSPACE_SOURCE } from "../../components/render/workspace";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../components/core/pins";
import { exposureBoundOf } from "../../components/render/exposure";
import { runBackup } from "../../scripts/lib/operations";
import { standInSettings } from "../../scripts/lib/standin-settings";
import type { S3Server } from "../../standin/bucket";
import { answersWithin, createAdminKey, type AdminKey } from "../../standin/scenario";
import { StandInVps, type BootState } from "../../standin/vps";
import { filesContaining, makeTempDir } from "../helpers/backup";
import { unexplained } from "../helpers/ssh-audit";
import {
    gatewaySystemctl,
    bucketDataDir,
    CLOUDFLARED_RECORD_PREFIX,
    connectAdmin,
    deploy,
    deployBundle,
    deployPlan,
    DEPLOY_READER,
    DEPLOY_SENTINELS,
    gatewayProcess,
    installRecordingCloudflared,
    isLoopback,
    listeners,
    planRestoreInNamespace,
    STANDIN_S3_ENDPOINT,
    startBucket,
    waitGatewayReady,
    type DeployPlan,
    type DeployRun,
} from "../../standin/deploy";

const SENTINELS = Object.entries(DEPLOY_SENTINELS) as [string, string][];
const WORKSPACE = "/home/openclaw/.openclaw/workspace";
/** What the agent writes (as the openclaw user) and must find again, byte for byte, on the rebuilt server. */
const AGENT_MEMORY: Record<string, string> = {
    "MEMORY.md": "# Memory\n\n- The operator's backups go to R2 every hour.\n- Prefers answers in English, metric units.\n",
    "memory/2026-01-01.md": "# 2026-01-01\n\n- Rebuilt the server after a scare; checked the tunnel. Ünïcödé stays intact ✓\n\ttabs too\n",
};

function assertNoSentinel(text: string, where: string): void {
    for (const [name, value] of SENTINELS) assert.ok(!text.includes(value), `the ${name} appears in ${where}`);
}

/** sha256, mode and owner of workspace files, as the agent's files on the host. */
async function fingerprint(vps: StandInVps, paths: string[]): Promise<Record<string, string>> {
    const out = await vps.exec(
        `cd ${WORKSPACE} && for f in ${paths.join(" ")}; do printf '%s %s %s\\n' "$f" "$(stat -c '%a %U:%G' "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"; done`,
    );
    return Object.fromEntries(
        out.stdout
            .trim()
            .split("\n")
            .map((l) => [l.split(" ")[0]!, l.split(" ").slice(1).join(" ")]),
    );
}

function sha256Of(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

async function bootChecks(state: BootState, vps: StandInVps): Promise<void> {
    const why = `${state.cloudInit}\n${(await vps.exec("tail -n 30 /var/log/openclaw-vps/provision.log", { allowFailure: true })).stdout}\n${vps.consoleTail(20)}`;
    assert.equal(state.cloudInitCode, 0, why);
    assert.match(state.cloudInit, /^status: done$/m, why);
    assert.equal(
        state.systemState,
        "running",
        `${state.systemState}: ${(await vps.exec("systemctl --failed --no-legend", { allowFailure: true })).stdout}`,
    );
}

describe("deploy onto the stand-in VPS as pulumi up does, then live with it", { timeout: 30 * 60_000 }, () => {
    let admin: AdminKey;
    let plan: DeployPlan;
    /** The operator's age identity of the stack (plan.settings.backupRecipient's). */
    let identity: string;
    let bucketData: string;
    let vps: StandInVps | undefined;
    let bucket: S3Server | undefined;
    let remote: RemoteHost | undefined;
    let firstBoot: BootState;
    let firstDeploy: DeployRun;
    /** The fresh server of the rebuild, booting while the first one is tested (its deploy waits for the backup). */
    let rebuild: Promise<{ vps: StandInVps; boot: BootState }> | undefined;

    before(async () => {
        admin = await createAdminKey();
        const standIn = standInSettings(admin.publicKey, ["restoreFrom=latest"]);
        plan = deployPlan(standIn.settings);
        identity = standIn.backupIdentity;
        bucketData = bucketDataDir();
        vps = await StandInVps.boot({ name: "deploy", userData: plan.userData, guestPorts: [22, plan.settings.gatewayPort] });
        firstBoot = await vps.waitBooted();
        bucket = await startBucket(vps, plan.settings, bucketData);
        await installRecordingCloudflared(vps);
        remote = await connectAdmin(vps, plan.settings, admin.privateKey);
        firstDeploy = await deploy(remote, plan.settings, { secrets: DEPLOY_SENTINELS, plan: (await restorePlan(vps)).plan });
        rebuild = (async () => {
            const fresh = await StandInVps.boot({ name: "rebuild", userData: plan.userData });
            return { vps: fresh, boot: await fresh.waitBooted() };
        })();
        rebuild.catch(() => undefined); // judged by the rebuild test; never an unhandled rejection
    });

    after(async () => {
        remote?.dispose();
        await bucket?.stop();
        await vps?.destroy();
        const fresh = await rebuild?.catch(() => undefined);
        await fresh?.vps.destroy();
        if (bucketData) rmSync(bucketData, { recursive: true, force: true });
    });

    const gatewayPort = () => plan.settings.gatewayPort;
    /** What `pulumi up` does for a new server: the planner on the operator's side, with the read-only key. */
    const restorePlan = (on: StandInVps) =>
        planRestoreInNamespace(on.resources().netns, {
            endpoint: STANDIN_S3_ENDPOINT,
            bucket: plan.settings.backupBucketName,
            ...DEPLOY_READER,
            identity,
            restoreFrom: plan.settings.restoreFrom,
        });
    const live = () => {
        assert.ok(vps, "no stand-in");
        return vps;
    };

    it("provisions cleanly: cloud-init done without errors, provisioning done, the push applied every file", async (t) => {
        const host = live();
        await bootChecks(firstBoot, host);
        t.diagnostic(
            `boot to cloud-init done: ${firstBoot.seconds.toFixed(1)} s; wait-provisioned ${firstDeploy.waitSeconds.toFixed(1)} s; push ${firstDeploy.pushSeconds.toFixed(1)} s`,
        );
        const result = JSON.parse((await host.exec("cat /run/cloud-init/result.json")).stdout) as { v1: { errors: string[] } };
        assert.deepEqual(result.v1.errors, []);
        assert.equal((await host.exec("grep -c Traceback /var/log/cloud-init.log", { allowFailure: true })).stdout.trim(), "0");
        const status = await host.exec('. /var/lib/openclaw-vps/provision.status && echo "$state $name $step"');
        assert.equal(status.stdout.trim(), "done done 11/11");
        assert.match(firstDeploy.wait.stdout, /state=done/);
        assert.match(firstDeploy.wait.stdout, /^HOST-FACTS mem_total_mb=\d+$/m);
        // The browser stage fetched Chromium once provisioning was done with apt, and the push installed it only after
        // the gateway answered /readyz. (This suite deploys after cloud-init finished, so the stage finds state=done;
        // `npm run bench` deploys as pulumi up does and shows the stage fetching while provisioning still runs.)
        assert.equal((await host.exec('. /var/lib/openclaw-vps/provision.status && echo "$apt"')).stdout.trim(), "free");
        assert.ok(firstDeploy.browserStage, "the prod stack has browser: true");
        assert.match(
            firstDeploy.browserStage.stderr,
            /provisioning is done with apt \(state=(running|done)\): fetching beside its remaining steps/,
        );
        assert.match(firstDeploy.browserStage.stderr, /prefetched: Chromium's packages are in apt's cache/);
        const push = firstDeploy.push.stdout;
        assert.ok(push.indexOf("gateway ready after") < push.indexOf("installing what the gateway does not need to start"), push);
        assert.equal((await host.exec("dpkg-query -W -f='${Status}' chromium")).stdout, "install ok installed");

        const bundle = deployBundle(plan.settings, undefined, { hostMemoryMb: firstDeploy.hostMemoryMb });
        const summary = firstDeploy.push.summary!;
        // Every file is new but contract.env, which user data already wrote with the same bytes, owner and mode.
        assert.equal(summary.created, bundle.files.length - 1, firstDeploy.push.stdout);
        assert.equal(summary.kept, 1, firstDeploy.push.stdout);
        assert.doesNotMatch(firstDeploy.push.stdout, /created \/etc\/openclaw-vps\/contract\.env/);
        assert.equal(summary.changed + summary.fixed, 0);
        assert.deepEqual([...summary.restarted].sort(), [
            "cloudflared.service",
            "openclaw-backup.timer",
            "openclaw-gateway.service",
            "openclaw-integrity.timer",
            "openclaw-reboot-window.timer",
            "openclaw-rootkit-scan.timer",
            "openclaw-watchdog.timer",
        ]);
        assert.match(firstDeploy.push.stdout, /gateway ready after \d+s/);
        // restoreFrom=latest on an empty bucket: the first server starts fresh, and says so.
        assert.match(firstDeploy.push.stdout + firstDeploy.push.stderr, /nothing to restore yet/);
        assertNoSentinel(
            firstDeploy.push.stdout + firstDeploy.push.stderr + firstDeploy.wait.stdout + firstDeploy.wait.stderr,
            "the deploy's output",
        );
        assertNoSentinel(plan.userData, "the user data");
    });

    it("runs the gateway under systemd as the agent user, on loopback at the configured port, ready; only sshd on the network", async () => {
        const host = live();
        const gateway = await gatewayProcess(host);
        assert.equal(gateway.activeState, "active");
        assert.equal(gateway.user, "openclaw", `the gateway runs as ${gateway.user}`);
        // A system unit with User=openclaw (gateway-unit.ts): its own cgroup under system.slice, no user manager.
        assert.match(gateway.cgroup, /\/system\.slice\/openclaw-gateway\.service$/m);
        assert.equal((await host.exec("ls /var/lib/systemd/linger 2>/dev/null || true")).stdout.trim(), "", "no linger");

        const sockets = await listeners(host);
        const onNetwork = [...new Set(sockets.filter((s) => !isLoopback(s.address)).map((s) => s.name))].sort();
        assert.deepEqual(onNetwork, ["sshd"], JSON.stringify(sockets));
        const gatewaySockets = sockets.filter((s) => s.port === gatewayPort());
        assert.ok(
            gatewaySockets.some((s) => s.address === "127.0.0.1"),
            JSON.stringify(gatewaySockets),
        );
        assert.ok(
            gatewaySockets.every((s) => isLoopback(s.address)),
            JSON.stringify(gatewaySockets),
        );
        // The listening process is the unit's (its main process or a child in the same cgroup).
        for (const s of gatewaySockets) {
            const cgroup = (await host.exec(`cat /proc/${s.pid}/cgroup`)).stdout;
            assert.match(cgroup, /system\.slice\/openclaw-gateway\.service/);
        }
        const ready = await host.exec(`curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:${gatewayPort()}/readyz`);
        assert.equal(ready.stdout, "200");
        // From the network (this side of the bridge, to the container's address): nothing answers.
        assert.equal(await answersWithin(host.forwardedPort(gatewayPort()), 3_000), false, "the gateway port answers from the network");

        // The memory limits of the unit are the budget for the memory the host reported (MemTotal, or the container's
        // memory-cgroup limit), not for the server type's nominal size.
        const reported = Number((await host.exec("awk '$1 == \"MemTotal:\" { print int($2 / 1024) }' /proc/meminfo")).stdout.trim());
        assert.ok(
            firstDeploy.hostMemoryMb !== undefined && firstDeploy.hostMemoryMb <= reported,
            `${firstDeploy.hostMemoryMb} vs ${reported}`,
        );
        const budget = gatewayMemoryBudget(firstDeploy.hostMemoryMb);
        const limits = await host.exec(`${gatewaySystemctl()} show -p MemoryHigh -p MemoryMax openclaw-gateway.service`);
        assert.match(limits.stdout, new RegExp(`^MemoryHigh=${budget.memoryHighMb * 1024 * 1024}$`, "m"));
        assert.match(limits.stdout, new RegExp(`^MemoryMax=${budget.memoryMaxMb * 1024 * 1024}$`, "m"));
    });

    it("runs the background units at a fifth of the gateway's CPU weight, niced, in the idle I/O class", async () => {
        const host = live();
        // cgroup v2 shares the CPU between services by weight; what systemd loaded is what it applies on a real host
        // (this stand-in's cgroup v1 CPU controller is the host's, so the effect itself is not measurable here).
        const gateway = (await host.exec(`systemctl show -p CPUWeight --value ${HOST_UNITS.gateway}`)).stdout.trim();
        const gatewayWeight = gateway === "[not set]" ? 100 : Number(gateway);
        for (const unit of [HOST_UNITS.backupService, HOST_UNITS.watchdogService, HOST_UNITS.integrityService, HOST_UNITS.rootkitService]) {
            const shown = (await host.exec(`systemctl show -p CPUWeight -p Nice -p IOSchedulingClass ${unit}`)).stdout;
            assert.match(shown, new RegExp(`^CPUWeight=${BACKGROUND_CPU_WEIGHT}$`, "m"), `${unit}:\n${shown}`);
            assert.ok(BACKGROUND_CPU_WEIGHT * 5 <= gatewayWeight, `${unit} weighs ${BACKGROUND_CPU_WEIGHT}, the gateway ${gatewayWeight}`);
            assert.ok(Number(/^Nice=(\d+)$/m.exec(shown)?.[1]) >= 10, `${unit}:\n${shown}`);
            assert.match(shown, /^IOSchedulingClass=(3|idle)$/m, `${unit}:\n${shown}`);
        }
    });

    it("has UFW active and denying incoming, and sshd without any password login", async () => {
        const host = live();
        const ufw = await host.exec("ufw status verbose");
        assert.match(ufw.stdout, /^Status: active$/m);
        assert.match(ufw.stdout, /^Default: deny \(incoming\)/m);
        assert.doesNotMatch(ufw.stdout, new RegExp(`\\b${gatewayPort()}\\b`), "the gateway port is open in UFW");
        const sshd = (await host.exec("sshd -T -C user=ops,host=client,addr=10.77.0.1")).stdout;
        assert.match(sshd, /^passwordauthentication no$/m);
        assert.match(sshd, /^kbdinteractiveauthentication no$/m);
        assert.match(sshd, /^permitrootlogin no$/m);
        assert.match(sshd, /^permitemptypasswords no$/m);
        assert.match(sshd, /^authenticationmethods publickey$/m);
    });

    it("keeps the OS and cloudflared current: security upgrades on, their own reboot off, cloudflared's origin allowed, the reboot window scheduled", async () => {
        const host = live();
        assert.equal(
            (await host.exec("apt-config shell r Unattended-Upgrade::Automatic-Reboot u APT::Periodic::Unattended-Upgrade")).stdout,
            "r='false'\nu='1'\n",
        );
        // Cloudflare's repository as apt sees it (the stand-in's says what Cloudflare's does), and unattended-upgrades
        // counting its packages among those it upgrades.
        assert.match((await host.exec("apt-cache policy cloudflared")).stdout, /\/cloudflared any\/main /);
        // The release line (origin, suite, codename) is in apt's source list, not in a package's version table.
        assert.match((await host.exec("apt-cache policy")).stdout, /release o=cloudflared,a=\S+,n=any/);
        const dryRun = await host.exec("unattended-upgrade --dry-run --debug 2>&1", { allowFailure: true, timeoutMs: 300_000 });
        assert.match(dryRun.stdout, /Allowed origins are: .*origin=cloudflared,codename=any/);
        assert.doesNotMatch(dryRun.stdout, /Traceback/);
        // The reboot window: its timer has a next run at the window's start in the operator's time zone.
        const timer = (await host.exec("systemctl show -p TimersCalendar --value openclaw-reboot-window.timer")).stdout;
        assert.match(timer, new RegExp(`OnCalendar=\\*-\\*-\\* ${plan.settings.rebootWindow.slice(0, 5)}:00 ${plan.settings.timezone}`));
        assert.match((await host.exec("systemctl is-enabled openclaw-reboot-window.timer")).stdout, /^enabled$/m);
        // With nothing to reboot for, the service only says so (and reboots nothing).
        await host.exec("rm -f /run/reboot-required && systemctl start openclaw-reboot-window.service");
        assert.match(
            (await host.exec("journalctl -u openclaw-reboot-window.service -o cat --no-pager")).stdout,
            /no reboot required|outside the window/,
        );
    });

    it("is hardened as independent auditors see it: ssh-audit and systemd-analyze security", async (t) => {
        const host = live();
        // ssh-audit (this machine's Debian package) against the stand-in's own sshd, through its loopback forward.
        const audit = await promisify(execFile)("ssh-audit", ["-n", "-t", "30", "-p", String(host.ssh.port), host.ssh.host]).then(
            (r) => ({ code: 0, stdout: r.stdout }),
            (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? "" }),
        );
        assert.deepEqual(unexplained(audit.stdout), [], audit.stdout);
        assert.equal(audit.code, 2, `ssh-audit exit ${audit.code} (2: explained warnings only)\n${audit.stdout}`);
        assert.doesNotMatch(audit.stdout, /^\(key\) ecdsa/m, "the ECDSA host key cloud-init generated is not offered");
        // systemd's review of every unit we render, on the live host.
        // Each against the bound its installed unit file states (render/exposure.ts).
        for (const unit of [
            "openclaw-gateway.service",
            "openclaw-backup.service",
            "openclaw-watchdog.service",
            "cloudflared.service",
            "openclaw-integrity.service",
            "openclaw-rootkit-scan.service",
        ]) {
            const bound = exposureBoundOf((await host.exec(`systemctl cat ${unit}`)).stdout);
            assert.ok(bound !== undefined, `${unit} states its exposure bound`);
            const out = await host.exec(`systemd-analyze security --no-pager ${unit}`, { allowFailure: true });
            const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out.stdout);
            assert.ok(m, `${unit}: ${out.stdout}${out.stderr}`);
            t.diagnostic(`${unit}: exposure ${m[1]} on the host`);
            assert.ok(Number(m[1]) <= bound, `${unit}: exposure ${m[1]} (bound ${bound})`);
        }
        // Lynis takes minutes on the stand-in: `npm run bench` runs it (standin/lynis.ts) and the README has its index.
    });

    it("runs the gateway inside its sandbox: no capability, no new privileges, seccomp on, other homes and /tmp private", async () => {
        const host = live();
        const gateway = await gatewayProcess(host);
        const status = (await host.exec(`cat /proc/${gateway.mainPid}/status`)).stdout;
        const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1];
        assert.equal(field("CapBnd"), "0000000000000000", "an empty capability bounding set");
        assert.equal(field("CapEff"), "0000000000000000");
        assert.equal(field("NoNewPrivs"), "1");
        assert.equal(field("Seccomp"), "2", "a seccomp filter");
        // What the gateway (and every tool it runs) sees of the file system, from inside its mount namespace.
        const inside = (command: string) => host.exec(`nsenter -t ${gateway.mainPid} -m -- ${command}`, { allowFailure: true });
        assert.equal((await inside("ls -A /home")).stdout.trim(), "openclaw", "the admin's home is hidden");
        const tmpInside = (await inside("stat -c %d:%i /tmp")).stdout.trim();
        assert.match(tmpInside, /^\d+:\d+$/);
        assert.notEqual(tmpInside, (await host.exec("stat -c %d:%i /tmp")).stdout.trim(), "a private /tmp");
        const write = await inside("touch /etc/openclaw-vps/x /opt/openclaw-vps/x"); // even root, in there
        assert.notEqual(write.code, 0);
        assert.match(write.stderr, /Read-only file system/);
        const own = await inside("setpriv --reuid openclaw --regid openclaw --clear-groups touch /home/openclaw/.openclaw/.sandbox-probe");
        assert.equal(own.code, 0, own.stderr);
        await host.exec("rm -f /home/openclaw/.openclaw/.sandbox-probe");
    });

    it("starts the tunnel connector with its token from the environment file, never on a command line", async () => {
        const host = live();
        const pid = Number((await host.exec("systemctl show -p MainPID --value cloudflared.service")).stdout.trim());
        assert.ok(pid > 0, "cloudflared.service has no main process");
        assert.equal((await host.exec("systemctl is-active cloudflared.service")).stdout.trim(), "active");
        const argv = (await host.exec(`tr '\\0' ' ' </proc/${pid}/cmdline`)).stdout;
        assert.match(argv, /cloudflared --no-autoupdate tunnel --protocol auto run/);
        assertNoSentinel(argv, "cloudflared's command line");
        assert.doesNotMatch(argv, /--token|TUNNEL_TOKEN/);
        // The value is in its environment (from /etc/cloudflared/tunnel.env), which only root and its own user can read.
        const environ = (await host.exec(`tr '\\0' '\\n' </proc/${pid}/environ`)).stdout;
        assert.ok(
            environ.split("\n").includes(`TUNNEL_TOKEN=${DEPLOY_SENTINELS.tunnelToken}`),
            "TUNNEL_TOKEN is not in cloudflared's environment",
        );
        assert.equal((await host.exec("stat -c '%a %U' /etc/cloudflared/tunnel.env")).stdout.trim(), "600 root");
        // What the stand-in recorded itself: argument values and environment variable NAMES.
        const journal = (await host.exec("journalctl -u cloudflared.service -o cat --no-pager")).stdout;
        const records = journal
            .split("\n")
            .filter((l) => l.startsWith(CLOUDFLARED_RECORD_PREFIX))
            .map((l) => JSON.parse(l.slice(CLOUDFLARED_RECORD_PREFIX.length)) as { argv: string[]; env_names: string[]; uid: number });
        assert.ok(records.length > 0, journal);
        for (const record of records) {
            assert.ok(record.env_names.includes("TUNNEL_TOKEN"));
            assert.ok(!record.argv.some((a) => /token/i.test(a)), JSON.stringify(record.argv));
            assert.notEqual(record.uid, 0, "cloudflared runs as root");
        }
        // No process on the host carries a secret in its argv; no log holds one.
        const everyArgv = (await host.exec("for p in /proc/[0-9]*; do tr '\\0' ' ' <$p/cmdline 2>/dev/null; echo; done")).stdout;
        assertNoSentinel(everyArgv, "a process's command line");
        const logs = await host.exec(
            "journalctl --no-pager -o cat; cat /var/log/openclaw-vps/*.log /var/log/cloud-init*.log /home/openclaw/.openclaw/logs/* 2>/dev/null",
            { allowFailure: true },
        );
        assertNoSentinel(logs.stdout, "the host's logs");
    });

    it("changes nothing on a second push to the live host", async () => {
        const host = live();
        const before = await gatewayProcess(host);
        // No plan: pulumi up plans a restore only for a new server (its restore-keys command reruns with the server id).
        const again = await deploy(remote!, plan.settings);
        const summary = again.push.summary!;
        assert.deepEqual(
            {
                changed: summary.changed,
                created: summary.created,
                fixed: summary.fixed,
                restarted: summary.restarted,
                started: summary.started,
            },
            { changed: 0, created: 0, fixed: 0, restarted: [], started: [] },
            again.push.stdout,
        );
        assert.equal(
            summary.kept + summary.agentKept,
            deployBundle(plan.settings, undefined, { hostMemoryMb: firstDeploy.hostMemoryMb }).files.length,
        );
        assert.equal((await gatewayProcess(host)).mainPid, before.mainPid, "the gateway was restarted");
        assert.match(again.push.stdout, /first-boot restore already done/);
    });

    it("checks file integrity: clean after the pushes, a new cron file reported by path, the agent's memory never", async () => {
        const host = live();
        const status = async () => (await host.exec("cat /var/lib/openclaw-vps/integrity/aide.status")).stdout;
        assert.match(
            (await host.exec("systemctl is-enabled openclaw-integrity.timer openclaw-rootkit-scan.timer")).stdout.trim(),
            /^enabled\nenabled$/,
        );
        assert.match(
            (await host.exec("systemctl is-enabled chkrootkit.timer || true")).stdout,
            /masked/,
            "the package's daily full scan is off",
        );
        // The check as its timer runs it, after two pushes (each wrote a new baseline at its end).
        await host.exec("systemctl start openclaw-integrity.service", { timeoutMs: 600_000 });
        assert.match(await status(), /^result=clean$/m);
        // A persistence attempt and an agent's memory write: only the first is reported.
        await host.exec(
            "printf '* * * * * root /tmp/x\\n' >/etc/cron.d/intruder && echo note >>/home/openclaw/.openclaw/workspace/memory/integrity-test.md",
        );
        await host.exec("systemctl start openclaw-integrity.service", { timeoutMs: 600_000 });
        assert.match(await status(), /^result=changed$/m);
        assert.equal((await host.exec("cat /var/lib/openclaw-vps/integrity/aide.changed")).stdout, "/etc/cron.d/intruder\n");
        const audit = await host.exec("AUDIT_ONLY=integrity bash /opt/openclaw-vps/bin/audit-host.sh 2>/dev/null");
        assert.match(
            audit.stdout,
            /^AUDIT\tfile-integrity\tfail\tcritical\t1 watched path\(s\) changed since the last push: \/etc\/cron\.d\/intruder /m,
        );
        // Undone and accepted (as the next push would): clean again for the tests after this one.
        await host.exec(
            "rm -f /etc/cron.d/intruder /home/openclaw/.openclaw/workspace/memory/integrity-test.md && /opt/openclaw-vps/bin/integrity.sh baseline",
        );
        await host.exec("systemctl start openclaw-integrity.service", { timeoutMs: 600_000 });
        assert.match(await status(), /^result=clean$/m);
    });

    it("schedules the backup timer; a backup to the bucket succeeds and is listed", async (t) => {
        const host = live();
        const timers = await host.exec("systemctl list-timers --no-pager --no-legend openclaw-backup.timer");
        assert.match(timers.stdout, /openclaw-backup\.timer\s+openclaw-backup\.service/);
        assert.doesNotMatch(timers.stdout, /^n\/a/, "the timer has no next run");
        const started = Date.now();
        const status = await runBackup(remote!);
        t.diagnostic(`backup through runBackup: ${((Date.now() - started) / 1000).toFixed(1)} s, ${status.last_files} files`);
        // The first run of a day is a full; when the timer's hourly run came first (the test crossed the hour), it took
        // the full and this run is a diff on top of it.
        assert.match(status.last_snapshot ?? "", /^(fulls|diffs)\/\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.zst\.age$/, JSON.stringify(status));
        assert.match(status.last_full ?? "", /^fulls\/\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.zst\.age$/, JSON.stringify(status));
        assert.match(status.last_error ?? "", /^(''|)$/);
        // The operator command itself (`npm run snapshots`), from outside: the read-only key and the identity in an
        // access file (as on a machine without the stack), run where the bucket stand-in answers; no SSH at all.
        const dir = makeTempDir("openclaw-vps-access-");
        const accessFile = join(dir, "access.json");
        writeFileSync(
            accessFile,
            JSON.stringify({ endpoint: STANDIN_S3_ENDPOINT, bucket: plan.settings.backupBucketName, ...DEPLOY_READER, identity }),
            { mode: 0o600 },
        );
        try {
            // Asynchronously: this process relays the container's SSH port, so blocking it would starve the command.
            const cli = await promisify(execFile)(
                "nsenter",
                [
                    `--net=/run/netns/${host.resources().netns}`,
                    "--",
                    process.execPath,
                    "--import",
                    "tsx",
                    "scripts/backup.ts",
                    "--list",
                    "--access",
                    accessFile,
                ],
                { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 120_000 },
            );
            assert.match(cli.stdout, new RegExp(`\\s${status.last_snapshot.replace(/\./g, "\\.")}  \\(latest\\)$`, "m"));
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
        // The bucket's bytes never hold a secret (the deploy pushes them again on a rebuild).
        assert.deepEqual(
            filesContaining(
                bucketData,
                SENTINELS.map(([, v]) => v),
            ),
            [],
        );
    });

    it("brings the gateway back when its main process is killed", async (t) => {
        const host = live();
        const restartsOf = async () =>
            Number((await host.exec(`${gatewaySystemctl()} show -p NRestarts --value openclaw-gateway.service`)).stdout.trim());
        const before = await gatewayProcess(host);
        const restartsBefore = await restartsOf();
        await host.exec(`kill -KILL ${before.mainPid}`);
        const started = Date.now();
        // The mechanism, not a speed: systemd (Restart=always) starts a new main process and counts the restart. The
        // loop ends when it has; the suite's timeout only catches a unit that never comes back.
        let after = before;
        while (after.mainPid === before.mainPid || after.mainPid === 0 || after.activeState !== "active") {
            await new Promise((resolve) => setTimeout(resolve, 500));
            after = await gatewayProcess(host);
        }
        assert.equal(await restartsOf(), restartsBefore + 1, `systemd restarted it once: ${JSON.stringify(after)}`);
        const seconds = await waitGatewayReady(host, gatewayPort());
        t.diagnostic(
            `killed gateway ready again after ${((Date.now() - started) / 1000).toFixed(1)} s (restart, then ${seconds.toFixed(1)} s to /readyz)`,
        );
        assert.equal(after.user, "openclaw");
    });

    it("comes back after a reboot with no one touching it: gateway ready, tunnel connector running, backups scheduled", async (t) => {
        const host = live();
        remote?.dispose();
        const started = Date.now();
        await host.reboot();
        const state = await host.waitBooted(5 * 60_000);
        await bootChecks(state, host);
        await waitGatewayReady(host, gatewayPort());
        t.diagnostic(`reboot to /readyz: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const gateway = await gatewayProcess(host);
        assert.equal(gateway.activeState, "active");
        assert.equal(gateway.user, "openclaw");
        assert.equal((await host.exec("systemctl is-active cloudflared.service")).stdout.trim(), "active");
        const records = (await host.exec("journalctl -b -u cloudflared.service -o cat --no-pager")).stdout;
        assert.match(records, new RegExp(`^${CLOUDFLARED_RECORD_PREFIX}`, "m"), "cloudflared did not start in this boot");
        assert.match(
            (await host.exec("systemctl list-timers --no-pager --no-legend openclaw-backup.timer")).stdout,
            /openclaw-backup\.service/,
        );
        assert.match((await host.exec("ufw status")).stdout, /^Status: active$/m);
        const onNetwork = [...new Set((await listeners(host)).filter((s) => !isLoopback(s.address)).map((s) => s.name))];
        assert.deepEqual(onNetwork, ["sshd"]);
        remote = await connectAdmin(host, plan.settings, admin.privateKey);
    });

    it("restores the agent's memory byte for byte on a fresh server deployed with restoreFrom=latest", async (t) => {
        const host = live();
        // The agent writes its memory (and scribbles on an operator-owned file, which the deploy must put back).
        for (const [path, content] of Object.entries(AGENT_MEMORY)) {
            await host.exec(
                `runuser -u openclaw -- bash -c 'umask 077 && mkdir -p "$(dirname "$1")" && cat >"$1"' _ ${WORKSPACE}/${path}`,
                { input: content },
            );
        }
        await host.exec(`runuser -u openclaw -- bash -c 'echo "- the agent edited its constitution" >>${WORKSPACE}/SOUL.md'`);
        const written = await fingerprint(host, Object.keys(AGENT_MEMORY));
        for (const [path, content] of Object.entries(AGENT_MEMORY))
            assert.match(written[path]!, new RegExp(`^600 openclaw:openclaw ${sha256Of(content)}$`));
        const oldInstance = (await host.exec("cat /var/lib/cloud/data/instance-id")).stdout.trim();
        const backup = await runBackup(remote!);

        // Throw the server away; the bucket (its data on this machine's disk) stays.
        remote?.dispose();
        remote = undefined;
        await bucket?.stop();
        bucket = undefined;
        await host.destroy();
        vps = undefined;

        assert.ok(rebuild, "the fresh server was never booted");
        const fresh = await rebuild;
        vps = fresh.vps;
        await bootChecks(fresh.boot, fresh.vps);
        const newInstance = (await fresh.vps.exec("cat /var/lib/cloud/data/instance-id")).stdout.trim();
        assert.notEqual(newInstance, oldInstance, "not a new server");
        assert.equal((await fresh.vps.exec(`test -e ${WORKSPACE}/MEMORY.md && echo present || echo absent`)).stdout.trim(), "absent");

        bucket = await startBucket(fresh.vps, plan.settings, bucketData);
        await installRecordingCloudflared(fresh.vps);
        remote = await connectAdmin(fresh.vps, plan.settings, admin.privateKey);
        const started = Date.now();
        const planned = await restorePlan(fresh.vps);
        assert.match(planned.summary, new RegExp(`restore ${backup.last_snapshot.replace(/\./g, "\\.")}`), "planned from outside");
        const run = await deploy(remote, plan.settings, { secrets: DEPLOY_SENTINELS, plan: planned.plan });
        t.diagnostic(`deploy with restore: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        assert.match(run.push.stdout, /first boot: restoring snapshot 'latest'/);
        assert.match((await fresh.vps.exec("test -e /run/openclaw-vps/restore-plan && echo kept || echo removed")).stdout, /removed/);
        // The snapshot brought back the agent's edit of SOUL.md; the deploy then put the repository's version back.
        assert.match(run.push.stdout, /changed \/home\/openclaw\/\.openclaw\/workspace\/SOUL\.md/);
        assert.match((await fresh.vps.exec("cat /var/lib/openclaw-vps/restore.done")).stdout, /^restore_from=latest$/m);
        assertNoSentinel(run.push.stdout + run.push.stderr, "the rebuild's push output");

        assert.deepEqual(
            await fingerprint(fresh.vps, Object.keys(AGENT_MEMORY)),
            written,
            `restored from snapshot ${backup.last_snapshot}`,
        );
        for (const [path, content] of Object.entries(AGENT_MEMORY)) {
            assert.equal((await fresh.vps.exec(`cat ${WORKSPACE}/${path}`)).stdout, content);
        }
        // Operator-owned files come from the repository, not from the snapshot.
        for (const name of ["SOUL.md", "AGENTS.md", "USER.md", "IDENTITY.md"]) {
            const onHost = (await fresh.vps.exec(`cat ${WORKSPACE}/${name}`)).stdout;
            assert.equal(onHost, readFileSync(join(DEFAULT_WORKSPACE_SOURCE, name), "utf8"), `${name} is not the repository's`);
        }
        assert.ok(run.push.summary!.agentKept >= 1, "MEMORY.md (create-only) was not kept as the agent's");
        const gateway = await gatewayProcess(fresh.vps);
        assert.equal(gateway.activeState, "active");
        assert.equal(gateway.user, "openclaw");
        assert.equal(
            (await fresh.vps.exec(`curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:${gatewayPort()}/readyz`)).stdout,
            "200",
        );
    });
});
