// `npm run bench`: the stand-in VPS benchmark. Boots the real user data in the stand-in VPS (standin/vps.ts) on the
// 2 GB profile (DigitalOcean s-2vcpu-2gb settings, the container capped at 2 GiB where this machine lets us), deploys
// it with the code `pulumi up` runs (standin/deploy.ts), and prints: boot to `cloud-init done`, each
// provisioning step's share, the release and browser stages beside it, the push's phases, boot to /readyz and to the
// deploy's end (the browser's install comes after /readyz), the gateway's memory (its unit's cgroup) and the headroom
// under the limits we set (gatewayMemoryBudget), a backup's peak on top of it, a browser turn through the agent (the
// time to the first page and the memory with a page loaded) and Lynis's hardening index of the deployed host. The
// agent talks to the Telegram Bot API and LLM stand-ins (as test/vps/agent-turn.test.ts), the browser loads a page
// served on the instance's bridge. Then, on a second server of the same profile (as test/vps/upgrade.test.ts: a new
// server on the previous release kept in releases/), the upgrade to the pin through the push and the rollback of a
// broken release: the gateway's downtime (not ready -> ready) and the upgrade's phases.
//   npm run bench                          the stand-in VPS benchmark (every part below)
//   npm run bench -- --only boot,upgrade   some parts: boot (first boot, memory, a backup), browser, lynis (these two
//                                          run on the boot's server, so they include boot; lynis also times the file
//                                          integrity check and the rootkit scan), upgrade (its own server)
//   npm run bench -- --backup              the backup benchmark only (scripts/bench-backup.ts; --files N --megabytes M)
//   npm run bench -- --all                 both
// Needs root and what the stand-in VPS needs (standin/README.md).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gatewayMemoryBudget } from "../components/render/gateway-unit";
import { runBackup } from "./lib/operations";
import { formatBackupBenchmark, runBackupBenchmark } from "./bench-backup";
import {
    gatewaySystemctl,
    bucketDataDir,
    connectAdmin,
    createAdminKey,
    deploy,
    deployPlan,
    DEPLOY_READER,
    installRecordingCloudflared,
    planRestoreInNamespace,
    provisionStepSeconds,
    STANDIN_S3_ENDPOINT,
    StandInVps,
    startBucket,
} from "../standin";
import { standInSettings } from "./lib/standin-settings";
import { lineTime, upgradePhases } from "./lib/upgrade-log";
import { readOpenclawPin } from "../components/core/pins";
import { parsePushTimes } from "../components/remote";
import { deployOnRelease, previousRelease, publishStandInRelease, type ReleaseHost } from "../standin/releases";
import type { AdminKey } from "../standin/scenario";
import { runLynis } from "../standin/lynis";
import { browserProcesses, browseTurn, openAttempts, secondsToTitle, TitlePage } from "../standin/browser-page";
import { agentStandIns, AGENT_STANDIN_PORTS, DEPLOY_SENTINELS, STANDIN_PAGE_URL, type DeployOptions } from "../standin/deploy";
import { currentTurn, LlmStandIn, SILENT_REPLY } from "../standin/llm";
import { TelegramStandIn } from "../standin/telegram";

const MIB = 1024 * 1024;
/** The 2 GB profile: the smallest server the project supports (DigitalOcean s-2vcpu-2gb). */
const PROFILE_OVERRIDES = ["provider=digitalocean", "region=fra1", "serverType=s-2vcpu-2gb", "restoreFrom=latest"];
const PROFILE_MB = 2048;
/** The stand-ins the agent talks to (served on the instance's bridge) and the page its browser loads. */
const { llm: LLM_PORT, telegram: TELEGRAM_PORT, page: PAGE_PORT } = AGENT_STANDIN_PORTS;
const TELEGRAM_TOKEN = "7000000002:AAbenchStandInTelegramTokenR5t8Wq1Zx3Cv";
const OWNER = { id: 424242002, first_name: "Owner" };
const PAGE_URL = STANDIN_PAGE_URL;
const BROWSE = { mark: "BENCH-BROWSE-91e2", reply: "BENCH-BROWSED-91e2:", title: "Bench page 91e2 title" };

// ---- a memory cap for the container --------------------------------------------------------------------------

/**
 * A child of this process's memory cgroup limited to `limitMb`. The container's processes inherit it when nspawn is
 * started from inside it (this process joins it for the boot only). cgroup v1 (memory.limit_in_bytes) or v2
 * (memory.max); `reason` says why there is no cap when neither works.
 */
class MemoryCap {
    private constructor(
        readonly path: string | undefined,
        readonly version: 1 | 2 | undefined,
        readonly reason: string,
        private readonly home: string | undefined,
    ) {}

    static create(limitMb: number): MemoryCap {
        const lines = readFileSync("/proc/self/cgroup", "utf8").split("\n");
        const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l))?.split(":")[2];
        const attempts: [1 | 2, string | undefined, string, string][] = [
            [1, v1 === undefined ? undefined : join("/sys/fs/cgroup/memory", v1), "memory.limit_in_bytes", "cgroup v1 memory controller"],
            [2, lines.find((l) => l.startsWith("0::"))?.slice(3), "memory.max", "cgroup v2"],
        ];
        const problems: string[] = [];
        for (const [version, relative, limitFile, what] of attempts) {
            if (relative === undefined) continue;
            const home = version === 1 ? relative : join("/sys/fs/cgroup", relative);
            const path = join(home, `openclaw-vps-bench-${process.pid}`);
            try {
                if (!existsSync(join(home, "cgroup.procs"))) throw new Error(`${home} is not a cgroup directory`);
                mkdirSync(path);
                if (!existsSync(join(path, limitFile))) {
                    rmdirSync(path);
                    throw new Error(`no ${limitFile} (the memory controller is not enabled there)`);
                }
                writeFileSync(join(path, limitFile), String(limitMb * MIB));
                return new MemoryCap(path, version, `${what}: ${limitFile} = ${limitMb} MiB`, home);
            } catch (error) {
                problems.push(`${what}: ${(error as Error).message}`);
            }
        }
        return new MemoryCap(undefined, undefined, `not capped (${problems.join("; ") || "no memory cgroup"})`, undefined);
    }

    /** Runs `work` with this process inside the capped cgroup, so what it spawns stays there. */
    async around<T>(work: () => Promise<T>): Promise<T> {
        if (!this.path || !this.home) return work();
        writeFileSync(join(this.path, "cgroup.procs"), String(process.pid));
        try {
            return await work();
        } finally {
            writeFileSync(join(this.home, "cgroup.procs"), String(process.pid));
        }
    }

    /** Moves a process back out (the stand-in's port forwarder is this machine's plumbing, not the server's). */
    release(pid: number): void {
        if (this.home) writeFileSync(join(this.home, "cgroup.procs"), String(pid));
    }

    private read(file: string): string | undefined {
        try {
            return this.path ? readFileSync(join(this.path, file), "utf8").trim() : undefined;
        } catch {
            return undefined;
        }
    }

    /** Current and peak usage (MiB), anon vs page cache, and how often the limit was hit. */
    usage(): { currentMb: number; peakMb: number; anonMb: number; cacheMb: number; limitHits: number } | undefined {
        if (!this.path) return undefined;
        const stat = Object.fromEntries((this.read("memory.stat") ?? "").split("\n").map((l) => l.split(" ") as [string, string]));
        if (this.version === 1) {
            return {
                currentMb: Number(this.read("memory.usage_in_bytes")) / MIB,
                peakMb: Number(this.read("memory.max_usage_in_bytes")) / MIB,
                anonMb: Number(stat.total_rss ?? 0) / MIB,
                cacheMb: Number(stat.total_cache ?? 0) / MIB,
                limitHits: Number(this.read("memory.failcnt") ?? 0),
            };
        }
        const events = Object.fromEntries((this.read("memory.events") ?? "").split("\n").map((l) => l.split(" ") as [string, string]));
        return {
            currentMb: Number(this.read("memory.current")) / MIB,
            peakMb: Number(this.read("memory.peak") ?? this.read("memory.current")) / MIB,
            anonMb: Number(stat.anon ?? 0) / MIB,
            cacheMb: Number(stat.file ?? 0) / MIB,
            limitHits: Number(events.max ?? 0),
        };
    }

    /** Starts the peak over (v1 memory.max_usage_in_bytes, v2 memory.peak where the kernel lets it be reset); false if not. */
    resetPeak(): boolean {
        if (!this.path) return false;
        try {
            writeFileSync(join(this.path, this.version === 1 ? "memory.max_usage_in_bytes" : "memory.peak"), "0");
            return true;
        } catch {
            return false;
        }
    }

    /** OOM kills inside the cap (v1 memory.oom_control on kernels that report it; v2 memory.events). */
    oomKills(): number {
        const file = this.version === 1 ? "memory.oom_control" : "memory.events";
        return Number(/^oom_kill (\d+)$/m.exec(this.read(file) ?? "")?.[1] ?? 0);
    }

    /** Samples anon memory (what cannot be dropped like page cache) every `everyMs` until stopped; returns its peak. */
    sampleAnon(everyMs = 250): { stop(): number } {
        let peak = this.usage()?.anonMb ?? 0;
        const timer = setInterval(() => (peak = Math.max(peak, this.usage()?.anonMb ?? 0)), everyMs);
        return {
            stop: () => {
                clearInterval(timer);
                return Math.max(peak, this.usage()?.anonMb ?? 0);
            },
        };
    }

    remove(): void {
        if (!this.path) return;
        for (let attempt = 0; attempt < 50; attempt += 1) {
            try {
                rmdirSync(this.path);
                return;
            } catch {
                spawnSync("sleep", ["0.1"]);
            }
        }
        console.error(`could not remove the bench cgroup ${this.path} (still in use?)`);
    }
}

// ---- measurements inside the container ------------------------------------------------------------------------

/** RSS, anonymous RSS and PSS of every process in the gateway unit's cgroup, and MemoryCurrent when systemd accounts it. */
async function gatewayMemory(
    vps: StandInVps,
): Promise<{ processes: number; rssMb: number; anonMb: number; pssMb: number; memoryCurrent: string; unified: string }> {
    const cgroup = (await vps.exec(`${gatewaySystemctl()} show -p ControlGroup --value openclaw-gateway.service`)).stdout.trim();
    const script = [
        `for root in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do`,
        `  if [ -r "$root${cgroup}/cgroup.procs" ]; then procs="$root${cgroup}/cgroup.procs"; break; fi`,
        `done`,
        `[ -n "\${procs:-}" ] || { echo "no cgroup.procs for ${cgroup}" >&2; exit 1; }`,
        `rss=0; anon=0; pss=0; n=0`,
        `for pid in $(cat "$procs"); do`,
        `  r=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)`,
        `  a=$(awk '/^RssAnon:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)`,
        `  p=$(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0)`,
        `  rss=$((rss + \${r:-0})); anon=$((anon + \${a:-0})); pss=$((pss + \${p:-0})); n=$((n + 1))`,
        `done`,
        `echo "$n $rss $anon $pss"`,
        `cat "/sys/fs/cgroup/unified${cgroup}/memory.current" 2>/dev/null || cat "/sys/fs/cgroup${cgroup}/memory.current" 2>/dev/null || echo none`,
    ].join("\n");
    const out = (await vps.exec(script)).stdout.trim().split("\n");
    const [n, rssKb, anonKb, pssKb] = (out[0] ?? "0 0 0 0").split(" ").map(Number);
    const memoryCurrent = (await vps.exec(`${gatewaySystemctl()} show -p MemoryCurrent --value openclaw-gateway.service`)).stdout.trim();
    return {
        processes: n ?? 0,
        rssMb: (rssKb ?? 0) / 1024,
        anonMb: (anonKb ?? 0) / 1024,
        pssMb: (pssKb ?? 0) / 1024,
        memoryCurrent,
        unified: out[1] ?? "none",
    };
}

function machine(): string {
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    const kernel = os.release();
    const osName = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "Linux";
    const load = os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ");
    return `${os.cpus().length} vCPU ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${osName}, kernel ${kernel}, load ${load}`;
}

const sec = (s: number) => `${s.toFixed(1)} s`;

/** Node and npm ci figures of the release step's output (upgrade-openclaw.sh stage). */
function stageFigures(output: string): { nodeSeconds: number; npmSeconds: number; packages: number } {
    const nodeStart = lineTime(output, /node: (installing|v\S+ already installed)/);
    const npmStart = lineTime(output, /openclaw: npm ci of/);
    const done = /packages installed in (\d+) s/.exec(output);
    return {
        nodeSeconds: Number.isNaN(npmStart - nodeStart) ? 0 : (npmStart - nodeStart) / 1000,
        npmSeconds: Number(done?.[1] ?? NaN),
        packages: Number(/openclaw: (\d+) packages installed/.exec(output)?.[1] ?? NaN),
    };
}

/** Polls /readyz inside the container until stopped; returns the longest stretch it was not 200 (s). */
function readinessPoller(vps: StandInVps, port: number): { stop(): Promise<number> } {
    let running = true;
    let downSince: number | undefined;
    let longest = 0;
    const loop = (async () => {
        while (running) {
            const code = (
                await vps.exec(`curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:${port}/readyz || true`, {
                    allowFailure: true,
                })
            ).stdout.trim();
            const now = Date.now();
            if (code !== "200") downSince ??= now;
            else if (downSince !== undefined) {
                longest = Math.max(longest, (now - downSince) / 1000);
                downSince = undefined;
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
    })();
    return {
        stop: async () => {
            running = false;
            await loop;
            return longest;
        },
    };
}

/**
 * In-place release changes through the push, on a server of its own (the bench profile, restoreFrom=none), deployed
 * as test/vps/upgrade.test.ts deploys it: a new server on the previous release kept in releases/ (standin/releases.ts
 * deployOnRelease), then the upgrade to the pin (the figure: the gateway not ready -> ready, and its phases), then a
 * broken release from the local registry stand-in (its gateway exits 78), which is rolled back.
 */
async function upgradeBenchmark(admin: AdminKey, out: (line?: string) => void): Promise<void> {
    const previous = previousRelease();
    const pinned = readOpenclawPin().version;
    const { settings } = standInSettings(admin.publicKey, [...PROFILE_OVERRIDES, "restoreFrom=none", `openclawVersion=${previous}`]);
    const serverMb = settings.serverMemoryMb ?? PROFILE_MB;
    const cap = MemoryCap.create(serverMb);
    const loadBefore = machine();
    let host: ReleaseHost | undefined;
    try {
        host = await deployOnRelease({
            name: "bench-upgrade",
            settings,
            privateKey: admin.privateKey,
            boot: async (start) => {
                const vps = await cap.around(start);
                const { forwarderPid } = vps.resources();
                if (forwarderPid !== undefined) cap.release(forwarderPid);
                return vps;
            },
        });
        const { vps, remote } = host;
        const rows = [
            `| a new server on ${previous} (the previous release; restoreFrom=none): boot to /readyz, cloud-init done before the release step (the test's order) | ${sec(host.readySeconds)} |`,
        ];
        const broken = await publishStandInRelease({ version: "2026.9.7-standin.78", behaviour: "exit-78" });
        let running = previous;
        for (const release of [undefined, broken]) {
            const label = release ? `broken release ${release.version} (its gateway exits 78)` : `upgrade ${previous} -> ${pinned}`;
            const poller = readinessPoller(vps, settings.gatewayPort);
            const sampler = cap.sampleAnon();
            const started = Date.now();
            // A stand-in release keeps the pinned version in the settings (same config); the release given is installed.
            const run = await deploy(remote, { ...settings, openclawVersion: pinned }, { release, allowFailure: true });
            const total = (Date.now() - started) / 1000;
            const polled = await poller.stop();
            const peakAnon = sampler.stop();
            const output = run.push.stdout + run.push.stderr;
            const measured = /not ready for ([\d.]+) s/.exec(output)?.[1];
            const upgraded = run.push.code === 0 && /is ready and healthy/.test(output);
            const rolledBack = /rollback: openclaw \S+ is back and healthy/.test(output);
            // A failed push says why: the upgrade's own reason, else its first ERROR line (e.g. a refused state).
            const why = /FAILED and was rolled back: ([^\n]*)/.exec(output)?.[1] ?? /ERROR: ([^\n]*)/.exec(output)?.[1];
            const reason = run.push.code === 0 ? "" : `: ${why?.trim() ?? `exit ${run.push.code}`}`;
            const outcome = upgraded ? "upgraded" : rolledBack ? `rolled back to ${running}` : run.push.code === 0 ? "succeeded" : "failed";
            rows.push(
                `| ${label}: push ${run.push.code === 0 ? "succeeded" : "failed"}, ${outcome}${reason} | ${sec(total)} in all (release step ${sec(run.stageSeconds)}, push ${sec(run.pushSeconds)}); gateway **not ready ${measured ?? "?"} s** (script: stop to ready), ${polled.toFixed(1)} s (polled /readyz) |`,
            );
            for (const [phase, seconds] of Object.entries(upgradePhases(output, measured === undefined ? undefined : Number(measured))))
                rows.push(`| · ${phase} | ${sec(seconds)} |`);
            const pushTimes = parsePushTimes(run.push.stdout);
            if (pushTimes.length)
                rows.push(
                    `| · the push's phases (PUSH-TIMES) | ${pushTimes.map(({ phase, seconds }) => `${phase} ${sec(seconds)}`).join(", ")} |`,
                );
            if (cap.path)
                rows.push(
                    `| · peak anonymous memory of the host during it / headroom of ${serverMb} MiB | ${mb(peakAnon)} / ${mb(serverMb - peakAnon)} |`,
                );
            if (release && run.push.code === 0) throw new Error(`the broken release was not refused:\n${output}`);
            if (upgraded) running = pinned;
        }
        const final = cap.usage();
        out(
            `In-place release changes through the push (${new Date().toISOString().slice(0, 16)}Z), on a server of their own: ${settings.provider} ${settings.serverType} profile (${serverMb} MB), deployed on ${previous} (test/vps/upgrade.test.ts's way), upgraded to ${pinned}; the gateway's downtime is stop to /readyz`,
        );
        out(
            `Machine: ${loadBefore} (before); load ${os
                .loadavg()
                .map((l) => l.toFixed(1))
                .join(" ")} (after)`,
        );
        out(`Memory cap: ${cap.reason}${final ? `; OOM kills ${cap.oomKills()}, times it reclaimed at the limit ${final.limitHits}` : ""}`);
        out();
        out("| change | figure |");
        out("|---|---|");
        for (const row of rows) out(row);
    } finally {
        await host?.close();
        cap.remove();
    }
}
const mb = (m: number) => `${Math.round(m)} MiB`;

/**
 * A browser turn through the agent on the deployed bench host: the owner asks over the Telegram stand-in, the LLM
 * stand-in has OpenClaw's browser tool open the page on the bridge (Chromium's cold start included), the title comes
 * back. Measured: message to reply, browser call to the title back at the model, the browser's processes, the gateway
 * unit with the page loaded, and the whole host's peak during the turn (the cap's own peak counter, reset first, and
 * sampled anonymous memory).
 */
async function browserBenchmark(
    vps: StandInVps,
    cap: MemoryCap,
    stand: { llm: LlmStandIn; telegram: TelegramStandIn; page: TitlePage },
    serverMb: number,
    out: (line?: string) => void,
): Promise<void> {
    await stand.telegram.waitForCall((c) => c.method === "getUpdates" && c.status === 200);
    const peakReset = cap.resetPeak();
    const sampler = cap.sampleAnon(100);
    const started = Date.now();
    stand.telegram.sendFromUser(OWNER, `${BROWSE.mark}: open ${PAGE_URL} and tell me its title`);
    const reply = await stand.telegram.waitForSent((m) => m.chatId === OWNER.id && m.text.includes(BROWSE.reply));
    const turnSeconds = (Date.now() - started) / 1000;
    const hostPeakAnon = sampler.stop();
    const host = cap.usage();
    const requests = stand.llm.chatRequests().filter((r) => currentTurn(r).text.includes(BROWSE.mark));
    const toTitle = secondsToTitle(requests, BROWSE.title);
    if (toTitle === undefined || !reply.text.includes(BROWSE.title)) {
        throw new Error(`the browser turn did not bring the title back: ${reply.text}\n${stand.llm.describe()}`);
    }
    const load = await stand.page.waitForLoad();
    const processes = await browserProcesses(vps);
    const withPage = await gatewayMemory(vps);
    const kb = (f: (p: (typeof processes)[number]) => number) => processes.reduce((a, p) => a + f(p), 0) / 1024;
    out(
        "A browser turn through the agent (Telegram stand-in in, LLM stand-in scripting OpenClaw's `browser` tool, the page on the bridge):",
    );
    out();
    out("| what | figure |");
    out("|---|---|");
    out(
        `| message to reply / browser call to the title back at the model (time to first page, Chromium's cold start included) | ${sec(turnSeconds)} / **${sec(toTitle)}** |`,
    );
    out(
        `| open calls until a tab opened (OpenClaw's fixed 8 s readiness window after Chromium's launch; the script retries) | ${openAttempts(requests)} |`,
    );
    out(`| the page's request | User-Agent ${load.userAgent.replace(/^Mozilla\/5\.0 \([^)]*\) /, "")} |`);
    out(
        `| browser processes (users; cgroup) | ${processes.length} (${[...new Set(processes.map((p) => p.user))].join(", ")}; ${[...new Set(processes.map((p) => /(^| )(0::\S+)/.exec(p.cgroup)?.[2] ?? p.cgroup))].join(", ")}) |`,
    );
    out(`| browser processes: PSS / summed RSS | **${mb(kb((p) => p.pssKb))}** / ${mb(kb((p) => p.rssKb))} |`);
    out(
        `| gateway unit with the page loaded: processes / RSS / anonymous RSS / PSS | ${withPage.processes} / ${mb(withPage.rssMb)} / ${mb(withPage.anonMb)} / **${mb(withPage.pssMb)}** |`,
    );
    if (host) {
        out(
            `| whole host during the turn: peak (anonymous + page cache${peakReset ? ", the cap's counter reset before the turn" : ", since boot: the counter could not be reset"}) / sampled peak anonymous / headroom at that peak | ${mb(host.peakMb)} / **${mb(hostPeakAnon)}** / ${mb(serverMb - hostPeakAnon)} |`,
        );
        out(`| whole host after the turn, the page still loaded: anonymous / page cache | ${mb(host.anonMb)} / ${mb(host.cacheMb)} |`);
    } else {
        out(`| whole host | not measured: ${cap.reason} |`);
    }
}

/**
 * The file integrity check and the rootkit scan on the deployed host (integrity.sh through their units, as the timers
 * run them): seconds, CPU, memory peak where systemd reports it, the database and package sizes.
 */
async function integrityCosts(vps: StandInVps, out: (line?: string) => void): Promise<void> {
    const unitFigures = async (unit: string) => {
        const started = Date.now();
        await vps.exec(`systemctl start ${unit}`, { timeoutMs: 3_600_000, allowFailure: true });
        const seconds = (Date.now() - started) / 1000;
        const show = (
            await vps.exec(`systemctl show -p Result -p CPUUsageNSec -p MemoryPeak -p IOReadBytes ${unit}`, { allowFailure: true })
        ).stdout
            .trim()
            .replace(/\n/g, ", ");
        const log = (await vps.exec(`journalctl -u ${unit} -o cat --no-pager | grep integrity: | tail -n 2`, { allowFailure: true })).stdout
            .trim()
            .replace(/\n/g, " / ");
        return `${sec(seconds)} (${show}); ${log}`;
    };
    out(`| AIDE check (openclaw-integrity.service) | ${await unitFigures("openclaw-integrity.service")} |`);
    out(`| chkrootkit scan (openclaw-rootkit-scan.service) | ${await unitFigures("openclaw-rootkit-scan.service")} |`);
    const sizes = (
        await vps.exec(
            "echo \"entries $(grep -c '^/' /var/lib/aide/aide.db 2>/dev/null), db $(du -k /var/lib/aide/aide.db | cut -f1) KiB; installed: $(dpkg-query -W -f='${Package} ${Installed-Size} KiB, ' aide chkrootkit)\"",
            { allowFailure: true },
        )
    ).stdout.trim();
    out(`| AIDE database, package sizes | ${sizes} |`);
    const status = (
        await vps.exec(
            "cat /var/lib/openclaw-vps/integrity/aide.status /var/lib/openclaw-vps/integrity/rootkit.status; cat /var/lib/openclaw-vps/integrity/rootkit.findings",
            { allowFailure: true },
        )
    ).stdout
        .trim()
        .replace(/\n/g, "; ");
    out(`| status files after the runs | ${status} |`);
}

/** The parts of the stand-in VPS benchmark (`--only`): browser and lynis run on boot's server. */
const PARTS = ["boot", "browser", "upgrade", "lynis"] as const;
type Part = (typeof PARTS)[number];

/** A new server of the bench profile, deployed as pulumi up deploys it; then, on it, the browser turn and Lynis. */
async function firstBootBenchmark(admin: AdminKey, parts: ReadonlySet<Part>): Promise<void> {
    const standIn = standInSettings(admin.publicKey, [
        ...PROFILE_OVERRIDES,
        `telegramBotToken=${TELEGRAM_TOKEN}`,
        `telegramAllowFrom=${OWNER.id}`,
    ]);
    const llm = new LlmStandIn();
    const telegram = new TelegramStandIn({ token: TELEGRAM_TOKEN });
    const page = new TitlePage(BROWSE.title);
    llm.setScript((r) =>
        currentTurn(r).text.includes(BROWSE.mark) ? browseTurn(r, { url: PAGE_URL, title: BROWSE.title }, BROWSE.reply) : SILENT_REPLY,
    );
    const plan = deployPlan(standIn.settings);
    const serverMb = plan.settings.serverMemoryMb ?? PROFILE_MB;
    const cap = MemoryCap.create(serverMb);
    const bucketData = bucketDataDir();
    const loadBefore = machine();
    let vps: StandInVps | undefined;
    const out = (line = "") => console.log(line);
    try {
        const started = Date.now();
        vps = await cap.around(() => StandInVps.boot({ name: "bench", userData: plan.userData }));
        const live = vps;
        const { forwarderPid } = vps.resources();
        if (forwarderPid !== undefined) cap.release(forwarderPid);
        const afterBoot = cap.usage();

        const bucket = await startBucket(vps, plan.settings, bucketData);
        await vps.serveOnBridge(LLM_PORT, llm.newServer());
        await vps.serveOnBridge(TELEGRAM_PORT, telegram.newServer());
        await vps.serveOnBridge(PAGE_PORT, page.newServer());
        try {
            // As pulumi up does it: SSH as soon as the server lets the admin in, then the release step beside
            // wait-provisioned (Node and OpenClaw install while the base system provisions), then the push.
            const remote = await connectAdmin(vps, plan.settings, admin.privateKey);
            const sshSeconds = (Date.now() - started) / 1000;
            try {
                const restorePlan = await planRestoreInNamespace(vps.resources().netns, {
                    endpoint: STANDIN_S3_ENDPOINT,
                    bucket: plan.settings.backupBucketName,
                    ...DEPLOY_READER,
                    identity: standIn.backupIdentity,
                    restoreFrom: plan.settings.restoreFrom,
                });
                const deploySampler = cap.sampleAnon();
                // The secrets and stand-ins of the agent-turn test (the browser turn talks to them).
                const base: DeployOptions = {
                    secrets: { ...DEPLOY_SENTINELS, channels: { telegramBotToken: TELEGRAM_TOKEN } },
                    ...agentStandIns(),
                };
                const run = await deploy(remote, plan.settings, {
                    ...base,
                    plan: restorePlan.plan,
                    beforePush: () => installRecordingCloudflared(live),
                });
                // The push sized the gateway from what the host reported (the cap, when it applies), as pulumi up does.
                const hostMb = run.hostMemoryMb ?? serverMb;
                const budget = gatewayMemoryBudget(hostMb);
                const deployedSeconds = (Date.now() - started) / 1000;
                // The push goes on after /readyz (the browser's run, the integrity baseline): boot to /readyz ends
                // where its readiness phase ends.
                const pushTimes = parsePushTimes(run.push.stdout);
                const afterReady = pushTimes.slice(pushTimes.findIndex((p) => p.phase === "readiness") + 1);
                const pushToReady = run.pushSeconds - afterReady.reduce((sum, p) => sum + p.seconds, 0);
                const readySeconds = sshSeconds + run.pushStartedSeconds + pushToReady;
                const gatewayStart = Number(/gateway ready after (\d+)s/.exec(run.push.stdout)?.[1] ?? NaN);
                const boot = await live.waitBooted();
                if (boot.cloudInitCode !== 0)
                    throw new Error(`cloud-init did not finish cleanly:\n${boot.cloudInit}\n${live.consoleTail(30)}`);
                const provisionLog = (await live.exec("cat /var/log/openclaw-vps/provision.log")).stdout;
                const steps = provisionStepSeconds(provisionLog);
                const provisionTotal = Number(
                    /provisioning done in (\d+) s/.exec(provisionLog)?.[1] ?? steps.reduce((a, [, s]) => a + s, 0),
                );
                const provisionDone = (lineTime(provisionLog, /provisioning done in/) - started) / 1000;
                const provisionStart = (lineTime(provisionLog, /provisioning with/) - started) / 1000;
                const stage = stageFigures(run.stage.stdout);
                // Let the gateway settle (workers, first timers) before measuring its idle footprint.
                await new Promise((resolve) => setTimeout(resolve, 20_000));
                const deployPeakAnon = deploySampler.stop();
                const idle = await gatewayMemory(vps);
                const idleHost = cap.usage();
                const backupSampler = cap.sampleAnon();
                const backupStarted = Date.now();
                const backup = await runBackup(remote);
                const backupSeconds = (Date.now() - backupStarted) / 1000;
                const backupPeakAnon = backupSampler.stop();
                const final = cap.usage();
                const unitLimits = (await vps.exec(`${gatewaySystemctl()} show -p MemoryHigh -p MemoryMax openclaw-gateway.service`)).stdout
                    .trim()
                    .replace(/\n/g, ", ");

                out(
                    `Stand-in VPS benchmark (${new Date().toISOString().slice(0, 16)}Z): ${plan.settings.provider} ${plan.settings.serverType} profile (${serverMb} MB), OpenClaw ${plan.settings.openclawVersion}, Node ${plan.settings.nodeMajor}`,
                );
                out(
                    `Machine: ${loadBefore} (before); load ${os
                        .loadavg()
                        .map((l) => l.toFixed(1))
                        .join(" ")} (after)`,
                );
                out(`Memory cap: ${cap.reason}`);
                out();
                out("| what | figure |");
                out("|---|---|");
                const share = (seconds: number) => `${Math.round((100 * seconds) / readySeconds)} % of boot to /readyz`;
                out(`| boot to the admin's first SSH login | ${sec(sshSeconds)} (${share(sshSeconds)}) |`);
                out(
                    `| provision.sh (base system), its own log | ${provisionTotal} s, from ${sec(provisionStart)} to ${sec(provisionDone)} after boot (\`cloud-init status: done\`) |`,
                );
                for (const [name, seconds] of steps) {
                    out(
                        `| · step ${name} | ${seconds} s (${provisionTotal ? Math.round((100 * seconds) / provisionTotal) : 0} % of provisioning) |`,
                    );
                }
                out(
                    `| release step (Node + \`npm ci\` of the locked tree), beside provisioning | ${sec(run.stageSeconds)} from the SSH login: Node ${stage.nodeSeconds} s, npm ci + tree check ${stage.npmSeconds} s (${stage.packages} packages) |`,
                );
                out(`| wait-provisioned.sh over SSH (beside the release step) | ${sec(run.waitSeconds)} |`);
                if (run.browserStage) {
                    const browserWait = lineTime(run.browserStage.stderr, /fetching beside its remaining steps/);
                    out(
                        `| browser stage (install-browser.sh --prefetch: Chromium's packages into apt's cache once provisioning is done with apt), beside provisioning and the release step | done ${sec(sshSeconds + run.browserStageSeconds)} after boot${Number.isNaN(browserWait) ? "" : `, fetching from ${sec((browserWait - started) / 1000)}`} |`,
                    );
                }
                out(
                    `| both done (the push can start) | ${sec(sshSeconds + run.beforePushSeconds)} after boot (the longer one: ${run.stageSeconds > run.waitSeconds ? "the release step" : "provisioning"}) |`,
                );
                out(
                    `| push: files, the release switch, services, gateway start to /readyz; then the browser's install and the integrity baseline | ${sec(pushToReady)} to /readyz (${share(pushToReady)}; gateway start to ready: ${gatewayStart} s, ${share(gatewayStart)}), ${sec(run.pushSeconds)} in all |`,
                );
                for (const { phase, seconds } of pushTimes)
                    out(
                        `| · push ${phase} | ${sec(seconds)}${afterReady.some((p) => p.phase === phase) ? " (after /readyz)" : ` (${share(seconds)})`} |`,
                    );
                out(`| boot to /readyz | **${sec(readySeconds)}** |`);
                out(
                    `| boot to the deploy's end (the push's browser run and integrity baseline, the browser stage) | ${sec(deployedSeconds)} |`,
                );
                out(
                    `| gateway unit, idle 20 s after ready: processes / RSS / anonymous RSS / PSS | ${idle.processes} / ${mb(idle.rssMb)} / ${mb(idle.anonMb)} / ${mb(idle.pssMb)} |`,
                );
                out(`| gateway unit MemoryCurrent (systemd) / memory.current | ${idle.memoryCurrent} / ${idle.unified} |`);
                out(
                    `| gateway limits (gatewayMemoryBudget(${hostMb}), the host's reported memory) | MemoryHigh ${budget.memoryHighMb} MiB, MemoryMax ${budget.memoryMaxMb} MiB, heap ${budget.heapMb} MiB (unit: ${unitLimits}) |`,
                );
                out(
                    `| gateway headroom under MemoryHigh / MemoryMax (idle RSS) | ${mb(budget.memoryHighMb - idle.rssMb)} / ${mb(budget.memoryMaxMb - idle.rssMb)} |`,
                );
                if (idleHost && afterBoot && final) {
                    out(
                        `| whole host (the capped container), as soon as the container started (before provisioning): anonymous / page cache | ${mb(afterBoot.anonMb)} / ${mb(afterBoot.cacheMb)} |`,
                    );
                    out(`| whole host, gateway idle: anonymous / page cache | ${mb(idleHost.anonMb)} / ${mb(idleHost.cacheMb)} |`);
                    out(
                        `| everything but the gateway, anonymous (its reserve: ${hostMb - budget.memoryMaxMb} MiB) | ${mb(idleHost.anonMb - idle.anonMb)} |`,
                    );
                    out(
                        `| host headroom, gateway idle (${serverMb} MiB − anonymous; page cache is reclaimable) | ${mb(serverMb - idleHost.anonMb)} |`,
                    );
                    out(
                        `| peak anonymous memory during the push and gateway start / headroom | ${mb(deployPeakAnon)} / ${mb(serverMb - deployPeakAnon)} |`,
                    );
                    out(
                        `| backup while the gateway runs: seconds / peak anonymous / headroom at that peak | ${sec(backupSeconds)} / ${mb(backupPeakAnon)} / ${mb(serverMb - backupPeakAnon)} |`,
                    );
                    out(
                        `| OOM kills under the ${serverMb} MiB cap / times it reclaimed at the limit (memory.failcnt) | ${cap.oomKills()} / ${final.limitHits} |`,
                    );
                } else {
                    out(`| backup while the gateway runs | ${sec(backupSeconds)} (host memory not measured: ${cap.reason}) |`);
                }
                out(
                    `| snapshot | ${backup.last_snapshot} (${backup.last_kind}, ${backup.last_files} files, ${backup.last_bytes} bytes, ${backup.last_archive_bytes} bytes uploaded) |`,
                );
                out();
                if (parts.has("browser")) {
                    await browserBenchmark(live, cap, { llm, telegram, page }, serverMb, out);
                    out();
                }
                if (parts.has("lynis")) {
                    out("| file integrity and rootkit scan | figure |");
                    out("|---|---|");
                    await integrityCosts(live, out);
                    out();
                    // The independent auditor on the deployed host (minutes: here, not in the tests).
                    const lynis = await runLynis(live);
                    out(
                        `Lynis (Debian's package, \`audit system --quick\`, ${sec(lynis.seconds)}): hardening index ${lynis.hardeningIndex}${lynis.points ? ` (${lynis.points.have} of ${lynis.points.of} points)` : ""}, ${lynis.warnings.length} warnings, ${lynis.suggestions.length} suggestions`,
                    );
                    for (const line of [...lynis.warnings.map((w) => `warning: ${w}`), ...lynis.suggestions]) out(`- ${line}`);
                    out();
                }
                out("Limits of the measurement: the container shares this machine's kernel; its own systemd cannot enforce the unit's");
                out("MemoryHigh/MemoryMax where the host's memory controller is cgroup v1 (read-only inside the container), so the");
                out("gateway figures are what it uses, not what the limits would squeeze it to. No swap in a container. Page cache");
                out("is charged to whoever first read a file, so the rootfs pages this machine had cached are not counted.");
            } finally {
                remote.dispose();
            }
        } finally {
            await bucket.stop();
        }
    } finally {
        await telegram.close();
        await llm.close();
        await vps?.destroy();
        cap.remove();
        rmSync(bucketData, { recursive: true, force: true });
    }
}

const USAGE = `npm run bench [-- options]: the stand-in VPS benchmark (2 GB profile), then optionally the backup benchmark
  --only PARTS        comma-separated parts of the stand-in VPS benchmark (default: all of them):
                        boot     a new server to /readyz and to the deploy's end: provisioning steps, the release
                                 and browser stages, the push's phases (PUSH-TIMES) and their share, the gateway's
                                 memory, a backup while it runs
                        browser  a browser turn through the agent (on boot's server: includes boot)
                        lynis    the file integrity check's and rootkit scan's costs, then Lynis's hardening
                                 index (on boot's server: includes boot)
                        upgrade  a second server on the previous release (releases/), upgraded to the pin through the
                                 push, then a broken release rolled back: the gateway's downtime and the phases
  --backup            the backup benchmark only (--files N, --megabytes M)
  --all               the stand-in VPS benchmark and the backup benchmark
  -h, --help          this text`;

/** The --only list, or every part; an unknown part is an error that names the known ones. */
function parseParts(only: string | undefined): Set<Part> {
    if (only === undefined) return new Set(PARTS);
    const named = only
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean);
    const unknown = named.filter((p) => !(PARTS as readonly string[]).includes(p));
    if (unknown.length || !named.length)
        throw new Error(
            `--only ${JSON.stringify(only)}: expected a comma-separated list of ${PARTS.join(", ")}${unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""}`,
        );
    const parts = new Set(named as Part[]);
    // The browser turn and Lynis run on boot's server.
    if (parts.has("browser") || parts.has("lynis")) parts.add("boot");
    return parts;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            backup: { type: "boolean", default: false },
            all: { type: "boolean", default: false },
            only: { type: "string" },
            files: { type: "string" },
            megabytes: { type: "string" },
            help: { type: "boolean", short: "h", default: false },
        },
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const parts = parseParts(values.only);
    const backupOnly = values.backup && !values.all;
    if (!backupOnly) {
        const admin = await createAdminKey();
        if (parts.has("boot")) await firstBootBenchmark(admin, parts);
        if (parts.has("upgrade")) {
            if (parts.has("boot")) console.log();
            await upgradeBenchmark(admin, (line = "") => console.log(line));
        }
    }
    if (values.backup || values.all) {
        if (!backupOnly) console.log();
        const result = await runBackupBenchmark({
            ...(values.files ? { files: Number(values.files) } : {}),
            ...(values.megabytes ? { megabytes: Number(values.megabytes) } : {}),
        });
        console.log(formatBackupBenchmark(result));
    }
}

main().then(
    () => process.exit(0),
    (error: unknown) => {
        console.error(error instanceof Error ? (error.stack ?? error.message) : error);
        process.exit(1);
    },
);
