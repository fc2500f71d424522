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
import { ADMIN_USER, startSshdSandbox, type SshdSandbox } from "../helpers/push";

let sandbox: SshdSandbox;
let host: RemoteHost;
/** Where the admin's scripts note what they did. */
let notes: string;

before(async () => {
    sandbox = await startSshdSandbox(["MaxSessions 1"]);
    notes = path.join(sandbox.dir, "notes");
    fs.mkdirSync(notes, { mode: 0o777 });
    fs.chmodSync(notes, 0o777);
    host = await RemoteHost.connect({
        host: "127.0.0.1",
        port: sandbox.port,
        username: ADMIN_USER,
        privateKey: sandbox.clientKey,
        hostKey: [sandbox.hostPublicKey],
    });
});

after(async () => {
    host?.dispose();
    await sandbox?.stop();
});

/** A script that holds its session until `file` exists, then notes that it ended. */
const holdUntil = (file: string, ended: string) => `while [ ! -e ${file} ]; do sleep 0.1; done; echo ended >${ended}`;

test("a command started while the connection is at MaxSessions runs once the other one has ended", async () => {
    const go = path.join(notes, "go-1");
    const ended = path.join(notes, "ended-1");
    const first = host.runScript(holdUntil(go, ended), { what: "the holder" });
    // The second one's first open is refused (the holder has the only session); release the holder a little later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = host.runScript(`cat ${ended} 2>/dev/null || echo 'ran beside the holder'`, { what: "the second" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.writeFileSync(go, "");
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    // It ran only after the holder had ended: sshd refused it while the holder had the session.
    assert.equal(b.stdout, "ended\n");
    assert.match(sandbox.sshdLog(), /no more sessions|Failed to create session|open failed/i);
});

test("back to back on one connection: each command opens its session right after the last closed, none is refused", async () => {
    for (let i = 0; i < 20; i++) {
        const result = await host.runScript(`echo ${i}`);
        assert.equal(result.stdout, `${i}\n`);
    }
});

test("a limit that never frees fails the command, naming it, its attempts and the command running beside it", async () => {
    const go = path.join(notes, "go-2");
    const holder = host.runScript(holdUntil(go, path.join(notes, "ended-2")));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await assert.rejects(
        host.runScript("echo never", { what: "the refused one" }),
        /ops@127\.0\.0\.1:\d+: the refused one could not run after 11 attempts \(1 other command\(s\) running on this connection\): \(SSH\) Channel open failure/,
    );
    fs.writeFileSync(go, "");
    assert.equal((await holder).code, 0);
});
