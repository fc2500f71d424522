// The Telegram Bot API stand-in: what OpenClaw's Telegram channel (grammY, long polling) talks to when its `apiRoot`
// points here. It serves `/bot<TOKEN>/<method>` for the calls a bot makes (getMe, getUpdates long polling,
// sendMessage, sendChatAction, the command and webhook housekeeping), accepts only the one bot token it was given
// (anything else gets Telegram's 401), records every call (method and parameters; never the token: the path is
// recorded without it), and lets a test play users: `sendFromUser` queues an update as if that user wrote to the bot,
// `waitForSent` waits for the bot's reply. Reusable as a notification sink (every sendMessage is kept).
// Plain Node: no Pulumi, no project code.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Waiters } from "./waiters";

export interface TelegramUser {
    id: number;
    first_name: string;
    username?: string;
    is_bot?: boolean;
}

/** One Bot API call as the stand-in saw it. */
export interface TelegramCall {
    seq: number;
    at: number;
    method: string;
    params: Record<string, unknown>;
    /** The HTTP status the stand-in answered. */
    status: number;
}

/** A message the bot sent (sendMessage), with the chat it went to. */
export interface SentMessage {
    messageId: number;
    chatId: number;
    text: string;
    params: Record<string, unknown>;
    at: number;
}

export interface TelegramStandInOptions {
    /** The only bot token accepted (as BotFather prints it: `<bot id>:<secret>`). */
    token: string;
    /** The bot's username (without @). Default: openclaw_standin_bot. */
    username?: string;
    /** Longest a getUpdates long poll is held, in seconds, whatever the bot asks for. Default 25. */
    maxPollSeconds?: number;
}

/** Methods a bot calls for housekeeping that answer `true` and change nothing here. */
const VOID_METHODS = new Set([
    "deleteWebhook",
    "setWebhook",
    "setMyCommands",
    "deleteMyCommands",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
    "sendChatAction",
    "deleteMessage",
    "deleteMessages",
    "setMessageReaction",
    "answerCallbackQuery",
    "pinChatMessage",
    "unpinChatMessage",
]);

/**
 * The stand-in. Serve `server` on loopback for a local gateway or on a stand-in VPS's bridge
 * (`StandInVps.serveOnBridge`); point `channels.telegram.apiRoot` at `http://HOST:PORT`.
 */
export class TelegramStandIn {
    readonly calls: TelegramCall[] = [];
    readonly sent: SentMessage[] = [];
    /** The first server (more: `newServer()`, e.g. one per stand-in instance); all share this stand-in's state. */
    readonly server: Server;
    private readonly servers: Server[] = [];
    readonly bot: TelegramUser;
    /** While set, every call is answered 401 Unauthorized (a revoked token), to see how the channel reports it. */
    revoked = false;
    private closed = false;
    private readonly token: string;
    private readonly maxPollSeconds: number;
    private updates: { update_id: number; [key: string]: unknown }[] = [];
    private nextUpdateId = 1;
    private nextMessageId = 1;
    private seq = 0;
    private pollers: (() => void)[] = [];
    private sentWaiters = new Waiters<SentMessage>();
    private callWaiters = new Waiters<TelegramCall>();

    constructor(options: TelegramStandInOptions) {
        if (!/^\d+:[A-Za-z0-9_-]+$/.test(options.token)) throw new Error("Telegram stand-in: the token must look like <bot id>:<secret>");
        this.token = options.token;
        this.maxPollSeconds = options.maxPollSeconds ?? 25;
        this.bot = {
            id: Number(options.token.split(":")[0]),
            is_bot: true,
            first_name: "OpenClaw stand-in",
            username: options.username ?? "openclaw_standin_bot",
        };
        this.server = this.newServer();
    }

    /** Another HTTP server answering from the same state (a server listens once; a rebuilt instance needs a new one). */
    newServer(): Server {
        const server = createServer(this.handle);
        this.servers.push(server);
        return server;
    }

    /** Queues a private message from `user` to the bot (delivered by the next getUpdates); returns its update id. */
    sendFromUser(user: TelegramUser, text: string): number {
        const update_id = this.nextUpdateId++;
        const date = Math.floor(Date.now() / 1000);
        this.updates.push({
            update_id,
            message: {
                message_id: this.nextMessageId++,
                from: { is_bot: false, language_code: "en", ...user },
                chat: { id: user.id, type: "private", first_name: user.first_name, ...(user.username ? { username: user.username } : {}) },
                date,
                text,
            },
        });
        for (const wake of this.pollers.splice(0)) wake();
        return update_id;
    }

    /** Updates queued but not yet confirmed by the bot (getUpdates with a higher offset confirms them). */
    pendingUpdates(): number {
        return this.updates.length;
    }

    /** Resolves with the first message the bot sent (already or later) that `match` accepts. */
    waitForSent(match: (message: SentMessage) => boolean, timeoutMs = 600_000): Promise<SentMessage> {
        return this.sentWaiters.waitFor(
            this.sent,
            match,
            timeoutMs,
            () => `Telegram stand-in: no matching sendMessage within ${timeoutMs / 1000} s; ${this.describe()}`,
        );
    }

    /** Resolves with the first call (already or later) that `match` accepts, e.g. the first getUpdates. */
    waitForCall(match: (call: TelegramCall) => boolean, timeoutMs = 600_000): Promise<TelegramCall> {
        return this.callWaiters.waitFor(
            this.calls,
            match,
            timeoutMs,
            () => `Telegram stand-in: no matching call within ${timeoutMs / 1000} s; ${this.describe()}`,
        );
    }

    /** The calls so far, one line each (method, status, chat and text when there is one), for failure messages. */
    describe(): string {
        const lines = this.calls.slice(-40).map((c) => {
            const detail = c.params.chat_id !== undefined ? ` chat ${String(c.params.chat_id)}` : "";
            const text = typeof c.params.text === "string" ? ` ${JSON.stringify(c.params.text.slice(0, 120))}` : "";
            return `#${c.seq} ${c.method} -> ${c.status}${detail}${text}`;
        });
        return `${this.calls.length} call(s), the last ${lines.length}:\n${lines.join("\n")}`;
    }

    /** Ends every long poll now and closes every server (nothing is left hanging on a held request). */
    async close(): Promise<void> {
        this.closed = true;
        for (const wake of this.pollers.splice(0)) wake();
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

    readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            this.answer(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
                if (!res.headersSent) reply(res, 500, { ok: false, error_code: 500, description: `stand-in: ${(error as Error).message}` });
            });
        });
    };

    private record(method: string, params: Record<string, unknown>, status: number): TelegramCall {
        const call = { seq: ++this.seq, at: Date.now(), method, params, status };
        this.calls.push(call);
        this.callWaiters.settle(call);
        return call;
    }

    private async answer(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
        const url = new URL(req.url ?? "/", "http://standin");
        const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
        if (!match) return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
        const [, token, method] = match as unknown as [string, string, string];
        const params = parseParams(req, url, body);
        if (token !== this.token || this.revoked) {
            this.record(method, params, 401);
            return reply(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
        }
        const ok = (result: unknown) => {
            this.record(method, params, 200);
            reply(res, 200, { ok: true, result });
        };
        switch (method) {
            case "getMe":
                return ok({ ...this.bot, can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false });
            case "getWebhookInfo":
                return ok({ url: "", has_custom_certificate: false, pending_update_count: this.updates.length });
            case "getMyCommands":
                return ok([]);
            case "getChat":
                return ok({ id: Number(params.chat_id), type: "private" });
            case "getUpdates":
                return ok(await this.poll(params));
            case "sendMessage":
            case "editMessageText": {
                const chatId = Number(params.chat_id);
                const text = String(params.text ?? "");
                const messageId = method === "sendMessage" ? this.nextMessageId++ : Number(params.message_id);
                const message = {
                    message_id: messageId,
                    date: Math.floor(Date.now() / 1000),
                    chat: { id: chatId, type: "private" },
                    from: this.bot,
                    text,
                };
                if (method === "sendMessage") {
                    const sent = { messageId, chatId, text, params, at: Date.now() };
                    this.sent.push(sent);
                    this.sentWaiters.settle(sent);
                }
                return ok(message);
            }
            default:
                if (VOID_METHODS.has(method)) return ok(true);
                this.record(method, params, 404);
                return reply(res, 404, {
                    ok: false,
                    error_code: 404,
                    description: `Not Found: method ${method} is not served by the stand-in`,
                });
        }
    }

    /** getUpdates: confirms everything below `offset`, then returns what is queued, waiting up to `timeout` s for it. */
    private async poll(params: Record<string, unknown>): Promise<unknown[]> {
        const offset = Number(params.offset ?? 0);
        if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset);
        const limit = Math.max(1, Math.min(100, Number(params.limit ?? 100)));
        const timeout = Math.max(0, Math.min(this.maxPollSeconds, Number(params.timeout ?? 0)));
        if (this.updates.length === 0 && timeout > 0 && !this.closed) {
            await new Promise<void>((resolve) => {
                const timer = setTimeout(done, timeout * 1000);
                const poller = () => {
                    clearTimeout(timer);
                    resolve();
                };
                function done() {
                    resolve();
                }
                this.pollers.push(poller);
            });
        }
        return this.updates.slice(0, limit);
    }
}

/** Bot API parameters: JSON body, form body or query string (all three are allowed by Telegram). */
function parseParams(req: IncomingMessage, url: URL, body: Buffer): Record<string, unknown> {
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const type = req.headers["content-type"] ?? "";
    if (body.length === 0) return params;
    if (type.includes("application/json")) return { ...params, ...(JSON.parse(body.toString("utf8")) as Record<string, unknown>) };
    if (type.includes("application/x-www-form-urlencoded"))
        return { ...params, ...Object.fromEntries(new URLSearchParams(body.toString("utf8"))) };
    if (type.includes("multipart/form-data")) {
        // Field values only (files are not served): enough for sendDocument-style calls to be recorded.
        const boundary = /boundary=([^;]+)/.exec(type)?.[1];
        if (boundary) {
            for (const part of body.toString("utf8").split(`--${boundary}`)) {
                const name = /name="([^"]+)"/.exec(part)?.[1];
                const value = part.split("\r\n\r\n").slice(1).join("\r\n\r\n").replace(/\r\n$/, "");
                if (name && !/filename=/.test(part)) params[name] = value;
            }
        }
    }
    return params;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
}
