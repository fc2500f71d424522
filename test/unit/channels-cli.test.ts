// `npm run channels` (scripts/channels.ts): the host command it runs as the agent user (checked by bash's parser and
// by running it against a fake `sudo`/`setpriv`/`openclaw` on PATH), and what `login` refuses before it starts anything.
// The command over real SSH in a pseudo-terminal, against a live gateway, is in test/vps/agent-turn.test.ts.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AGENT_HOME, AGENT_USER, HOST_DIRS } from "../../components/core/host-contract";
import { agentCliCommand, LOGIN_CHANNELS, loginRefusal } from "../../scripts/lib/channels";

test("the agent CLI command parses as bash, runs as the agent user with the gateway's environment only", () => {
    const command = agentCliCommand(["channels", "login", "--channel", "whatsapp"]);
    assert.equal(spawnSync("bash", ["-n", "-c", command]).status, 0, command);
    assert.match(command, /^sudo -n bash -c /);
    // Run it with stand-ins for sudo, id, setpriv and openclaw that print what they were given.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "channels-cli-"));
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    stub("sudo", '[[ $1 == -n ]] && shift; exec "$@"');
    stub("id", "[[ $1 == -u ]] && echo 996 || echo 995");
    stub("setpriv", 'echo "setpriv $1 $2 $3"; shift 4; exec "$@"');
    stub("openclaw", 'echo "openclaw $*"; env');
    try {
        // As on the host, but the agent's PATH leads to the stand-ins and `cd` to a directory that exists here.
        const local = command
            .replace(`cd ${HOST_DIRS.agentState}`, `cd ${bin}`)
            .replace("PATH=/usr/local/bin:/usr/bin:/bin", `PATH=${bin}:/usr/bin:/bin`);
        const run = spawnSync("bash", ["-c", local], {
            encoding: "utf8",
            env: { PATH: `${bin}:/usr/bin:/bin`, TERM: "xterm-kitty", SECRET_OF_ROOT: "x" },
        });
        assert.equal(run.status, 0, run.stderr);
        const lines = run.stdout.trim().split("\n");
        assert.equal(lines[0], "setpriv --reuid=996 --regid=995 --init-groups");
        assert.equal(lines[1], "openclaw channels login --channel whatsapp");
        const env = Object.fromEntries(lines.slice(2).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        delete env.PWD;
        delete env.SHLVL;
        delete env._;
        assert.deepEqual(env, {
            HOME: AGENT_HOME,
            USER: AGENT_USER,
            LANG: "C.UTF-8",
            TERM: "xterm-kitty",
            PATH: `${bin}:/usr/bin:/bin`,
            OPENCLAW_CONFIG_READONLY: "1",
            // The gateway's system unit owns its lifecycle: the CLI must not offer to install a user service.
            OPENCLAW_SERVICE_REPAIR_POLICY: "external",
        });
    } finally {
        fs.rmSync(bin, { recursive: true, force: true });
    }
    for (const part of [
        `HOME=${AGENT_HOME}`,
        `USER=${AGENT_USER}`,
        "OPENCLAW_CONFIG_READONLY=1",
        "env -i",
        `cd ${HOST_DIRS.agentState}`,
        "openclaw 'channels' 'login' '--channel' 'whatsapp'",
    ])
        assert.ok(command.includes(part.replaceAll("'", "'\\''")), `${part} in ${command}`);
});

test("login: only WhatsApp links by QR code, and only where it is configured; token channels say which secret to set", () => {
    assert.deepEqual(LOGIN_CHANNELS, ["whatsapp"]);
    assert.equal(loginRefusal("whatsapp", ["telegram", "whatsapp"]), undefined);
    assert.match(loginRefusal("whatsapp", ["telegram"])!, /WhatsApp is not configured on this host: set openclaw-vps:whatsappAllowFrom/);
    assert.match(loginRefusal("telegram", ["telegram"])!, /Telegram needs no login: .*openclaw-vps:telegramBotToken/);
    assert.match(loginRefusal("slack", [])!, /openclaw-vps:slackBotToken and openclaw-vps:slackAppToken/);
    assert.match(loginRefusal("signal", [])!, /unknown channel 'signal'; channels: telegram, discord, slack, whatsapp/);
});
