// A new OpenClaw or Node version is a push, never a new server: the real program under the mock engine (npm run plan
// -- --json), planned with the pinned release and again with the kept previous one, with another Node major and with
// another reboot window. Replacement in Pulumi follows the inputs of a resource, so equal inputs of the server, its
// firewall and key, the tunnel and the gateway token mean the same server, tunnel and token; the push and the release
// step are what change. Bad values are refused before anything is planned, naming the key.
import { before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { readOpenclawPin } from "../../components/core/pins";
import { releaseId, releaseFor } from "../../components/render/openclaw-release";
import { planJson, PlanRow, runPlan } from "../helpers/plan";

const SECRETS = ["--secret", "llmApiKey=sk-ant-PLAN-UPGRADE-4242"];
const PREVIOUS = "2026.9.5";

function byName(rows: PlanRow[], name: string): PlanRow {
    const row = rows.find((r) => r.name === name);
    assert.ok(row, `no ${name} in the plan`);
    return row;
}

/** Everything that would replace the server, the tunnel or the token if it changed. */
const KEPT = [
    "openclaw-server-server",
    "openclaw-server-firewall",
    "openclaw-server-ssh-key",
    "openclaw-edge-tunnel-secret",
    "openclaw-edge-tunnel",
    "openclaw-edge-tunnel-config",
    "openclaw-host-gateway-token",
    "openclaw-host-wait-provisioned",
];

describe("a version change is a push change in the plan", () => {
    let pinned: PlanRow[];
    let previous: PlanRow[];
    let node26: PlanRow[];
    let window: PlanRow[];
    before(() => {
        pinned = planJson(SECRETS);
        previous = planJson([...SECRETS, "--set", `openclawVersion=${PREVIOUS}`]);
        node26 = planJson([...SECRETS, "--set", "nodeMajor=26"]);
        window = planJson([...SECRETS, "--set", "rebootWindow=02:30-03:15"]);
    });

    test("the premise: the names the comparison relies on exist, the pinned plan has the release step before the push", () => {
        for (const name of KEPT) byName(pinned, name);
        const push = byName(pinned, "openclaw-host-push");
        assert.ok(push.dependsOn.includes("openclaw-host-release"), JSON.stringify(push.dependsOn));
        assert.ok(push.dependsOn.includes("openclaw-host-wait-provisioned"));
        const release = byName(pinned, "openclaw-host-release");
        assert.ok(!release.dependsOn.includes("openclaw-host-wait-provisioned"), "the release step overlaps provisioning");
        assert.equal(release.inputs.triggers[1], releaseId(releaseFor(readOpenclawPin().version), 24));
    });

    for (const [what, plan] of [
        ["openclawVersion (the previous release)", () => previous],
        ["nodeMajor 24 -> 26", () => node26],
        ["rebootWindow", () => window],
    ] as const) {
        test(`${what}: same server (same user data), firewall, key, tunnel and gateway token; the push changes`, () => {
            const other = plan();
            for (const name of KEPT) {
                assert.deepEqual(byName(other, name).inputs, byName(pinned, name).inputs, `${name} would change`);
            }
            assert.notDeepEqual(byName(other, "openclaw-host-push").inputs.triggers, byName(pinned, "openclaw-host-push").inputs.triggers);
            // Only the host's own resources change, nothing at Cloudflare or the provider.
            const changed = other
                .filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(pinned.find((p) => p.name === r.name)?.inputs))
                .map((r) => r.name)
                .sort();
            assert.ok(
                changed.every((n) => ["openclaw-host", "openclaw-host-push", "openclaw-host-release"].includes(n)),
                changed.join(", "),
            );
        });
    }

    test("the release step names the version and the Node major; the push carries the spec and the reboot timer", () => {
        const stdin = (rows: PlanRow[]) => String(byName(rows, "openclaw-host-release").inputs.stdin);
        assert.notEqual(stdin(previous), stdin(pinned));
        assert.equal(byName(previous, "openclaw-host-release").inputs.triggers[1], releaseId(releaseFor(PREVIOUS), 24));
        assert.equal(byName(node26, "openclaw-host-release").inputs.triggers[1], releaseId(releaseFor(readOpenclawPin().version), 26));
        const files = (rows: PlanRow[]) => byName(rows, "openclaw-host").inputs.files as { path: string; content: string }[];
        const releaseEnv = (rows: PlanRow[]) => files(rows).find((f) => f.path === "/etc/openclaw-vps/release/release.env")!.content;
        assert.match(releaseEnv(previous), new RegExp(`^OPENCLAW_VERSION=${PREVIOUS.replace(/\./g, "\\.")}$`, "m"));
        assert.match(releaseEnv(node26), /^NODE_MAJOR=26$/m);
        const timer = files(window).find((f) => f.path === "/etc/systemd/system/openclaw-reboot-window.timer")!.content;
        assert.match(timer, /^OnCalendar=\*-\*-\* 02:30:00 America\/New_York$/m);
    });
});

describe("bad versions are refused before anything is planned", () => {
    for (const [set, message] of [
        [
            "openclawVersion=2026.9.4",
            /openclaw-vps:openclawVersion: got "2026\.9\.4"; expected a version the project has a lockfile for \(2026\.9\.5, 2026\.9\.6\)/,
        ],
        ["nodeMajor=25", /openclaw-vps:nodeMajor: got "25"; expected a Node major that satisfies openclaw 2026\.9\.6's engines/],
        ["rebootWindow=04:00-04:05", /openclaw-vps:rebootWindow: got "04:00-04:05"; expected a daily window HH:MM-HH:MM/],
    ] as const) {
        test(set, () => {
            const run = runPlan([...SECRETS, "--set", set]);
            assert.equal(run.status, 2, run.stderr);
            assert.match(run.stderr, message);
            assert.match(run.stderr, /nothing was created/);
        });
    }
});
