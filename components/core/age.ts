// The part of the age file format (https://age-encryption.org/v1) the operator's side needs, on node:crypto alone:
// X25519 identities and recipients (Bech32), parsing a header, unwrapping its file key with an identity, checking the
// header MAC, decrypting payload chunks (STREAM, ChaCha20-Poly1305), and *re-wrapping* a file key to another
// recipient under a new header. The host encrypts with the real `age` binary and decrypts with it too: a re-wrapped
// header, put in front of an archive's untouched payload, lets `age -d` with a one-time identity decrypt exactly that
// archive (how a restore works without the operator's identity ever reaching a server). Tests check every function
// here against the real age 1.1.1. No imports of ours.
import * as crypto from "node:crypto";

export const AGE_VERSION_LINE = "age-encryption.org/v1";
const IDENTITY_HRP = "age-secret-key-";
const RECIPIENT_HRP = "age";
/** Plaintext bytes per payload chunk; each ciphertext chunk carries a 16-byte Poly1305 tag more. */
export const AGE_CHUNK_SIZE = 64 * 1024;
export const AGE_TAG_SIZE = 16;
/** The payload starts with a 16-byte nonce (after the header). */
export const AGE_NONCE_SIZE = 16;

// --- Bech32 (BIP 173, without its 90-character limit, as age uses it) -------------------------------------------

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
    let chk = 1;
    for (const v of values) {
        const top = chk >>> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i];
    }
    return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
    const out: number[] = [];
    for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
    out.push(0);
    for (const c of hrp) out.push(c.charCodeAt(0) & 31);
    return out;
}

function convertBits(data: Uint8Array | number[], from: number, to: number, pad: boolean): number[] {
    let acc = 0;
    let bits = 0;
    const out: number[] = [];
    const maxv = (1 << to) - 1;
    for (const value of data) {
        if (value < 0 || value >> from !== 0) throw new Error("bech32: invalid data");
        acc = (acc << from) | value;
        bits += from;
        while (bits >= to) {
            bits -= to;
            out.push((acc >> bits) & maxv);
        }
    }
    if (pad) {
        if (bits > 0) out.push((acc << (to - bits)) & maxv);
    } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
        throw new Error("bech32: invalid padding");
    }
    return out;
}

export function bech32Encode(hrp: string, data: Uint8Array): string {
    const words = convertBits(data, 8, 5, true);
    const values = [...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0];
    const mod = polymod(values) ^ 1;
    const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
    return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join("")}`;
}

export function bech32Decode(text: string): { hrp: string; data: Buffer } {
    if (text !== text.toLowerCase() && text !== text.toUpperCase()) throw new Error("bech32: mixed case");
    const lower = text.toLowerCase();
    const sep = lower.lastIndexOf("1");
    if (sep < 1 || sep + 7 > lower.length) throw new Error("bech32: no separator or too short");
    const hrp = lower.slice(0, sep);
    const words: number[] = [];
    for (const c of lower.slice(sep + 1)) {
        const w = CHARSET.indexOf(c);
        if (w < 0) throw new Error("bech32: invalid character");
        words.push(w);
    }
    if (polymod([...hrpExpand(hrp), ...words]) !== 1) throw new Error("bech32: bad checksum");
    return { hrp, data: Buffer.from(convertBits(words.slice(0, -6), 5, 8, false)) };
}

// --- X25519 keys -------------------------------------------------------------------------------------------------

const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");

function privateKeyOf(scalar: Buffer): crypto.KeyObject {
    return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: "der", type: "pkcs8" });
}

function publicKeyOf(point: Buffer): crypto.KeyObject {
    return crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, point]), format: "der", type: "spki" });
}

function rawPublic(key: crypto.KeyObject): Buffer {
    return Buffer.from(crypto.createPublicKey(key).export({ format: "der", type: "spki" }).subarray(SPKI_X25519.length));
}

function x25519(scalar: Buffer, point: Buffer): Buffer {
    const shared = crypto.diffieHellman({ privateKey: privateKeyOf(scalar), publicKey: publicKeyOf(point) });
    if (shared.every((b) => b === 0)) throw new Error("age: X25519 produced the all-zero shared secret");
    return shared;
}

/** The 32-byte scalar of an `AGE-SECRET-KEY-1...` identity; throws a message that never repeats the value. */
export function parseIdentity(identity: string): Buffer {
    let decoded;
    try {
        decoded = bech32Decode(identity.trim());
    } catch (err) {
        throw new Error(`not an age identity (AGE-SECRET-KEY-1...): ${(err as Error).message}`, { cause: err });
    }
    if (decoded.hrp !== IDENTITY_HRP || decoded.data.length !== 32 || identity.trim() !== identity.trim().toUpperCase())
        throw new Error("not an age X25519 identity (AGE-SECRET-KEY-1... in upper case, 32 bytes)");
    return decoded.data;
}

/** The 32-byte point of an `age1...` recipient. */
export function parseRecipient(recipient: string): Buffer {
    let decoded;
    try {
        decoded = bech32Decode(recipient.trim());
    } catch (err) {
        throw new Error(`not an age recipient (age1...): ${(err as Error).message}`, { cause: err });
    }
    if (decoded.hrp !== RECIPIENT_HRP || decoded.data.length !== 32 || recipient.trim() !== recipient.trim().toLowerCase())
        throw new Error("not an age X25519 recipient (age1... in lower case, 32 bytes)");
    return decoded.data;
}

export function encodeIdentity(scalar: Buffer): string {
    return bech32Encode(IDENTITY_HRP, scalar).toUpperCase();
}

export function encodeRecipient(point: Buffer): string {
    return bech32Encode(RECIPIENT_HRP, point);
}

/** The recipient (public key) of an identity. */
export function recipientOf(identity: string): string {
    return encodeRecipient(rawPublic(privateKeyOf(parseIdentity(identity))));
}

/** A new X25519 identity and its recipient (what `age-keygen` prints). */
export function generateIdentity(): { identity: string; recipient: string } {
    const { privateKey } = crypto.generateKeyPairSync("x25519");
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const scalar = Buffer.from(der.subarray(der.length - 32));
    return { identity: encodeIdentity(scalar), recipient: encodeRecipient(rawPublic(privateKey)) };
}

// --- header ------------------------------------------------------------------------------------------------------

export interface AgeStanza {
    type: string;
    args: string[];
    body: Buffer;
}

export interface AgeHeader {
    stanzas: AgeStanza[];
    /** The header's MAC (32 bytes). */
    mac: Buffer;
    /** The bytes the MAC covers: from the version line up to and including "---". */
    macInput: Buffer;
    /** Length of the whole header, through the newline after the MAC: the payload (nonce first) starts here. */
    length: number;
}

const B64 = /^[A-Za-z0-9+/]*$/;

function decodeBase64NoPad(text: string): Buffer {
    if (!B64.test(text) || text.length % 4 === 1) throw new Error("age: invalid base64 in the header");
    const data = Buffer.from(text, "base64");
    if (data.toString("base64").replace(/=+$/, "") !== text) throw new Error("age: non-canonical base64 in the header");
    return data;
}

function encodeBase64NoPad(data: Buffer): string {
    return data.toString("base64").replace(/=+$/, "");
}

/**
 * Parses the header at the start of `bytes` (a prefix of the file is enough). Throws when it is not an age v1 header
 * or `bytes` ends before the header does.
 */
export function parseHeader(bytes: Buffer): AgeHeader {
    let pos = 0;
    const line = (): string => {
        const end = bytes.indexOf(0x0a, pos);
        if (end < 0) throw new Error("age: the header is incomplete (no newline)");
        const text = bytes.subarray(pos, end).toString("latin1");
        pos = end + 1;
        if (!/^[\x20-\x7e]*$/.test(text)) throw new Error("age: the header has a non-printable byte");
        return text;
    };
    if (line() !== AGE_VERSION_LINE) throw new Error("age: not an age v1 file");
    const stanzas: AgeStanza[] = [];
    for (;;) {
        const start = pos;
        const text = line();
        if (text.startsWith("--- ")) {
            const mac = decodeBase64NoPad(text.slice(4));
            if (mac.length !== 32) throw new Error("age: the header MAC is not 32 bytes");
            return { stanzas, mac, macInput: bytes.subarray(0, start + 3), length: pos };
        }
        if (!text.startsWith("-> ")) throw new Error("age: malformed stanza");
        const [type, ...args] = text.slice(3).split(" ");
        if (!type || args.some((a) => a === "")) throw new Error("age: malformed stanza arguments");
        const chunks: Buffer[] = [];
        for (;;) {
            const bodyLine = line();
            if (bodyLine.length > 64) throw new Error("age: stanza body line longer than 64 columns");
            chunks.push(decodeBase64NoPad(bodyLine));
            if (bodyLine.length < 64) break;
        }
        stanzas.push({ type, args, body: Buffer.concat(chunks) });
        if (stanzas.length > 64) throw new Error("age: too many stanzas");
    }
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
    return Buffer.from(crypto.hkdfSync("sha256", ikm, salt, info, 32));
}

function chachaSeal(key: Buffer, nonce: Buffer, plaintext: Buffer): Buffer {
    const cipher = crypto.createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: AGE_TAG_SIZE });
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function chachaOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer {
    if (sealed.length < AGE_TAG_SIZE) throw new Error("age: ciphertext shorter than its tag");
    const decipher = crypto.createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: AGE_TAG_SIZE });
    decipher.setAuthTag(sealed.subarray(sealed.length - AGE_TAG_SIZE));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - AGE_TAG_SIZE)), decipher.final()]);
}

const X25519_LABEL = "age-encryption.org/v1/X25519";

/** The file key of a header, unwrapped with `identity`, with the header MAC checked. Throws when none opens. */
export function unwrapFileKey(header: AgeHeader, identity: string): Buffer {
    const scalar = parseIdentity(identity);
    const ours = rawPublic(privateKeyOf(scalar));
    for (const stanza of header.stanzas) {
        if (stanza.type !== "X25519" || stanza.args.length !== 1) continue;
        const share = decodeBase64NoPad(stanza.args[0]);
        if (share.length !== 32 || stanza.body.length !== 32) continue;
        let fileKey: Buffer;
        try {
            const wrapKey = hkdf(x25519(scalar, share), Buffer.concat([share, ours]), X25519_LABEL);
            fileKey = chachaOpen(wrapKey, Buffer.alloc(12), stanza.body);
        } catch {
            continue;
        }
        if (!headerMac(fileKey, header.macInput).equals(header.mac)) throw new Error("age: the header MAC does not match");
        return fileKey;
    }
    throw new Error("age: not encrypted to this identity");
}

function headerMac(fileKey: Buffer, macInput: Buffer): Buffer {
    return crypto
        .createHmac("sha256", hkdf(fileKey, Buffer.alloc(0), "header"))
        .update(macInput)
        .digest();
}

/** A complete header that wraps `fileKey` to `recipient` (one X25519 stanza), MAC included. */
export function wrapFileKey(fileKey: Buffer, recipient: string): Buffer {
    const point = parseRecipient(recipient);
    const { privateKey } = crypto.generateKeyPairSync("x25519");
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const ephemeral = Buffer.from(der.subarray(der.length - 32));
    const share = rawPublic(privateKey);
    const wrapKey = hkdf(x25519(ephemeral, point), Buffer.concat([share, point]), X25519_LABEL);
    const body = chachaSeal(wrapKey, Buffer.alloc(12), fileKey);
    const macInput = Buffer.from(`${AGE_VERSION_LINE}\n-> X25519 ${encodeBase64NoPad(share)}\n${encodeBase64NoPad(body)}\n---`, "latin1");
    return Buffer.concat([macInput, Buffer.from(` ${encodeBase64NoPad(headerMac(fileKey, macInput))}\n`, "latin1")]);
}

// --- payload -------------------------------------------------------------------------------------------------------

/** The key of the payload that follows a header (its first 16 bytes are the nonce). */
export function payloadKey(fileKey: Buffer, nonce: Buffer): Buffer {
    if (nonce.length !== AGE_NONCE_SIZE) throw new Error("age: the payload nonce is not 16 bytes");
    return hkdf(fileKey, nonce, "payload");
}

/** Decrypts payload chunk number `index` (0-based); `last` says whether it is the final chunk. */
export function decryptChunk(key: Buffer, index: number, sealed: Buffer, last: boolean): Buffer {
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(index, 5, 6);
    nonce[11] = last ? 1 : 0;
    return chachaOpen(key, nonce, sealed);
}

/** Decrypts a whole age file (tests and small files: it is all in memory) with an identity. */
export function decrypt(file: Buffer, identity: string): Buffer {
    const header = parseHeader(file);
    const fileKey = unwrapFileKey(header, identity);
    const key = payloadKey(fileKey, file.subarray(header.length, header.length + AGE_NONCE_SIZE));
    const payload = file.subarray(header.length + AGE_NONCE_SIZE);
    const sealedSize = AGE_CHUNK_SIZE + AGE_TAG_SIZE;
    const out: Buffer[] = [];
    for (let index = 0, pos = 0; ; index++, pos += sealedSize) {
        const last = pos + sealedSize >= payload.length;
        const chunk = decryptChunk(key, index, payload.subarray(pos, pos + sealedSize), last);
        if (!last && chunk.length !== AGE_CHUNK_SIZE) throw new Error("age: short chunk before the end");
        if (last && chunk.length === 0 && index > 0) throw new Error("age: empty last chunk");
        out.push(chunk);
        if (last) return Buffer.concat(out);
    }
}
