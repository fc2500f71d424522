// Upgrades in place on the stand-in VPS, through the deploy `pulumi up` runs (standin/deploy.ts: the release step
// beside wait-provisioned, then the push): a new server gets the previous release (2026.9.5, kept in releases/) from
// the push with the tree of its lock, exactly; the pinned release replaces it in place (same server, same gateway
// token, memory byte-identical, a verified backup first, the old release kept as previous); a broken release from the
// local registry stand-in (its gateway exits 78) is rolled back (old release and pre-upgrade state back, the push
// fails with the reason and the journal); a release that needs a newer Node gets it side by side, and what is beyond
// the previous release is pruned.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { readOpenclawPin } from "../../components/core/pins";
import type { RemoteHost } from "../../components/remote";
import { releaseFor, releaseId, type HostRelease, type ProjectLock } from "../../components/render/openclaw-release";
import type { Settings } from "../../components/settings";
import { standInSettings } from "../../scripts/lib/standin-settings";
import { deploy, gatewayProcess, type DeployRun } from "../../standin/deploy";
import { deployOnRelease, previousRelease, publishStandInRelease, type ReleaseHost } from "../../standin/releases";
import { createAdminKey, type AdminKey } from "../../standin/scenario";
import type { StandInVps } from "../../standin/vps";

const PREVIOUS = previousRelease();
const PINNED = readOpenclawPin().version;
const WORKSPACE = "/home/openclaw/.openclaw/workspace";
const MEMORY: Record<string, string> = {
    "MEMORY.md": "# Memory\n\n- Upgrades happen in place now; the token stays.\n",
    "memory/2026-12-01.md": "# 2026-12-01\n\n- Watched openclaw upgrade itself. Ünïcödé ✓\n",
};

function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

describe("upgrades in place on the stand-in VPS", { timeout: 60 * 60_000 }, () => {
    let admin: AdminKey;
    let settings: Settings;
    let started: ReleaseHost | undefined;
    let vps: StandInVps | undefined;
    let remote: RemoteHost | undefined;
    let first: DeployRun;
    let userData: string;

    const host = () => {
        assert.ok(vps, "no stand-in");
        return vps;
    };
    const exec = async (command: string) => (await host().exec(command)).stdout;
    const port = () => settings.gatewayPort;
    const asAgent = (command: string) =>
        `runuser -u openclaw -- env -i -C /home/openclaw/.openclaw HOME=/home/openclaw PATH=/usr/local/bin:/usr/bin:/bin NO_COLOR=1 ${command}`;
    const currentId = async () => (await exec('basename "$(readlink /opt/openclaw-vps/current)"')).trim();
    const previousId = async () => (await exec('basename "$(readlink /opt/openclaw-vps/previous)" 2>/dev/null || true')).trim();
    const readyz = async () => (await exec(`curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:${port()}/readyz || true`)).trim();
    /** `openclaw health --json` of the running gateway, as the agent with the pushed .env (the gateway token). */
    const health = async () => {
        const out = await host().exec(asAgent("openclaw health --json --timeout 60000"), { allowFailure: true, timeoutMs: 180_000 });
        return { code: out.code, ok: /"ok":\s*true/.test(out.stdout), text: out.stdout + out.stderr };
    };
    const memory = async () =>
        (
            await exec(
                `cd ${WORKSPACE} && sha256sum ${Object.keys(MEMORY).join(" ")} && stat -c '%n %a %U' ${Object.keys(MEMORY).join(" ")}`,
            )
        ).trim();
    const status = async () =>
        Object.fromEntries(
            (await exec("cat /var/lib/openclaw-vps/upgrade.status"))
                .trim()
                .split("\n")
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );

    /** The host's installed tree against the lock it was installed from, read independently of the script's own check. */
    async function assertTreeIsLocked(release: HostRelease, nodeMajor: number): Promise<number> {
        const dir = `/opt/openclaw-vps/releases/${releaseId(release, nodeMajor)}`;
        const locked = (JSON.parse(release.lockJson) as ProjectLock).packages;
        const hidden = JSON.parse(await exec(`cat ${dir}/node_modules/.package-lock.json`)) as ProjectLock;
        // The version in every installed package's own package.json, read on the host by its Node.
        const onDisk = JSON.parse(
            await exec(
                `node -e 'const fs=require("fs"),d=process.argv[1],o={};for(const p of Object.keys(require(d+"/package-lock.json").packages)){try{o[p]=JSON.parse(fs.readFileSync(d+"/"+p+"/package.json","utf8")).version}catch{}}console.log(JSON.stringify(o))' ${dir}`,
            ),
        ) as Record<string, string>;
        let installed = 0;
        for (const [p, want] of Object.entries(locked)) {
            if (p === "") continue;
            const have = hidden.packages[p];
            if (!have) {
                assert.ok(want.optional, `${p} is locked (not optional) but not installed`);
                continue;
            }
            installed++;
            assert.equal(have.version, want.version, `${p}: npm installed another version`);
            if (want.integrity) assert.equal(have.integrity, want.integrity, `${p}: another integrity`);
            if (onDisk[p] !== undefined) assert.equal(onDisk[p], want.version, `${p}: package.json on disk`);
        }
        for (const p of Object.keys(hidden.packages)) assert.ok(p in locked, `${p} is installed but not in the lock`);
        // Root-owned: the agent runs it but cannot change it.
        assert.equal((await exec(`stat -c '%U %a' ${dir}/node_modules/openclaw/package.json`)).trim().split(" ")[0], "root");
        assert.notEqual(
            (await host().exec(`runuser -u openclaw -- test -w ${dir}/node_modules/openclaw/package.json`, { allowFailure: true })).code,
            0,
        );
        return installed;
    }

    before(async () => {
        admin = await createAdminKey();
        settings = standInSettings(admin.publicKey, ["restoreFrom=none", `openclawVersion=${PREVIOUS}`]).settings;
        // Boot, cloud-init (must end cleanly), bucket stand-in, the READY-reporting cloudflared, the first deploy.
        started = await deployOnRelease({ name: "upgrade", settings, privateKey: admin.privateKey });
        ({ vps, remote, first, userData } = started);
    });

    after(async () => {
        await started?.close();
    });

    it("a new server gets Node and the previous release from the push (user data names no version): the locked tree, exactly", async (t) => {
        for (const version of [PREVIOUS, PINNED]) assert.ok(!userData.includes(version), `user data names ${version}`);
        assert.equal((await exec('. /var/lib/openclaw-vps/provision.status && echo "$state $step"')).trim(), "done 11/11");
        t.diagnostic(
            `release step ${first.stageSeconds.toFixed(1)} s beside wait-provisioned ${first.waitSeconds.toFixed(1)} s; push ${first.pushSeconds.toFixed(1)} s`,
        );
        assert.match(first.stage.stdout, new RegExp(`npm ci of ${PREVIOUS}-node24-`));
        assert.match(first.stage.stdout, /packages installed in \d+ s, each the locked version and integrity/);
        assert.match(first.push.stdout, new RegExp(`release ${PREVIOUS}-node24-[0-9a-f]{12} installed and current`));
        assert.equal(await currentId(), releaseId(releaseFor(PREVIOUS), 24));
        assert.match(await exec(asAgent("openclaw --version")), new RegExp(PREVIOUS.replace(/\./g, "\\.")));
        assert.equal((await exec("readlink -f /usr/local/bin/node")).trim(), "/opt/openclaw-vps/nodes/v24.21.0/bin/node");
        const installed = await assertTreeIsLocked(releaseFor(PREVIOUS), 24);
        t.diagnostic(`${installed} packages installed, each as locked`);
        assert.equal(await readyz(), "200");
    });

    it(`upgrades ${PREVIOUS} -> ${PINNED} through the push: same server and token, memory byte-identical, backup first`, async (t) => {
        for (const [file, content] of Object.entries(MEMORY)) {
            await host().exec(
                `runuser -u openclaw -- bash -c 'umask 077 && mkdir -p "$(dirname "$1")" && cat >"$1"' _ ${WORKSPACE}/${file}`,
                {
                    input: content,
                },
            );
        }
        const memoryBefore = await memory();
        for (const [file, content] of Object.entries(MEMORY))
            assert.match(memoryBefore, new RegExp(`${sha256(content)}  ${file.replace(".", "\\.")}`));
        const envBefore = await exec("sha256sum /home/openclaw/.openclaw/.env");
        const bootId = await exec("cat /proc/sys/kernel/random/boot_id");
        const instanceId = await exec("cat /var/lib/cloud/data/instance-id");
        const gatewayBefore = await gatewayProcess(host());
        // The host cannot list the bucket (backups v2: only the operator's read-only token can); its backup job's
        // status names the last snapshot it made.
        const lastSnapshot = async () =>
            (await exec('. /var/lib/openclaw-vps/backup.status 2>/dev/null; echo "${last_snapshot:-}"')).trim();
        const snapshotBefore = await lastSnapshot();

        const run = await deploy(remote!, { ...settings, openclawVersion: PINNED });
        const out = run.push.stdout;
        t.diagnostic(`release step ${run.stageSeconds.toFixed(1)} s, push ${run.pushSeconds.toFixed(1)} s`);
        t.diagnostic(
            out
                .split("\n")
                .filter((l) => /upgrade: |check: |backup: |rollback/.test(l))
                .join("\n"),
        );
        assert.match(out, new RegExp(`upgrade: openclaw ${PREVIOUS} \\(${releaseId(releaseFor(PREVIOUS), 24)}\\) -> ${PINNED}`));
        assert.match(out, /check: passed/);
        assert.match(out, /backup: snapshot \S+ verified/);
        assert.match(out, /is ready and healthy; the gateway was not ready for [\d.]+ s/);
        const snapshotAfter = await lastSnapshot();
        assert.notEqual(snapshotAfter, snapshotBefore, "the upgrade took a backup first");
        assert.ok(out.includes(`backup: snapshot ${snapshotAfter} verified`), "the push names the snapshot it verified");

        assert.equal(await currentId(), releaseId(releaseFor(PINNED), 24));
        assert.equal(await previousId(), releaseId(releaseFor(PREVIOUS), 24), "the old release stays, as the previous one");
        assert.match(await exec(asAgent("openclaw --version")), new RegExp(PINNED.replace(/\./g, "\\.")));
        await assertTreeIsLocked(releaseFor(PINNED), 24);
        const gatewayAfter = await gatewayProcess(host());
        assert.notEqual(gatewayAfter.mainPid, gatewayBefore.mainPid, "the gateway was not restarted on the new release");
        assert.equal(await readyz(), "200");
        const checked = await health();
        assert.ok(checked.ok, `openclaw health --json with the pushed token: ${checked.text}`);
        // The same server: not replaced, not even rebooted; the same gateway token; the agent's memory untouched.
        assert.equal(await exec("cat /proc/sys/kernel/random/boot_id"), bootId);
        assert.equal(await exec("cat /var/lib/cloud/data/instance-id"), instanceId);
        assert.equal(await exec("sha256sum /home/openclaw/.openclaw/.env"), envBefore);
        assert.equal(await memory(), memoryBefore);
        assert.equal((await status()).last_result, "ok");

        // A second push changes nothing: the release is current, the gateway keeps running.
        const again = await deploy(remote!, { ...settings, openclawVersion: PINNED });
        assert.match(again.push.stdout, /is current: nothing to do/);
        assert.deepEqual(again.push.summary!.restarted, []);
        assert.equal((await gatewayProcess(host())).mainPid, gatewayAfter.mainPid);
    });

    it("rolls a broken release back (its gateway exits 78): old release and state back, the push fails with the reason", async (t) => {
        const broken = await publishStandInRelease({ version: "2026.9.7-standin.78", behaviour: "exit-78" });
        const memoryBefore = await memory();
        const running = await currentId();
        // The settings keep the pinned version (the config is the same; the renderer takes exact versions only): the
        // release given is what the host installs.
        const run = await deploy(remote!, { ...settings, openclawVersion: PINNED }, { release: broken, allowFailure: true });
        t.diagnostic(`release step ${run.stageSeconds.toFixed(1)} s, push ${run.pushSeconds.toFixed(1)} s`);
        t.diagnostic(
            run.push.stdout
                .split("\n")
                .filter((l) => /upgrade: |rollback/.test(l))
                .join("\n"),
        );
        assert.notEqual(run.push.code, 0, "the push succeeded with a broken release");
        const everything = run.push.stdout + run.push.stderr;
        assert.match(
            everything,
            /upgrade to 2026\.9\.7-standin\.78 .* FAILED and was rolled back: openclaw-gateway\.service failed before/,
        );
        assert.match(everything, /last journal lines of openclaw-gateway\.service/);
        assert.match(everything, /Config invalid: this stand-in release rejects every config \(exit 78/);
        assert.match(everything, /the pre-upgrade state is back, byte-identical \(\d+ entries checked against its manifest\)/);
        assert.match(everything, /rollback: openclaw 2026\.9\.6 is back and healthy/);
        assert.match(everything, /the OpenClaw release was not installed or upgraded/);

        assert.equal(await currentId(), running);
        assert.equal(await readyz(), "200");
        assert.ok((await health()).ok, "the old release does not answer openclaw health");
        assert.equal(await memory(), memoryBefore);
        assert.equal((await status()).last_result, "rolled-back");
        assert.match(await exec("ls -d /home/openclaw/.openclaw-failed-upgrade-* | wc -l"), /^1$/m, "the failed state is kept aside");
    });

    it("gives a release that needs a newer Node its Node side by side, and prunes what is beyond the previous release", async () => {
        const node26 = await publishStandInRelease({ version: "2026.9.7-standin.node26", behaviour: "serve", nodeEngines: ">=26.1.0" });
        const pinned = await currentId();
        const run = await deploy(remote!, { ...settings, openclawVersion: PINNED, nodeMajor: 26 }, { release: node26 });
        assert.match(run.stage.stdout, /node: installing v26\.\d+\.\d+/);
        // Node 26's official build links libatomic, which a minimal base system lacks: the install brings it.
        assert.match(run.stage.stdout, /needs libatomic\.so\.1: installing libatomic1|node: v26\.\d+\.\d+ installed/);
        assert.match(run.stage.stdout, /engines: openclaw 2026\.9\.7-standin\.node26 needs Node >=26\.1\.0; v26\.\d+\.\d+ satisfies it/);
        assert.equal(await currentId(), releaseId(node26, 26));
        assert.equal(await previousId(), pinned);
        const nodes = (await exec("ls /opt/openclaw-vps/nodes")).trim().split("\n");
        assert.deepEqual(nodes.length, 2, nodes.join(" "));
        assert.ok(nodes.includes("v24.21.0"), "the previous release's Node is gone");
        const v26 = nodes.find((n) => n.startsWith("v26."))!;
        assert.equal((await exec(`readlink -f /opt/openclaw-vps/previous/node`)).trim(), "/opt/openclaw-vps/nodes/v24.21.0");
        const gateway = await gatewayProcess(host());
        assert.equal((await exec(`readlink /proc/${gateway.mainPid}/exe`)).trim(), `/opt/openclaw-vps/nodes/${v26}/bin/node`);
        assert.equal(await readyz(), "200");
        const checked = await health();
        assert.ok(checked.ok, `the stand-in release's health with the same gateway token: ${checked.text}`);
        // Only the current and the previous release are kept (the first one and the broken one are pruned).
        assert.deepEqual((await exec("ls /opt/openclaw-vps/releases")).trim().split("\n").sort(), [pinned, releaseId(node26, 26)].sort());
    });
});
