// BackupStore owns where the agent's memory outlives its server: the R2 bucket (retained when the stack is
// destroyed), bucket lock rules by prefix that make every archive undeletable and unchangeable for `lockDays` (fulls
// one day longer: so a compromised host cannot erase history, and no protected diff loses its full), lifecycle rules
// that expire diffs after `retentionDays` and fulls a day later, and two API tokens scoped to this one bucket: the
// host's (object read and write, turned into the S3 credentials rclone uses) and the operator's READ-ONLY one, which
// never reaches a server (`npm run snapshots`, and the restore planner that `pulumi up` runs on the operator's machine).
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { bucketExpiryRules, bucketLockRules } from "./core/backup-layout";
import { r2Endpoint } from "./render/rclone";

export interface BackupStoreArgs {
    accountId: string;
    bucketName: string;
    /** R2 location hint; "auto" lets Cloudflare choose. Only honoured when the bucket is first created. */
    location: string;
    /** Days each diff is locked against delete and overwrite (fulls one more). Must be below `retentionDays`. */
    lockDays: number;
    /** Days after which R2 deletes diffs (fulls one day later). */
    retentionDays: number;
    /** Name of the host's API token at Cloudflare (the read-only one is named after it). */
    tokenName: string;
    /** Adopt a bucket that already exists (kept by an earlier `pulumi destroy`) instead of creating it. */
    adoptExistingBucket: boolean;
}

/** Object-level permission groups, looked up by name at run time (their ids are not stable across accounts). */
export const R2_OBJECT_PERMISSION_GROUPS = ["Workers R2 Storage Bucket Item Read", "Workers R2 Storage Bucket Item Write"] as const;
/** The operator's token may only read. */
export const R2_READ_ONLY_PERMISSION_GROUPS = ["Workers R2 Storage Bucket Item Read"] as const;

const DAY = 86_400;

/** R2 bucket lock rules (components/core/backup-layout.ts bucketLockRules, as Cloudflare takes them). */
export function lockRules(lockDays: number): cloudflare.types.input.R2BucketLockRule[] {
    return bucketLockRules(lockDays).map((r) => ({
        id: r.id,
        enabled: true,
        prefix: r.prefix,
        condition: r.maxAgeSeconds === undefined ? { type: "Indefinite" } : { type: "Age", maxAgeSeconds: r.maxAgeSeconds },
    }));
}

export function lifecycleRules(retentionDays: number): cloudflare.types.input.R2BucketLifecycleRule[] {
    return [
        ...bucketExpiryRules(retentionDays).map((r) => ({
            id: r.id,
            enabled: true,
            conditions: { prefix: r.prefix },
            deleteObjectsTransition: { condition: { type: "Age", maxAge: r.maxAgeSeconds! } },
        })),
        {
            id: "abort-stale-uploads",
            enabled: true,
            conditions: { prefix: "" },
            abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 1 * DAY } },
        },
    ];
}

/** The resource key that scopes an API token to exactly one R2 bucket (default jurisdiction). */
export function bucketResourceKey(accountId: string, bucketName: string): string {
    return `com.cloudflare.edge.r2.bucket.${accountId}_default_${bucketName}`;
}

/** R2's S3 secret access key is the SHA-256 (hex) of the API token value. */
export function s3SecretFromTokenValue(tokenValue: string): string {
    return crypto.createHash("sha256").update(tokenValue).digest("hex");
}

export class BackupStore extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    /** S3 endpoint of the account's R2. */
    readonly endpoint: pulumi.Output<string>;
    /** S3 access key id (the token id). Secret. */
    readonly accessKeyId: pulumi.Output<string>;
    /** S3 secret access key (SHA-256 of the token value). Secret. */
    readonly secretAccessKey: pulumi.Output<string>;
    /** The operator's read-only S3 key pair (never on a host). Secret. */
    readonly readerAccessKeyId: pulumi.Output<string>;
    readonly readerSecretAccessKey: pulumi.Output<string>;

    constructor(name: string, args: BackupStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("openclaw-vps:index:BackupStore", name, {}, opts);
        const parent = { parent: this };

        const bucket = new cloudflare.R2Bucket(
            `${name}-bucket`,
            {
                accountId: args.accountId,
                name: args.bucketName,
                location: args.location === "auto" ? undefined : args.location,
            },
            {
                parent: this,
                // The rebuild runbook relies on this: `pulumi destroy` leaves the bucket (and the memory) in place.
                retainOnDelete: true,
                import: args.adoptExistingBucket ? `${args.accountId}/${args.bucketName}/default` : undefined,
            },
        );

        new cloudflare.R2BucketLock(
            `${name}-bucket-lock`,
            {
                accountId: args.accountId,
                bucketName: bucket.name,
                rules: lockRules(args.lockDays),
            },
            parent,
        );

        new cloudflare.R2BucketLifecycle(
            `${name}-bucket-lifecycle`,
            {
                accountId: args.accountId,
                bucketName: bucket.name,
                rules: lifecycleRules(args.retentionDays),
            },
            parent,
        );

        const lookup = (groupName: string) =>
            cloudflare.getApiTokenPermissionGroupsListOutput({ name: encodeURIComponent(groupName) }, parent).results.apply((results) => {
                const match = results.find((r) => r.name === groupName);
                if (!match) throw new Error(`Cloudflare has no API token permission group named "${groupName}"`);
                return { id: match.id };
            });
        const bucketOnly = bucket.name.apply((b) => JSON.stringify({ [bucketResourceKey(args.accountId, b)]: "*" }));

        const token = new cloudflare.ApiToken(
            `${name}-token`,
            {
                name: args.tokenName,
                policies: [{ effect: "allow", permissionGroups: R2_OBJECT_PERMISSION_GROUPS.map(lookup), resources: bucketOnly }],
            },
            parent,
        );
        const reader = new cloudflare.ApiToken(
            `${name}-reader-token`,
            {
                name: `${args.tokenName} (read-only, operator)`,
                policies: [{ effect: "allow", permissionGroups: R2_READ_ONLY_PERMISSION_GROUPS.map(lookup), resources: bucketOnly }],
            },
            parent,
        );

        this.bucketName = bucket.name;
        this.endpoint = pulumi.output(r2Endpoint(args.accountId));
        this.accessKeyId = pulumi.secret(token.id);
        this.secretAccessKey = pulumi.secret(token.value.apply(s3SecretFromTokenValue));
        this.readerAccessKeyId = pulumi.secret(reader.id);
        this.readerSecretAccessKey = pulumi.secret(reader.value.apply(s3SecretFromTokenValue));
        this.registerOutputs({
            bucketName: this.bucketName,
            endpoint: this.endpoint,
            accessKeyId: this.accessKeyId,
            secretAccessKey: this.secretAccessKey,
            readerAccessKeyId: this.readerAccessKeyId,
            readerSecretAccessKey: this.readerSecretAccessKey,
        });
    }
}
