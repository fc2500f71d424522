// The push against a REAL sshd on loopback (test/helpers/push.ts): the rendered bundle goes over SSH as the `ops`
// admin into `sudo -n bash -s`, exactly as in production, and the applier writes into a temporary root
// (OPENCLAW_VPS_ROOT) with real owners (`openclaw`), modes, renames and setpriv. systemctl/loginctl/journalctl are
// recording stand-ins; /readyz is a tiny local responder. Proves: files, owners and modes; a second run changes
// nothing; agent-written memory survives an operator change; secrets land 0600 and appear in no output or argv;
// restarts happen only when their inputs change; the first-boot restore runs once, before the seed and the gateway.
import { CONTRACT_ENV_FILE } from "../helpers/contract";
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Bundle, BundleFile } from "../../components/render/bundle";
import { buildHostBundle } from "../../components/render/host-bundle";
import { parsePushTimes, PushResult, RemoteHost } from "../../components/remote";
import {
    AGENT_USER,
    HOST_SENTINELS,
    sampleHostInput,
    SshdSandbox,
    fileStat,
    startReadyz,
    connectToSandbox,
    startSshdSandbox,
    treeStat,
    writeStandInTools,
} from "../helpers/push";

const SENTINELS = {
    tunnel: "SENTINEL-TUNNEL-TOKEN-5d1e0c",
    llm: "SENTINEL-ANTHROPIC-KEY-93aa71",
    gateway: "SENTINEL-GATEWAY-TOKEN-0b7f2d",
    r2: "SENTINEL-R2-SECRET-c4e810",
};
const HOME = `/home/${AGENT_USER}`;
const STATE = `${HOME}/.openclaw`;
const WORKSPACE = `${STATE}/workspace`;
const GATEWAY = "openclaw-gateway.service";
const CLOUDFLARED = "cloudflared.service";
const TIMER = "openclaw-backup.timer";

let sandbox: SshdSandbox;
let host: RemoteHost;
let readyz: Awaited<ReturnType<typeof startReadyz>>;
let tools: ReturnType<typeof writeStandInTools>;

interface Variant {
    soul?: string;
    llmKey?: string;
    tunnelToken?: string;
    restoreFrom?: string;
    restoreFails?: boolean;
    /** The installer's after-gateway part (the browser) fails. */
    afterGatewayFails?: boolean;
    config?: string;
    /** How long the applier may wait for /readyz (default 3 s). */
    readyTimeoutSeconds?: number;
}

function file(p: string, content: string, owner: string, mode: string, extra: Partial<BundleFile> = {}): BundleFile {
    return { path: p, content, owner, group: owner, mode, policy: "replace", secret: false, ...extra };
}

/** A bundle shaped like the host contract's (the real composition is tested in host-bundle tests). */
function bundle(v: Variant = {}): Bundle {
    const calls = path.join(sandbox.dir, "calls.log");
    return {
        agentUser: AGENT_USER,
        services: [{ unit: CLOUDFLARED, noBlock: true }, { unit: TIMER }, { unit: GATEWAY }],
        dirs: [
            { path: "/etc/openclaw-vps", owner: "root", group: "root", mode: "0755" },
            { path: "/etc/cloudflared", owner: "root", group: "root", mode: "0755" },
            { path: "/opt/openclaw-vps/bin", owner: "root", group: "root", mode: "0755" },
            { path: STATE, owner: AGENT_USER, group: AGENT_USER, mode: "0700" },
            { path: WORKSPACE, owner: AGENT_USER, group: AGENT_USER, mode: "0700" },
            { path: `${WORKSPACE}/memory`, owner: AGENT_USER, group: AGENT_USER, mode: "0700" },
        ],
        files: [
            // A stand-in restore.sh: records its arguments and restores memory the way the real one would.
            file(
                "/opt/openclaw-vps/bin/restore.sh",
                `#!/usr/bin/env bash\nset -euo pipefail\necho "$(id -un) restore.sh $*" >>${calls}\n` +
                    (v.restoreFails ? "echo 'snapshot is corrupt' >&2\nexit 3\n" : "") +
                    `ws="\${OPENCLAW_VPS_ROOT}${WORKSPACE}"\n` +
                    `if [[ -e "$ws/SOUL.md" || -e "$ws/memory/2026-01-01.md" ]]; then echo "restore.sh found a seed" >>${calls}; fi\n` +
                    `mkdir -p "$ws/memory"\n` +
                    `echo "restored memory" >"$ws/MEMORY.md"\necho "restored note" >"$ws/memory/2025-12-31.md"\n` +
                    `chown -R ${AGENT_USER}:${AGENT_USER} "\${OPENCLAW_VPS_ROOT}${STATE}"\n`,
                "root",
                "0755",
            ),
            file(
                "/opt/openclaw-vps/bin/install-plugins.sh",
                `#!/usr/bin/env bash\necho "$(id -un) install-plugins.sh $*" >>${calls}\n` +
                    (v.afterGatewayFails ? `if [[ $1 == --after-gateway ]]; then echo 'chromium: no such package' >&2; exit 1; fi\n` : ""),
                "root",
                "0755",
            ),
            file("/etc/systemd/system/cloudflared.service", "[Service]\nEnvironmentFile=/etc/cloudflared/tunnel.env\n", "root", "0644", {
                affects: [CLOUDFLARED],
            }),
            file("/etc/cloudflared/tunnel.env", `TUNNEL_TOKEN=${v.tunnelToken ?? SENTINELS.tunnel}\n`, "root", "0600", {
                secret: true,
                affects: [CLOUDFLARED],
            }),
            file("/etc/systemd/system/openclaw-backup.service", "[Service]\nType=oneshot\n", "root", "0644"),
            file("/etc/systemd/system/openclaw-backup.timer", "[Timer]\nOnCalendar=hourly\n", "root", "0644", { affects: [TIMER] }),
            file("/etc/openclaw-vps/rclone.conf", `[r2]\ntype = s3\nsecret_access_key = ${SENTINELS.r2}\n`, "root", "0600", {
                secret: true,
            }),
            file("/etc/openclaw-vps/backup.env", `BACKUP_REMOTE=r2:bucket\nRESTORE_FROM=${v.restoreFrom ?? "latest"}\n`, "root", "0600"),
            file(`${STATE}/openclaw.json`, v.config ?? '{"gateway":{"mode":"local","bind":"loopback"}}\n', AGENT_USER, "0600", {
                affects: [GATEWAY, "plugins"],
            }),
            file(
                `${STATE}/.env`,
                `OPENCLAW_GATEWAY_TOKEN=${SENTINELS.gateway}\nANTHROPIC_API_KEY=${v.llmKey ?? SENTINELS.llm}\n`,
                AGENT_USER,
                "0600",
                {
                    secret: true,
                    affects: [GATEWAY],
                },
            ),
            file(
                `/etc/systemd/system/${GATEWAY}`,
                "[Service]\nUser=openclaw\nExecStart=/usr/local/bin/openclaw gateway run\n",
                "root",
                "0644",
                {
                    stage: "agent",
                    affects: [GATEWAY],
                },
            ),
            file(`${WORKSPACE}/SOUL.md`, v.soul ?? "# Soul\nYou run on an isolated VPS. Never run rm -rf.\n", AGENT_USER, "0600"),
            file(`${WORKSPACE}/USER.md`, "# User\nTime zone: UTC\n", AGENT_USER, "0600"),
            file(`${WORKSPACE}/MEMORY.md`, "# Memory (seed)\n", AGENT_USER, "0600", { policy: "create-only" }),
            file(`${WORKSPACE}/memory/2026-01-01.md`, "seed note\n", AGENT_USER, "0600", { policy: "create-only" }),
        ],
        restore: {
            from: v.restoreFrom ?? "latest",
            script: "/opt/openclaw-vps/bin/restore.sh",
            marker: "/var/lib/openclaw-vps/restore.done",
        },
        pluginInstaller: {
            script: "/opt/openclaw-vps/bin/install-plugins.sh",
            args: ["@openclaw/voyage-provider@2026.9.6"],
            afterGateway: true,
        },
        readiness: { url: `http://127.0.0.1:${readyz.port}/readyz`, unit: GATEWAY, timeoutSeconds: v.readyTimeoutSeconds ?? 3 },
        retireUserUnit: GATEWAY,
        userManagerTimeoutSeconds: 5,
    };
}

/** A fresh host root as provisioning leaves it: the agent's home (no linger, no user manager: the gateway is a system
 *  unit) and a root-owned ~/.openclaw (the cloud-init trap the push must fix). */
function freshRoot(name: string): string {
    const root = path.join(sandbox.dir, name);
    const uid = sandbox.agentUid;
    fs.mkdirSync(path.join(root, HOME, ".openclaw"), { recursive: true });
    fs.chmodSync(path.join(root, "home"), 0o755);
    fs.chownSync(path.join(root, HOME), uid, uid);
    fs.chmodSync(path.join(root, HOME), 0o750);
    fs.mkdirSync(path.join(root, "etc/systemd/system"), { recursive: true });
    return root;
}

/** A host pushed before the gateway became a system unit: its user unit, linger on, the user manager up. */
function legacyRoot(name: string): string {
    const root = freshRoot(name);
    const uid = sandbox.agentUid;
    for (const dir of [".config", ".config/systemd", ".config/systemd/user"]) {
        fs.mkdirSync(path.join(root, HOME, dir));
        fs.chownSync(path.join(root, HOME, dir), uid, uid);
    }
    fs.writeFileSync(path.join(root, HOME, ".config/systemd/user", GATEWAY), "[Service]\nExecStart=/usr/local/bin/openclaw gateway run\n");
    fs.mkdirSync(path.join(root, "var/lib/systemd/linger"), { recursive: true });
    fs.writeFileSync(path.join(root, "var/lib/systemd/linger", AGENT_USER), "");
    fs.mkdirSync(path.join(root, `run/user/${uid}/systemd`), { recursive: true });
    fs.writeFileSync(path.join(root, `run/user/${uid}/systemd/private`), "");
    return root;
}

/** Collects every command line on this machine while the push runs: no secret may ever be in argv. */
function watchArgv(): { stop(): string[] } {
    const seen = new Set<string>();
    const sample = () => {
        for (const pid of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(pid)) continue;
            try {
                seen.add(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
            } catch {
                // the process ended
            }
        }
    };
    const timer = setInterval(sample, 5);
    return {
        stop: () => {
            clearInterval(timer);
            sample();
            return [...seen];
        },
    };
}

async function push(root: string, v: Variant = {}): Promise<PushResult> {
    const argv = watchArgv();
    const result = await host.pushBundle(bundle(v), {
        environment: {
            OPENCLAW_VPS_ROOT: root,
            OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
            PATH: `${tools.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        },
    });
    const commandLines = argv.stop().join("\n");
    const everything = [result.stdout, result.stderr, tools.calls().join("\n"), sandbox.sshdLog(), commandLines].join("\n");
    for (const secret of [...Object.values(SENTINELS), v.llmKey, v.tunnelToken].filter((s): s is string => !!s)) {
        assert.ok(!everything.includes(secret), `secret ${secret} leaked into output, logs or a command line`);
    }
    return result;
}

function assertOk(result: PushResult): void {
    assert.equal(result.code, 0, `push failed:\n${result.stdout}\n${result.stderr}`);
    assert.ok(result.summary, `no summary:\n${result.stdout}`);
}

const read = (root: string, p: string) => fs.readFileSync(path.join(root, p), "utf8");
const gatewayCalls = () => tools.calls().filter((c) => c.includes(GATEWAY));
const restartsOf = (unit: string) => tools.calls().filter((c) => / systemctl .*(restart|start) /.test(c + " ") && c.endsWith(` ${unit}`));

before(async () => {
    sandbox = await startSshdSandbox();
    tools = writeStandInTools(sandbox.dir);
    readyz = await startReadyz();
    host = await connectToSandbox(sandbox);
});

after(async () => {
    host?.dispose();
    await readyz?.close();
    await sandbox?.stop();
});

test("a host key other than the expected one is refused", async () => {
    await assert.rejects(
        connectToSandbox(sandbox, ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]),
        /presented host key SHA256:.*not the expected one/,
    );
});

test("push over SSH: files, owners and modes; restore first; a second run changes nothing; memory survives; restarts only on change", async (t) => {
    const root = freshRoot("host-a");
    const uid = sandbox.agentUid;
    const agent = `${uid}:${uid}`;

    await t.test("first push creates everything with the contract's owners and modes", async () => {
        tools.reset();
        const result = await push(root);
        assertOk(result);
        const expected: Record<string, [string, string]> = {
            "/opt/openclaw-vps/bin/restore.sh": ["0:0", "0755"],
            "/etc/systemd/system/cloudflared.service": ["0:0", "0644"],
            "/etc/cloudflared/tunnel.env": ["0:0", "0600"],
            "/etc/openclaw-vps/rclone.conf": ["0:0", "0600"],
            "/etc/openclaw-vps/backup.env": ["0:0", "0600"],
            "/var/lib/openclaw-vps/restore.done": ["0:0", "0644"],
            [STATE]: [agent, "0700"],
            [`${STATE}/openclaw.json`]: [agent, "0600"],
            [`${STATE}/.env`]: [agent, "0600"],
            [`/etc/systemd/system/${GATEWAY}`]: ["0:0", "0644"],
            [WORKSPACE]: [agent, "0700"],
            [`${WORKSPACE}/SOUL.md`]: [agent, "0600"],
            [`${WORKSPACE}/memory`]: [agent, "0700"],
        };
        for (const [p, [owner, mode]] of Object.entries(expected)) {
            const st = fileStat(path.join(root, p));
            assert.deepEqual([st.owner, st.mode], [owner, mode], p);
        }
        assert.equal(read(root, "/etc/cloudflared/tunnel.env"), `TUNNEL_TOKEN=${SENTINELS.tunnel}\n`);
        assert.equal(read(root, `${WORKSPACE}/SOUL.md`), bundle().files.find((f) => f.path.endsWith("SOUL.md"))!.content);

        // The restore ran once, as root, with the contract's arguments, before the seed: restored memory wins over
        // the create-only seed, and seeds fill only what the snapshot lacked.
        const calls = tools.calls();
        assert.deepEqual(
            calls.filter((c) => c.includes("restore.sh")),
            ["root restore.sh --snapshot latest --first-boot"],
            "restore ran before any seed",
        );
        assert.equal(read(root, `${WORKSPACE}/MEMORY.md`), "restored memory\n");
        assert.equal(read(root, `${WORKSPACE}/memory/2025-12-31.md`), "restored note\n");
        assert.equal(read(root, `${WORKSPACE}/memory/2026-01-01.md`), "seed note\n");
        assert.match(read(root, "/var/lib/openclaw-vps/restore.done"), /^restore_from=latest\n/);

        // Order: restore -> plugins -> systemd reload -> gateway (a system unit; User= in the unit makes it the agent).
        const order = (needle: RegExp) => calls.findIndex((c) => needle.test(c));
        const restoreAt = order(/restore\.sh/);
        const pluginsAt = order(/^root install-plugins\.sh @openclaw\/voyage-provider@2026\.9\.6$/);
        const daemonReloadAt = order(/^root systemctl daemon-reload$/);
        const gatewayAt = order(new RegExp(`^root systemctl restart ${GATEWAY}$`));
        assert.ok(
            restoreAt >= 0 && pluginsAt > restoreAt && daemonReloadAt > restoreAt && gatewayAt > pluginsAt && gatewayAt > daemonReloadAt,
            calls.join("\n"),
        );
        // What the gateway does not need to start (the browser) comes once it answered /readyz: never on its way.
        const afterGatewayAt = order(/^root install-plugins\.sh --after-gateway$/);
        assert.ok(afterGatewayAt > gatewayAt, calls.join("\n"));
        assert.ok(
            result.stdout.indexOf("gateway ready after") < result.stdout.indexOf("installing what the gateway does not need to start"),
            result.stdout,
        );
        // A new host has no user unit to retire and no linger: the user manager is never asked anything.
        assert.deepEqual(
            calls.filter((c) => /--user|loginctl/.test(c)),
            [],
            calls.join("\n"),
        );
        assert.ok(calls.includes(`root systemctl --no-block restart ${CLOUDFLARED}`));
        assert.ok(calls.includes(`root systemctl restart ${TIMER}`));
        for (const unit of [CLOUDFLARED, TIMER]) assert.ok(calls.includes(`root systemctl enable --quiet ${unit}`), unit);
        assert.ok(calls.includes(`root systemctl enable --quiet ${GATEWAY}`));
        assert.deepEqual(result.summary!.restarted.sort(), [CLOUDFLARED, GATEWAY, TIMER].sort());
        assert.ok(readyz.hits() > 0, "the push waited for /readyz");
        assert.match(result.stdout, /summary: \d+ changed, \d+ created/);
        // Where the time went, for the bench: every phase once, in the order the push runs them.
        const times = parsePushTimes(result.stdout);
        assert.deepEqual(
            times.map((t) => t.phase),
            ["host-files", "baseline", "restore", "release", "agent-files", "tools", "services", "readiness", "browser", "integrity"],
            result.stdout,
        );
        for (const { phase, seconds } of times) assert.ok(Number.isFinite(seconds) && seconds >= 0, `${phase}=${seconds}`);
    });

    await t.test("a second identical push changes nothing: same inodes and mtimes, no restart, no restore, no plugins", async () => {
        const beforeTree = treeStat(root);
        tools.reset();
        const result = await push(root);
        assertOk(result);
        assert.deepEqual(
            {
                changed: result.summary!.changed,
                created: result.summary!.created,
                fixed: result.summary!.fixed,
                restarted: result.summary!.restarted,
            },
            { changed: 0, created: 0, fixed: 0, restarted: [] },
        );
        assert.equal(result.summary!.started.length, 0);
        assert.deepEqual(treeStat(root), beforeTree);
        const mutating = tools
            .calls()
            .filter((c) => / (restart|start|daemon-reload|restore\.sh|install-plugins\.sh|enable-linger)( |$)/.test(c));
        assert.deepEqual(mutating, []);
    });

    await t.test("after the agent wrote memory, a changed SOUL.md replaces SOUL.md only and restarts nothing", async () => {
        // The agent writes its memory, as itself.
        const memory = path.join(root, WORKSPACE, "MEMORY.md");
        const note = path.join(root, WORKSPACE, "memory/2026-01-01.md");
        fs.writeFileSync(memory, "the agent's curated facts\n");
        fs.writeFileSync(note, "the agent's daily note\n");
        fs.chownSync(memory, uid, uid);
        fs.chownSync(note, uid, uid);
        const memoryBefore = fileStat(memory);
        const noteBefore = fileStat(note);

        tools.reset();
        const result = await push(root, { soul: "# Soul v2\nAsk before deleting anything.\n" });
        assertOk(result);
        assert.equal(result.summary!.changed, 1);
        assert.match(result.stdout, /changed \/home\/openclaw\/\.openclaw\/workspace\/SOUL\.md/);
        assert.equal(read(root, `${WORKSPACE}/SOUL.md`), "# Soul v2\nAsk before deleting anything.\n");
        assert.deepEqual(fileStat(path.join(root, WORKSPACE, "SOUL.md")).mode, "0600");
        assert.equal(read(root, `${WORKSPACE}/MEMORY.md`), "the agent's curated facts\n");
        assert.equal(read(root, `${WORKSPACE}/memory/2026-01-01.md`), "the agent's daily note\n");
        assert.deepEqual(fileStat(memory), memoryBefore);
        assert.deepEqual(fileStat(note), noteBefore);
        assert.deepEqual(result.summary!.restarted, []);
        assert.deepEqual(restartsOf(GATEWAY), []);
    });

    await t.test("a new LLM key restarts the gateway only; a new tunnel token restarts cloudflared only", async () => {
        tools.reset();
        const soul = "# Soul v2\nAsk before deleting anything.\n";
        const rotatedKey = "SENTINEL-ROTATED-LLM-KEY-77e1";
        const keyed = await push(root, { soul, llmKey: rotatedKey });
        assertOk(keyed);
        assert.deepEqual(keyed.summary!.restarted, [GATEWAY]);
        assert.deepEqual(restartsOf(CLOUDFLARED), []);
        assert.match(keyed.stdout, /changed \/home\/openclaw\/\.openclaw\/\.env/);
        assert.ok(read(root, `${STATE}/.env`).includes(rotatedKey));
        assert.equal(fileStat(path.join(root, STATE, ".env")).mode, "0600");

        tools.reset();
        const rotatedToken = "SENTINEL-ROTATED-TUNNEL-TOKEN-3c9d";
        const tokened = await push(root, { soul, llmKey: rotatedKey, tunnelToken: rotatedToken });
        assertOk(tokened);
        assert.deepEqual(tokened.summary!.restarted, [CLOUDFLARED]);
        // The tunnel is restarted without waiting for it to connect: an unreachable edge must not hang the push.
        assert.ok(
            tools.calls().some((c) => / systemctl --no-block restart cloudflared\.service$/.test(c)),
            tools.calls().join("\n"),
        );
        assert.deepEqual(restartsOf(GATEWAY), []);
        assert.deepEqual(
            gatewayCalls().filter((c) => /restart/.test(c)),
            [],
        );
    });

    await t.test("a changed openclaw.json reinstalls the plugins, then restarts the gateway", async () => {
        tools.reset();
        const rotated = {
            soul: "# Soul v2\nAsk before deleting anything.\n",
            llmKey: "SENTINEL-ROTATED-LLM-KEY-77e1",
            tunnelToken: "SENTINEL-ROTATED-TUNNEL-TOKEN-3c9d",
        };
        const result = await push(root, { ...rotated, config: '{"gateway":{"mode":"local","bind":"loopback","port":18790}}\n' });
        assertOk(result);
        assert.deepEqual(result.summary!.restarted, [GATEWAY]);
        const calls = tools.calls();
        const installAt = calls.findIndex((c) => c.startsWith("root install-plugins.sh "));
        const restartAt = calls.indexOf(`root systemctl restart ${GATEWAY}`);
        assert.ok(installAt >= 0 && restartAt > installAt, calls.join("\n"));
    });

    await t.test(
        "a failed after-gateway install fails the push with the gateway running; the next push retries that part only",
        async () => {
            tools.reset();
            const config = '{"gateway":{"mode":"local","bind":"loopback","port":18791}}\n';
            const rotated = { llmKey: "SENTINEL-ROTATED-LLM-KEY-77e1", tunnelToken: "SENTINEL-ROTATED-TUNNEL-TOKEN-3c9d", config };
            const failed = await push(root, { ...rotated, afterGatewayFails: true });
            assert.notEqual(failed.code, 0, failed.stdout);
            assert.match(failed.stdout + failed.stderr, /after-gateway part failed \(the gateway runs; push again\)/);
            const calls = tools.calls();
            assert.ok(calls.includes(`root systemctl restart ${GATEWAY}`), "the gateway was restarted before it");
            assert.ok(calls.includes("root install-plugins.sh --after-gateway"), calls.join("\n"));
            // The same bundle again, the installer fixed: only the part that failed runs.
            tools.reset();
            const retried = await push(root, rotated);
            assertOk(retried);
            assert.deepEqual(
                tools.calls().filter((c) => c.includes("install-plugins.sh")),
                ["root install-plugins.sh --after-gateway"],
            );
            assert.deepEqual(retried.summary!.restarted, []);
            // And then nothing is pending.
            tools.reset();
            assertOk(await push(root, rotated));
            assert.deepEqual(
                tools.calls().filter((c) => c.includes("install-plugins.sh")),
                [],
            );
        },
    );

    await t.test("a symlink the agent planted in place of SOUL.md is replaced, its target untouched", async () => {
        const outside = path.join(sandbox.dir, "outside-target");
        fs.writeFileSync(outside, "root's file\n", { mode: 0o644 });
        const soulPath = path.join(root, WORKSPACE, "SOUL.md");
        fs.rmSync(soulPath);
        fs.symlinkSync(outside, soulPath);
        fs.lchownSync(soulPath, uid, uid);
        const result = await push(root, {
            soul: "# Soul v3\n",
            llmKey: "SENTINEL-ROTATED-LLM-KEY-77e1",
            tunnelToken: "SENTINEL-ROTATED-TUNNEL-TOKEN-3c9d",
        });
        assertOk(result);
        assert.ok(fs.lstatSync(soulPath).isFile());
        assert.equal(read(root, `${WORKSPACE}/SOUL.md`), "# Soul v3\n");
        assert.equal(fs.readFileSync(outside, "utf8"), "root's file\n");
        assert.deepEqual(fileStat(outside).owner, "0:0");
        assert.equal(fileStat(outside).mode, "0644");
    });
});

test("a gateway that never becomes ready fails the push with its last journal lines", async () => {
    const root = freshRoot("host-b");
    readyz.setStatus(503);
    try {
        tools.reset();
        const result = await push(root, { restoreFrom: "none" });
        assert.notEqual(result.code, 0);
        assert.equal(result.summary, undefined);
        assert.match(result.stderr, /did not answer 200 within 3s/);
        assert.match(result.stderr, /gateway journal line 1\n[\s\S]*gateway journal line 40/);
        assert.ok(tools.calls().some((c) => c.includes(`journalctl --no-pager -o short-iso -n 40 -u ${GATEWAY}`)));
        // restoreFrom=none: no restore, but the decision is recorded so a later restoreFrom never overwrites live memory.
        assert.deepEqual(
            tools.calls().filter((c) => c.includes("restore.sh")),
            [],
        );
        assert.match(read(root, "/var/lib/openclaw-vps/restore.done"), /^restore_from=none\n/);
    } finally {
        readyz.setStatus(200);
    }
});

// Mechanism, not a stopwatch: the readiness timeout is an hour and the test's own limit ten minutes, so this only
// passes if the applier saw the unit fail and stopped waiting (a wall-clock bound broke on a loaded CI machine).
test(
    "a gateway that fails on start (config error, exit 78) fails the push at once, without waiting for the timeout",
    { timeout: 600_000 },
    async () => {
        const root = freshRoot("host-d");
        readyz.setStatus(503);
        const undoCrash = tools.crashOnStart(`system:${GATEWAY}`);
        try {
            tools.reset();
            const result = await push(root, { restoreFrom: "none", readyTimeoutSeconds: 3600 });
            assert.notEqual(result.code, 0);
            assert.match(result.stderr, new RegExp(`${GATEWAY} failed before .*/readyz answered 200; last log lines`));
            assert.doesNotMatch(result.stderr, /did not answer 200 within/, "it stopped because the unit failed, not at the timeout");
            assert.match(result.stderr, /gateway journal line 40/);
        } finally {
            undoCrash();
            readyz.setStatus(200);
        }
    },
);

test("a host with the gateway's old user unit: the push stops and removes it, turns linger off, starts the system unit; twice changes nothing", async () => {
    const root = legacyRoot("host-legacy");
    const userUnit = path.join(root, HOME, ".config/systemd/user", GATEWAY);
    tools.reset();
    const result = await push(root, { restoreFrom: "none" });
    assertOk(result);
    const calls = tools.calls();
    const at = (line: string) => calls.indexOf(line);
    // The old gateway is stopped through the agent's own manager before the system unit starts on the same port.
    const retiredAt = at(`${AGENT_USER} systemctl --user disable --now --quiet ${GATEWAY}`);
    const lingerOffAt = at(`root loginctl disable-linger ${AGENT_USER}`);
    const startAt = at(`root systemctl restart ${GATEWAY}`);
    assert.ok(retiredAt >= 0 && lingerOffAt > retiredAt && startAt > lingerOffAt, calls.join("\n"));
    assert.ok(!fs.existsSync(userUnit), "the old user unit file is gone");
    assert.ok(!fs.existsSync(path.join(root, "var/lib/systemd/linger", AGENT_USER)), "linger is off");
    assert.equal(fileStat(path.join(root, "etc/systemd/system", GATEWAY)).owner, "0:0");
    assert.match(result.stdout, new RegExp(`retired: user:${GATEWAY} linger:${AGENT_USER}`));

    tools.reset();
    const again = await push(root, { restoreFrom: "none" });
    assertOk(again);
    assert.deepEqual(again.summary!.restarted, []);
    assert.deepEqual(
        tools.calls().filter((c) => /--user|loginctl/.test(c)),
        [],
        "nothing left to retire",
    );
});

test("a failed restore stops the push before the seed and the gateway; the next push retries it", async () => {
    const root = freshRoot("host-c");
    tools.reset();
    const failed = await push(root, { restoreFails: true });
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /restore of snapshot 'latest' failed; the gateway was not started/);
    assert.ok(!fs.existsSync(path.join(root, "var/lib/openclaw-vps/restore.done")));
    assert.ok(!fs.existsSync(path.join(root, WORKSPACE, "SOUL.md")), "no seed before a successful restore");
    assert.deepEqual(gatewayCalls(), []);

    tools.reset();
    const retried = await push(root);
    assertOk(retried);
    assert.equal(tools.calls().filter((c) => c.includes("restore.sh")).length, 1);
    assert.equal(read(root, `${WORKSPACE}/MEMORY.md`), "restored memory\n");
    assert.ok(retried.summary!.restarted.includes(GATEWAY));
});

test("the composed host bundle (buildHostBundle) applies with the contract's modes, and a second push changes nothing", async () => {
    const root = freshRoot("host-composed");
    const input = sampleHostInput({ readyTimeoutSeconds: 3 });
    input.backup.env = { ...input.backup.env, restoreFrom: "none" }; // the real restore.sh is proven by the backup tests
    // Keyword-only memory search needs no plugin: the real install-plugins.sh runs and has nothing to do (installing
    // plugins needs OpenClaw and the npm registry; test/tools/install-plugins.test.ts proves that part).
    input.openclaw = { ...input.openclaw, port: readyz.port, memorySearch: { provider: "none", hasEmbeddingKey: false } };
    input.secrets = { gatewayToken: input.secrets.gatewayToken, llmApiKey: input.secrets.llmApiKey };
    const composed = buildHostBundle(input);
    const environment = {
        OPENCLAW_VPS_ROOT: root,
        OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
        PATH: `${tools.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    };
    const check = (result: PushResult) => {
        const everything = [result.stdout, result.stderr, tools.calls().join("\n"), sandbox.sshdLog()].join("\n");
        for (const secret of Object.values(HOST_SENTINELS)) assert.ok(!everything.includes(secret), "a secret leaked");
        assertOk(result);
    };
    tools.reset();
    const first = await host.pushBundle(composed, { environment });
    check(first);
    assert.equal(first.summary!.created, composed.files.length);
    for (const f of composed.files) {
        const st = fileStat(path.join(root, f.path));
        const uid = f.owner === "root" ? 0 : sandbox.agentUid;
        assert.deepEqual([st.owner, st.mode], [`${uid}:${uid}`, f.mode], f.path);
        assert.equal(read(root, f.path), f.content, f.path);
    }
    assert.deepEqual(first.summary!.restarted.sort(), [
        "cloudflared.service",
        "openclaw-backup.timer",
        "openclaw-gateway.service",
        "openclaw-integrity.timer",
        "openclaw-rootkit-scan.timer",
        "openclaw-watchdog.timer",
    ]);
    assert.match(first.stdout, /installing the provider plugins the config needs \(before the gateway starts\): none/);

    const beforeTree = treeStat(root);
    tools.reset();
    const second = await host.pushBundle(composed, { environment });
    check(second);
    assert.deepEqual([second.summary!.changed, second.summary!.created, second.summary!.fixed, second.summary!.restarted], [0, 0, 0, []]);
    assert.deepEqual(treeStat(root), beforeTree);
});

test("waitProvisioned runs wait-provisioned.sh over SSH as root: done resolves, failed rejects with the log tail", async () => {
    const dir = path.join(sandbox.dir, "provision");
    fs.mkdirSync(dir, { recursive: true });
    const status = path.join(dir, "provision.status");
    const log = path.join(dir, "provision.log");
    fs.writeFileSync(log, "step 7/9 cloudflared: apt failed\n", { mode: 0o640 }); // root-only, as on the host
    const environment = {
        OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
        PROVISION_STATUS: status,
        PROVISION_LOG: log,
        PROVISION_POLL_SECONDS: "1",
        CLOUD_INIT_RESULT: path.join(dir, "none"),
    };

    fs.writeFileSync(status, "step=9/9\nname=finish\nstate=done\nupdated=2026-11-26T10:00:00Z\n");
    const done = await host.waitProvisioned({ timeoutSeconds: 5, environment });
    assert.match(done.stdout, /provisioning done/);

    fs.writeFileSync(status, "step=7/9\nname=cloudflared\nstate=failed\nupdated=2026-11-26T10:00:00Z\n");
    await assert.rejects(
        host.waitProvisioned({ timeoutSeconds: 5, environment }),
        /did not finish provisioning \(exit 1\)[\s\S]*apt failed/,
    );

    fs.writeFileSync(status, "step=3/9\nname=node\nstate=running\nupdated=2026-11-26T10:00:00Z\n");
    await assert.rejects(host.waitProvisioned({ timeoutSeconds: 1, environment }), /exit 124[\s\S]*TIMED OUT/);
});
