#!/usr/bin/env node
// Prints how many LLM tokens the agent used today (in the given IANA time zone), read-only from OpenClaw's own
// per-agent SQLite transcripts, without the gateway: the watchdog's cost guard (audit group `tokens`). Run as the
// agent user: token-usage.mjs STATE_DIR [TIMEZONE]. Prints one integer; exits 1 when the state cannot be read.
import { DatabaseSync } from "node:sqlite";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const [stateDir, timeZone = "UTC"] = process.argv.slice(2);
if (!stateDir) {
    console.error("usage: token-usage.mjs STATE_DIR [TIMEZONE]");
    process.exit(2);
}
const dayOf = (ms) =>
    new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
const today = dayOf(Date.now());
// Events of the last 26 hours cover "today" in every time zone; older rows are not decoded at all.
const since = Date.now() - 26 * 3600 * 1000;
let total = 0;
const agentsDir = path.join(stateDir, "agents");
for (const agent of fs.existsSync(agentsDir) ? fs.readdirSync(agentsDir) : []) {
    const file = path.join(agentsDir, agent, "agent", "openclaw-agent.sqlite");
    if (!fs.existsSync(file)) continue;
    const db = new DatabaseSync(file, { readOnly: true });
    try {
        const rows = db.prepare("SELECT event_json, event_zstd, created_at FROM transcript_events WHERE created_at >= ?").iterate(since);
        for (const row of rows) {
            const text = row.event_json ?? zlib.zstdDecompressSync(Buffer.from(row.event_zstd)).toString("utf8");
            const event = JSON.parse(text);
            const usage = event?.message?.role === "assistant" ? event.message.usage : undefined;
            if (usage && dayOf(event.message.timestamp ?? row.created_at) === today) total += Number(usage.totalTokens) || 0;
        }
    } finally {
        db.close();
    }
}
console.log(total);
