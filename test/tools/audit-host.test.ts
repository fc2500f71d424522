// Checks of `npm run verify` (cloud-init/audit-host.sh, run for real as root with AUDIT_ONLY) that the stand-in cannot
// show: the gateway-memory check against cgroup v2 trees laid out as systemd lays out a system service
// (system.slice/openclaw-gateway.service): memory.events' high, max and
// oom_kill counters become a pass or a warning naming them, with the unit's usage and limits; no such file (cgroup
// v1, as in the stand-in) is a skip. And the user-data check reading through gzipped files (provision.sh travels
// gz+b64): a secret hidden in one is found.
import "../helpers/contract";
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipDeterministic } from "../../components/render/user-data";
import { renderBackupService } from "../../components/render/backup-units";
import { renderCloudflaredUnit } from "../../components/render/cloudflared-unit";
import { renderAuditScript } from "../../components/verify/checks";
import { run, tempDir } from "../helpers/provisioning";

const AGENT = "nobody"; // a user every test machine has

/** The audit script for one check group, with the parameters every test here shares. */
const auditScript = (only: string, extra: { metadataBase?: string } = {}) =>
    renderAuditScript({
        adminUser: "ops",
        agentUser: AGENT,
        gatewayPort: 18789,
        backupSchedule: "hourly",
        metadataPaths: ["/hetzner/v1/userdata"],
        only: [only],
        ...extra,
    });
const MIB = 1024 * 1024;

function auditMemory(cgroupRoot: string): string[] {
    const script = auditScript("gateway-memory");
    const result = run("bash", ["-s"], { input: script, env: { ...process.env, AUDIT_CGROUP_ROOT: cgroupRoot } });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split("\n").filter((l) => l.startsWith("AUDIT\tgateway-memory\t"));
}

describe("verify: the gateway unit's memory.events (cgroup v2)", () => {
    let work: ReturnType<typeof tempDir>;
    before(() => {
        if (process.getuid?.() !== 0) throw new Error("the audit runs as root");
        work = tempDir("audit-memory");
    });
    after(() => work?.cleanup());

    function tree(name: string, events: string): string {
        const root = path.join(work.dir, name);
        const unit = path.join(root, "system.slice/openclaw-gateway.service");
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

describe("verify: user data holds none of the host's secrets, gzipped files included", () => {
    const SENTINEL = "AUDITsentinelTunnelToken7f3e9d1c5b";
    let work: ReturnType<typeof tempDir>;
    let server: http.Server;
    let served = "";
    before(async () => {
        if (process.getuid?.() !== 0) throw new Error("the audit runs as root");
        work = tempDir("audit-userdata");
        fs.writeFileSync(path.join(work.dir, "tunnel.env"), `TUNNEL_TOKEN=${SENTINEL}\n`, { mode: 0o600 });
        server = http.createServer((_req, res) => res.end(served));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    });
    after(() => {
        server?.close();
        work?.cleanup();
    });

    /** Runs the audit without blocking this process (which serves the metadata). */
    function bashAsync(script: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            const child = spawn("bash", ["-s"], { env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("close", (status) => resolve({ status, stdout, stderr }));
            child.stdin.end(script);
        });
    }

    async function auditUserData(userData: string): Promise<string> {
        served = userData;
        const script = auditScript("userdata", { metadataBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
        const result = await bashAsync(script, { ...process.env, HOST_TUNNEL_ENV: path.join(work.dir, "tunnel.env") });
        assert.equal(result.status, 0, result.stderr);
        const line = result.stdout.split("\n").find((l) => l.startsWith("AUDIT\tuserdata-metadata\t"));
        assert.ok(line, result.stdout);
        return line;
    }

    const withFile = (content: string) =>
        `#cloud-config\nwrite_files:\n- path: /opt/x.sh\n  encoding: gz+b64\n  content: "${gzipDeterministic(content).toString("base64")}"\n`;

    it("passes user data whose gzipped file holds no secret", async () => {
        assert.match(await auditUserData(withFile("#!/bin/bash\necho hello\n")), /\tpass\tcritical\t.*holds none of the 1 secrets/);
    });

    it("finds the host's tunnel token inside a gzipped file, by name (never the value)", async () => {
        const line = await auditUserData(withFile(`#!/bin/bash\nTOKEN=${SENTINEL}\n`));
        assert.match(line, /\tfail\tcritical\t.*contains: TUNNEL_TOKEN from \S*tunnel\.env/);
        assert.ok(!line.includes(SENTINEL), "the value is never printed");
    });
});

// The restarts check reads what systemd says of the gateway (`systemctl show`). Here systemctl is a stand-in first on
// PATH answering the properties systemd documents: the real audit script parses them.
describe("verify and the watchdog: the gateway's restarts and a config error (exit 78)", () => {
    let work: ReturnType<typeof tempDir>;
    before(() => {
        if (process.getuid?.() !== 0) throw new Error("the audit runs as root");
        work = tempDir("audit-restarts");
    });
    after(() => work?.cleanup());

    function auditRestarts(properties: string): string {
        const bin = path.join(work.dir, `bin-${Math.random().toString(36).slice(2)}`);
        fs.mkdirSync(bin, { mode: 0o755 });
        fs.chmodSync(bin, 0o755);
        fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/sh\ncat <<'PROPS'\n${properties}\nPROPS\n`, { mode: 0o755 });
        const result = run("bash", ["-s"], { input: auditScript("restarts"), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        assert.equal(result.status, 0, result.stderr);
        const line = result.stdout.split("\n").find((l) => l.startsWith("AUDIT\tgateway-restarts\t"));
        assert.ok(line, result.stdout + result.stderr);
        return line;
    }

    const now = () => Math.floor(Date.now() / 1000);

    it("a gateway that exited 78 is a critical failure that says why systemd gave up", () => {
        const line = auditRestarts(`NRestarts=0\nExecMainStatus=78\nResult=exit-code\nActiveEnterTimestamp=@${now() - 7200}`);
        assert.match(line, /\tfail\tcritical\tthe gateway exited 78 \(a config error\): systemd will not restart it; `sudo journalctl/);
    });

    it("a restart within the window is a warning with the count and the result", () => {
        const line = auditRestarts(`NRestarts=3\nExecMainStatus=0\nResult=success\nActiveEnterTimestamp=@${now() - 120}`);
        assert.match(
            line,
            /\tfail\twarning\tsystemd restarted the gateway \d+ min ago \(3 restarts since it was started; last result: success\)/,
        );
    });

    it("restarts long ago pass; a silent systemd is a skip, never a pass", () => {
        assert.match(
            auditRestarts(`NRestarts=3\nExecMainStatus=0\nResult=success\nActiveEnterTimestamp=@${now() - 86_400}`),
            /\tpass\tcritical\tno automatic restart in the last 10 min \(3 since the unit was started\)/,
        );
        assert.match(auditRestarts(""), /\tskip\tcritical\tsystemd does not answer for openclaw-gateway\.service/);
    });
});

// The sandbox check rates each installed unit with systemd's own `systemd-analyze security` against the bound the unit
// file states (render/exposure.ts). Here systemctl and systemd-analyze are stand-ins on PATH (no systemd on the test
// machine) that serve the rendered units and the ratings systemd would print; the real audit script compares them.
describe("verify and the watchdog: each unit's exposure against the bound its file states", () => {
    let work: ReturnType<typeof tempDir>;
    before(() => {
        if (process.getuid?.() !== 0) throw new Error("the audit runs as root");
        work = tempDir("audit-sandbox");
    });
    after(() => work?.cleanup());

    function auditSandbox(units: Record<string, { text: string; exposure: string }>): string {
        const bin = fs.mkdtempSync(path.join(work.dir, "bin-"));
        for (const [name, unit] of Object.entries(units)) {
            fs.writeFileSync(path.join(bin, `${name}.unit`), unit.text);
            fs.writeFileSync(path.join(bin, `${name}.rating`), `→ Overall exposure level for ${name}: ${unit.exposure} OK\n`);
        }
        const lookup = (ext: string) => `#!/bin/sh\nf="${bin}/$(eval echo "\\$$#").${ext}"\n[ -f "$f" ] || exit 1\ncat "$f"\n`;
        fs.writeFileSync(path.join(bin, "systemctl"), lookup("unit"), { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "systemd-analyze"), lookup("rating"), { mode: 0o755 });
        const result = run("bash", ["-s"], { input: auditScript("sandbox"), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        assert.equal(result.status, 0, result.stderr);
        const line = result.stdout.split("\n").find((l) => l.startsWith("AUDIT\tunit-sandbox\t"));
        assert.ok(line, result.stdout + result.stderr);
        return line;
    }

    const backup = renderBackupService();
    const cloudflared = renderCloudflaredUnit({ protocol: "auto" });

    it("passes units rated within their own bounds", () => {
        const line = auditSandbox({
            "openclaw-backup.service": { text: backup, exposure: "2.8" },
            "cloudflared.service": { text: cloudflared, exposure: "1.5" },
        });
        assert.match(line, /\tpass\twarning\texposure: openclaw-backup\.service 2\.8 cloudflared\.service 1\.5$/);
    });

    it("fails a unit rated above its bound, or one that states none", () => {
        assert.match(
            auditSandbox({ "cloudflared.service": { text: cloudflared, exposure: "3.4" } }),
            /\tfail\twarning\texposure above its bound: cloudflared\.service 3\.4 > 3\.0$/,
        );
        assert.match(
            auditSandbox({ "cloudflared.service": { text: "[Service]\nExecStart=/bin/true\n", exposure: "1.0" } }),
            /\tfail\twarning\texposure above its bound: cloudflared\.service states no exposure bound$/,
        );
    });
});
