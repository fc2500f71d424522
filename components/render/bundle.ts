// The push bundle: the model of everything the deploy writes to the host over SSH (files with owner, mode and
// policy; directories; services; first-boot restore; readiness), its validation, the script that applies it
// (cloud-init/apply-bundle.sh + generated calls; run as `sudo bash -s` with the script on stdin), and the per-file
// digests that Pulumi uses as triggers so a preview shows WHICH files change. Pure: no Pulumi imports.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseRestoreFrom } from "../core/backup-layout";
import { HOST_DIRS, HOST_FILES, USER_NAME_PATTERN } from "../core/host-contract";
import { shellQuote } from "../core/shell";

/** `replace`: written whenever the content differs (operator-owned). `create-only`: written only when absent, never
 *  overwritten or deleted afterwards (agent-owned, e.g. MEMORY.md). */
export type FilePolicy = "replace" | "create-only";

/** `host` files are applied before the first-boot restore (the restore needs its script and credentials); `agent`
 *  files (the agent's config, secrets, unit and workspace seed) after it, so a seed never shadows restored memory. */
export type ApplyStage = "host" | "agent";

/** `affects` entry that reruns the plugin installer when the file changes. */
export const AFFECTS_PLUGINS = "plugins";

export interface BundleFile {
    /** Absolute path on the host. */
    path: string;
    /** UTF-8 content. */
    content: string;
    owner: string;
    group: string;
    /** Octal, 4 digits, e.g. "0644". Secrets must not be readable by group or others. */
    mode: string;
    policy: FilePolicy;
    /** Content is a credential: digested only together with the other secrets, never shown. */
    secret: boolean;
    /** Units (declared in `services`) to restart when this file changes, or `AFFECTS_PLUGINS`. A change under
     *  /etc/systemd/system also reloads systemd (added automatically). */
    affects?: string[];
    /** Default: `agent` when owned by the agent user, else `host`. */
    stage?: ApplyStage;
}

export interface BundleDir {
    /** Absolute path; created if missing, and owner/mode corrected if wrong (cloud-init leaves some root-owned). */
    path: string;
    owner: string;
    group: string;
    mode: string;
    /** Default: as for files. */
    stage?: ApplyStage;
}

export interface BundleService {
    /** e.g. "cloudflared.service", "openclaw-backup.timer", "openclaw-gateway.service". */
    unit: string;
    /** Start or restart without waiting for the unit to report ready (`--no-block`): a tunnel that cannot reach
     *  Cloudflare yet keeps retrying on its own and must not hold up the gateway or hang the push. */
    noBlock?: boolean;
}

export interface Bundle {
    /** The user the gateway runs as (host contract: `openclaw`). */
    agentUser: string;
    files: BundleFile[];
    /** Directories with their owner and mode, created/fixed before the files of their stage (parents first). */
    dirs?: BundleDir[];
    /** Enabled and started in this order (system ones first); restarted only when a file that `affects` them changed. */
    services?: BundleService[];
    /** First-boot restore: runs `script --snapshot FROM --first-boot` once per server, unless FROM is `none`. */
    restore?: { from: string; script: string; marker: string };
    /** The plugin installer (host path) and its arguments (package specs, not secret); run as root before the services
     *  when a file affecting `plugins` changed, and on the first push. With `afterGateway`, the same push runs it once
     *  more, as `script --after-gateway`, once the gateway is ready: for what the gateway does not need to start (the
     *  browser), so it is never on the way to the gateway's first start; a failure there fails the push and is retried
     *  by the next one. */
    pluginInstaller?: { script: string; args: string[]; afterGateway?: boolean };
    /** The OpenClaw release: after the first-boot restore and before the agent's files, the applier runs
     *  `script apply --spec SPEC --config <config's bundled content> --plugins <installer args> --ready-url <readiness>`
     *  (cloud-init/upgrade-openclaw.sh): install side by side, then switch, guarded and rolled back on failure. */
    release?: { script: string; spec: string; config?: string };
    /** Wait for `url` (loopback) to answer 200; on timeout fail with the last 40 journal lines of `unit`. */
    readiness?: { url: string; unit: string; timeoutSeconds: number };
    /** Where pending effects and markers of the push live. Default /var/lib/openclaw-vps/push. */
    stateDir?: string;
    /** A user unit of the agent user that an older push installed (the gateway, before it became a system unit):
     *  before the services start, stopped, disabled and removed if present, and linger turned off. */
    retireUserUnit?: string;
    /** How long to wait for the agent user's systemd manager when retiring a user unit. Default 60. */
    userManagerTimeoutSeconds?: number;
}

export interface RenderOptions {
    /** Test and stand-in-VPS hooks only (production passes none): exported before the applier runs. Allowed keys:
     *  PATH and OPENCLAW_VPS_* (e.g. OPENCLAW_VPS_ROOT, a prefix for every host path). */
    environment?: Record<string, string>;
}

export const APPLIER_PATH = path.resolve(__dirname, "..", "..", "cloud-init", "apply-bundle.sh");
/** Key of the one digest that covers every secret file (the caller marks its value secret). */
export const SECRETS_DIGEST_KEY = "(secrets)";
/** Key of the digest of everything else that shapes the push: the applier, owners, modes, policies, services. */
export const LAYOUT_DIGEST_KEY = "(layout)";

const HEREDOC_END = "OPENCLAW_VPS_BUNDLE_EOF"; // `_` is not in the base64 alphabet: no content line can equal it
const SAFE_PATH = /^(\/[A-Za-z0-9._@+-]+)+$/;
const SAFE_NAME = USER_NAME_PATTERN;
const SAFE_UNIT = /^[A-Za-z0-9_.@-]+\.(service|timer|socket|path|target)$/;
/** Installer arguments travel as one space-separated option: plain words only (package specs such as @scope/name@1.2.3). */
const SAFE_ARG = /^[A-Za-z0-9@/._=:+-]+$/;
const LOOPBACK_URL = /^http:\/\/127\.0\.0\.1:\d{1,5}\/[A-Za-z0-9/_.-]*$/;
const SYSTEM_UNIT_DIR = "/etc/systemd/system/";

function sha256(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

function checkPath(what: string, p: string, problems: string[]): void {
    if (!SAFE_PATH.test(p) || p.split("/").some((part) => part === "." || part === "..")) {
        problems.push(`${what}: path ${JSON.stringify(p)} must be absolute and plain ([A-Za-z0-9._@+-] segments)`);
    }
}

function checkOwnership(what: string, item: { owner: string; group: string; mode: string }, problems: string[]): void {
    if (!SAFE_NAME.test(item.owner)) problems.push(`${what}: owner ${JSON.stringify(item.owner)} is not a user name`);
    if (!SAFE_NAME.test(item.group)) problems.push(`${what}: group ${JSON.stringify(item.group)} is not a group name`);
    if (!/^0[0-7]{3}$/.test(item.mode)) problems.push(`${what}: mode ${JSON.stringify(item.mode)} must look like 0644`);
}

/** Every problem of the bundle at once; empty when it can be rendered. */
export function validateBundle(bundle: Bundle): string[] {
    const problems: string[] = [];
    if (!SAFE_NAME.test(bundle.agentUser)) problems.push(`agentUser ${JSON.stringify(bundle.agentUser)} is not a user name`);
    const units = new Set<string>();
    for (const s of bundle.services ?? []) {
        if (!SAFE_UNIT.test(s.unit)) problems.push(`service ${JSON.stringify(s.unit)} is not a unit name`);
        if (units.has(s.unit)) problems.push(`service ${s.unit} is listed twice`);
        units.add(s.unit);
    }
    if (bundle.retireUserUnit !== undefined && !SAFE_UNIT.test(bundle.retireUserUnit))
        problems.push(`retireUserUnit ${JSON.stringify(bundle.retireUserUnit)} is not a unit name`);
    const seen = new Set<string>();
    for (const d of bundle.dirs ?? []) {
        checkPath(`directory ${d.path}`, d.path, problems);
        checkOwnership(`directory ${d.path}`, d, problems);
        if (seen.has(d.path)) problems.push(`${d.path} is listed twice`);
        seen.add(d.path);
    }
    for (const f of bundle.files) {
        const what = `file ${f.path}`;
        checkPath(what, f.path, problems);
        checkOwnership(what, f, problems);
        if (seen.has(f.path)) problems.push(`${f.path} is listed twice`);
        seen.add(f.path);
        if (f.policy !== "replace" && f.policy !== "create-only") problems.push(`${what}: unknown policy ${f.policy}`);
        if (f.secret && /^0[0-7]{3}$/.test(f.mode) && (parseInt(f.mode, 8) & 0o077) !== 0) {
            problems.push(`${what}: a secret must not be readable by group or others (mode ${f.mode}; use 0600)`);
        }
        if (f.secret && f.policy !== "replace") problems.push(`${what}: a secret must be policy "replace" (it rotates)`);
        for (const a of f.affects ?? []) {
            if (a !== AFFECTS_PLUGINS && !units.has(a))
                problems.push(`${what}: affects ${JSON.stringify(a)}, which is not a declared service`);
        }
        if (f.affects?.includes(AFFECTS_PLUGINS) && !bundle.pluginInstaller) {
            problems.push(`${what}: affects plugins but the bundle has no pluginInstaller`);
        }
        if (f.stage !== undefined && f.stage !== "host" && f.stage !== "agent") problems.push(`${what}: unknown stage ${f.stage}`);
    }
    if (bundle.restore) {
        if (!parseRestoreFrom(bundle.restore.from)) {
            problems.push(`restore.from ${JSON.stringify(bundle.restore.from)} is not a restoreFrom value`);
        }
        checkPath("restore.script", bundle.restore.script, problems);
        checkPath("restore.marker", bundle.restore.marker, problems);
    }
    if (bundle.pluginInstaller !== undefined) {
        checkPath("pluginInstaller.script", bundle.pluginInstaller.script, problems);
        for (const arg of bundle.pluginInstaller.args) {
            if (!SAFE_ARG.test(arg))
                problems.push(`pluginInstaller argument ${JSON.stringify(arg)} has characters outside [A-Za-z0-9@/._=:+-]`);
        }
    }
    if (bundle.release) {
        checkPath("release.script", bundle.release.script, problems);
        checkPath("release.spec", bundle.release.spec, problems);
        if (bundle.release.config !== undefined) {
            checkPath("release.config", bundle.release.config, problems);
            if (!bundle.files.some((f) => f.path === bundle.release!.config && !f.secret))
                problems.push(`release.config ${bundle.release.config} is not a (non-secret) file of the bundle`);
        }
    }
    if (bundle.stateDir !== undefined) checkPath("stateDir", bundle.stateDir, problems);
    if (bundle.readiness) {
        const r = bundle.readiness;
        if (!LOOPBACK_URL.test(r.url)) problems.push(`readiness.url ${JSON.stringify(r.url)} must be http://127.0.0.1:PORT/path`);
        if (!SAFE_UNIT.test(r.unit)) problems.push(`readiness.unit ${JSON.stringify(r.unit)} is not a unit name`);
        if (!Number.isInteger(r.timeoutSeconds) || r.timeoutSeconds < 1)
            problems.push("readiness.timeoutSeconds must be a positive integer");
    }
    const umt = bundle.userManagerTimeoutSeconds;
    if (umt !== undefined && (!Number.isInteger(umt) || umt < 1)) problems.push("userManagerTimeoutSeconds must be a positive integer");
    return problems;
}

function assertValid(bundle: Bundle): void {
    const problems = validateBundle(bundle);
    if (problems.length) throw new Error(`invalid push bundle:\n- ${problems.join("\n- ")}`);
}

function stageOf(bundle: Bundle, item: { owner: string; stage?: ApplyStage }): ApplyStage {
    return item.stage ?? (item.owner === bundle.agentUser ? "agent" : "host");
}

/** The effects the applier records when the file changes (restart:UNIT, daemon-reload, ...). */
export function fileEffects(file: BundleFile): string[] {
    const effects = new Set<string>();
    if (file.path.startsWith(SYSTEM_UNIT_DIR)) effects.add("daemon-reload");
    for (const a of file.affects ?? []) effects.add(a === AFFECTS_PLUGINS ? "install-plugins" : `restart:${a}`);
    return [...effects];
}

/** Single-quotes a word for bash (validated values never need it; it keeps the generated calls obviously inert). */
const q = shellQuote;

function base64Lines(content: string): string {
    const encoded = Buffer.from(content, "utf8").toString("base64");
    return (encoded.match(/.{1,76}/g) ?? []).join("\n");
}

let applierCache: string | undefined;
/** The applier library (cloud-init/apply-bundle.sh), embedded in every rendered script. */
export function applierLibrary(): string {
    applierCache ??= fs.readFileSync(APPLIER_PATH, "utf8");
    return applierCache;
}

/**
 * The script that applies the bundle: run it as `sudo bash -s` with the script on stdin. File contents travel as
 * base64 inside quoted heredocs (nothing is expanded, no content is ever a command argument); the script itself is a
 * secret when the bundle has secrets.
 */
export function renderBundleScript(bundle: Bundle, options: RenderOptions = {}): string {
    assertValid(bundle);
    const out: string[] = [
        "#!/usr/bin/env bash",
        `# Rendered by components/render/bundle.ts: the openclaw-vps push (${bundle.files.length} files). Run it as`,
        "# `sudo bash -s` with this script on stdin; it prints a summary and never a file's content.",
    ];
    for (const [key, value] of Object.entries(options.environment ?? {})) {
        if (!/^(PATH|OPENCLAW_VPS_[A-Z0-9_]+)$/.test(key)) throw new Error(`environment override ${key} is not allowed`);
        out.push(`export ${key}=${q(value)}`);
    }
    out.push(applierLibrary().replace(/^#!.*\n/, ""));
    out.push("bundle_define() {");
    const opt = (k: string, v: string | number) => out.push(`    bundle_option ${k} ${q(String(v))}`);
    opt("agent_user", bundle.agentUser);
    opt("restore_from", bundle.restore?.from ?? "none");
    opt("restore_script", bundle.restore?.script ?? `${HOST_DIRS.bin}/restore.sh`);
    opt("restore_marker", bundle.restore?.marker ?? HOST_FILES.restoreMarker);
    opt("baseline_script", `${HOST_DIRS.bin}/baseline.sh`);
    opt("integrity_script", `${HOST_DIRS.bin}/integrity.sh`);
    opt("plugin_installer", bundle.pluginInstaller?.script ?? "");
    opt("plugin_args", bundle.pluginInstaller?.args.join(" ") ?? "");
    opt("tools_after_gateway", bundle.pluginInstaller?.afterGateway ? 1 : 0);
    opt("state_dir", bundle.stateDir ?? HOST_FILES.pushState);
    opt("release_script", bundle.release?.script ?? "");
    opt("release_spec", bundle.release?.spec ?? "");
    opt("release_config", bundle.release?.config ?? "");
    if (bundle.userManagerTimeoutSeconds) opt("user_manager_timeout", bundle.userManagerTimeoutSeconds);
    if (bundle.retireUserUnit) opt("retire_user_unit", bundle.retireUserUnit);
    if (bundle.readiness) {
        opt("ready_url", bundle.readiness.url);
        opt("ready_unit", bundle.readiness.unit);
        opt("ready_timeout", bundle.readiness.timeoutSeconds);
    }
    for (const s of bundle.services ?? []) out.push(`    bundle_service ${q(s.unit)}${s.noBlock ? " no-block" : ""}`);
    // Parents before children, whatever order the caller listed them in.
    const dirs = [...(bundle.dirs ?? [])].sort((a, b) => a.path.split("/").length - b.path.split("/").length);
    for (const d of dirs) {
        out.push(`    bundle_dir ${q(d.path)} ${q(d.owner)} ${q(d.group)} ${q(d.mode)} ${stageOf(bundle, d)}`);
    }
    for (const f of bundle.files) {
        const effects = fileEffects(f);
        out.push(
            `    bundle_file ${q(f.path)} ${q(f.owner)} ${q(f.group)} ${q(f.mode)} ${f.policy} ${stageOf(bundle, f)} ` +
                `${q(effects.length ? effects.join(",") : "-")} <<'${HEREDOC_END}'`,
        );
        out.push(base64Lines(f.content), HEREDOC_END);
    }
    out.push("}", "", "bundle_main </dev/null", "");
    return out.join("\n");
}

/**
 * Pulumi triggers: `{ path: sha256(content) }` for every non-secret file, one digest over all secrets together
 * (SECRETS_DIGEST_KEY; the caller marks it secret) and one over the layout (LAYOUT_DIGEST_KEY: applier, owners,
 * modes, policies, services, restore, readiness), so a preview names exactly the files that change.
 */
export function bundleDigests(bundle: Bundle): Record<string, string> {
    assertValid(bundle);
    const digests: Record<string, string> = {};
    const secretHash = createHash("sha256");
    let secrets = 0;
    for (const f of [...bundle.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
        if (f.secret) {
            secretHash.update(`${f.path}\0${Buffer.byteLength(f.content)}\0${f.content}\0`);
            secrets++;
        } else {
            digests[f.path] = sha256(f.content);
        }
    }
    if (secrets) digests[SECRETS_DIGEST_KEY] = secretHash.digest("hex");
    const layout = {
        applier: sha256(applierLibrary()),
        agentUser: bundle.agentUser,
        dirs: bundle.dirs ?? [],
        files: bundle.files.map((f) => ({
            path: f.path,
            owner: f.owner,
            group: f.group,
            mode: f.mode,
            policy: f.policy,
            stage: stageOf(bundle, f),
            effects: fileEffects(f),
        })),
        services: bundle.services ?? [],
        restore: bundle.restore ?? null,
        pluginInstaller: bundle.pluginInstaller ?? null,
        release: bundle.release ?? null,
        readiness: bundle.readiness ?? null,
        stateDir: bundle.stateDir ?? null,
    };
    digests[LAYOUT_DIGEST_KEY] = sha256(JSON.stringify(layout));
    return digests;
}
