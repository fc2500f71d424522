// A real agent turn on the stand-in VPS, from a Telegram message to a reply to memory that survives a rebuild. The
// prod stack's settings with a Telegram bot (sentinel token, the owner's id allowlisted) are deployed exactly as
// `pulumi up` deploys them; the only difference is where two outside services are: a Telegram Bot API stand-in
// (standin/telegram.ts, OpenClaw's `apiRoot`) and an OpenAI-compatible LLM stand-in (standin/llm.ts, a custom provider
// `baseUrl`), both served from this process on the instance's private network. The LLM stand-in records every request
// and answers from the script below. Shown, in order: the owner's message reaches the model with a prompt built from
// the pushed SOUL.md, USER.md and AGENTS.md and the reply comes back through sendMessage, while a stranger's message
// never reaches the model; the first turn leaves every pushed identity file byte-identical (no bootstrap ritual);
// a scripted tool call writes a fact to memory/YYYY-MM-DD.md; a scripted browser tool call has the installed Chromium
// (as the agent user, inside the gateway's cgroup, its sandbox on, nothing new listening off loopback) load a page
// served on the instance's bridge and bring its title back to the model; the same turn over the Control UI's WebSocket with the
// gateway token (and the one-time device approval a new browser needs); `npm run verify` reports the channel
// connected, OpenClaw's audit clean, and a revoked token as failing with OpenClaw's reason; no sentinel is anywhere on
// the server but in its 0600 secret files; then the server is rebuilt from its backup and the next prompt carries the
// fact (memory search over the restored memory).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ARCHIVE_KEY } from "../../components/core/backup-layout";
import { PROJECT_ROOT } from "../../components/core/pins";
import type { RemoteHost } from "../../components/remote";
import { WHATSAPP_AUTH_SUBDIR } from "../../components/render/channels";
import { workspaceFiles } from "../../components/render/workspace";
import { runBackup } from "../../scripts/lib/operations";
import { standInSettings } from "../../scripts/lib/standin-settings";
import type { S3Server } from "../../standin/bucket";
import {
    bucketDataDir,
    connectAdmin,
    deploy,
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
    type DeployOptions,
    type DeployPlan,
    agentStandIns,
    AGENT_STANDIN_PORTS,
    STANDIN_PAGE_URL,
} from "../../standin/deploy";
import {
    callTool,
    currentTurn,
    LlmStandIn,
    requestText,
    SILENT_REPLY,
    systemPrompt,
    type LlmRequest,
    type LlmScript,
} from "../../standin/llm";
import { createAdminKey, type AdminKey } from "../../standin/scenario";
import { browserProcesses, browseTurn, openAttempts, secondsToTitle, TitlePage } from "../../standin/browser-page";
import { TelegramStandIn } from "../../standin/telegram";
import { STANDIN_NETWORK, StandInVps, type BootState } from "../../standin/vps";
import { filesContaining } from "../helpers/backup";
import { keyFile, runProjectScript, runVerifyCli } from "../helpers/verify";

const WORKSPACE = "/home/openclaw/.openclaw/workspace";
const STATE = "/home/openclaw/.openclaw";
const { llm: LLM_PORT, telegram: TELEGRAM_PORT, page: PAGE_PORT } = AGENT_STANDIN_PORTS;
/** The page the browser loads: on the bridge, the one private address the deploy lets the browser open (tests only). */
const PAGE_URL = STANDIN_PAGE_URL;
/** Its title: nowhere in the operator's message or the script's replies, so it can reach the model only through the browser. */
const PAGE_TITLE = "Stand-in page 6c3b1f title";
/** The scripted browser calls: first the gateway itself on loopback (a classic SSRF target, refused), then the page. */
const BROWSE_PAGE = { url: PAGE_URL, title: PAGE_TITLE, blockedUrls: ["http://127.0.0.1:18789/"] };
const STAND_INS: DeployOptions = {
    ...agentStandIns(),
    // A cold gateway start takes 1-3 minutes on a loaded 2-core machine: a deadline that holds at 10x.
    readyTimeoutSeconds: 1200,
};
/** A bot token of BotFather's shape: the schema accepts it, the stand-in accepts only it. */
const TELEGRAM_TOKEN = "7000000001:AAsentinelTurnTelegramTokenQ8x2Lm4Vb7Zk";
const OWNER = { id: 424242001, first_name: "Owner", username: "the_owner" };
const STRANGER = { id: 999000111, first_name: "Eve" };
const SECRETS = { ...DEPLOY_SENTINELS, channels: { telegramBotToken: TELEGRAM_TOKEN } };
const SENTINELS: [string, string][] = [...Object.entries(DEPLOY_SENTINELS), ["telegramBotToken", TELEGRAM_TOKEN]];
/** The files on the host that may hold a secret (all 0600): nothing else may contain a sentinel. */
const SECRET_FILES = new Set([`${STATE}/.env`, "/etc/cloudflared/tunnel.env", "/etc/openclaw-vps/rclone.conf"]);
const IDENTITY_FILES = ["SOUL.md", "USER.md", "AGENTS.md", "IDENTITY.md", "MEMORY.md"];

/** Markers the script keys on (in the operator's current message) and what the model answers. */
const MARK = {
    stranger: "STRANGER-7c1e let me in",
    ping: "PING-3f9a are you there?",
    remember: "REMEMBER-52d0: my favourite colour is ultramarine-7731, please note it for today",
    ws: "WS-PING-b81c from the Control UI",
    recall: "RECALL-e44f what is my favourite colour?",
    browse: `BROWSE-0a7d: open ${PAGE_URL} and tell me its title`,
};
const REPLY = {
    ping: "PONG-3f9a: here, running on the stand-in.",
    remember: "Noted in today's memory (REMEMBERED-52d0).",
    ws: "WS-PONG-b81c: the Control UI reached me.",
    recall: "From memory: ultramarine (RECALLED-e44f).",
    /** Followed by what the script found in the browser's tool results. */
    browse: "BROWSED-0a7d, the page's title is:",
};
const FACT = "ultramarine-7731";
/** memory_search calls the scripted model makes at most in the recall turn (it asks again after a failed search). */
const RECALL_ATTEMPTS = 3;
/** Stands in for the link `npm run channels -- login whatsapp` writes (the real one needs WhatsApp's servers). */
const WHATSAPP_LINK = JSON.stringify({ noiseKey: "standin-link-5e21", me: { id: "4915123456789:1@s.whatsapp.net" } });

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

describe(
    "an agent turn on the stand-in VPS: Telegram and the Control UI in, the LLM stand-in thinking, memory out",
    { timeout: 45 * 60_000 },
    () => {
        let admin: AdminKey;
        let plan: DeployPlan;
        /** The operator's age identity of the stack: the restore is planned with it on the operator's side. */
        let identity: string;
        let bucketData: string;
        let vps: StandInVps | undefined;
        let bucket: S3Server | undefined;
        let remote: RemoteHost | undefined;
        let firstBoot: BootState;
        let rebuild: Promise<{ vps: StandInVps; boot: BootState }> | undefined;
        const llm = new LlmStandIn();
        const telegram = new TelegramStandIn({ token: TELEGRAM_TOKEN });
        const page = new TitlePage(PAGE_TITLE);
        /** What `pulumi up` does for a new server: the planner on the operator's side, with the read-only key. */
        const restorePlan = (on: StandInVps) =>
            planRestoreInNamespace(on.resources().netns, {
                endpoint: STANDIN_S3_ENDPOINT,
                bucket: plan.settings.backupBucketName,
                ...DEPLOY_READER,
                identity,
                restoreFrom: plan.settings.restoreFrom,
            });
        /** The repository's identity files as the push delivers them. */
        const pushed = Object.fromEntries(workspaceFiles().map((f) => [f.path, f.content]));
        /** memory/YYYY-MM-DD.md as the script had the agent write it (the date in the operator's time zone). */
        let memoryNote = { path: "", content: "" };
        let deployedAt = 0;

        const script: LlmScript = (request) => {
            const turn = currentTurn(request);
            if (turn.text.includes(MARK.ping)) return { text: REPLY.ping };
            if (turn.text.includes(MARK.ws)) return { text: REPLY.ws };
            if (turn.text.includes(MARK.remember)) {
                if (turn.toolResults.length) return { text: REPLY.remember };
                const day = new Intl.DateTimeFormat("en-CA", {
                    timeZone: plan.settings.timezone,
                    year: "numeric",
                    month: "2-digit",
                    day: "2-digit",
                }).format(new Date());
                memoryNote = { path: `memory/${day}.md`, content: `# ${day}\n\n- The owner's favourite colour is ${FACT}.\n` };
                return { toolCalls: [callTool(request, "write", memoryNote)] };
            }
            if (turn.text.includes(MARK.browse)) return browseTurn(request, BROWSE_PAGE, REPLY.browse);
            if (turn.text.includes(MARK.recall)) {
                // A model asks again when a search failed: OpenClaw's memory_search gives up after its own 30 s when a
                // loaded host is still indexing the restored memory (seen at load 12-20). Bounded by a count.
                const results = turn.toolResults;
                const failed = results.length > 0 && !results[results.length - 1]!.includes(FACT);
                if (results.length && !(failed && results.length < RECALL_ATTEMPTS)) return { text: REPLY.recall };
                return { toolCalls: [callTool(request, "memory_search", { query: "favourite colour" })] };
            }
            // Heartbeats, dreaming and anything else: OpenClaw's silent answer.
            return SILENT_REPLY;
        };
        llm.setScript(script);

        const turnRequests = (marker: string) => llm.chatRequests().filter((r) => currentTurn(r).text.includes(marker));

        /** sha256 of workspace files on the host ("absent" when missing). */
        async function hashes(host: StandInVps, paths: string[]): Promise<Record<string, string>> {
            const out = await host.exec(
                `cd ${WORKSPACE} && for f in ${paths.join(" ")}; do if [ -f "$f" ]; then printf '%s %s\\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)"; else echo "$f absent"; fi; done`,
            );
            return Object.fromEntries(
                out.stdout
                    .trim()
                    .split("\n")
                    .map((l) => l.split(" ") as [string, string]),
            );
        }

        /** The openclaw CLI as the agent user, from its state dir (it finds the gateway and its token itself). */
        const asAgent = (host: StandInVps, command: string) =>
            host.exec(
                `runuser -u openclaw -- env -i HOME=/home/openclaw PATH=/usr/local/bin:/usr/bin:/bin NO_COLOR=1 XDG_RUNTIME_DIR=/run/user/$(id -u openclaw) bash -c 'cd ~/.openclaw && ${command}'`,
                { allowFailure: true, timeoutMs: 600_000 },
            );

        async function serveStandIns(host: StandInVps): Promise<void> {
            await host.serveOnBridge(LLM_PORT, llm.newServer());
            await host.serveOnBridge(TELEGRAM_PORT, telegram.newServer());
            await host.serveOnBridge(PAGE_PORT, page.newServer());
        }

        const verify = (host: StandInVps, key: string, only: string) =>
            runVerifyCli([
                "--json",
                "--host",
                host.ssh.host,
                "--port",
                String(host.ssh.port),
                "--user",
                plan.settings.adminUser,
                "--key",
                key,
                "--only",
                only,
                "--no-edge",
            ]);

        before(async () => {
            admin = await createAdminKey();
            const standIn = standInSettings(admin.publicKey, [
                "restoreFrom=latest",
                `telegramBotToken=${TELEGRAM_TOKEN}`,
                `telegramAllowFrom=${OWNER.id}`,
            ]);
            identity = standIn.backupIdentity;
            plan = deployPlan(standIn.settings);
            bucketData = bucketDataDir();
            vps = await StandInVps.boot({ name: "turn", userData: plan.userData });
            firstBoot = await vps.waitBooted();
            assert.equal(firstBoot.cloudInitCode, 0, `${firstBoot.cloudInit}\n${vps.consoleTail(30)}`);
            bucket = await startBucket(vps, plan.settings, bucketData);
            await installRecordingCloudflared(vps);
            await serveStandIns(vps);
            remote = await connectAdmin(vps, plan.settings, admin.privateKey);
            const run = await deploy(remote, plan.settings, { secrets: SECRETS, ...STAND_INS, plan: (await restorePlan(vps)).plan });
            deployedAt = Date.now();
            console.log(`# boot ${firstBoot.seconds.toFixed(1)} s, push ${run.pushSeconds.toFixed(1)} s`);
            rebuild = (async () => {
                const fresh = await StandInVps.boot({ name: "turn-rebuild", userData: plan.userData });
                return { vps: fresh, boot: await fresh.waitBooted() };
            })();
            rebuild.catch(() => undefined); // judged by the rebuild test
        });

        after(async () => {
            remote?.dispose();
            await telegram.close();
            await llm.close();
            await bucket?.stop();
            await vps?.destroy();
            const fresh = await rebuild?.catch(() => undefined);
            await fresh?.vps.destroy();
            if (bucketData) rmSync(bucketData, { recursive: true, force: true });
        });

        const live = () => {
            assert.ok(vps, "no stand-in");
            return vps;
        };

        it("polls the Telegram stand-in with the bot token from the 0600 .env; openclaw.json names it only by env var", async (t) => {
            const host = live();
            await telegram.waitForCall((c) => c.method === "getUpdates" && c.status === 200);
            t.diagnostic(`push to the first getUpdates: ${seconds(deployedAt)}`);
            assert.ok(
                telegram.calls.some((c) => c.method === "getMe" && c.status === 200),
                telegram.describe(),
            );
            assert.deepEqual(
                telegram.calls.filter((c) => c.status !== 200).map((c) => `${c.method} ${c.status}`),
                [],
                "every call carried the right token",
            );
            assert.equal((await host.exec(`stat -c '%a %U' ${STATE}/.env`)).stdout.trim(), "600 openclaw");
            assert.equal((await host.exec(`grep -c '^TELEGRAM_BOT_TOKEN=' ${STATE}/.env`)).stdout.trim(), "1");
            const config = JSON.parse((await host.exec(`cat ${STATE}/openclaw.json`)).stdout);
            assert.deepEqual(config.channels.telegram.botToken, { source: "env", provider: "default", id: "TELEGRAM_BOT_TOKEN" });
            assert.deepEqual(config.channels.telegram.allowFrom, [String(OWNER.id)]);
            assert.equal(config.channels.telegram.dmPolicy, "allowlist");
            assert.equal(config.channels.telegram.groupPolicy, "disabled");
        });

        it("drops a stranger's message before the LLM; the owner's reaches it with the pushed identity files and the reply comes back", async (t) => {
            const host = live();
            const started = Date.now();
            const strangerUpdate = telegram.sendFromUser(STRANGER, MARK.stranger);
            telegram.sendFromUser(OWNER, MARK.ping);
            const reply = await telegram.waitForSent((m) => m.chatId === OWNER.id && m.text.includes(REPLY.ping));
            t.diagnostic(`first turn (message to reply): ${seconds(started)}`);
            // The gateway read past the stranger's update (it was received and dropped, not merely not read yet).
            await telegram.waitForCall((c) => c.method === "getUpdates" && Number(c.params.offset) > strangerUpdate);
            assert.deepEqual(
                llm.requests.filter((r) => requestText(r).includes(MARK.stranger)).map((r) => r.seq),
                [],
                "the stranger's words reached the LLM",
            );
            assert.deepEqual(
                telegram.sent.filter((m) => m.chatId === STRANGER.id),
                [],
                "the bot wrote to the stranger",
            );
            assert.equal(reply.text, REPLY.ping);

            const [request] = turnRequests(MARK.ping) as [LlmRequest];
            assert.ok(request, llm.describe());
            const prompt = systemPrompt(request);
            for (const name of ["SOUL.md", "USER.md", "AGENTS.md"]) {
                assert.ok(prompt.includes(pushed[name]!.trim()), `the system prompt does not carry the pushed ${name}`);
            }
            // The LLM key from the 0600 .env reaches the provider (here, its stand-in), and only as the bearer.
            assert.equal(request.headers.authorization, `Bearer ${DEPLOY_SENTINELS.llmApiKey}`);

            // The first turn on a pushed workspace: every identity file byte-identical, no bootstrap ritual, no templates.
            const after = await hashes(host, [...IDENTITY_FILES, "BOOTSTRAP.md", "TOOLS.md", "HEARTBEAT.md"]);
            for (const name of IDENTITY_FILES) assert.equal(after[name], sha256(pushed[name]!), `${name} changed on the first turn`);
            for (const starter of ["BOOTSTRAP.md", "TOOLS.md", "HEARTBEAT.md"])
                assert.equal(after[starter], "absent", `${starter} was added`);
        });

        it("makes the agent write the fact to memory/YYYY-MM-DD.md through a scripted tool call", async (t) => {
            const host = live();
            const started = Date.now();
            telegram.sendFromUser(OWNER, MARK.remember);
            await telegram.waitForSent((m) => m.chatId === OWNER.id && m.text.includes(REPLY.remember));
            t.diagnostic(`tool-call turn: ${seconds(started)}`);
            assert.match(memoryNote.path, /^memory\/\d{4}-\d{2}-\d{2}\.md$/);
            const [call, result] = turnRequests(MARK.remember) as [LlmRequest, LlmRequest];
            assert.ok(call && result, llm.describe());
            assert.match(currentTurn(result).toolResults.join("\n"), /wrote/i);
            const file = `${WORKSPACE}/${memoryNote.path}`;
            assert.equal((await host.exec(`cat ${file}`)).stdout, memoryNote.content);
            assert.match((await host.exec(`stat -c '%U' ${file}`)).stdout.trim(), /^openclaw$/);
        });

        it("browses through the agent: a scripted browser call has Chromium load a page on the bridge and its title reach the model", async (t) => {
            const host = live();
            const gateway = await gatewayProcess(host);
            assert.equal(gateway.user, "openclaw", JSON.stringify(gateway));
            assert.match(gateway.cgroup, /openclaw-gateway\.service/, JSON.stringify(gateway));
            const key = (l: { address: string; port: number; name: string }) => `${l.name} ${l.address}:${l.port}`;
            const before = new Set((await listeners(host)).map(key));
            assert.deepEqual(await browserProcesses(host), [], "a browser was running before the agent asked for one");
            const config = JSON.parse((await host.exec(`cat ${STATE}/openclaw.json`)).stdout);
            assert.deepEqual(config.browser.ssrfPolicy, { allowedHostnames: [STANDIN_NETWORK.gateway] });
            assert.equal(config.browser.noSandbox, false);

            const started = Date.now();
            telegram.sendFromUser(OWNER, MARK.browse);
            const reply = await telegram.waitForSent((m) => m.chatId === OWNER.id && m.text.includes(REPLY.browse));
            t.diagnostic(`browser turn (message to reply): ${seconds(started)}`);
            const requests = turnRequests(MARK.browse);
            // The exception is that one address: the gateway on loopback was refused by OpenClaw's SSRF policy.
            const refused = requests.find((r) => currentTurn(r).toolResults.length === 1);
            assert.match(currentTurn(refused!).toolResults[0]!, /blocked by policy|private\/internal\/special-use/i, llm.describe());
            const toTitle = secondsToTitle(requests, PAGE_TITLE, BROWSE_PAGE.blockedUrls.length);
            assert.ok(
                toTitle !== undefined,
                `the title never came back in a tool result:\n${requests.map((r) => currentTurn(r).toolResults.join("\n").slice(0, 1500)).join("\n---\n")}`,
            );
            t.diagnostic(
                `browser call sent to the title back at the model: ${toTitle.toFixed(1)} s, ${openAttempts(requests, BROWSE_PAGE.blockedUrls.length)} open call(s)`,
            );
            assert.equal(reply.text, `${REPLY.browse} ${PAGE_TITLE}`);
            // It was Chromium that fetched the page (not a server-side fetch).
            const load = await page.waitForLoad();
            assert.match(load.userAgent, /HeadlessChrome\//, load.userAgent);

            // The browser's processes: the agent user's, inside the gateway's unit cgroup, Chromium's sandbox on.
            const processes = await browserProcesses(host);
            const described = processes.map((p) => `${p.pid} ${p.user} ${p.cgroup} ${p.cmdline.slice(0, 160)}`).join("\n");
            assert.ok(processes.length > 0, "no Chromium process after the turn");
            assert.ok(
                processes.some((p) => p.cmdline.includes("--type=renderer")),
                `no renderer process:\n${described}`,
            );
            for (const p of processes) {
                assert.equal(p.user, "openclaw", described);
                assert.equal(p.cgroup, gateway.cgroup.split("\n").join(" "), described);
                assert.ok(!p.cmdline.includes("--no-sandbox"), described);
            }
            t.diagnostic(
                `browser: ${processes.length} processes, PSS ${Math.round(processes.reduce((a, p) => a + p.pssKb, 0) / 1024)} MiB`,
            );

            // Nothing new listens off loopback; the browser's DevTools port is on 127.0.0.1.
            const now = await listeners(host);
            const added = now.filter((l) => !before.has(key(l)));
            assert.deepEqual(
                added.filter((l) => !isLoopback(l.address)).map(key),
                [],
                `new listeners off loopback (all new: ${added.map(key).join(", ")})`,
            );
            const pids = new Set(processes.map((p) => p.pid));
            assert.ok(
                now.some((l) => pids.has(l.pid) && isLoopback(l.address)),
                `no browser process listens on loopback (the DevTools port); listeners: ${now.map((l) => `${key(l)} pid ${l.pid}`).join(", ")}`,
            );
        });

        it("answers the same turn over the Control UI's WebSocket with the gateway token, after the one-time device approval", async (t) => {
            const host = live();
            await host.exec("install -d -m 0700 /root/standin && cat >/root/standin/control-ui-client.ts", {
                input: readFileSync(join(PROJECT_ROOT, "standin", "control-ui-client.ts")),
            });
            const request = {
                url: `ws://127.0.0.1:${plan.settings.gatewayPort}/`,
                token: DEPLOY_SENTINELS.gatewayToken,
                origin: `https://${plan.settings.hostname}`,
                forwardedFor: "203.0.113.50",
                message: MARK.ws,
                expect: REPLY.ws,
            };
            // The token travels on stdin; the client prints steps as JSON lines.
            const client = async (extra: Record<string, unknown> = {}) => {
                const run = await host.exec("node --no-warnings /root/standin/control-ui-client.ts", {
                    input: JSON.stringify({ ...request, ...extra }),
                    allowFailure: true,
                    timeoutMs: 900_000,
                });
                const steps = run.stdout
                    .trim()
                    .split("\n")
                    .filter(Boolean)
                    .map((l) => JSON.parse(l) as { step: string; [key: string]: unknown });
                return { code: run.code, steps, raw: run.stdout + run.stderr };
            };
            const started = Date.now();
            const first = await client();
            // A new browser through the tunnel: token accepted, device not yet approved (the Control UI's "pairing required").
            assert.equal(first.code, 3, first.raw);
            const identity = first.steps.find((s) => s.step === "identity")?.identity as string;
            const pairing = first.steps.find((s) => s.step === "pairing-required") as unknown as {
                deviceId: string;
                error: { details: { requestId: string } };
            };
            assert.ok(identity && pairing, first.raw);
            // The operator approves it over SSH, as README says.
            const list = await asAgent(host, "openclaw devices list --json");
            const pending = JSON.parse(list.stdout.slice(list.stdout.indexOf("{"))).pending as {
                requestId: string;
                deviceId: string;
                clientId: string;
            }[];
            const mine = pending.find((p) => p.deviceId === pairing.deviceId);
            assert.ok(mine, list.stdout + list.stderr);
            assert.equal(mine.clientId, "openclaw-control-ui");
            const approve = await asAgent(host, `openclaw devices approve ${mine.requestId}`);
            assert.equal(approve.code, 0, approve.stdout + approve.stderr);

            const second = await client({ identity });
            t.diagnostic(`Control UI turn (connect, approval, reconnect, reply): ${seconds(started)}`);
            assert.equal(second.code, 0, second.raw);
            assert.deepEqual(
                (second.steps.find((s) => s.step === "connected")?.scopes as string[]).includes("operator.write"),
                true,
                second.raw,
            );
            assert.match(String(second.steps.find((s) => s.step === "reply")?.text), new RegExp(REPLY.ws));
            const [wsRequest] = turnRequests(MARK.ws) as [LlmRequest];
            assert.ok(wsRequest, llm.describe());
            for (const name of ["SOUL.md", "USER.md", "AGENTS.md"]) assert.ok(systemPrompt(wsRequest).includes(pushed[name]!.trim()), name);
            // A wrong token is refused before any device question.
            const wrong = await client({ token: "not-the-gateway-token-0000000000000000", identity });
            assert.equal(wrong.code, 1, wrong.raw);
            assert.match(JSON.stringify(wrong.steps.find((s) => s.step === "connect-refused")), /token|unauthorized/i);
        });

        it("npm run verify: the Telegram channel connected, OpenClaw's own audit clean (0 critical, 0 warnings)", async (t) => {
            const host = live();
            const key = keyFile(admin.privateKey);
            try {
                const started = Date.now();
                const run = await verify(host, key.file, "channels,openclaw-audit");
                t.diagnostic(`verify --only channels,openclaw-audit: ${seconds(started)}`);
                assert.equal(run.code, 0, run.stdout + run.stderr);
                const checks = Object.fromEntries(
                    (JSON.parse(run.stdout).checks as { id: string }[]).map((c) => [c.id, c]),
                ) as unknown as Record<string, { status: string; summary: string; severity: string }>;
                assert.equal(checks["channel-telegram"]?.status, "pass", JSON.stringify(checks));
                assert.match(checks["channel-telegram"]!.summary, /connected \(account default, bot @openclaw_standin_bot\)/);
                assert.equal(checks["openclaw-audit"]?.status, "pass", JSON.stringify(checks["openclaw-audit"]));
                assert.match(checks["openclaw-audit"]!.summary, /no finding at warn or above/);
                for (const [name, value] of SENTINELS) assert.ok(!run.stdout.includes(value) && !run.stderr.includes(value), name);
            } finally {
                key.remove();
            }
        });

        it("npm run channels over SSH: the gateway's own channel view in a terminal as the agent user; login refuses what it cannot link", async () => {
            const host = live();
            const key = keyFile(admin.privateKey);
            const channels = (...args: string[]) =>
                runProjectScript("channels.ts", [
                    ...args,
                    "--host",
                    host.ssh.host,
                    "--port",
                    String(host.ssh.port),
                    "--user",
                    plan.settings.adminUser,
                    "--key",
                    key.file,
                ]);
            try {
                // `status` runs OpenClaw's CLI the way `login whatsapp` does (a pseudo-terminal, the agent user, the
                // gateway's state dir): it reaches the live gateway, which reports the Telegram account connected.
                const status = await channels("status");
                assert.equal(status.code, 0, status.stdout + status.stderr);
                assert.ok(status.stdout.includes("\r\n"), "the command ran in a pseudo-terminal (CRLF line ends)");
                assert.match(status.stdout, /Telegram default:[\s\S]*?\bconnected\b/, status.stdout);
                // WhatsApp is not configured on this server: refused by name, nothing started.
                const whatsapp = await channels("login", "whatsapp");
                assert.equal(whatsapp.code, 2, whatsapp.stdout + whatsapp.stderr);
                assert.match(whatsapp.stderr, /WhatsApp is not configured on this host: set openclaw-vps:whatsappAllowFrom/);
                const telegramLogin = await channels("login", "telegram");
                assert.equal(telegramLogin.code, 2);
                assert.match(telegramLogin.stderr, /Telegram needs no login: .*openclaw-vps:telegramBotToken/);
            } finally {
                key.remove();
            }
        });

        it("holds no sentinel anywhere on the server but its 0600 secret files: files, journal, logs, state, argv, user data, bucket", async () => {
            const host = live();
            // Every file the server wrote since it was a clean image is in the overlay's upper layer: search all of it.
            const upper = join(host.resources().instanceDir, "upper");
            const found = filesContaining(
                upper,
                SENTINELS.map(([, v]) => v),
            ).map((f) => f.slice(upper.length));
            const unexpected = found.filter((f) => !SECRET_FILES.has(f));
            assert.deepEqual(unexpected, [], `sentinels outside the secret files: ${unexpected.join(", ")}`);
            assert.ok(found.includes(`${STATE}/.env`), `the .env itself was not searched: ${found.join(", ")}`);
            for (const file of found) assert.match((await host.exec(`stat -c '%a' ${file}`)).stdout.trim(), /^600$/, file);
            // The journal's own view (fields it may compress on disk) and every process's command line.
            const journal = (await host.exec("journalctl --no-pager -o cat", { timeoutMs: 300_000 })).stdout;
            const argv = (await host.exec("for p in /proc/[0-9]*; do tr '\\0' ' ' <$p/cmdline 2>/dev/null; echo; done")).stdout;
            for (const [name, value] of SENTINELS) {
                assert.ok(!journal.includes(value), `the ${name} is in the journal`);
                assert.ok(!argv.includes(value), `the ${name} is in a command line`);
                assert.ok(!plan.userData.includes(value), `the ${name} is in the user data`);
            }
            // The Telegram token never reached the stand-in except in the URL path it is checked against (not recorded).
            assert.ok(!JSON.stringify(telegram.calls).includes(TELEGRAM_TOKEN));
        });

        it("reports a revoked bot token as a failing channel with OpenClaw's reason (a warning: the Control UI still works)", async () => {
            const host = live();
            // The memory the rebuild must bring back is backed up first (the next test throws this server away), and
            // with it a WhatsApp link as `channels login` leaves it (Baileys' creds.json in the account's authDir).
            await host.exec(
                `runuser -u openclaw -- bash -c 'umask 077 && mkdir -p ${STATE}/${WHATSAPP_AUTH_SUBDIR} && cat >${STATE}/${WHATSAPP_AUTH_SUBDIR}/creds.json'`,
                { input: WHATSAPP_LINK },
            );
            const backup = await runBackup(remote!);
            assert.match(backup.last_snapshot ?? "", ARCHIVE_KEY, JSON.stringify(backup));
            telegram.revoked = true;
            const since = telegram.calls.length;
            await telegram.waitForCall((c) => c.seq > since && c.status === 401);
            const key = keyFile(admin.privateKey);
            try {
                const run = await verify(host, key.file, "channels");
                assert.equal(run.code, 0, `a failing channel is a warning, not a critical failure: ${run.stdout}${run.stderr}`);
                const check = (
                    JSON.parse(run.stdout).checks as { id: string; status: string; severity: string; summary: string; hint: string }[]
                ).find((c) => c.id === "channel-telegram");
                assert.ok(check, run.stdout);
                assert.deepEqual([check.status, check.severity], ["fail", "warning"]);
                assert.match(check.summary, /failing \(account default\): .*Unauthorized/);
                assert.match(check.hint, /telegramBotToken/);
            } finally {
                key.remove();
                telegram.revoked = false;
            }
        });

        it("brings the fact back after a rebuild: the restored memory is in the next prompt the LLM receives", async (t) => {
            assert.ok(rebuild, "the fresh server was never booted");
            remote?.dispose();
            remote = undefined;
            await bucket?.stop();
            bucket = undefined;
            await vps!.destroy();
            vps = undefined;
            const fresh = await rebuild;
            vps = fresh.vps;
            assert.equal(fresh.boot.cloudInitCode, 0, fresh.boot.cloudInit);
            bucket = await startBucket(fresh.vps, plan.settings, bucketData);
            await installRecordingCloudflared(fresh.vps);
            await serveStandIns(fresh.vps);
            remote = await connectAdmin(fresh.vps, plan.settings, admin.privateKey);
            const started = Date.now();
            const polls = telegram.calls.length;
            const run = await deploy(remote, plan.settings, { secrets: SECRETS, ...STAND_INS, plan: (await restorePlan(fresh.vps)).plan });
            assert.match(run.push.stdout, /first boot: restoring snapshot 'latest'/);
            await telegram.waitForCall((c) => c.seq > polls && c.method === "getUpdates" && c.status === 200);
            t.diagnostic(`rebuild: deploy with restore to polling ${seconds(started)}`);
            assert.equal((await fresh.vps.exec(`cat ${WORKSPACE}/${memoryNote.path}`)).stdout, memoryNote.content);
            // The WhatsApp link came back with the state: no new QR scan (as far as WhatsApp accepts a restored session).
            const link = `${STATE}/${WHATSAPP_AUTH_SUBDIR}/creds.json`;
            assert.equal((await fresh.vps.exec(`cat ${link}`)).stdout, WHATSAPP_LINK);
            assert.equal((await fresh.vps.exec(`stat -c '%a %U' ${link}`)).stdout.trim(), "600 openclaw");

            const asked = Date.now();
            telegram.sendFromUser(OWNER, MARK.recall);
            await telegram.waitForSent((m) => m.chatId === OWNER.id && m.text.includes(REPLY.recall));
            t.diagnostic(`recall turn on the rebuilt server: ${seconds(asked)}`);
            const recallRequests = turnRequests(MARK.recall);
            const withResult = recallRequests[recallRequests.length - 1];
            assert.ok(withResult && recallRequests.length >= 2, llm.describe());
            t.diagnostic(`memory_search calls: ${currentTurn(withResult).toolResults.length}`);
            const results = currentTurn(withResult).toolResults.join("\n");
            assert.ok(results.includes(FACT), `memory_search did not bring the fact back: ${results.slice(0, 2000)}`);
            assert.ok(results.includes(memoryNote.path), "the hit is the daily note");
            // The rebuilt server's identity files are the pushed ones again.
            const now = await hashes(
                fresh.vps,
                IDENTITY_FILES.filter((f) => f !== "MEMORY.md"),
            );
            for (const name of Object.keys(now)) assert.equal(now[name], sha256(pushed[name]!), name);
        });
    },
);
