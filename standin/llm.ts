// The LLM stand-in: an OpenAI-compatible chat-completions endpoint that records every request and answers from a
// script, so a real OpenClaw gateway can run real agent turns with no LLM provider (its custom provider `baseUrl`,
// api "openai-completions", points here). It answers both ways OpenClaw asks (streaming SSE chunks with a usage chunk
// and `[DONE]`, or one JSON completion), with text or with tool calls. Reusable by any test that needs the agent to
// think: the script sees each request and decides, e.g. "call the write tool", "answer PONG", "stay silent".
// Plain Node: no Pulumi, no project code.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Waiters } from "./waiters";

/** One chat message as OpenAI's API carries it (content may be a string or a list of parts). */
export interface LlmMessage {
    role: string;
    content?: string | { type: string; text?: string }[] | null;
    tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
    tool_call_id?: string;
    name?: string;
}

export interface LlmRequestBody {
    model?: string;
    stream?: boolean;
    messages?: LlmMessage[];
    tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
    [key: string]: unknown;
}

/** What the stand-in recorded of one request (headers lower-cased; the API key is kept so a test can check it arrived). */
export interface LlmRequest {
    seq: number;
    at: number;
    method: string;
    path: string;
    headers: Record<string, string>;
    body: LlmRequestBody;
}

/** A scripted tool call: `name` is the function the model calls, `arguments` its JSON arguments. */
export interface ScriptedToolCall {
    name: string;
    arguments: unknown;
}

/** What the model "says": text, or tool calls (then OpenClaw runs them and asks again with their results). */
export type LlmReply = { text: string } | { toolCalls: ScriptedToolCall[] };

/** The script: called for every chat request, in order; the reply becomes the completion. */
export type LlmScript = (request: LlmRequest) => LlmReply;

/** The stand-in's default answer: OpenClaw's silent token, harmless for heartbeats, dreaming and anything unscripted. */
export const SILENT_REPLY: LlmReply = { text: "NO_REPLY" };

/** The text of a message's content, parts joined. */
export function messageText(message: LlmMessage): string {
    if (typeof message.content === "string") return message.content;
    if (Array.isArray(message.content)) return message.content.map((part) => part.text ?? "").join("");
    return "";
}

/** The system prompt(s) of a request (system and developer messages), joined. */
export function systemPrompt(request: LlmRequest): string {
    return (request.body.messages ?? [])
        .filter((m) => m.role === "system" || m.role === "developer")
        .map(messageText)
        .join("\n");
}

/** Everything the model was shown in this request: every message's text and every tool call and result. */
export function requestText(request: LlmRequest): string {
    return (request.body.messages ?? [])
        .map((m) => [messageText(m), ...(m.tool_calls ?? []).map((c) => `${c.function.name} ${c.function.arguments}`)].join("\n"))
        .join("\n");
}

/** The user messages' text, joined (the operator's words and OpenClaw's context blocks). */
export function userText(request: LlmRequest): string {
    return (request.body.messages ?? [])
        .filter((m) => m.role === "user")
        .map(messageText)
        .join("\n");
}

/** Results of every tool call this request carries back to the model (role "tool"), the history's included. */
export function toolResults(request: LlmRequest): string[] {
    return (request.body.messages ?? []).filter((m) => m.role === "tool").map(messageText);
}

/** OpenClaw wraps its per-turn runtime context in a user message that starts with this marker (2026.9.x). */
export const INTERNAL_CONTEXT_MARKER = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>";

/**
 * The turn being answered: the operator's latest message (the last user message that is not OpenClaw's internal
 * context block) and everything after it (the tool calls made for it and their results). Earlier turns stay in
 * `request.body.messages` as history; a script that keys on them would answer an old question again.
 */
export function currentTurn(request: LlmRequest): { text: string; toolResults: string[] } {
    const messages = request.body.messages ?? [];
    let at = -1;
    for (let i = messages.length - 1; i >= 0; i--) {
        if (messages[i]!.role === "user" && !messageText(messages[i]!).trimStart().startsWith(INTERNAL_CONTEXT_MARKER)) {
            at = i;
            break;
        }
    }
    if (at < 0) return { text: "", toolResults: [] };
    const after = messages.slice(at + 1);
    return { text: messageText(messages[at]!), toolResults: after.filter((m) => m.role === "tool").map(messageText) };
}

/** Names of the functions the request offers the model. */
export function toolNames(request: LlmRequest): string[] {
    return (request.body.tools ?? []).map((t) => t.function.name);
}

/**
 * A call of OpenClaw tool `id` with `args`: direct when the request offers that function, otherwise through OpenClaw's
 * tool search bridge (`tool_call` with `{id, args}`), which is how 2026.9.x exposes its deferred tools (write,
 * memory_search, browser, ...).
 */
export function callTool(request: LlmRequest, id: string, args: Record<string, unknown>): ScriptedToolCall {
    const offered = toolNames(request);
    if (offered.includes(id)) return { name: id, arguments: args };
    if (offered.includes("tool_call")) return { name: "tool_call", arguments: { id, args } };
    throw new Error(`LLM stand-in: the request offers neither ${id} nor tool_call (tools: ${offered.join(", ")})`);
}

export interface LlmStandInOptions {
    /** The script; default: SILENT_REPLY for everything. */
    script?: LlmScript;
    /** Model id reported in completions (OpenClaw does not check it). */
    model?: string;
}

/**
 * The stand-in. Serve `handle` (or `server`) anywhere: on loopback for a local gateway, or on a stand-in VPS's
 * bridge (`StandInVps.serveOnBridge`) for the deployed one.
 *
 *   const llm = new LlmStandIn({ script: (req) => (userText(req).includes("ping") ? { text: "PONG" } : SILENT_REPLY) });
 *   await vps.serveOnBridge(LLM_PORT, llm.server);
 *   const first = await llm.waitForRequest((r) => userText(r).includes("ping"));
 */
export class LlmStandIn {
    readonly requests: LlmRequest[] = [];
    /** The first server (more: `newServer()`, e.g. one per stand-in instance); all share this stand-in's record. */
    readonly server: Server;
    private readonly servers: Server[] = [];
    private script: LlmScript;
    private readonly model: string;
    private seq = 0;
    private completionSeq = 0;
    private waiters = new Waiters<LlmRequest>();

    constructor(options: LlmStandInOptions = {}) {
        this.script = options.script ?? (() => SILENT_REPLY);
        this.model = options.model ?? "standin-1";
        this.server = this.newServer();
    }

    /** Another HTTP server answering from the same script and record (a server listens once). */
    newServer(): Server {
        const server = createServer(this.handle);
        this.servers.push(server);
        return server;
    }

    /** Closes every server. */
    async close(): Promise<void> {
        await Promise.all(
            this.servers.map(
                (server) =>
                    new Promise<void>((resolve) => {
                        server.close(() => resolve());
                        server.closeAllConnections();
                    }),
            ),
        );
    }

    /** Replaces the script (for the next requests). */
    setScript(script: LlmScript): void {
        this.script = script;
    }

    /** Chat requests only (what the model was asked), oldest first. */
    chatRequests(): LlmRequest[] {
        return this.requests.filter((r) => r.path.endsWith("/chat/completions"));
    }

    /**
     * Resolves with the first chat request (already recorded or still to come) that `match` accepts; rejects after
     * `timeoutMs` with what was recorded, so a failing test says what the model did see.
     */
    waitForRequest(match: (request: LlmRequest) => boolean, timeoutMs = 600_000): Promise<LlmRequest> {
        return this.waiters.waitFor(
            this.chatRequests(),
            match,
            timeoutMs,
            () => `LLM stand-in: no matching request within ${timeoutMs / 1000} s; ${this.describe()}`,
        );
    }

    /** One line per recorded request (path and the last user text, shortened), for failure messages. */
    describe(): string {
        const lines = this.requests.map((r) => {
            const last = [...(r.body.messages ?? [])].reverse().find((m) => m.role === "user" || m.role === "tool");
            return `#${r.seq} ${r.method} ${r.path} last ${last?.role ?? "-"}: ${JSON.stringify(messageText(last ?? { role: "" }).slice(-160))}`;
        });
        return `${this.requests.length} request(s) recorded:\n${lines.join("\n")}`;
    }

    readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            try {
                this.answer(req, res, Buffer.concat(chunks).toString("utf8"));
            } catch (error) {
                if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
                res.end(JSON.stringify({ error: { message: `LLM stand-in: ${(error as Error).message}`, type: "server_error" } }));
            }
        });
    };

    private answer(req: IncomingMessage, res: ServerResponse, raw: string): void {
        const path = (req.url ?? "/").split("?")[0]!;
        if (req.method === "GET" && path.endsWith("/models")) {
            return json(res, 200, { object: "list", data: [{ id: this.model, object: "model", owned_by: "openclaw-vps-standin" }] });
        }
        if (req.method !== "POST" || !path.endsWith("/chat/completions")) {
            return json(res, 404, { error: { message: `LLM stand-in serves POST /v1/chat/completions only, not ${req.method} ${path}` } });
        }
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
        const request: LlmRequest = { seq: ++this.seq, at: Date.now(), method: req.method, path, headers, body: JSON.parse(raw || "{}") };
        this.requests.push(request);
        const reply = this.script(request);
        this.waiters.settle(request);
        const id = `chatcmpl-standin-${++this.completionSeq}`;
        const created = Math.floor(Date.now() / 1000);
        const promptTokens = Math.ceil(raw.length / 4);
        const toolCalls =
            "toolCalls" in reply
                ? reply.toolCalls.map((call, index) => ({
                      index,
                      // OpenClaw strips underscores from ids it passes back; a plain alphanumeric id survives unchanged.
                      id: `call${this.completionSeq}x${index}`,
                      type: "function",
                      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
                  }))
                : undefined;
        const text = "text" in reply ? reply.text : "";
        const completionTokens = Math.max(1, Math.ceil((text.length + JSON.stringify(toolCalls ?? []).length) / 4));
        const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
        const finish = toolCalls ? "tool_calls" : "stop";

        if (!request.body.stream) {
            const message = toolCalls
                ? { role: "assistant", content: null, tool_calls: toolCalls.map(({ index: _index, ...call }) => call) }
                : { role: "assistant", content: text };
            return json(res, 200, {
                id,
                object: "chat.completion",
                created,
                model: this.model,
                choices: [{ index: 0, message, finish_reason: finish }],
                usage,
            });
        }
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
        const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
            res.write(
                `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: this.model, choices, ...extra })}\n\n`,
            );
        if (toolCalls) {
            chunk([{ index: 0, delta: { role: "assistant", content: null, tool_calls: toolCalls }, finish_reason: null }]);
        } else {
            chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
            // A few pieces, as a real stream arrives.
            for (const piece of text.match(/[\s\S]{1,24}/g) ?? []) chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]);
        }
        chunk([{ index: 0, delta: {}, finish_reason: finish }]);
        chunk([], { usage });
        res.end("data: [DONE]\n\n");
    }
}

function json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
}
