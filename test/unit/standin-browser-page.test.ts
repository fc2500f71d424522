// standin/browser-page.ts and the deploy's test-only browser exception: the page the stand-in's browser turn loads,
// the model's side of that turn, and that only the stand-in's deploy renders a private-network exception.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import {
    BROWSER_CALL_TIMEOUT_MS,
    BROWSER_OPEN_ATTEMPTS,
    browseTurn,
    openAttempts,
    secondsToTitle,
    TitlePage,
} from "../../standin/browser-page";
import { deployBundleInput, DEPLOY_SENTINELS } from "../../standin/deploy";
import type { LlmRequest } from "../../standin/llm";
import { buildHostBundle, type HostBundleInput } from "../../components/render/host-bundle";
import { hostBundleInput } from "../../components/host";
import { standInSettings } from "../../scripts/lib/standin-settings";
import { createAdminKey } from "../../standin/scenario";

test("the page: its title in <title>, every request recorded with its User-Agent, 404 beside /; a title that needs escaping is refused", async () => {
    const page = new TitlePage("Stand-in page 1a2b title");
    const server = page.newServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const favicon = await fetch(`${base}/favicon.ico`, { headers: { "user-agent": "probe/1" } });
        assert.equal(favicon.status, 404);
        const loaded = page.waitForLoad(60_000);
        const res = await fetch(`${base}/`, { headers: { "user-agent": "HeadlessChrome/1.0" } });
        assert.match(await res.text(), /<title>Stand-in page 1a2b title<\/title>/);
        const hit = await loaded;
        assert.equal(hit.userAgent, "HeadlessChrome/1.0");
        assert.deepEqual(
            page.hits.map((h) => h.path),
            ["/favicon.ico", "/"],
        );
    } finally {
        server.close();
    }
    assert.throws(() => new TitlePage("<script>"), /letters, digits/);
});

const request = (seq: number, at: number, toolResults: string[], tools = ["browser"]): LlmRequest => ({
    seq,
    at,
    method: "POST",
    path: "/v1/chat/completions",
    headers: {},
    body: {
        tools: tools.map((name) => ({ type: "function", function: { name } })),
        messages: [
            { role: "user", content: "BROWSE: open the page" },
            ...toolResults.map((content, i) => ({ role: "tool", tool_call_id: `c${i}`, content })),
        ],
    },
});

test("the model's side of a browser turn: the blocked URLs, the page (again while no tab opens), a snapshot of its tab, then the title only if a tool result carried it", () => {
    const page = { url: "http://10.77.0.1:8083/", title: "Page 77 title", blockedUrls: ["http://127.0.0.1:18789/"] };
    const timeoutMs = BROWSER_CALL_TIMEOUT_MS;
    assert.deepEqual(browseTurn(request(1, 0, []), page, "SEEN:"), {
        toolCalls: [{ name: "browser", arguments: { action: "open", url: "http://127.0.0.1:18789/", timeoutMs } }],
    });
    // Through OpenClaw's tool search bridge when the browser is a deferred tool.
    assert.deepEqual(browseTurn(request(1, 0, [], ["tool_call"]), { ...page, blockedUrls: [] }, "SEEN:"), {
        toolCalls: [{ name: "tool_call", arguments: { id: "browser", args: { action: "open", url: page.url, timeoutMs } } }],
    });
    assert.deepEqual(browseTurn(request(2, 0, ["blocked by policy"]), page, "SEEN:"), {
        toolCalls: [{ name: "browser", arguments: { action: "open", url: page.url, timeoutMs } }],
    });
    assert.deepEqual(browseTurn(request(3, 0, ["blocked", '{"targetId":"T9","url":"http://10.77.0.1:8083/"}']), page, "SEEN:"), {
        toolCalls: [{ name: "browser", arguments: { action: "snapshot", timeoutMs, targetId: "T9" } }],
    });
    assert.deepEqual(browseTurn(request(3, 0, ["blocked", '{"targetId":"T9","title":"Page 77 title"}']), page, "SEEN:"), {
        text: "SEEN: Page 77 title",
    });
    // An open that opened no tab (Chromium missed OpenClaw's 8 s readiness window) is retried, a bounded number of times.
    const failed = "Chrome CDP websocket for profile openclaw is not reachable after start";
    assert.deepEqual(browseTurn(request(3, 0, ["blocked", failed]), page, "SEEN:"), {
        toolCalls: [{ name: "browser", arguments: { action: "open", url: page.url, timeoutMs } }],
    });
    assert.deepEqual(browseTurn(request(4, 0, ["blocked", failed, '{"targetId":"T2"}']), page, "SEEN:"), {
        toolCalls: [{ name: "browser", arguments: { action: "snapshot", timeoutMs, targetId: "T2" } }],
    });
    assert.deepEqual(browseTurn(request(5, 0, ["blocked", failed, '{"targetId":"T2"}', "no title here"]), page, "SEEN:"), {
        text: "SEEN: (not found)",
    });
    const exhausted = ["blocked", ...Array<string>(BROWSER_OPEN_ATTEMPTS).fill(failed)];
    assert.deepEqual(browseTurn(request(9, 0, exhausted), page, "SEEN:"), { text: "SEEN: (not found)" });
    assert.equal(openAttempts([request(4, 0, ["blocked", failed, '{"targetId":"T2"}'])], 1), 2);
    assert.equal(openAttempts([request(9, 0, exhausted)], 1), BROWSER_OPEN_ATTEMPTS);
    const turn = [
        request(1, 500, []),
        request(2, 1000, ["blocked"]),
        request(3, 3500, ["blocked", "{}"]),
        request(4, 7500, ["blocked", "{}", "Page 77 title"]),
    ];
    assert.equal(secondsToTitle(turn, page.title, 1), 6.5);
    assert.equal(secondsToTitle(turn.slice(0, 3), page.title, 1), undefined);
});

test("the browser's private-network exception: rendered only when the stand-in's deploy asks for it, never from settings", async () => {
    const admin = await createAdminKey();
    const { settings } = standInSettings(admin.publicKey);
    assert.equal(settings.browser, true);
    const secrets = DEPLOY_SENTINELS;
    // openclaw.json as the bundle the push applies carries it.
    const config = (input: HostBundleInput) =>
        JSON.parse(buildHostBundle(input).files.find((f) => f.path.endsWith("/openclaw.json"))!.content as string);
    // What pulumi up renders: the browser on, private and loopback addresses refused (OpenClaw's default policy).
    const production = config(hostBundleInput(settings, secrets, { hostMemoryMb: 2048 }));
    assert.equal(production.browser.enabled, true);
    assert.equal(production.browser.ssrfPolicy, undefined);
    assert.equal(config(deployBundleInput(settings, secrets)).browser.ssrfPolicy, undefined);
    const standIn = config(deployBundleInput(settings, secrets, { browserPrivateHostnames: ["10.77.0.1"] }));
    assert.deepEqual(standIn.browser.ssrfPolicy, { allowedHostnames: ["10.77.0.1"] });
    assert.equal(standIn.browser.noSandbox, false);
    assert.throws(
        () => deployBundleInput({ ...settings, browser: false }, secrets, { browserPrivateHostnames: ["10.77.0.1"] }),
        /browserPrivateHostnames needs the settings' browser: true/,
    );
});
