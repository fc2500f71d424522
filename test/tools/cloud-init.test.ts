// The rendered user data through cloud-init itself: `cloud-init schema --config-file` for two different inputs,
// top-level keys against cloud-init's own schema file (the validator does not flag unknown top-level keys), and
// cloud-init's YAML loader (PyYAML safe_load) getting every embedded file back byte for byte.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderProvisionEnv, renderUserData } from "../../components/render/user-data";
import { readHostFile } from "../../components/render/host-files";
import { ALTERNATE_USER_DATA_INPUT, EXAMPLE_USER_DATA_INPUT, requireTool, run, tempDir } from "../helpers/provisioning";

const SCHEMA_FILE = "/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json";

interface JsonSchema {
    $defs?: Record<string, JsonSchema>;
    allOf?: { $ref?: string }[];
    properties?: Record<string, unknown>;
}

/** Every top-level key cloud-init's schema defines: the properties of each definition its root `allOf` refers to. */
function schemaTopLevelKeys(): Set<string> {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as JsonSchema;
    const keys = new Set<string>();
    for (const part of schema.allOf ?? []) {
        const name = part.$ref?.replace(/^#\/\$defs\//, "");
        const def = name ? schema.$defs?.[name] : undefined;
        assert.ok(def, `schema reference ${part.$ref} not found`);
        for (const key of Object.keys(def.properties ?? {})) keys.add(key);
    }
    return keys;
}

/** Top-level keys of a YAML document: unindented `key:` lines (our emitter writes every mapping key that way). */
function documentTopLevelKeys(text: string): string[] {
    return [...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*):/gm)].map((m) => m[1]);
}

function unknownTopLevelKeys(text: string, known: Set<string>): string[] {
    return documentTopLevelKeys(text).filter((k) => !known.has(k));
}

describe("user data through cloud-init", () => {
    let work: ReturnType<typeof tempDir>;
    before(() => {
        requireTool("cloud-init", "cloud-init");
        requireTool("/usr/bin/python3", "python3");
        assert.ok(fs.existsSync(SCHEMA_FILE), `${SCHEMA_FILE} is missing: apt-get install cloud-init`);
        work = tempDir("cloud-init");
    });
    after(() => work?.cleanup());

    const inputs = { example: EXAMPLE_USER_DATA_INPUT, alternate: ALTERNATE_USER_DATA_INPUT };

    for (const [label, input] of Object.entries(inputs)) {
        it(`passes \`cloud-init schema --config-file\` (${label} input)`, () => {
            const file = path.join(work.dir, `${label}.yaml`);
            fs.writeFileSync(file, renderUserData(input));
            const result = run("cloud-init", ["schema", "--config-file", file]);
            assert.equal(result.status, 0, result.stdout + result.stderr);
            assert.match(result.stdout, /Valid cloud-config/);
        });

        it(`uses only top-level keys that cloud-init's schema defines (${label} input)`, () => {
            const text = renderUserData(input);
            const keys = documentTopLevelKeys(text);
            assert.ok(keys.includes("write_files") && keys.includes("runcmd") && keys.includes("users"), keys.join(","));
            assert.deepEqual(unknownTopLevelKeys(text, schemaTopLevelKeys()), []);
        });

        it(`reaches cloud-init's YAML loader and its write_files decoder with every file intact (${label} input)`, () => {
            const file = path.join(work.dir, `${label}-load.yaml`);
            fs.writeFileSync(file, renderUserData(input));
            // cloud-init's own interpreter (not whatever python3 comes first on PATH), its YAML loader and the very
            // functions its write_files module decodes `encoding:` with (provision.sh travels as gz+b64).
            const loader = [
                "import json, sys, yaml",
                "from cloudinit.config import cc_write_files as w",
                "cfg = yaml.safe_load(open(sys.argv[1]))",
                "for f in cfg['write_files']:",
                "    data = w.extract_contents(f.get('content', ''), w.canonicalize_extraction(f.get('encoding')))",
                "    f['content'] = data.decode('utf-8') if isinstance(data, bytes) else data",
                "print(json.dumps(cfg))",
            ].join("\n");
            const result = run("/usr/bin/python3", ["-c", loader, file]);
            assert.equal(result.status, 0, result.stderr);
            const config = JSON.parse(result.stdout) as {
                write_files: { path: string; content: string; encoding?: string }[];
                runcmd: unknown;
            };
            assert.deepEqual(
                config.write_files.map((f) => f.encoding ?? "plain"),
                ["plain", "plain", "plain", "gz+b64"],
                "provision.sh is the one compressed file",
            );
            const contents = Object.fromEntries(config.write_files.map((f) => [f.path, f.content]));
            assert.equal(contents["/opt/openclaw-vps/bin/provision.sh"], readHostFile("provision.sh"));
            assert.equal(contents["/etc/openclaw-vps/provision.env"], renderProvisionEnv(input));
            assert.match(contents["/etc/ssh/sshd_config.d/01-openclaw-hardening.conf"], new RegExp(`^AllowUsers ${input.adminUser}$`, "m"));
            assert.deepEqual(config.runcmd, [["bash", "/opt/openclaw-vps/bin/provision.sh"]]);
        });
    }

    it("the checks can fail: the validator rejects `packages: []`, the key check catches an unknown key", () => {
        const broken = path.join(work.dir, "broken.yaml");
        fs.writeFileSync(broken, renderUserData(EXAMPLE_USER_DATA_INPUT) + "packages: []\n");
        const result = run("cloud-init", ["schema", "--config-file", broken]);
        assert.notEqual(result.status, 0, "cloud-init schema accepted packages: []");
        const withUnknown = renderUserData(EXAMPLE_USER_DATA_INPUT) + "run_cmd:\n- [true]\n";
        assert.deepEqual(unknownTopLevelKeys(withUnknown, schemaTopLevelKeys()), ["run_cmd"]);
        // ...which cloud-init's validator alone lets through:
        const typo = path.join(work.dir, "typo.yaml");
        fs.writeFileSync(typo, withUnknown);
        assert.equal(run("cloud-init", ["schema", "--config-file", typo]).status, 0);
    });
});
