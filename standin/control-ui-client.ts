// A stand-in for the Control UI in a browser, as the gateway sees it through the tunnel: it opens the gateway's
// WebSocket with the headers cloudflared adds (Origin of the public hostname, X-Forwarded-For of the client,
// X-Forwarded-Proto https), answers the connect challenge the way the Control UI does (client `openclaw-control-ui`,
// mode `webchat`, the gateway token, an Ed25519 device identity signing OpenClaw's v3 payload), then sends one chat
// message (`chat.send`) and waits for the reply in the `chat` events. Run where the gateway's loopback port is
// reachable (inside the server): `node control-ui-client.ts < request.json`; the request (with the token) arrives on
// stdin, never in argv. It prints one JSON line per step (`{"step": ...}`) and exits 0 when the reply arrived,
// 3 when the gateway asks for device pairing (the operator approves it with `openclaw devices approve`; run it again
// with the same `identity` to continue), 1 otherwise.
// Plain Node 24 with erasable types only (no loader, no dependencies): copied into the server as is.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";

export interface ControlUiRequest {
    /** ws://127.0.0.1:PORT/ */
    url: string;
    /** The gateway token (what the operator pastes into the Control UI). */
    token: string;
    /** https://<hostname>: the Origin a browser on the public hostname sends. */
    origin: string;
    /** The client address cloudflared would put in X-Forwarded-For. */
    forwardedFor: string;
    /** The chat message; the reply must contain `expect`. */
    message: string;
    expect: string;
    /** The browser's device key (PKCS#8 PEM); absent: a new one, printed in the "identity" step for the next run. */
    identity?: string;
    /** Default agent:main:main. */
    sessionKey?: string;
    timeoutMs?: number;
}

/** The Control UI's operator scopes (2026.9.6's bundle). */
const SCOPES = ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.questions", "operator.pairing"];
const CLIENT = { id: "openclaw-control-ui", mode: "webchat", platform: "linux", deviceFamily: "desktop", version: "standin" };

function out(step: string, detail: Record<string, unknown> = {}): void {
    process.stdout.write(`${JSON.stringify({ step, ...detail })}\n`);
}

function readStdin(): Promise<string> {
    return new Promise((resolve) => {
        let text = "";
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (chunk) => (text += chunk));
        process.stdin.on("end", () => resolve(text));
    });
}

/** OpenClaw's device-auth payload v3 (packages/gateway-client/src/device-auth.ts). */
function payloadV3(p: { deviceId: string; role: string; scopes: string[]; signedAt: number; token: string; nonce: string }): string {
    const lower = (v: string) => v.trim().toLowerCase();
    return [
        "v3",
        p.deviceId,
        CLIENT.id,
        CLIENT.mode,
        p.role,
        p.scopes.join(","),
        String(p.signedAt),
        p.token,
        p.nonce,
        lower(CLIENT.platform),
        lower(CLIENT.deviceFamily),
    ].join("|");
}

async function main(): Promise<number> {
    const request = JSON.parse(await readStdin()) as ControlUiRequest;
    const privateKey = request.identity ? createPrivateKey(request.identity) : generateKeyPairSync("ed25519").privateKey;
    if (!request.identity) out("identity", { identity: privateKey.export({ type: "pkcs8", format: "pem" }).toString() });
    // The raw 32-byte key is the tail of the SPKI DER; the device id is its SHA-256.
    const rawPublic = createPublicKey(privateKey).export({ type: "spki", format: "der" }).subarray(-32);
    const deviceId = createHash("sha256").update(rawPublic).digest("hex");
    const ws = new WebSocket(request.url, {
        headers: { origin: request.origin, "x-forwarded-for": request.forwardedFor, "x-forwarded-proto": "https" },
    } as unknown as string[]);
    const pending = new Map<string, (frame: Record<string, unknown>) => void>();
    const send = (method: string, params: unknown): Promise<Record<string, unknown>> => {
        const id = randomUUID();
        ws.send(JSON.stringify({ type: "req", id, method, params }));
        return new Promise((resolve) => pending.set(id, resolve));
    };
    const sessionKey = request.sessionKey ?? "agent:main:main";
    return new Promise<number>((resolve) => {
        const finish = (code: number, step: string, detail: Record<string, unknown> = {}) => {
            out(step, detail);
            clearTimeout(timer);
            try {
                ws.close();
            } catch {
                // already closed
            }
            resolve(code);
        };
        const timer = setTimeout(() => finish(1, "timeout"), request.timeoutMs ?? 600_000);
        ws.addEventListener("close", (event) => finish(1, "closed", { code: event.code, reason: event.reason }));
        ws.addEventListener("error", () => out("socket-error"));
        ws.addEventListener("message", (event) => {
            const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
            if (frame.type === "res") {
                pending.get(String(frame.id))?.(frame);
                pending.delete(String(frame.id));
                return;
            }
            if (frame.type !== "event") return;
            const payload = (frame.payload ?? {}) as Record<string, unknown>;
            if (frame.event === "connect.challenge") {
                const nonce = String(payload.nonce);
                const signedAt = Number(payload.ts);
                const signature = sign(
                    null,
                    Buffer.from(payloadV3({ deviceId, role: "operator", scopes: SCOPES, signedAt, token: request.token, nonce }), "utf8"),
                    privateKey,
                );
                send("connect", {
                    minProtocol: 4,
                    maxProtocol: 4,
                    client: {
                        id: CLIENT.id,
                        version: CLIENT.version,
                        platform: CLIENT.platform,
                        deviceFamily: CLIENT.deviceFamily,
                        mode: CLIENT.mode,
                    },
                    role: "operator",
                    scopes: SCOPES,
                    caps: [],
                    auth: { token: request.token },
                    locale: "en-US",
                    userAgent: "openclaw-vps control-ui stand-in",
                    device: {
                        id: deviceId,
                        publicKey: rawPublic.toString("base64url"),
                        signature: signature.toString("base64url"),
                        signedAt,
                        nonce,
                    },
                }).then(async (res) => {
                    if (!res.ok) {
                        const error = (res.error ?? {}) as Record<string, unknown>;
                        const details = (error.details ?? {}) as Record<string, unknown>;
                        const pairing = /pairing/i.test(`${String(error.message)} ${String(details.code)}`);
                        return finish(pairing ? 3 : 1, pairing ? "pairing-required" : "connect-refused", { error, deviceId });
                    }
                    const hello = res.payload as { auth?: { role?: string; scopes?: string[] }; server?: { version?: string } };
                    out("connected", { deviceId, role: hello.auth?.role, scopes: hello.auth?.scopes, server: hello.server?.version });
                    const sent = await send("chat.send", { sessionKey, message: request.message, idempotencyKey: randomUUID() });
                    if (!sent.ok) return finish(1, "chat-send-refused", { error: sent.error });
                    out("chat-sent", { payload: sent.payload });
                });
                return;
            }
            if (frame.event === "chat") {
                const text = JSON.stringify(payload.message ?? payload.deltaText ?? "");
                out("chat-event", { state: payload.state, text: text.slice(0, 500) });
                if (payload.state === "final" && text.includes(request.expect)) finish(0, "reply", { text: text.slice(0, 2000) });
                if (payload.state === "error") finish(1, "chat-error", { payload });
            }
        });
    });
}

main().then(
    (code) => process.exit(code),
    (error: unknown) => {
        out("crashed", { error: String((error as Error).stack ?? error) });
        process.exit(1);
    },
);
