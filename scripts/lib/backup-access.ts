// How the operator's commands reach the memory bucket: with the stack's READ-ONLY token (stack outputs
// backupReaderAccessKeyId/backupReaderSecretAccessKey, secrets) and the age identity (config backupIdentity, a
// secret), straight from this machine to R2 — never through the host. Reading them needs the stack's passphrase
// (PULUMI_CONFIG_PASSPHRASE), as every `pulumi ... --show-secrets` does. `--access FILE` takes the same five values
// from a JSON file instead (0600; for a machine without the stack, and for tests).
import * as fs from "node:fs";
import { r2Endpoint } from "../../components/render/rclone";
import { NAMESPACE } from "../../components/settings";
import type { PlanInput } from "../../components/snapshots/plan";
import { pulumiRunner } from "./pulumi-cli";
import { readStackConfig } from "./stack-config";

export type BucketAccess = Omit<PlanInput, "restoreFrom">;

const FIELDS = ["endpoint", "bucket", "accessKeyId", "secretAccessKey", "identity"] as const;

export function bucketAccessFromFile(file: string): BucketAccess {
    const mode = fs.statSync(file).mode & 0o077;
    if (mode) throw new Error(`${file} holds the read-only key and the age identity: make it private (chmod 600 ${file})`);
    const data = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    const missing = FIELDS.filter((f) => typeof data[f] !== "string" || data[f] === "");
    if (missing.length) throw new Error(`${file} lacks ${missing.join(", ")} (expected JSON with ${FIELDS.join(", ")})`);
    return Object.fromEntries(FIELDS.map((f) => [f, data[f]])) as unknown as BucketAccess;
}

export async function bucketAccessFromStack(stack: string, env: NodeJS.ProcessEnv = process.env): Promise<BucketAccess> {
    const pulumi = pulumiRunner(env);
    const outputs = await pulumi.run(["stack", "output", "--json", "--show-secrets", "--stack", stack]);
    if (outputs.code !== 0) throw new Error(`pulumi stack output --stack ${stack} failed: ${outputs.stderr.trim()}`);
    const out = JSON.parse(outputs.stdout || "{}") as Record<string, string>;
    if (!out.backupReaderAccessKeyId || !out.backupReaderSecretAccessKey || !out.bucketName)
        throw new Error(
            `stack ${stack} has no read-only backup token yet (outputs backupReaderAccessKeyId/SecretAccessKey): run npm run deploy`,
        );
    const identity = await pulumi.run(["config", "get", "--stack", stack, `${NAMESPACE}:backupIdentity`]);
    if (identity.code !== 0) throw new Error(`pulumi config get backupIdentity failed: ${identity.stderr.trim()}`);
    const accountId = readStackConfig(stack).config[`${NAMESPACE}:accountId`];
    return {
        endpoint: r2Endpoint(accountId),
        bucket: out.bucketName,
        accessKeyId: out.backupReaderAccessKeyId,
        secretAccessKey: out.backupReaderSecretAccessKey,
        identity: identity.stdout.trim(),
    };
}

export function bucketAccess(flags: { stack?: string; access?: string }): Promise<BucketAccess> {
    return flags.access ? Promise.resolve(bucketAccessFromFile(flags.access)) : bucketAccessFromStack(flags.stack ?? "prod");
}
