// The host contract in code (components/core/host-contract.ts) and in prose (docs/host-contract.md) agree: every
// contract.env key with its value is in the doc's table, every path of the module is documented, and the host
// scripts take their paths from contract.env rather than retyping them.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    HOST_DIRS,
    HOST_FILES,
    HOST_UNITS,
    renderContractEnv,
    AGENT_USER,
    DEFAULT_GATEWAY_PORT,
} from "../../components/core/host-contract";
import { PROJECT_ROOT } from "../../components/core/pins";

const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "host-contract.md"), "utf8");

test("docs/host-contract.md lists every contract.env key with the module's value, and nothing else", () => {
    const section = doc.split("## contract.env keys")[1].split("\n## ")[0];
    const documented = [...section.matchAll(/^\| `(HOST_[A-Z0-9_]+)` \| `([^`]+)` \|$/gm)].map((m) => `${m[1]}=${m[2]}`);
    const rendered = renderContractEnv()
        .split("\n")
        .filter((l) => l.startsWith("HOST_"));
    assert.deepEqual(documented, rendered);
});

test("every path, unit and the agent user of the module appear in the doc", () => {
    for (const value of [
        ...Object.values(HOST_DIRS),
        ...Object.values(HOST_FILES),
        ...Object.values(HOST_UNITS),
        AGENT_USER,
        String(DEFAULT_GATEWAY_PORT),
    ]) {
        // A file may be documented in its directory's row (`/opt/openclaw-vps/bin/` ... `provision.sh`).
        const inItsDirectory = doc.includes(`${path.posix.dirname(value)}/`) && doc.includes(`\`${path.posix.basename(value)}\``);
        assert.ok(doc.includes(value) || inItsDirectory, `${value} is not in docs/host-contract.md`);
    }
});

test("host scripts read the contract instead of retyping its paths and names", () => {
    const dir = path.join(PROJECT_ROOT, "cloud-init");
    // Values whose every use in a script must come from contract.env (the loader's own default path aside).
    const retyped = [
        HOST_DIRS.bin,
        HOST_DIRS.state,
        HOST_DIRS.log,
        HOST_DIRS.nodes,
        HOST_DIRS.releases,
        HOST_FILES.currentRelease,
        HOST_UNITS.gateway,
        HOST_UNITS.backupTimer,
        `/home/${AGENT_USER}`,
    ];
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(".sh"))) {
        const code = fs
            .readFileSync(path.join(dir, name), "utf8")
            .split("\n")
            .filter((line) => !/^\s*#/.test(line))
            .join("\n");
        for (const value of retyped)
            assert.ok(!code.includes(value), `cloud-init/${name} retypes ${value}: read it from contract.env (HOST_*)`);
        const usesContract = /\$\{?HOST_[A-Z0-9_]+/.test(code);
        const loads = /OPENCLAW_VPS_CONTRACT:-\/etc\/openclaw-vps\/contract\.env/.test(code) || /source "[^"\n]*backup-lib\.sh"/.test(code);
        if (usesContract) assert.ok(loads, `cloud-init/${name} uses HOST_* without loading contract.env (itself or through backup-lib.sh)`);
    }
    assert.equal(HOST_FILES.contractEnv, "/etc/openclaw-vps/contract.env", "the scripts' loader default is this path");
});
