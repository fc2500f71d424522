// `npm run deploy [-- --stack NAME] [--yes] [--setup-only] [--skip-preflight] [--rebuild [--before TIME]] [--skip-backup]`: the one
// command that stands an agent up, and updates it (a snapshot is taken first, so a replaced server loses nothing the
// agent wrote). Creates the stack on the local state backend (passphrase secrets) if needed, runs the guided setup when
// the stack still lacks settings or holds the example's placeholders, checks the accounts (`npm run preflight`: stops
// before anything is created when one is not ready), adopts a memory bucket kept by an earlier `pulumi destroy`, then
// runs `pulumi up`. The setup also generates the backups' age key pair. `--rebuild` (after a compromise) replaces
// the server and every credential the host held (tunnel, gateway token, the host's R2 token) in one `pulumi up`; the
// bucket and its snapshots stay. `--before TIME` restores the newest snapshot R2 recorded before TIME (shown first,
// chosen on this machine with the read-only token), for this rebuild only.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../components/core/pins";
import { requestJson } from "../components/core/http";
import { PUBLIC_ENDPOINTS } from "../components/preflight";
import { resourceTypesWithRole } from "../components/providers";
import { NAMESPACE } from "../components/settings";
import { pulumiRunner } from "./lib/pulumi-cli";
import { guidedSetup, Prompter } from "./lib/setup";
import { parseBeforeTime } from "../components/core/backup-layout";
import { planRestore } from "../components/snapshots/plan";
import { connectTarget } from "./lib/target";
import { runBackup } from "./lib/operations";
import { bucketAccessFromStack } from "./lib/backup-access";
import { preflightStack } from "./preflight";

export { pulumiRunner };
import { stackFilePath } from "./lib/stack-config";

/** Prompts on a terminal (answers to secret questions are not echoed) or reads answers line by line from a pipe. */
export function terminalPrompter(
    input: NodeJS.ReadableStream = process.stdin,
    output: NodeJS.WritableStream = process.stderr,
): Prompter & { close(): void } {
    const rl = readline.createInterface({ input, output, terminal: (input as { isTTY?: boolean }).isTTY === true });
    let muted = false;
    const rlAny = rl as unknown as { _writeToOutput?: (s: string) => void; output: NodeJS.WritableStream };
    const original = rlAny._writeToOutput?.bind(rl);
    rlAny._writeToOutput = (s: string) => {
        if (!muted || s.startsWith("\n") || s.startsWith("\r\n")) original?.(s);
    };
    const lines: string[] = [];
    const waiters: ((line: string) => void)[] = [];
    rl.on("line", (line) => {
        const w = waiters.shift();
        if (w) w(line);
        else lines.push(line);
    });
    rl.on("close", () => waiters.splice(0).forEach((w) => w("")));
    const nextLine = () => new Promise<string>((resolve) => (lines.length ? resolve(lines.shift()!) : waiters.push(resolve)));
    return {
        say: (line) => output.write(`${line}\n`),
        ask: async (question, opts = {}) => {
            output.write(`\n${question}\n${opts.defaultValue ? `[${opts.defaultValue}] ` : ""}> `);
            muted = !!opts.secret;
            const answer = (await nextLine()).trim();
            muted = false;
            if (opts.secret) output.write("\n");
            return answer || opts.defaultValue || "";
        },
        close: () => rl.close(),
    };
}

/** Good defaults for the questions, from this machine: the SSH public key and its time zone. */
export function machineDefaults(home: string = os.homedir()): Record<string, string> {
    const defaults: Record<string, string> = {};
    for (const f of ["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"]) {
        const p = path.join(home, ".ssh", f);
        if (fs.existsSync(p)) {
            defaults.sshPublicKey = fs.readFileSync(p, "utf8").trim();
            break;
        }
    }
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz) defaults.timezone = tz;
    return defaults;
}

/** Resource types a compromised host could have learnt something from: replaced by `--rebuild`. */
export const rebuildTypes = (): string[] => [
    ...resourceTypesWithRole("server"),
    "random:index/randomBytes:RandomBytes", // the tunnel secret: replacing it replaces the tunnel and its token
    "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
    "random:index/randomPassword:RandomPassword", // the gateway token
    "cloudflare:index/apiToken:ApiToken", // the R2 credentials
];

/** Resources of those types that never reached a host, so a rebuild keeps them: the operator's read-only R2 token. */
export const KEPT_ON_REBUILD = /-reader-token$/;

/** URNs to replace on a rebuild, from `pulumi stack export` JSON. */
export function rebuildUrns(exportJson: string): string[] {
    const state = JSON.parse(exportJson) as { deployment?: { resources?: { urn: string; type: string }[] } };
    return (state.deployment?.resources ?? [])
        .filter((r) => rebuildTypes().includes(r.type) && !KEPT_ON_REBUILD.test(r.urn))
        .map((r) => r.urn);
}

/** Does the account already hold the bucket (kept by `pulumi destroy`)? Needs the Cloudflare token from the env. */
export async function bucketExists(
    accountId: string,
    bucket: string,
    token: string,
    apiBase = PUBLIC_ENDPOINTS.cloudflare,
): Promise<boolean> {
    const { status } = await requestJson(`${apiBase}/accounts/${accountId}/r2/buckets/${encodeURIComponent(bucket)}`, { token });
    if (status === 404) return false;
    if (status >= 400) throw new Error(`Cloudflare answered ${status} when asked about bucket ${bucket}`);
    return true;
}

function readStackFile(stack: string): { config: Record<string, unknown>; secretKeys: Set<string> } {
    const file = stackFilePath(stack);
    if (!fs.existsSync(file)) return { config: {}, secretKeys: new Set() };
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [k, v] of Object.entries(doc.config ?? {})) {
        if (v && typeof v === "object" && !Array.isArray(v) && "secure" in v) secretKeys.add(k);
        else config[k] = v;
    }
    return { config, secretKeys };
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "prod" },
            yes: { type: "boolean", default: false },
            "setup-only": { type: "boolean", default: false },
            rebuild: { type: "boolean", default: false },
            before: { type: "string" },
            "skip-backup": { type: "boolean", default: false },
            "skip-preflight": { type: "boolean", default: false },
        },
    });
    const stack = values.stack!;
    if (values.before !== undefined) {
        if (!values.rebuild) throw new Error("--before chooses what a NEW server restores: use it with --rebuild");
        if (!parseBeforeTime(values.before))
            throw new Error(`--before ${JSON.stringify(values.before)}: expected an ISO time with a zone, e.g. 2026-11-20T03:00:00Z`);
    }
    const prompter = terminalPrompter();
    const env = { ...process.env };
    try {
        fs.mkdirSync(path.join(PROJECT_ROOT, ".pulumi-state"), { recursive: true });
        if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
            prompter.say("Your stack's secrets are encrypted with a passphrase (export PULUMI_CONFIG_PASSPHRASE to skip this question).");
            env.PULUMI_CONFIG_PASSPHRASE = await prompter.ask("Passphrase for the stack's secrets:", { secret: true });
        }
        const pulumi = pulumiRunner(env);
        const select = await pulumi.run(["stack", "select", "--create", stack, "--secrets-provider", "passphrase"]);
        if (select.code !== 0) throw new Error(`pulumi stack select ${stack} failed: ${select.stderr.trim()}`);

        const { config, secretKeys } = readStackFile(stack);
        const stored = await guidedSetup({ stackConfig: config, secretKeys, prompter, pulumi, env, defaults: machineDefaults() });
        if (stored.length) prompter.say(`Stored ${stored.length} setting(s) in Pulumi.${stack}.yaml (secrets encrypted).`);
        if (values["setup-only"]) return;

        // The accounts, before anything is created: a token without a permission, a zone without the hostname, R2 off,
        // a server type not offered in the region... stop here, each with where to fix it.
        if (!values["skip-preflight"]) {
            prompter.say("\nChecking the accounts before anything is created (npm run preflight):");
            const report = await preflightStack(stack, env, { pulumi, say: (line) => prompter.say(line) });
            if (!report.ok) {
                throw new Error(
                    "the accounts are not ready (above: what is wrong and where to fix it); nothing was created. --skip-preflight skips the checks",
                );
            }
        }

        // A bucket kept by an earlier `pulumi destroy` is adopted, not created again (creation would fail).
        const after = readStackFile(stack).config;
        const accountId = String(after[`${NAMESPACE}:accountId`] ?? "");
        const bucket = String(after[`${NAMESPACE}:backupBucketName`] || `${after[`${NAMESPACE}:agentName`] ?? "openclaw"}-memory`);
        const exported = await pulumi.run(["stack", "export"]);
        const managed = exported.code === 0 && exported.stdout.includes('"cloudflare:index/r2Bucket:R2Bucket"');
        if (!managed && env.CLOUDFLARE_API_TOKEN && (await bucketExists(accountId, bucket, env.CLOUDFLARE_API_TOKEN))) {
            prompter.say(`Bucket ${bucket} already exists (kept from an earlier deploy): adopting it with its snapshots.`);
            await pulumi.run(["config", "set", `${NAMESPACE}:backupBucketAdopt`, "true"]);
        }

        // A deploy that replaces the server (new user data, server type, OpenClaw version) restores the latest
        // snapshot: take one now so nothing the agent wrote since the last hourly run is lost. Not on --rebuild:
        // after a compromise the host's current state is exactly what must not become "latest".
        const hasServer =
            exported.code === 0 && resourceTypesWithRole("server").some((type) => exported.stdout.includes(JSON.stringify(type)));
        if (hasServer && !values.rebuild && !values["skip-backup"]) {
            try {
                const remote = await connectTarget({ stack }, (line) => prompter.say(line));
                try {
                    const status = await runBackup(remote);
                    prompter.say(`Snapshot ${status.last_snapshot} taken before the update (a replaced server restores it).`);
                } finally {
                    remote.dispose();
                }
            } catch (err) {
                prompter.say(
                    `warning: no snapshot before the update (${(err as Error).message.split("\n")[0]}); a replaced server would restore the last scheduled one. --skip-backup silences this.`,
                );
            }
        }

        // --before: what the new server will restore, chosen now on this machine (read-only token, identity) and shown
        // before anything is replaced; the planner inside `pulumi up` chooses again from the same rule.
        let restoreFromBefore: string | undefined;
        if (values.before !== undefined) {
            const request = `before:${values.before}`;
            const preview = await planRestore({ ...(await bucketAccessFromStack(stack, env)), restoreFrom: request });
            prompter.say(`--before ${values.before}: the new server will ${preview.summary}.`);
            restoreFromBefore = String(readStackFile(stack).config[`${NAMESPACE}:restoreFrom`] ?? "latest");
            const set = await pulumi.run(["config", "set", `${NAMESPACE}:restoreFrom`, request]);
            if (set.code !== 0) throw new Error(`pulumi config set restoreFrom failed: ${set.stderr.trim()}`);
        }

        const replace: string[] = [];
        if (values.rebuild) {
            const urns = exported.code === 0 ? rebuildUrns(exported.stdout) : [];
            if (!urns.length) throw new Error("--rebuild: the stack has no server yet; run npm run deploy first");
            prompter.say(
                `Rebuild: replacing ${urns.length} resources (server, tunnel, gateway token, the host's R2 token); memory is restored from restoreFrom.`,
            );
            for (const urn of urns) replace.push("--replace", urn);
        }

        // Hand the terminal to Pulumi (its own "perform this update?" prompt reads stdin).
        prompter.close();
        const up = await pulumiRunner(env, PROJECT_ROOT, true).run(["up", ...replace, ...(values.yes ? ["--yes", "--skip-preview"] : [])]);
        if (up.code !== 0) {
            if (restoreFromBefore !== undefined)
                console.error(
                    `note: restoreFrom stays before:${values.before} for the retry; set it back with \`pulumi config set restoreFrom ${restoreFromBefore}\`.`,
                );
            process.exit(up.code);
        }
        if (restoreFromBefore !== undefined) {
            // --before was for this rebuild only: restoreFrom applies to new servers, the next one restores as before.
            await pulumiRunner(env).run(["config", "set", `${NAMESPACE}:restoreFrom`, restoreFromBefore]);
        }
        if (
            readStackFile(stack).config[`${NAMESPACE}:backupBucketAdopt`] === true ||
            readStackFile(stack).config[`${NAMESPACE}:backupBucketAdopt`] === "true"
        ) {
            await pulumi.run(["config", "set", `${NAMESPACE}:backupBucketAdopt`, "false"]);
        }
        console.error("\nDone. `npm run verify` audits the live host; `pulumi stack output` shows the URL and the SSH command.");
    } finally {
        prompter.close();
    }
}

if (require.main === module) {
    main().catch((err) => {
        console.error(`deploy failed: ${err instanceof Error ? err.message : err}`);
        process.exit(1);
    });
}
