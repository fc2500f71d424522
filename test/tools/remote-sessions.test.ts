// RemoteHost against a REAL sshd on loopback that allows one session per connection (`MaxSessions 1`; the host's
// hardened sshd allows 2): a command started while the connection is at its limit is refused by sshd, and RemoteHost
// opens it again once the running one has ended; a limit that never frees fails, naming the command and how many
// others ran on the connection. The stand-in deploy hit the limit for real: the next deploy's release step opened its
// session right after a push had closed one, before sshd had freed its slot.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RemoteHost } from "../../components/remote";
import { connectToSandbox, startSshdSandbox, type SshdSandbox } from "../helpers/push";

let sandbox: SshdSandbox;
let host: RemoteHost;
/** Where the admin's scripts note what they did. */
let notes: string;

before(async () => {
    sandbox = await startSshdSandbox(["MaxSessions 1"]);
    notes = path.join(sandbox.dir, "notes");
    fs.mkdirSync(notes, { mode: 0o777 });
    fs.chmodSync(notes, 0o777);
    host = await connectToSandbox(sandbox);
});

after(async () => {
    host?.dispose();
    await sandbox?.stop();
});

/** How often sshd has refused a session so far (its log says so for each). */
const refusals = () => sandbox.sshdLog().split("no more sessions").length - 1;

/** Polls `done` until it holds or `running` has settled (then the caller's assertions say what went wrong). */
async function untilOrSettled(done: () => boolean, running: Promise<unknown>): Promise<void> {
    let settled = false;
    void running.then(
        () => (settled = true),
        () => (settled = true),
    );
    while (!done() && !settled) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Starts a script that holds its session until the returned `release` is called, and resolves once it runs (so the
 * next session opened is refused for certain); it notes `ended` in the returned file when it ends.
 */
async function holder(name: string) {
    const [started, go, ended] = ["started", "go", "ended"].map((what) => path.join(notes, `${name}-${what}`));
    const run = host.runScript(`echo >${started}; while [ ! -e ${go} ]; do sleep 0.1; done; echo ended >${ended}`, { what: name });
    await untilOrSettled(() => fs.existsSync(started), run);
    return { run, ended, release: () => fs.writeFileSync(go, "") };
}

test("a command started while the connection is at MaxSessions runs once the other one has ended", async () => {
    const first = await holder("holder-1");
    const refusedBefore = refusals();
    const second = host.runScript(`cat ${first.ended} 2>/dev/null || echo 'ran beside the holder'`, { what: "the second" });
    // Only once sshd has refused the second one (the holder has the only session) is the holder let go.
    await untilOrSettled(() => refusals() > refusedBefore, second);
    first.release();
    const [a, b] = await Promise.all([first.run, second]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    // It ran, and only after the holder had ended.
    assert.equal(b.stdout, "ended\n");
});

test("back to back on one connection: each command opens its session right after the last closed, none is refused", async () => {
    for (let i = 0; i < 20; i++) {
        const result = await host.runScript(`echo ${i}`);
        assert.equal(result.stdout, `${i}\n`);
    }
});

test("a limit that never frees fails the command, naming it, its attempts and the command running beside it", async () => {
    const held = await holder("holder-2");
    await assert.rejects(
        host.runScript("echo never", { what: "the refused one" }),
        /ops@127\.0\.0\.1:\d+: the refused one could not run after 11 attempts \(1 other command\(s\) running on this connection\): \(SSH\) Channel open failure/,
    );
    held.release();
    assert.equal((await held.run).code, 0);
});
