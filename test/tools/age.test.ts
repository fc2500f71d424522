// components/core/age.ts against the real age 1.1.1 (Debian's `age` and `age-keygen`): keys it generates are keys
// age-keygen agrees with, files the real age encrypts it decrypts (chunk boundaries included), headers it re-wraps for
// another recipient the real age decrypts, and every tampering is refused.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import {
    decrypt,
    generateIdentity,
    parseHeader,
    parseIdentity,
    parseRecipient,
    recipientOf,
    unwrapFileKey,
    wrapFileKey,
} from "../../components/core/age";
import { makeTempDir, requireTools } from "../helpers/backup";

let tmp: string;
const run = (cmd: string, args: string[], input?: Buffer) => spawnSync(cmd, args, { input, maxBuffer: 64 * 1024 * 1024 });

before(() => {
    requireTools({ age: "age", "age-keygen": "age" });
    tmp = makeTempDir("openclaw-vps-age-");
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function ageEncrypt(recipient: string, plain: Buffer): Buffer {
    const result = run("age", ["-r", recipient], plain);
    assert.equal(result.status, 0, result.stderr.toString());
    return result.stdout;
}

function ageDecrypt(identity: string, file: Buffer): { status: number | null; out: Buffer; err: string } {
    const key = path.join(tmp, `id-${randomBytes(4).toString("hex")}.txt`);
    fs.writeFileSync(key, `${identity}\n`, { mode: 0o600 });
    const result = run("age", ["-d", "-i", key], file);
    return { status: result.status, out: result.stdout, err: result.stderr.toString() };
}

describe("age format, checked against the real age", () => {
    test("identities and recipients: ours agree with age-keygen's, and age-keygen's parse", () => {
        const ours = generateIdentity();
        const file = path.join(tmp, "ours.txt");
        fs.writeFileSync(file, `${ours.identity}\n`, { mode: 0o600 });
        assert.equal(run("age-keygen", ["-y", file]).stdout.toString().trim(), ours.recipient);
        const theirs = run("age-keygen", []).stdout.toString();
        const identity = /^AGE-SECRET-KEY-1\S+$/m.exec(theirs)![0];
        const recipient = /public key: (age1\S+)/.exec(theirs)![1];
        assert.equal(recipientOf(identity), recipient);
        assert.throws(() => parseIdentity(identity.slice(0, -1) + (identity.endsWith("Q") ? "P" : "Q")), /bad checksum/);
        assert.throws(() => parseIdentity(identity.toLowerCase()), /upper case/);
        assert.throws(() => parseRecipient(identity), /not an age/);
        assert.throws(() => parseIdentity(recipient), /not an age/);
    });

    test("decrypts what the real age encrypts, at every chunk boundary; the wrong identity is refused", () => {
        const { identity, recipient } = generateIdentity();
        for (const size of [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 200_001]) {
            const plain = randomBytes(size);
            assert.ok(decrypt(ageEncrypt(recipient, plain), identity).equals(plain), `size ${size}`);
        }
        assert.throws(
            () => decrypt(ageEncrypt(recipient, Buffer.from("x")), generateIdentity().identity),
            /not encrypted to this identity/,
        );
    });

    test("a re-wrapped header opens the untouched payload with the real age, for the new recipient only", () => {
        const owner = generateIdentity();
        const onetime = generateIdentity();
        const plain = randomBytes(150_000);
        const file = ageEncrypt(owner.recipient, plain);
        const header = parseHeader(file);
        const rewrapped = Buffer.concat([
            wrapFileKey(unwrapFileKey(header, owner.identity), onetime.recipient),
            file.subarray(header.length),
        ]);
        const opened = ageDecrypt(onetime.identity, rewrapped);
        assert.equal(opened.status, 0, opened.err);
        assert.ok(opened.out.equals(plain));
        assert.notEqual(ageDecrypt(onetime.identity, file).status, 0, "the one-time identity does not open the original");
        assert.notEqual(ageDecrypt(generateIdentity().identity, rewrapped).status, 0);
    });

    test("tampering is refused: the header MAC, a payload byte, a truncation", () => {
        const { identity, recipient } = generateIdentity();
        const file = ageEncrypt(recipient, randomBytes(100_000));
        const header = parseHeader(file);
        const badMac = Buffer.from(file);
        badMac[header.length - 3] ^= 1; // inside the MAC's base64
        assert.throws(() => decrypt(badMac, identity));
        const badPayload = Buffer.from(file);
        badPayload[header.length + 40_000] ^= 1;
        assert.throws(() => decrypt(badPayload, identity));
        assert.throws(() => decrypt(file.subarray(0, header.length + 16 + 65_552), identity), "a whole first chunk, the rest cut off");
        assert.throws(() => parseHeader(Buffer.from("not age\n")), /not an age v1 file/);
    });
});
