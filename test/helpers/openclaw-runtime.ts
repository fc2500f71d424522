// Shared test utilities for the agent runtime (openclaw.json, workspace, gateway unit): a typical config input,
// sentinel secrets that must never leak, and wrappers around the pinned OpenClaw CLI installed in node_modules.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { OpenclawConfigInput } from "../../components/render/openclaw-config";
import { PROJECT_ROOT, readOpenclawPin } from "../../components/core/pins";

/** Values no rendered file, argv or log may ever contain. */
export const SENTINEL_SECRETS = {
    OPENCLAW_GATEWAY_TOKEN: "sentinel-gateway-token-7f3a9c",
    OPENCLAW_GATEWAY_PASSWORD: "sentinel-gateway-password-51be2d",
    ANTHROPIC_API_KEY: "sk-ant-sentinel-llm-key-0c4e81",
    VOYAGE_API_KEY: "pa-sentinel-embedding-key-9d2b77",
} as const;

/** Channel tokens of each platform's shape (the schema accepts them); like SENTINEL_SECRETS, they must never leak. */
export const CHANNEL_SENTINELS = {
    telegramBotToken: "123456789:AAEsentinelTelegramBotToken012345678",
    discordBotToken: "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GsEnTi.sentinelDiscordBotToken0123456789ab",
    slackBotToken: "xoxb-1234567890123-1234567890123-sentinelSlackBot0123456",
    slackAppToken: "xapp-1-A0123456789-1234567890123-sentinelslackapp0123456789abcdef",
} as const;

export function baseConfigInput(): OpenclawConfigInput {
    return {
        openclawVersion: readOpenclawPin().version,
        hostname: "agent.example.com",
        timezone: "Europe/Berlin",
        accessEmails: ["operator@example.com"],
        heartbeat: { checklist: "- Check disk usage\n", activeHours: { start: "08:00", end: "22:00" } },
        memorySearch: { provider: "voyage", hasEmbeddingKey: true },
    };
}

/** The pinned OpenClaw CLI; fails loudly when it is missing (tests never skip). */
export function openclawBin(): string {
    const bin = path.join(PROJECT_ROOT, "node_modules", ".bin", "openclaw");
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npm ci\` on Node 24 (OpenClaw is pinned in package.json)`);
    return bin;
}

/** Node 24 must run the tests (OpenClaw 2026.9.6 refuses older Node). */
export function assertNode24(): void {
    const major = Number(process.versions.node.split(".")[0]);
    if (major !== 24) throw new Error(`tests need Node 24 on PATH (found ${process.version}); see README`);
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

// A deadline for a hang, not a performance bound: OpenClaw commands take 2-30 s here; a machine loaded 15x (six test
// runs on two cores) took over 60 s for one `security audit`.
const DEFAULT_RUN_TIMEOUT_MS = 300_000;

export function run(
    file: string,
    args: string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
    return new Promise((resolve) => {
        execFile(
            file,
            args,
            {
                env: options.env ?? process.env,
                cwd: options.cwd,
                timeout: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
                maxBuffer: 32 * 1024 * 1024,
            },
            (error, stdout, stderr) => {
                const code = error
                    ? typeof (error as NodeJS.ErrnoException).code === "number"
                        ? Number((error as NodeJS.ErrnoException).code)
                        : 1
                    : 0;
                resolve({ code, stdout: String(stdout), stderr: String(stderr) });
            },
        );
    });
}

export interface ValidateResult {
    code: number;
    valid: boolean;
    issues: { path: string; message: string }[];
    warnings: { path: string; message: string }[];
    raw: string;
}

/** `openclaw config validate --json` of the pinned OpenClaw on one config file, in a throwaway HOME. */
export async function validateConfig(configPath: string): Promise<ValidateResult> {
    const home = tempDir("oc-validate-home");
    try {
        const result = await run(openclawBin(), ["config", "validate", "--json"], {
            env: {
                PATH: process.env.PATH,
                HOME: home,
                OPENCLAW_CONFIG_PATH: configPath,
                OPENCLAW_STATE_DIR: path.join(home, ".openclaw"),
                NO_COLOR: "1",
            },
        });
        const start = result.stdout.indexOf("{");
        if (start < 0) throw new Error(`openclaw config validate printed no JSON (exit ${result.code}): ${result.stdout}${result.stderr}`);
        const report = JSON.parse(result.stdout.slice(start));
        return {
            code: result.code,
            valid: report.valid === true,
            issues: report.issues ?? [],
            warnings: report.warnings ?? [],
            raw: result.stdout,
        };
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
}
