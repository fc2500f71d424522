// The stage scripts the deploy runs beside provisioning (components/render/stage-script.ts): the browser stage carries
// install-browser.sh byte for byte and runs it in its --prefetch mode; everything sits in one function, so a
// transfer cut short is a syntax error that runs nothing.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { PROJECT_ROOT } from "../../components/core/pins";
import { renderBrowserStageScript, renderStageScript } from "../../components/render/stage-script";

const decodeFiles = (script: string) =>
    Object.fromEntries(
        [...script.matchAll(/base64 -d >"\$dir\/([^"]+)" <<'OPENCLAW_VPS_STAGE_EOF'\n([\s\S]*?)\nOPENCLAW_VPS_STAGE_EOF/g)].map((m) => [
            m[1],
            Buffer.from(m[2]!.replace(/\n/g, ""), "base64").toString("utf8"),
        ]),
    );

describe("stage scripts", () => {
    it("the browser stage carries install-browser.sh byte for byte and runs it after provisioning's apt steps", () => {
        const script = renderBrowserStageScript();
        assert.deepEqual(decodeFiles(script), {
            "install-browser.sh": fs.readFileSync(path.join(PROJECT_ROOT, "cloud-init", "install-browser.sh"), "utf8"),
        });
        assert.match(script, /^ {4}bash "\$dir\/install-browser\.sh" --prefetch$/m);
        assert.match(script, /^stage_main <\/dev\/null$/m);
        const syntax = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(syntax.status, 0, syntax.stderr);
    });

    it("a script cut short anywhere inside its function does not parse, so bash runs nothing of it", () => {
        const script = renderBrowserStageScript();
        const body = script.indexOf("stage_main() {");
        for (const at of [body + 20, Math.floor(script.length / 2), script.lastIndexOf("}")]) {
            const cut = spawnSync("bash", ["-n"], { input: script.slice(0, at), encoding: "utf8" });
            assert.notEqual(cut.status, 0, `cut at ${at} of ${script.length} parses`);
        }
    });

    it("refuses to run a file it does not carry", () => {
        assert.throws(
            () => renderStageScript({ title: "t", renderer: "r", files: [{ name: "a.sh", content: "true\n" }], script: "b.sh", args: "" }),
            /b\.sh is not among its files/,
        );
    });
});
