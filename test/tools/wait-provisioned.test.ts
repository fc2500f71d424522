// wait-provisioned.sh with real bash, sent on stdin the way the deploy sends it (`bash -s -- [timeout]`): done,
// done after a while, failed (with the log tail), timeout (argument and WAIT_TIMEOUT_SECONDS), and cloud-init
// finished without provision.sh ever starting.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTRACT_ENV_FILE } from "../helpers/contract";
import { requireTool, tempDir, WAIT_SCRIPT } from "../helpers/provisioning";
import { parseHostFacts } from "../../components/render/host-facts";

interface Waited {
    status: number | null;
    stdout: string;
    stderr: string;
}

function status(fields: { step: string; name: string; state: string }): string {
    return `step=${fields.step}\nname=${fields.name}\nstate=${fields.state}\nupdated=2026-11-26T06:00:00Z\n`;
}

describe("wait-provisioned.sh", () => {
    let work: ReturnType<typeof tempDir>;
    let statusFile: string;
    let logFile: string;
    let resultFile: string;

    before(() => {
        requireTool("bash", "bash");
        work = tempDir("wait");
        statusFile = path.join(work.dir, "provision.status");
        logFile = path.join(work.dir, "provision.log");
        resultFile = path.join(work.dir, "result.json");
        fs.writeFileSync(logFile, Array.from({ length: 100 }, (_, i) => `log line ${i + 1}`).join("\n") + "\n");
    });
    after(() => work?.cleanup());

    /** Runs the script from stdin, as the deploy does; `during` may change the status file once it reported a step. */
    function wait(args: string[], env: Record<string, string> = {}, during?: () => void): Promise<Waited> {
        const child = spawn("bash", ["-s", "--", ...args], {
            env: {
                PATH: process.env.PATH ?? "/usr/bin:/bin",
                OPENCLAW_VPS_CONTRACT: CONTRACT_ENV_FILE,
                PROVISION_STATUS: statusFile,
                PROVISION_LOG: logFile,
                PROVISION_POLL_SECONDS: "0.1",
                CLOUD_INIT_RESULT: resultFile,
                ...env,
            },
        });
        let stdout = "";
        let stderr = "";
        let changed = false;
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            // Change the status only once the script has reported the running step (not after a guessed delay, which a
            // loaded machine can outrun).
            if (during && !changed && /step \d+\/\d+/.test(stdout)) {
                changed = true;
                during();
            }
        });
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.stdin.end(fs.readFileSync(WAIT_SCRIPT));
        return new Promise((resolve) => child.on("exit", (code) => resolve({ status: code, stdout, stderr })));
    }

    // Mechanisms, not stopwatches: a script that polled once too often would sleep an hour (PROVISION_POLL_SECONDS)
    // and trip the test's own two-minute limit; no wall-clock bound that a loaded machine could miss.
    it("returns at once when provisioning is done (no second poll)", { timeout: 120_000 }, async () => {
        fs.writeFileSync(statusFile, status({ step: "12/12", name: "done", state: "done" }));
        const result = await wait([], { PROVISION_POLL_SECONDS: "3600" });
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /provisioning done/);
    });

    it("waits while provisioning runs, reporting steps, and succeeds when it is done", async () => {
        fs.writeFileSync(statusFile, status({ step: "9/12", name: "node", state: "running" }));
        const result = await wait(["30"], {}, () => fs.writeFileSync(statusFile, status({ step: "12/12", name: "done", state: "done" })));
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /step 9\/12 node/);
        assert.match(result.stdout, /provisioning done/);
    });

    it("fails on state=failed, naming the step and showing the last 40 log lines", async () => {
        fs.writeFileSync(statusFile, status({ step: "4/12", name: "bruteforce", state: "failed" }));
        const result = await wait([]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /provisioning FAILED at step 4\/12 \(bruteforce\)/);
        assert.match(result.stderr, /^log line 61$/m);
        assert.match(result.stderr, /^log line 100$/m);
        assert.doesNotMatch(result.stderr, /^log line 60$/m);
    });

    it("times out with a clear message and the log tail (timeout as argument)", async () => {
        fs.writeFileSync(statusFile, status({ step: "10/12", name: "openclaw", state: "running" }));
        const result = await wait(["1"]);
        assert.equal(result.status, 124);
        assert.match(result.stderr, /TIMED OUT after 1 s; last status: step=10\/12 name=openclaw state=running/);
        assert.match(result.stderr, /^log line 100$/m);
    });

    it("takes the timeout from WAIT_TIMEOUT_SECONDS, and rejects a timeout that is not a number", async () => {
        fs.writeFileSync(statusFile, status({ step: "10/12", name: "openclaw", state: "running" }));
        const result = await wait([], { WAIT_TIMEOUT_SECONDS: "1" });
        assert.equal(result.status, 124);
        assert.match(result.stderr, /TIMED OUT after 1 s/);
        const bad = await wait(["soon"]);
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /timeout must be a number of seconds/);
    });

    it("keeps waiting while provision.sh has not started yet (no status file, cloud-init still running)", async () => {
        fs.rmSync(statusFile, { force: true });
        const result = await wait(["1"]);
        assert.equal(result.status, 124, result.stderr);
        assert.match(result.stderr, /TIMED OUT after 1 s; last status: step= name= state=none/);
    });

    it("fails fast when cloud-init finished but provision.sh never started (no poll)", { timeout: 120_000 }, async () => {
        fs.rmSync(statusFile, { force: true });
        fs.writeFileSync(resultFile, '{"v1": {"errors": []}}\n');
        try {
            const result = await wait(["7200"], { PROVISION_POLL_SECONDS: "3600" });
            assert.equal(result.status, 1);
            assert.match(result.stderr, /cloud-init finished but provision\.sh never started/);
        } finally {
            fs.rmSync(resultFile, { force: true });
        }
    });
    it("ends a success with the host's memory (HOST-FACTS): MemTotal, or a lower memory-cgroup limit (v2 or v1)", async () => {
        fs.writeFileSync(statusFile, status({ step: "13/13", name: "done", state: "done" }));
        const meminfo = path.join(work.dir, "meminfo");
        // A "2 GB" droplet: 1.9 GiB of MemTotal.
        fs.writeFileSync(meminfo, "MemTotal:        2014108 kB\nMemFree:          900000 kB\n");
        const cgroups = path.join(work.dir, "cgroup");
        fs.mkdirSync(path.join(cgroups, "memory"), { recursive: true });
        const facts = async (v2: string, v1: string) => {
            fs.writeFileSync(path.join(cgroups, "memory.max"), v2);
            fs.writeFileSync(path.join(cgroups, "memory", "memory.limit_in_bytes"), v1);
            const result = await wait([], { MEMINFO: meminfo, CGROUP_ROOT: cgroups });
            assert.equal(result.status, 0, result.stderr);
            return parseHostFacts(result.stdout).memTotalMb;
        };
        assert.equal(await facts("max\n", "9223372036854771712\n"), 1966, "no limit: MemTotal (2014108 kB = 1966 MiB)");
        assert.equal(await facts(`${1024 * 1024 * 1024}\n`, "9223372036854771712\n"), 1024, "a container capped at 1 GiB (cgroup v2)");
        assert.equal(await facts("max\n", `${1536 * 1024 * 1024}\n`), 1536, "a container capped at 1.5 GiB (cgroup v1)");
    });

    it("repeats what provision.sh said needs a restart, before the facts", async () => {
        fs.writeFileSync(statusFile, status({ step: "13/13", name: "done", state: "done" }));
        const log = path.join(work.dir, "restart.log");
        fs.writeFileSync(log, "2026-11-26T06:00:00Z [openclaw-vps provision] needs a restart (...): cron.service\n");
        const result = await wait([], { PROVISION_LOG: log });
        assert.match(result.stdout, /^wait-provisioned: needs a restart \(\.\.\.\): cron\.service$/m);
        assert.match(result.stdout, /\nHOST-FACTS mem_total_mb=\d+\n$/);
    });
});
