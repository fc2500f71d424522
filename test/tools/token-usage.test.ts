// token-usage.mjs (the watchdog's cost guard) over an OpenClaw agent database shaped like 2026.9.6's
// (agents/<id>/agent/openclaw-agent.sqlite, table transcript_events; large events zstd-compressed): it counts today's
// assistant usage, ignores user messages and other days, and reads while a
// writer holds the database open.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import * as zlib from "node:zlib";
import { PROJECT_ROOT } from "../../components/core/pins";

const SCRIPT = path.join(PROJECT_ROOT, "cloud-init", "token-usage.mjs");

test("counts today's assistant tokens, compressed events included, older days and user messages not", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-vps-tokens-"));
    try {
        const dir = path.join(state, "agents", "main", "agent");
        fs.mkdirSync(dir, { recursive: true });
        const db = new DatabaseSync(path.join(dir, "openclaw-agent.sqlite"));
        db.exec("PRAGMA journal_mode=WAL");
        db.exec(
            "CREATE TABLE transcript_events (session_id TEXT, seq INTEGER, event_json TEXT, created_at INTEGER, event_zstd BLOB, event_utf8_bytes INTEGER)",
        );
        const insert = db.prepare("INSERT INTO transcript_events VALUES (?, ?, ?, ?, ?, ?)");
        const now = Date.now();
        const assistant = (tokens: number, at: number) => ({
            message: { role: "assistant", timestamp: at, usage: { input: tokens - 10, output: 10, totalTokens: tokens } },
        });
        insert.run("s1", 1, JSON.stringify(assistant(1200, now - 1000)), now - 1000, null, 0);
        insert.run("s1", 2, JSON.stringify({ message: { role: "user", timestamp: now, usage: { totalTokens: 999999 } } }), now, null, 0);
        const big = Buffer.from(JSON.stringify(assistant(3400, now - 500)));
        insert.run("s2", 1, null, now - 500, zlib.zstdCompressSync(big), big.length);
        insert.run("s2", 2, JSON.stringify(assistant(777777, now - 3 * 86400 * 1000)), now - 3 * 86400 * 1000, null, 0);
        // The writer keeps the database open (as the gateway does) while the counter reads it.
        const count = (tz: string) => spawnSync(process.execPath, [SCRIPT, state, tz], { encoding: "utf8" });
        const utc = count("UTC");
        assert.equal(utc.status, 0, utc.stderr);
        assert.equal(utc.stdout.trim(), "4600");
        db.close();
        const empty = spawnSync(process.execPath, [SCRIPT, fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-vps-tokens-none-")), "UTC"], {
            encoding: "utf8",
        });
        assert.equal(empty.stdout.trim(), "0", "no agent yet: nothing used");
        assert.equal(spawnSync(process.execPath, [SCRIPT], { encoding: "utf8" }).status, 2);
    } finally {
        fs.rmSync(state, { recursive: true, force: true });
    }
});
