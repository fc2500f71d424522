// The stand-in VPS harness itself: its teardown leaves nothing on this machine (also when the test process is
// killed mid-run), its lifecycle (reboot, poweroff) behaves like a server's, and its internet stand-ins are honest
// (a signed apt repository that apt really verifies, a cloudflared stand-in that records names, never values).
// Minimal user data here (a few seconds a boot); test/vps/boot.test.ts boots the real one.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAlive, run } from "../../standin/process";
import { cleanupStaleInstances, STANDIN_CLOUDFLARED_RECORD, STANDIN_MIRRORS, STANDIN_NETWORK, StandInVps } from "../../standin/vps";

const MINIMAL_USER_DATA = "#cloud-config\nruncmd:\n  - [sh, -c, 'echo provisioned > /root/marker']\n";

interface Held {
    netns: string;
    instanceDir: string;
    socketDir: string;
    merged: string;
    pids: number[];
    pid1?: number;
}

async function namespaces(): Promise<string[]> {
    return (await run("ip", ["netns", "list"])).stdout
        .split("\n")
        .map((line) => line.split(" ")[0]!)
        .filter(Boolean);
}

function mountedPaths(): string[] {
    return readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((line) => line.split(" ")[4] ?? "");
}

/** Asserts that nothing an instance held is left: namespace, mounts, processes, directories. */
async function assertNothingLeft(held: Held): Promise<void> {
    assert.ok(!(await namespaces()).includes(held.netns), `namespace ${held.netns} is left`);
    const mounts = mountedPaths().filter((path) => path.startsWith(held.instanceDir));
    assert.deepEqual(mounts, [], "mounts are left");
    for (const pid of [...held.pids, ...(held.pid1 ? [held.pid1] : [])]) {
        assert.ok(!isAlive(pid) || isZombieOrReused(pid), `process ${pid} is left: ${describeProcess(pid)}`);
    }
    assert.ok(!existsSync(held.instanceDir), `${held.instanceDir} is left`);
    assert.ok(!existsSync(held.socketDir), `${held.socketDir} is left`);
}

function describeProcess(pid: number): string {
    try {
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        return status
            .split("\n")
            .filter((line) => /^(Name|State|PPid|NSpid):/.test(line))
            .join(", ");
    } catch {
        return "gone";
    }
}

function isZombieOrReused(pid: number): boolean {
    try {
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        return /^State:\s+Z/m.test(status) || !/systemd|nspawn|node|setpriv|nsenter/.test(readFileSync(`/proc/${pid}/comm`, "utf8"));
    } catch {
        return true;
    }
}

describe("stand-in VPS harness", { timeout: 6 * 60_000 }, () => {
    let vps: StandInVps;

    before(async () => {
        vps = await StandInVps.boot({ name: "harness", userData: MINIMAL_USER_DATA });
        const state = await vps.waitBooted(120_000);
        assert.equal(state.cloudInitCode, 0, state.cloudInit);
    });

    after(async () => {
        await vps?.destroy();
    });

    it("runs the user data through cloud-init's NoCloud seed on its private network", async () => {
        assert.equal((await vps.exec("cat /root/marker")).stdout, "provisioned\n");
        const datasource = await vps.exec("cloud-init query platform; cloud-init query v1.local_hostname");
        assert.equal(datasource.stdout, "nocloud\nharness\n");
        const address = await vps.exec("ip -4 -o addr show dev host0");
        assert.match(address.stdout, new RegExp(`inet ${STANDIN_NETWORK.guest.replaceAll(".", "\\.")}/24`));
        // A cloud image's identity is made on first boot, never shipped in the image.
        const identity = await vps.exec("cat /etc/machine-id; ls /etc/ssh/ssh_host_ed25519_key.pub");
        assert.match(identity.stdout, /^[0-9a-f]{32}\n\/etc\/ssh\/ssh_host_ed25519_key\.pub\n$/);
        // No way out to the internet but the mirrors.
        const outside = await vps.exec("curl -sS -m 5 -o /dev/null https://registry.npmjs.org/ 2>&1", { allowFailure: true });
        assert.notEqual(outside.code, 0, "the container reached the internet");
        const proxied = await vps.exec(
            `curl -sS -o /dev/null -w '%{http_code}' -x http://${STANDIN_NETWORK.gateway}:${STANDIN_NETWORK.aptProxyPort} http://example.com/`,
            { allowFailure: true },
        );
        assert.equal(proxied.stdout, "403", "the apt proxy must only reach Debian's archive");
    });

    it("installs the stand-in cloudflared from a signed repository that apt really verifies", async () => {
        const keyring = "/usr/share/keyrings/cloudflare-main.gpg";
        const list = "/etc/apt/sources.list.d/cloudflared.list";
        const onlyThisList = `-o Dir::Etc::sourcelist=${list} -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0`;
        // The image holds apt's locks at boot as Ubuntu's apt-daily does (provision.sh waits for it); this test uses apt
        // without provision.sh, so it ends the holder first.
        await vps.exec("systemctl stop standin-apt-lock-holder.service");
        // Signed by someone else's key: apt must refuse the repository.
        await vps.exec(
            `echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${STANDIN_MIRRORS.CLOUDFLARED_APT_URL} any main' > ${list}`,
        );
        const refused = await vps.exec(`apt-get update ${onlyThisList} 2>&1`, { allowFailure: true });
        assert.match(refused.stdout, /NO_PUBKEY|not signed|is not signed/, refused.stdout);
        await vps.exec(`curl -fsS -o ${keyring} ${STANDIN_MIRRORS.CLOUDFLARED_APT_KEY_URL}`);
        await vps.exec(`echo 'deb [signed-by=${keyring}] ${STANDIN_MIRRORS.CLOUDFLARED_APT_URL} any main' > ${list}`);
        await vps.exec(`apt-get -q update ${onlyThisList} && apt-get -q -y install cloudflared`);
        assert.match((await vps.exec("cloudflared --version")).stdout, /^cloudflared version .*stand-in/);

        // It records argv and the NAMES of its environment, never a value.
        const sentinel = "sentinel-tunnel-token-3f9c1e";
        await vps.exec(`TUNNEL_TOKEN=${sentinel} timeout 3 cloudflared --no-autoupdate tunnel run`, { allowFailure: true });
        const recorded = await vps.exec(`cat ${STANDIN_CLOUDFLARED_RECORD}; stat -c %a ${STANDIN_CLOUDFLARED_RECORD}`);
        const [line, mode] = recorded.stdout.trim().split("\n");
        const record = JSON.parse(line!) as { argv: string[]; env_names: string[]; uid: number };
        assert.deepEqual(record.argv, ["--no-autoupdate", "tunnel", "run"]);
        assert.ok(record.env_names.includes("TUNNEL_TOKEN"));
        assert.equal(record.uid, 0);
        assert.equal(mode, "600");
        assert.ok(!recorded.stdout.includes(sentinel), "the stand-in recorded a secret value");
    });

    it("reboots like a server (same disk, new boot) and powers off", async () => {
        const initBefore = await vps.pid1();
        await vps.exec("echo kept > /var/tmp/survives-reboot");
        await vps.reboot();
        const state = await vps.waitBooted(120_000);
        assert.equal(state.systemState, "running");
        assert.equal(vps.bootCount, 2);
        assert.equal((await vps.exec("cat /var/tmp/survives-reboot")).stdout, "kept\n");
        assert.notEqual(await vps.pid1(), initBefore, "a reboot starts a new init");
        await vps.poweroff();
        assert.equal(vps.running, false);
        await assert.rejects(vps.exec("true"), /not running/);
    });

    it("reports a failed first boot instead of hiding it", async () => {
        const broken = await StandInVps.boot({
            name: "broken",
            userData: "#cloud-config\nruncmd:\n  - [sh, -c, 'echo provisioning fails >&2; exit 3']\n",
        });
        try {
            const state = await broken.waitBooted(120_000);
            assert.equal(state.cloudInitCode, 1, state.cloudInit);
            assert.match(state.cloudInit, /^status: error$/m);
            assert.equal(state.systemState, "degraded"); // cloud-final.service failed
            assert.match(broken.consoleLog(), /provisioning fails/);
        } finally {
            await broken.destroy();
        }
    });

    it("destroy leaves no namespace, mount, process or directory behind", async () => {
        const other = await StandInVps.boot({ name: "teardown", userData: MINIMAL_USER_DATA });
        await other.waitBooted(120_000);
        const held: Held = { ...other.resources(), pid1: await other.pid1() };
        assert.ok((await namespaces()).includes(held.netns));
        assert.ok(mountedPaths().includes(held.merged));
        await other.destroy();
        await assertNothingLeft(held);
        await other.destroy(); // twice is fine
    });

    it("a test process killed mid-run leaves nothing that the next run does not remove", async () => {
        const fixture = join(__dirname, "fixtures", "boot-and-wait.ts");
        const child = spawn(process.execPath, ["--import", "tsx", fixture], { stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const held = await new Promise<Held>((resolve, reject) => {
            let out = "";
            child.stdout.on("data", (chunk: Buffer) => {
                out += chunk.toString();
                if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!) as Held);
            });
            child.on("exit", (code) => reject(new Error(`fixture exited ${code} before booting: ${stderr}`)));
        });
        child.kill("SIGKILL"); // no exit hook runs: like a runner that was killed
        await new Promise((resolve) => child.once("exit", resolve));
        assert.ok((await namespaces()).includes(held.netns), "the killed run should have left its namespace");
        assert.ok(mountedPaths().includes(held.merged), "the killed run should have left its overlay mounted");
        cleanupStaleInstances();
        await assertNothingLeft(held);
    });
});
