// BackupStore owns where the agent's memory outlives its server: the R2 bucket (retained when the stack is
// destroyed), a bucket lock that makes every snapshot undeletable and unchangeable for `lockDays` (so a compromised
// host cannot erase history), a lifecycle rule that expires snapshots after `retentionDays`, and an API token scoped
// to this one bucket with object read/write only, turned into the S3 credentials rclone uses.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { r2Endpoint } from "./render/rclone";

export interface BackupStoreArgs {
    accountId: string;
    bucketName: string;
    /** R2 location hint; "auto" lets Cloudflare choose. Only honoured when the bucket is first created. */
    location: string;
    /** Days each snapshot is locked against delete and overwrite. Must be below `retentionDays`. */
    lockDays: number;
    /** Days after which snapshots are deleted by R2. */
    retentionDays: number;
    /** Name of the API token at Cloudflare. */
    tokenName: string;
    /** Adopt a bucket that already exists (kept by an earlier `pulumi destroy`) instead of creating it. */
    adoptExistingBucket: boolean;
}

/** Everything under this prefix is a snapshot: locked, then expired. Pointers (e.g. `latest`) live outside it. */
export const SNAPSHOT_PREFIX = "snapshots/";

/** Object-level permission groups, looked up by name at run time (their ids are not stable across accounts). */
export const R2_OBJECT_PERMISSION_GROUPS = ["Workers R2 Storage Bucket Item Read", "Workers R2 Storage Bucket Item Write"] as const;

const DAY = 86_400;

export function lockRules(lockDays: number): cloudflare.types.input.R2BucketLockRule[] {
    return [{ id: "lock-snapshots", enabled: true, prefix: SNAPSHOT_PREFIX, condition: { type: "Age", maxAgeSeconds: lockDays * DAY } }];
}

export function lifecycleRules(retentionDays: number): cloudflare.types.input.R2BucketLifecycleRule[] {
    return [
        {
            id: "expire-snapshots",
            enabled: true,
            conditions: { prefix: SNAPSHOT_PREFIX },
            deleteObjectsTransition: { condition: { type: "Age", maxAge: retentionDays * DAY } },
        },
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

        const groups = R2_OBJECT_PERMISSION_GROUPS.map((groupName) =>
            cloudflare.getApiTokenPermissionGroupsListOutput({ name: encodeURIComponent(groupName) }, parent).results.apply((results) => {
                const match = results.find((r) => r.name === groupName);
                if (!match) throw new Error(`Cloudflare has no API token permission group named "${groupName}"`);
                return { id: match.id };
            }),
        );

        const token = new cloudflare.ApiToken(
            `${name}-token`,
            {
                name: args.tokenName,
                policies: [
                    {
                        effect: "allow",
                        permissionGroups: groups,
                        resources: bucket.name.apply((b) => JSON.stringify({ [bucketResourceKey(args.accountId, b)]: "*" })),
                    },
                ],
            },
            parent,
        );

        this.bucketName = bucket.name;
        this.endpoint = pulumi.output(r2Endpoint(args.accountId));
        this.accessKeyId = pulumi.secret(token.id);
        this.secretAccessKey = pulumi.secret(token.value.apply(s3SecretFromTokenValue));
        this.registerOutputs({
            bucketName: this.bucketName,
            endpoint: this.endpoint,
            accessKeyId: this.accessKeyId,
            secretAccessKey: this.secretAccessKey,
        });
    }
}
