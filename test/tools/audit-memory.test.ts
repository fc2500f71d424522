// `npm run verify`'s gateway-memory check (cloud-init/audit-host.sh, run for real as root with AUDIT_ONLY=gateway-memory)
// against cgroup v2 trees laid out as systemd lays out a lingering user's unit
// (user.slice/user-UID.slice/user@UID.service/app.slice/openclaw-gateway.service): memory.events' high, max and
// oom_kill counters become a pass or a warning naming them, with the unit's usage and limits; no such file (cgroup
// v1, as in the stand-in) is a skip.
import "../helpers/contract";
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderAuditScript } from "../../components/verify/checks";
import { run, tempDir } from "../helpers/provisioning";

const AGENT = "nobody"; // a user every test machine has; the check only reads files under its uid
const MIB = 1024 * 1024;

function auditMemory(cgroupRoot: string): string[] {
    const script = renderAuditScript({
        adminUser: "ops",
        agentUser: AGENT,
        gatewayPort: 18789,
        backupSchedule: "hourly",
        metadataPaths: ["/hetzner/v1/userdata"],
        only: ["gateway-memory"],
    });
    const result = run("bash", ["-s"], { input: script, env: { ...process.env, AUDIT_CGROUP_ROOT: cgroupRoot } });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split("\n").filter((l) => l.startsWith("AUDIT\tgateway-memory\t"));
}

describe("verify: the gateway unit's memory.events (cgroup v2)", () => {
    let work: ReturnType<typeof tempDir>;
    let uid = "";
    before(() => {
        if (process.getuid?.() !== 0) throw new Error("the audit runs as root");
        work = tempDir("audit-memory");
        uid = run("id", ["-u", AGENT]).stdout.trim();
    });
    after(() => work?.cleanup());

    function tree(name: string, events: string): string {
        const root = path.join(work.dir, name);
        const unit = path.join(root, `user.slice/user-${uid}.slice/user@${uid}.service/app.slice/openclaw-gateway.service`);
        fs.mkdirSync(unit, { recursive: true });
        fs.writeFileSync(path.join(unit, "memory.events"), events);
        fs.writeFileSync(path.join(unit, "memory.current"), `${900 * MIB}\n`);
        fs.writeFileSync(path.join(unit, "memory.high"), `${1280 * MIB}\n`);
        fs.writeFileSync(path.join(unit, "memory.max"), `${1536 * MIB}\n`);
        return root;
    }

    it("passes with no event, naming usage and limits", () => {
        const [line] = auditMemory(tree("calm", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"));
        assert.equal(
            line,
            "AUDIT\tgateway-memory\tpass\twarning\tno MemoryHigh or MemoryMax event since it started; using 900 MiB (MemoryHigh 1280 MiB, MemoryMax 1536 MiB)",
        );
    });

    it("warns when the gateway was throttled at MemoryHigh", () => {
        const [line] = auditMemory(tree("squeezed", "low 0\nhigh 17\nmax 0\noom 0\noom_kill 0\n"));
        assert.match(line, /\tfail\twarning\tsince it started the gateway was held at MemoryHigh 17 times \(no OOM kill\)/);
    });

    it("warns when it hit MemoryMax and the OOM killer took a process", () => {
        const [line] = auditMemory(tree("killed", "low 0\nhigh 40\nmax 3\noom 1\noom_kill 1\n"));
        assert.match(
            line,
            /\tfail\twarning\tsince it started the gateway hit MemoryMax 3 times and lost 1 process\(es\) to the OOM killer \(high: 40\)/,
        );
    });

    it("skips where there is no memory.events (cgroup v1)", () => {
        const empty = path.join(work.dir, "v1");
        fs.mkdirSync(empty);
        const [line] = auditMemory(empty);
        assert.match(line, /\tskip\twarning\tno \S+\/memory\.events \(cgroup v1, or the gateway is not running\)/);
    });
});
