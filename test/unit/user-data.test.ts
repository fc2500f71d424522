// The rendered user data: snapshot, size, determinism, no secret, and that each embedded file arrives byte for
// byte. `UPDATE_SNAPSHOTS=1` rewrites the snapshot (review the diff: a change replaces every server).
import { AGENT_USER, renderContractEnv } from "../../components/core/host-contract";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { gunzipSync } from "node:zlib";
import { CLOUDFLARE_APT_KEY_FINGERPRINT } from "../../components/core/pins";
import {
    decodeWriteFiles,
    gzipDeterministic,
    HOST_PATHS,
    PUBLIC_MIRRORS,
    renderProvisionEnv,
    renderUserData,
    USER_DATA_LIMIT_BYTES,
    UserDataInput,
} from "../../components/render/user-data";
import { readHostFile } from "../../components/render/host-files";
import { renderSshdHardening } from "../../components/render/sshd-hardening";
import { ALTERNATE_USER_DATA_INPUT, EXAMPLE_USER_DATA_INPUT, REPO_ROOT } from "../helpers/provisioning";

const SNAPSHOT = path.join(__dirname, "__snapshots__", "user-data.example.yaml");

interface CloudConfig {
    users: { name: string; sudo: string; shell: string; lock_passwd: boolean; ssh_authorized_keys: string[] }[];
    write_files: { path: string; owner: string; permissions: string; content: string }[];
    runcmd: string[][];
    [key: string]: unknown;
}

function parsed(text: string): CloudConfig {
    return parse(text) as CloudConfig;
}

describe("renderUserData", () => {
    it("matches the stored snapshot (UPDATE_SNAPSHOTS=1 rewrites it)", () => {
        const text = renderUserData(EXAMPLE_USER_DATA_INPUT);
        if (process.env.UPDATE_SNAPSHOTS === "1") {
            fs.mkdirSync(path.dirname(SNAPSHOT), { recursive: true });
            fs.writeFileSync(SNAPSHOT, text);
        }
        assert.ok(fs.existsSync(SNAPSHOT), `${SNAPSHOT} is missing: run with UPDATE_SNAPSHOTS=1 once`);
        assert.equal(text, fs.readFileSync(SNAPSHOT, "utf8"), "user data changed: review, then UPDATE_SNAPSHOTS=1");
    });

    it("stays within the 20 KB budget (Hetzner accepts 32 KiB), for both example inputs, provision.sh gzipped", () => {
        assert.equal(USER_DATA_LIMIT_BYTES, 20_000);
        for (const input of [EXAMPLE_USER_DATA_INPUT, ALTERNATE_USER_DATA_INPUT]) {
            const bytes = Buffer.byteLength(renderUserData(input), "utf8");
            assert.ok(bytes <= USER_DATA_LIMIT_BYTES, `${bytes} bytes`);
            // Uncompressed, provision.sh alone would not fit: the compression is what makes room.
            assert.ok(Buffer.byteLength(readHostFile("provision.sh")) > USER_DATA_LIMIT_BYTES - bytes);
        }
    });

    it("gzips provision.sh the same way everywhere: standard gzip (node:zlib reads it), no name, mtime 0, OS Unix", () => {
        const script = readHostFile("provision.sh");
        const packed = gzipDeterministic(script);
        assert.equal(gunzipSync(packed).toString("utf8"), script, "an independent gunzip gets the script back");
        assert.deepEqual([...packed.subarray(0, 4)], [0x1f, 0x8b, 8, 0], "gzip, deflate, no FNAME/FEXTRA/FCOMMENT flags");
        assert.equal(packed.readUInt32LE(4), 0, "mtime 0: the clock never changes user data");
        assert.equal(packed[9], 3, "OS byte 3 (Unix) on every platform");
        assert.deepEqual(gzipDeterministic(script), packed);
    });

    it("is stable: the same input renders the same bytes, a changed input changes them", () => {
        const again = { ...EXAMPLE_USER_DATA_INPUT, mirrors: { ...PUBLIC_MIRRORS } };
        assert.equal(renderUserData(EXAMPLE_USER_DATA_INPUT), renderUserData(again), "explicit public mirrors = defaults");
        const base = renderUserData(EXAMPLE_USER_DATA_INPUT);
        const variants: Partial<UserDataInput>[] = [
            { adminUser: "alice" },
            { swapMb: 1024 },
            { timezone: "Europe/Berlin" },
            { hostname: "other" },
            { nodeMajor: 26 },
            { openclawVersion: "2026.9.7" },
        ];
        for (const change of variants) {
            assert.notEqual(renderUserData({ ...EXAMPLE_USER_DATA_INPUT, ...change }), base, JSON.stringify(change));
        }
    });

    it("never contains a secret, even with every secret of the project in the same object", () => {
        // Sentinels for every secret the project handles. They sit in the object handed to the renderer, as a
        // careless caller would pass the whole settings: none may come out, which proves no secret input exists.
        const secrets = {
            llmApiKey: "SENTINEL-llm-api-key-7f3a",
            embeddingApiKey: "SENTINEL-embedding-api-key-91c2",
            gatewayToken: "SENTINEL-gateway-token-0b8e",
            tunnelToken: "SENTINEL-tunnel-token-5d41",
            tunnelSecret: "SENTINEL-tunnel-secret-e6f0",
            r2AccessKeyId: "SENTINEL-r2-access-key-id-3c9d",
            r2SecretAccessKey: "SENTINEL-r2-secret-access-key-a217",
        };
        const everything = { ...EXAMPLE_USER_DATA_INPUT, ...secrets, secrets: { ...secrets } };
        for (const input of [everything, { ...ALTERNATE_USER_DATA_INPUT, ...secrets }]) {
            // What the host gets, decoded: a secret inside the gzipped script would not show in the raw text.
            const text = [renderUserData(input), ...decodeWriteFiles(parsed(renderUserData(input))).map((f) => f.content)].join("\n");
            const env = renderProvisionEnv(input);
            for (const [name, value] of Object.entries(secrets)) {
                for (const form of [value, Buffer.from(value).toString("base64"), "SENTINEL"]) {
                    assert.ok(!text.includes(form), `${name} leaked into user data`);
                    assert.ok(!env.includes(form), `${name} leaked into provision.env`);
                }
            }
        }
    });

    it("creates only the admin user, key-only with passwordless sudo, and keeps root and passwords off", () => {
        const config = parsed(renderUserData(EXAMPLE_USER_DATA_INPUT));
        assert.equal(config.users.length, 1, "no 'default' entry: the image's default user is not created");
        const [admin] = config.users;
        assert.equal(admin.name, "ops");
        assert.equal(admin.sudo, "ALL=(ALL) NOPASSWD:ALL");
        assert.equal(admin.shell, "/bin/bash");
        assert.equal(admin.lock_passwd, true);
        assert.deepEqual(admin.ssh_authorized_keys, [EXAMPLE_USER_DATA_INPUT.sshPublicKey]);
        assert.equal(config.disable_root, true);
        assert.equal(config.ssh_pwauth, false);
        assert.equal(config.hostname, "openclaw");
        assert.ok(!("packages" in config), "packages: [] fails cloud-init schema; provision.sh installs packages");
    });

    it("writes the host contract, provision.env, the sshd drop-in and provision.sh byte for byte, then runs provision.sh last", () => {
        for (const input of [EXAMPLE_USER_DATA_INPUT, ALTERNATE_USER_DATA_INPUT]) {
            const config = parsed(renderUserData(input));
            const byPath = new Map(decodeWriteFiles(config).map((f) => [f.path, f]));
            assert.deepEqual(
                [...byPath.keys()],
                [HOST_PATHS.contractEnv, HOST_PATHS.provisionEnv, HOST_PATHS.sshdHardening, HOST_PATHS.provisionScript],
            );
            assert.equal(byPath.get(HOST_PATHS.contractEnv)?.content, renderContractEnv());
            assert.equal(byPath.get(HOST_PATHS.provisionEnv)?.content, renderProvisionEnv(input));
            assert.equal(byPath.get(HOST_PATHS.sshdHardening)?.content, renderSshdHardening({ adminUser: input.adminUser }));
            assert.equal(byPath.get(HOST_PATHS.provisionScript)?.content, readHostFile("provision.sh"));
            assert.equal(byPath.get(HOST_PATHS.provisionScript)?.encoding, "gz+b64");
            assert.equal(byPath.get(HOST_PATHS.provisionScript)?.permissions, "0755");
            for (const small of [HOST_PATHS.contractEnv, HOST_PATHS.provisionEnv, HOST_PATHS.sshdHardening]) {
                assert.equal(byPath.get(small)?.encoding, undefined, `${small} stays readable in user data`);
            }
            for (const file of config.write_files) assert.equal(file.owner, "root:root");
            assert.deepEqual(config.runcmd, [["bash", HOST_PATHS.provisionScript]], "one entry: its exit status is the stage's");
        }
    });

    it("rejects bad input, naming every bad field", () => {
        const bad: UserDataInput = {
            ...EXAMPLE_USER_DATA_INPUT,
            adminUser: "root",
            hostname: "Not_A_Label",
            timezone: "Mars/Olympus",
            swapMb: -1,
            nodeMajor: 24.5,
            openclawVersion: "latest",
            sshPublicKey: "ssh-ed25519 AAAA\nruncmd: [reboot]",
            mirrors: { npmRegistry: "https://registry.example/$(id)", cloudflaredAptKeyFingerprint: "cc94b39c" },
        };
        assert.throws(
            () => renderUserData(bad),
            (error: Error) => {
                for (const field of [
                    "adminUser",
                    "hostname",
                    "timezone",
                    "swapMb",
                    "nodeMajor",
                    "openclawVersion",
                    "sshPublicKey",
                    "mirrors.npmRegistry",
                    "mirrors.cloudflaredAptKeyFingerprint",
                ]) {
                    assert.match(error.message, new RegExp(`${field.replace(".", "\\.")}:`), field);
                }
                return true;
            },
        );
        assert.throws(
            () => renderUserData({ ...EXAMPLE_USER_DATA_INPUT, adminUser: AGENT_USER }),
            /adminUser/,
            "the admin cannot be the contract's agent user",
        );
    });
});

describe("renderProvisionEnv", () => {
    it("has exactly the keys of the host contract, with the public mirrors by default", () => {
        const contract = fs.readFileSync(path.join(REPO_ROOT, "docs", "host-contract.md"), "utf8");
        const section = contract.split("## provision.env keys")[1].split("\n## ")[0];
        const contractKeys = [...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]);
        const env = renderProvisionEnv(EXAMPLE_USER_DATA_INPUT);
        const lines = env.split("\n").filter((l) => l && !l.startsWith("#"));
        assert.deepEqual(
            lines.map((l) => l.split("=")[0]),
            contractKeys,
        );
        assert.ok(lines.includes(`NODE_DIST_URL=${PUBLIC_MIRRORS.nodeDistUrl}`));
        assert.ok(lines.includes(`NPM_REGISTRY=${PUBLIC_MIRRORS.npmRegistry}`));
        assert.ok(!lines.some((l) => l.startsWith("AGENT_USER=")), "the agent user is the host contract's (contract.env), not a setting");
    });

    it("pins Cloudflare's signing key by fingerprint (the one in components/core/pins.ts) unless the stand-in says otherwise", () => {
        assert.match(
            renderProvisionEnv(EXAMPLE_USER_DATA_INPUT),
            new RegExp(`^CLOUDFLARED_APT_KEY_FINGERPRINT=${CLOUDFLARE_APT_KEY_FINGERPRINT}$`, "m"),
        );
        assert.equal(CLOUDFLARE_APT_KEY_FINGERPRINT, "CC94B39C77AE7342A68B89628A682D308D4E5E73");
        const standIn = renderProvisionEnv({ ...EXAMPLE_USER_DATA_INPUT, mirrors: { cloudflaredAptKeyFingerprint: "0".repeat(40) } });
        assert.match(standIn, /^CLOUDFLARED_APT_KEY_FINGERPRINT=0{40}$/m);
    });

    it("writes a legacy time-zone name as the zone it links to (Ubuntu 24.04 has no US/Eastern without tzdata-legacy)", () => {
        for (const [legacy, canonical] of [
            ["US/Eastern", "America/New_York"],
            ["GB", "Europe/London"],
            ["Asia/Calcutta", "Asia/Kolkata"],
            ["Europe/Kiev", "Europe/Kyiv"],
            ["Iceland", "Atlantic/Reykjavik"],
        ]) {
            assert.match(renderProvisionEnv({ ...EXAMPLE_USER_DATA_INPUT, timezone: legacy }), new RegExp(`^TIMEZONE=${canonical}$`, "m"));
        }
        assert.match(renderProvisionEnv({ ...EXAMPLE_USER_DATA_INPUT, timezone: "Europe/Berlin" }), /^TIMEZONE=Europe\/Berlin$/m);
        // Names only ICU knows (Node accepts them, tzdata has no such file) are refused before anything is created.
        for (const icuOnly of ["IST", "US/Pacific-New", "SystemV/EST5"]) {
            assert.throws(() => renderProvisionEnv({ ...EXAMPLE_USER_DATA_INPUT, timezone: icuOnly }), /timezone:/, icuOnly);
        }
    });

    it("carries the stand-in VPS's local mirrors when given", () => {
        const env = renderProvisionEnv(ALTERNATE_USER_DATA_INPUT);
        assert.match(env, /^NODE_DIST_URL=http:\/\/10\.77\.0\.1:8080\/node$/m);
        assert.match(env, /^CLOUDFLARED_APT_KEY_URL=http:\/\/10\.77\.0\.1:8080\/cloudflare-main\.gpg$/m);
        assert.match(env, /^SWAP_MB=0$/m);
    });

    it("uses only keys that provision.sh reads (and provision.sh reads them all)", () => {
        const script = readHostFile("provision.sh");
        const caseLine = /case \$key in\n([\s\S]*?)\)\n/.exec(script);
        assert.ok(caseLine, "provision.sh's key allow-list not found");
        const scriptKeys = caseLine[1]
            .split(/[\s|\\]+/)
            .filter(Boolean)
            .sort();
        const envKeys = renderProvisionEnv(EXAMPLE_USER_DATA_INPUT)
            .split("\n")
            .filter((l) => l && !l.startsWith("#"))
            .map((l) => l.split("=")[0])
            .sort();
        assert.deepEqual(scriptKeys, envKeys);
    });

    it("keeps every value shell-safe (provision.env values are never quoted)", () => {
        for (const input of [EXAMPLE_USER_DATA_INPUT, ALTERNATE_USER_DATA_INPUT]) {
            for (const line of renderProvisionEnv(input)
                .split("\n")
                .filter((l) => l && !l.startsWith("#"))) {
                assert.match(line, /^[A-Z_]+=[A-Za-z0-9._~:/@%+=,-]+$/, line);
            }
        }
    });
});
