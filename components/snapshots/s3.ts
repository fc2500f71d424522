// A small S3 client (AWS Signature V4, path-style URLs) for the operator's side of the backups: listing a bucket
// (ListObjectsV2), ranged GETs and HEADs with the read-only token, and — for tests that play an attacker — PUT and
// DELETE. R2 and the local stand-in (s3rver) both speak it. node:http(s) only; credentials are used to sign and never
// appear in an error message or a URL.
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";

export interface S3Credentials {
    /** e.g. https://<account>.r2.cloudflarestorage.com, or http://127.0.0.1:PORT for the stand-in. */
    endpoint: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** R2 signs with region "auto". */
    region?: string;
}

export interface S3Object {
    key: string;
    size: number;
    /** Set by the server when the object was written: what snapshots are ordered by (never their key names). */
    lastModified: Date;
    etag: string;
}

export class S3Error extends Error {
    constructor(
        message: string,
        readonly status: number,
        readonly code: string,
    ) {
        super(message);
    }
}

export interface S3Response {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
}

const sha256Hex = (data: string | Buffer) => crypto.createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => crypto.createHmac("sha256", key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (unreserved characters stay, everything else is %XX). */
function uriEncode(value: string, keepSlash: boolean): string {
    return Array.from(Buffer.from(value, "utf8"))
        .map((b) => {
            const c = String.fromCharCode(b);
            if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) return c;
            return `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
        })
        .join("");
}

function decodeXml(text: string): string {
    return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
        switch (entity) {
            case "amp":
                return "&";
            case "lt":
                return "<";
            case "gt":
                return ">";
            case "quot":
                return '"';
            case "apos":
                return "'";
            default:
                return String.fromCodePoint(entity[1] === "x" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
        }
    });
}

function tag(xml: string, name: string): string | undefined {
    const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
    return m ? decodeXml(m[1]) : undefined;
}

function blocks(xml: string, name: string): string[] {
    return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))].map((m) => m[1]);
}

export class S3Client {
    private readonly url: URL;
    private readonly region: string;

    constructor(private readonly creds: S3Credentials) {
        this.url = new URL(creds.endpoint);
        if (this.url.protocol !== "http:" && this.url.protocol !== "https:") throw new Error("S3 endpoint must be an http(s) URL");
        this.region = creds.region ?? "auto";
    }

    get bucket(): string {
        return this.creds.bucket;
    }

    /** One signed request. `key` undefined = the bucket itself. Retries network errors and 5xx three times. */
    async request(
        method: string,
        key: string | undefined,
        opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer } = {},
    ): Promise<S3Response> {
        let lastError: unknown;
        for (let attempt = 0; attempt < 4; attempt++) {
            if (attempt) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
            try {
                const response = await this.once(method, key, opts);
                if (response.status >= 500) {
                    lastError = new S3Error(`${method} ${this.describe(key)}: HTTP ${response.status}`, response.status, "ServerError");
                    continue;
                }
                return response;
            } catch (err) {
                if (err instanceof S3Error) throw err;
                lastError = err;
            }
        }
        throw lastError instanceof Error ? lastError : new Error(String(lastError));
    }

    private describe(key: string | undefined): string {
        return key === undefined ? `bucket ${this.creds.bucket}` : `${this.creds.bucket}/${key}`;
    }

    private once(
        method: string,
        key: string | undefined,
        opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer },
    ): Promise<S3Response> {
        const body = opts.body ?? Buffer.alloc(0);
        const basePath = this.url.pathname.replace(/\/+$/, "");
        const path = `${basePath}/${uriEncode(this.creds.bucket, false)}${key === undefined ? "" : `/${uriEncode(key, true)}`}`;
        const query = Object.entries(opts.query ?? {})
            .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, v]) => `${k}=${v}`)
            .join("&");
        const now = new Date();
        const amzDate = now
            .toISOString()
            .replace(/[-:]/g, "")
            .replace(/\.\d{3}/, "");
        const day = amzDate.slice(0, 8);
        const payloadHash = sha256Hex(body);
        const headers: Record<string, string> = {
            host: this.url.host,
            "x-amz-date": amzDate,
            "x-amz-content-sha256": payloadHash,
            ...Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        };
        if (body.length) headers["content-length"] = String(body.length);
        const signed = Object.keys(headers).sort();
        const canonical = [method, path, query, ...signed.map((h) => `${h}:${headers[h].trim()}`), "", signed.join(";"), payloadHash].join(
            "\n",
        );
        const scope = `${day}/${this.region}/s3/aws4_request`;
        const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
        let signingKey = hmac(`AWS4${this.creds.secretAccessKey}`, day);
        for (const part of [this.region, "s3", "aws4_request"]) signingKey = hmac(signingKey, part);
        const signature = hmac(signingKey, toSign).toString("hex");
        headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.creds.accessKeyId}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`;

        const transport = this.url.protocol === "https:" ? https : http;
        return new Promise((resolve, reject) => {
            const req = transport.request(
                {
                    method,
                    hostname: this.url.hostname,
                    port: this.url.port || undefined,
                    path: query ? `${path}?${query}` : path,
                    headers,
                    timeout: 60_000,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
                    res.on("error", reject);
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${this.describe(key)}: timed out`)));
            req.on("error", reject);
            req.end(body);
        });
    }

    private fail(what: string, response: S3Response): never {
        const xml = response.body.toString("utf8");
        const code = tag(xml, "Code") ?? `HTTP${response.status}`;
        const message = tag(xml, "Message") ?? "";
        throw new S3Error(`${what}: ${code}${message ? ` (${message})` : ""} [HTTP ${response.status}]`, response.status, code);
    }

    /** Every object under `prefix` (and, with a delimiter, the common prefixes), following continuation tokens. */
    async list(prefix: string, delimiter?: string): Promise<{ objects: S3Object[]; prefixes: string[] }> {
        const objects: S3Object[] = [];
        const prefixes: string[] = [];
        let token: string | undefined;
        do {
            const query: Record<string, string> = { "list-type": "2", prefix, "max-keys": "1000" };
            if (delimiter) query.delimiter = delimiter;
            if (token) query["continuation-token"] = token;
            const response = await this.request("GET", undefined, { query });
            if (response.status !== 200) this.fail(`listing ${this.describe(undefined)} under ${JSON.stringify(prefix)}`, response);
            const xml = response.body.toString("utf8");
            for (const block of blocks(xml, "Contents")) {
                const key = tag(block, "Key");
                const lastModified = tag(block, "LastModified");
                if (key === undefined || lastModified === undefined) continue;
                objects.push({
                    key,
                    size: Number(tag(block, "Size") ?? 0),
                    lastModified: new Date(lastModified),
                    etag: (tag(block, "ETag") ?? "").replace(/"/g, ""),
                });
            }
            for (const block of blocks(xml, "CommonPrefixes")) {
                const p = tag(block, "Prefix");
                if (p !== undefined) prefixes.push(p);
            }
            token = tag(xml, "IsTruncated") === "true" ? tag(xml, "NextContinuationToken") : undefined;
        } while (token);
        return { objects, prefixes };
    }

    /** The object's bytes, or bytes [start, end] (inclusive) of it. */
    async get(key: string, range?: { start: number; end: number }): Promise<Buffer> {
        const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
        const response = await this.request("GET", key, { headers });
        if (response.status !== 200 && response.status !== 206) this.fail(`GET ${this.describe(key)}`, response);
        return response.body;
    }

    /** Size and LastModified of an object, or undefined when there is none. */
    async head(key: string): Promise<{ size: number; lastModified: Date } | undefined> {
        const response = await this.request("HEAD", key);
        if (response.status === 404) return undefined;
        if (response.status !== 200) this.fail(`HEAD ${this.describe(key)}`, response);
        return {
            size: Number(response.headers["content-length"] ?? 0),
            lastModified: new Date(String(response.headers["last-modified"] ?? "")),
        };
    }

    async put(key: string, body: Buffer): Promise<void> {
        const response = await this.request("PUT", key, { body });
        if (response.status !== 200) this.fail(`PUT ${this.describe(key)}`, response);
    }

    /** Server-side copy within the bucket. */
    async copy(from: string, to: string): Promise<void> {
        const response = await this.request("PUT", to, {
            headers: { "x-amz-copy-source": `/${this.creds.bucket}/${uriEncode(from, true)}` },
        });
        if (response.status !== 200) this.fail(`COPY ${this.describe(from)} to ${to}`, response);
    }

    async delete(key: string): Promise<void> {
        const response = await this.request("DELETE", key);
        if (response.status !== 204 && response.status !== 200) this.fail(`DELETE ${this.describe(key)}`, response);
    }
}
