// Renders the server's user data: the #cloud-config document that creates the admin user, writes the non-secret
// provisioning inputs (provision.env), the sshd hardening drop-in and cloud-init/provision.sh (gzipped, `gz+b64`),
// then runs it. Pure and deterministic (no Pulumi imports, no clock, no randomness, a hand-written YAML emitter that no
// library upgrade can reformat, and gzip from pure-JavaScript pako, whose output is the same on every machine and CPU):
// user data changes only when its inputs or the host files change, and a change replaces the server. It never
// carries a secret: any process on the host can read user data back from the metadata service.
import { gzip, ungzip } from "pako";
import { parse } from "yaml";
import { HOST_FILES, AGENT_USER, USER_NAME_PATTERN, USER_DATA_BUDGET_BYTES, renderContractEnv } from "../core/host-contract";
import { CLOUDFLARE_APT_KEY_FINGERPRINT } from "../core/pins";
import { canonicalTimezone } from "../core/timezones";
import { isIanaTimezone, SSH_PUBLIC_KEY } from "../core/validators";
import { readHostFile } from "./host-files";
import { renderSshdHardening } from "./sshd-hardening";

/** Where provision.sh and the files it reads live on the host (the host contract). */
export const HOST_PATHS = {
    contractEnv: HOST_FILES.contractEnv,
    provisionEnv: HOST_FILES.provisionEnv,
    provisionScript: HOST_FILES.provisionScript,
    provisionStatus: HOST_FILES.provisionStatus,
    provisionLog: HOST_FILES.provisionLog,
    sshdHardening: HOST_FILES.sshdHardening,
} as const;

/** The largest user data we render (the smallest limit of any provider; each provider module checks its own). */
export const USER_DATA_LIMIT_BYTES = USER_DATA_BUDGET_BYTES;

/** Where the host downloads what Ubuntu does not ship, and the key it trusts there. Production always uses PUBLIC_MIRRORS. */
export interface HostMirrors {
    /** Node's official dist tree: `<url>/latest-v<major>.x/SHASUMS256.txt` and the tarballs beside it. */
    nodeDistUrl: string;
    /** npm registry that `npm install -g openclaw@<version>` uses. */
    npmRegistry: string;
    /** Cloudflare's apt repository for cloudflared (suite `any`, component `main`). */
    cloudflaredAptUrl: string;
    /** The key that signs that repository (binary or ASCII-armored OpenPGP). */
    cloudflaredAptKeyUrl: string;
    /** That key's fingerprint (40 hex digits): provision.sh refuses any other key. Production: the pin in core/pins.ts;
     *  only the stand-in, whose repository is signed by a key it generates, sets another. */
    cloudflaredAptKeyFingerprint: string;
}

export const PUBLIC_MIRRORS: HostMirrors = {
    nodeDistUrl: "https://nodejs.org/dist",
    npmRegistry: "https://registry.npmjs.org/",
    cloudflaredAptUrl: "https://pkg.cloudflare.com/cloudflared",
    cloudflaredAptKeyUrl: "https://pkg.cloudflare.com/cloudflare-main.gpg",
    cloudflaredAptKeyFingerprint: CLOUDFLARE_APT_KEY_FINGERPRINT,
};

/** The non-secret inputs of provision.sh (the `provision.env` keys of docs/host-contract.md). */
export interface ProvisionEnvInput {
    /** The admin login (`ADMIN_USER`): a Linux user name, not root and not the agent user. */
    adminUser: string;
    /** Major version of Node.js installed from the official tarball (`NODE_MAJOR`), e.g. 24. */
    nodeMajor: number;
    /** Exact OpenClaw release installed with npm (`OPENCLAW_VERSION`), e.g. "2026.9.6". */
    openclawVersion: string;
    /** Swap file size in MB (`SWAP_MB`); 0 = no swap. */
    swapMb: number;
    /** IANA time zone of the host clock (`TIMEZONE`), e.g. "Europe/Berlin". */
    timezone: string;
    /** Download sources; each one left out takes its PUBLIC_MIRRORS value. Only the stand-in VPS sets them. */
    mirrors?: Partial<HostMirrors>;
}

/** Everything user data is made of. Deliberately no secret field: secrets are pushed over SSH after boot. */
export interface UserDataInput extends ProvisionEnvInput {
    /** The admin's OpenSSH public key line (e.g. "ssh-ed25519 AAAA... me@laptop"); the only way to log in. */
    sshPublicKey: string;
    /** The server's host name (one DNS label, e.g. the server's name at the provider). */
    hostname: string;
}

const USER_NAME = USER_NAME_PATTERN;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
// Shell-safe URL characters only: provision.env values are never quoted.
const MIRROR_URL = /^https?:\/\/[A-Za-z0-9._~:/@%+=,-]+$/;
const FINGERPRINT = /^[0-9A-F]{40}$/;

function isIntegerIn(value: number, min: number, max: number): boolean {
    return Number.isInteger(value) && value >= min && value <= max;
}

interface ResolvedProvisionEnv {
    adminUser: string;
    nodeMajor: number;
    openclawVersion: string;
    swapMb: number;
    timezone: string;
    mirrors: HostMirrors;
}

/** Checks every field, reports all problems at once (naming the field), and fills in the defaults. */
function resolveProvisionEnv(input: ProvisionEnvInput, problems: string[]): ResolvedProvisionEnv {
    const mirrors: HostMirrors = { ...PUBLIC_MIRRORS };
    for (const key of Object.keys(PUBLIC_MIRRORS) as (keyof HostMirrors)[]) {
        const value = input.mirrors?.[key];
        if (value !== undefined) mirrors[key] = value;
        if (key === "cloudflaredAptKeyFingerprint") {
            if (!FINGERPRINT.test(mirrors[key]))
                problems.push(`mirrors.${key}: ${JSON.stringify(mirrors[key])} is not 40 uppercase hex digits`);
        } else if (!MIRROR_URL.test(mirrors[key])) {
            problems.push(`mirrors.${key}: ${JSON.stringify(mirrors[key])} is not a plain http(s) URL`);
        }
    }
    if (!USER_NAME.test(input.adminUser) || input.adminUser === "root" || input.adminUser === AGENT_USER) {
        problems.push(`adminUser: ${JSON.stringify(input.adminUser)} must be a Linux user name other than root and ${AGENT_USER}`);
    }
    if (!isIntegerIn(input.nodeMajor, 18, 99)) problems.push(`nodeMajor: ${input.nodeMajor} must be a Node major version such as 24`);
    if (!VERSION.test(input.openclawVersion)) {
        problems.push(`openclawVersion: ${JSON.stringify(input.openclawVersion)} must be an exact version such as 2026.9.6`);
    }
    if (!isIntegerIn(input.swapMb, 0, 65536)) problems.push(`swapMb: ${input.swapMb} must be a whole number of MB from 0 to 65536`);
    if (!isIanaTimezone(input.timezone)) problems.push(`timezone: ${JSON.stringify(input.timezone)} is not an IANA time zone`);
    return {
        adminUser: input.adminUser,
        nodeMajor: input.nodeMajor,
        openclawVersion: input.openclawVersion,
        swapMb: input.swapMb,
        // A legacy name (US/Eastern) is not on a stock Ubuntu 24.04 (tzdata-legacy): the zone it links to is.
        timezone: canonicalTimezone(input.timezone),
        mirrors,
    };
}

function throwIfAny(problems: string[], what: string): void {
    if (problems.length) throw new Error(`${what}:\n  - ${problems.join("\n  - ")}`);
}

function provisionEnvText(env: ResolvedProvisionEnv): string {
    const lines = [
        "# openclaw-vps provisioning inputs (non-secret), written by user data and read by provision.sh",
        `ADMIN_USER=${env.adminUser}`,
        `NODE_MAJOR=${env.nodeMajor}`,
        `OPENCLAW_VERSION=${env.openclawVersion}`,
        `SWAP_MB=${env.swapMb}`,
        `TIMEZONE=${env.timezone}`,
        `NODE_DIST_URL=${env.mirrors.nodeDistUrl}`,
        `NPM_REGISTRY=${env.mirrors.npmRegistry}`,
        `CLOUDFLARED_APT_URL=${env.mirrors.cloudflaredAptUrl}`,
        `CLOUDFLARED_APT_KEY_URL=${env.mirrors.cloudflaredAptKeyUrl}`,
        `CLOUDFLARED_APT_KEY_FINGERPRINT=${env.mirrors.cloudflaredAptKeyFingerprint}`,
    ];
    return lines.join("\n") + "\n";
}

/** The content of /etc/openclaw-vps/provision.env: `KEY=value` lines, one per provisioning input. */
export function renderProvisionEnv(input: ProvisionEnvInput): string {
    const problems: string[] = [];
    const env = resolveProvisionEnv(input, problems);
    throwIfAny(problems, "provision.env input is not valid");
    return provisionEnvText(env);
}

// ---- a minimal, fixed YAML emitter (only what this document needs) ----

/** A double-quoted scalar: JSON string syntax is valid YAML and escapes everything that needs it. */
function quoted(value: string): string {
    return JSON.stringify(value);
}

/** A literal block scalar (`|`) holding `text` byte for byte, indented by `indent` spaces. */
function literalBlock(text: string, indent: number): string {
    if (/[^\t\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd]/u.test(text)) throw new Error("user data: a file has characters YAML cannot carry");
    if (/[ \t]\n|[ \t]$/.test(text)) throw new Error("user data: a file has trailing white space, which YAML would not keep");
    const body = text.endsWith("\n") ? text.slice(0, -1) : text;
    // Chomping: "|" keeps one final newline, "|-" none, "|+" all of them.
    const chomp = !text.endsWith("\n") ? "-" : body.endsWith("\n") || body === "" ? "+" : "";
    // An explicit indentation indicator when the first line itself starts with a space.
    const indicator = body.startsWith(" ") ? String(indent) : "";
    const pad = " ".repeat(indent);
    const lines = body.split("\n").map((line) => (line === "" ? "" : pad + line));
    return `|${indicator}${chomp}\n${lines.join("\n")}`;
}

interface WriteFile {
    path: string;
    permissions: string;
    content: string;
    /** Ship it gzipped and base64-encoded (cloud-init's `encoding: gz+b64`): the big script, so user data has room. */
    compress?: boolean;
}

/** gzip (level 9, no file name, mtime 0, OS "Unix") as pure JavaScript: the same bytes on every machine and CPU. */
export function gzipDeterministic(text: string): Buffer {
    return Buffer.from(gzip(Buffer.from(text, "utf8"), { level: 9 }));
}

function writeFileEntry(file: WriteFile): string {
    const lines = [`- path: ${file.path}`, `  owner: root:root`, `  permissions: "${file.permissions}"`];
    if (file.compress) {
        // One quoted line: indenting a block of base64 lines would cost about 5 % more bytes.
        lines.push("  encoding: gz+b64", `  content: ${quoted(gzipDeterministic(file.content).toString("base64"))}`);
    } else {
        lines.push(`  content: ${literalBlock(file.content, 4)}`);
    }
    return lines.join("\n");
}

/** One `write_files` entry of rendered user data, with its content decoded (what cloud-init writes to disk). */
export interface UserDataFile {
    path: string;
    owner: string;
    permissions: string;
    encoding?: string;
    content: string;
}

/**
 * The files a parsed #cloud-config writes, each with the content cloud-init puts on disk (`gz+b64` decoded). For the
 * tests, the policy pack and anything else that must read what a host really gets, not the transport encoding.
 */
export function decodeWriteFiles(config: { write_files?: unknown }): UserDataFile[] {
    const entries = Array.isArray(config.write_files) ? (config.write_files as Record<string, unknown>[]) : [];
    return entries.map((entry) => {
        const raw = String(entry.content ?? "");
        const encoding = entry.encoding === undefined ? undefined : String(entry.encoding);
        let content = raw;
        if (encoding === "gz+b64" || encoding === "gzip+base64" || encoding === "gz+base64" || encoding === "gzip+b64") {
            content = Buffer.from(ungzip(Buffer.from(raw.replace(/\s+/g, ""), "base64"))).toString("utf8");
        } else if (encoding === "b64" || encoding === "base64") {
            content = Buffer.from(raw.replace(/\s+/g, ""), "base64").toString("utf8");
        }
        return {
            path: String(entry.path),
            owner: String(entry.owner ?? ""),
            permissions: String(entry.permissions ?? ""),
            encoding,
            content,
        };
    });
}

/**
 * User data as text with every encoded file's content decoded and appended: what a scan for secrets (the policy pack,
 * the tests) must read, since a secret inside a gzipped file would not show in the raw text. Not YAML: the raw text
 * when it does not parse.
 */
export function userDataPlainText(text: string): string {
    try {
        const files = decodeWriteFiles((parse(text) ?? {}) as { write_files?: unknown }).filter((f) => f.encoding !== undefined);
        return [text, ...files.map((f) => f.content)].join("\n");
    } catch {
        return text;
    }
}

/** The #cloud-config document for a new server. Throws, naming every bad field, when an input is not valid. */
export function renderUserData(input: UserDataInput): string {
    const problems: string[] = [];
    const env = resolveProvisionEnv(input, problems);
    if (!SSH_PUBLIC_KEY.test(input.sshPublicKey)) {
        problems.push('sshPublicKey: must be one OpenSSH public key line such as "ssh-ed25519 AAAA... me@laptop"');
    }
    if (!HOST_LABEL.test(input.hostname)) {
        problems.push(`hostname: ${JSON.stringify(input.hostname)} must be one DNS label (a-z, 0-9, -; at most 63 characters)`);
    }
    throwIfAny(problems, "user data input is not valid");

    const files: WriteFile[] = [
        { path: HOST_PATHS.contractEnv, permissions: "0644", content: renderContractEnv() },
        { path: HOST_PATHS.provisionEnv, permissions: "0644", content: provisionEnvText(env) },
        { path: HOST_PATHS.sshdHardening, permissions: "0644", content: renderSshdHardening({ adminUser: env.adminUser }) },
        { path: HOST_PATHS.provisionScript, permissions: "0755", content: readHostFile("provision.sh"), compress: true },
    ];
    const document = [
        "#cloud-config",
        "# openclaw-vps first boot, rendered by components/render/user-data.ts. No secret belongs here: any process",
        "# on the host can read user data back from the metadata service. Secrets arrive over SSH after provisioning.",
        `hostname: ${quoted(input.hostname)}`,
        "preserve_hostname: false",
        "manage_etc_hosts: true",
        '# Only the admin user: without a "default" entry the image\'s default user (ubuntu) is not created.',
        "users:",
        `- name: ${quoted(env.adminUser)}`,
        "  gecos: openclaw-vps admin",
        "  shell: /bin/bash",
        "  lock_passwd: true",
        `  sudo: ${quoted("ALL=(ALL) NOPASSWD:ALL")}`,
        "  ssh_authorized_keys:",
        `  - ${quoted(input.sshPublicKey)}`,
        "disable_root: true",
        "ssh_pwauth: false",
        "write_files:",
        ...files.map(writeFileEntry),
        "# The only runcmd entry, so its exit status is the stage's: a failed provisioning shows as a cloud-init error",
        "# (and as state=failed in the status file).",
        "runcmd:",
        `- [bash, ${HOST_PATHS.provisionScript}]`,
    ];
    const text = document.join("\n") + "\n";
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > USER_DATA_LIMIT_BYTES) {
        throw new Error(
            `user data is ${bytes} bytes, over the ${USER_DATA_LIMIT_BYTES}-byte budget (components/core/host-contract.ts): shrink cloud-init/provision.sh`,
        );
    }
    return text;
}
