// The stage scripts: what the deploy runs over SSH beside provisioning on a new server, each in its own session
// (stdin of `sudo -n bash -s`): the OpenClaw release's side-by-side install (render/openclaw-release.ts) and the
// headless browser's prefetch (renderBrowserStageScript below). Their host scripts and data files travel inside (base64
// in quoted here-documents), and everything sits in one function called on the last line, so a truncated transfer
// runs nothing.
import { HOST_FILES } from "../core/host-contract";
import { readHostFile } from "./host-files";

export interface StageScriptInput {
    /** What the script stages, for its header comment. */
    title: string;
    /** The renderer that made it, for its header comment. */
    renderer: string;
    /** Files written to a private temporary directory ($dir) before `run`. */
    files: { name: string; content: string }[];
    /** The file (one of `files`) that does the work, run with bash. */
    script: string;
    /** Its arguments, shell words (they may name "$dir"). */
    args: string;
    /** How long to wait for cloud-init's contract.env and provision.env (seconds; default 600). */
    waitSeconds?: number;
}

const base64Lines = (text: string) =>
    (
        Buffer.from(text, "utf8")
            .toString("base64")
            .match(/.{1,76}/g) ?? []
    ).join("\n");

export function renderStageScript(input: StageScriptInput): string {
    if (!input.files.some((f) => f.name === input.script)) throw new Error(`stage script: ${input.script} is not among its files`);
    const wait = input.waitSeconds ?? 600;
    return [
        "#!/usr/bin/env bash",
        `# Rendered by ${input.renderer}: ${input.title}.`,
        "set -euo pipefail",
        "stage_main() {",
        // cloud-init writes contract.env and provision.env before it creates the admin user, so they are normally there
        // by the time SSH lets us in; wait a little in case they are not.
        `    for _ in $(seq ${wait}); do [[ -r ${HOST_FILES.contractEnv} && -r ${HOST_FILES.provisionEnv} ]] && break; sleep 1; done`,
        "    dir=$(mktemp -d /run/openclaw-vps-stage.XXXXXX)",
        "    trap 'rm -rf -- \"$dir\"' EXIT",
        ...input.files.flatMap((f) => [
            `    base64 -d >"$dir/${f.name}" <<'OPENCLAW_VPS_STAGE_EOF'`,
            base64Lines(f.content),
            "OPENCLAW_VPS_STAGE_EOF",
        ]),
        `    bash "$dir/${input.script}" ${input.args}`,
        "}",
        "stage_main </dev/null",
        "",
    ].join("\n");
}

/**
 * The deploy's browser stage (browser: true): install-browser.sh --prefetch, started with the release stage on a new
 * server. Once provision.sh is done with apt, it puts Debian's sources in place (Ubuntu), refreshes apt's lists and
 * downloads Chromium's packages into apt's cache, at the lowest priority, beside provisioning's remaining steps and the
 * release's `npm ci`. The install itself is the push's run after /readyz (install-tools.sh --after-gateway), which
 * waits for this stage on one lock: unpacking the packages beside the gateway's first start slowed that start by
 * 18-23 s (README "Benchmarks"). It carries no secret.
 */
export function renderBrowserStageScript(options: { waitSeconds?: number } = {}): string {
    return renderStageScript({
        title: "prefetch the headless browser beside provisioning",
        renderer: "components/render/stage-script.ts",
        files: [{ name: "install-browser.sh", content: readHostFile("install-browser.sh") }],
        script: "install-browser.sh",
        args: "--prefetch",
        waitSeconds: options.waitSeconds,
    });
}
