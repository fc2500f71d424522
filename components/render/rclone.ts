// Renders the two settings files of the backup job on the host: /etc/openclaw-vps/rclone.conf (the `r2` remote,
// with the bucket-scoped S3 credentials) and /etc/openclaw-vps/backup.env (what cloud-init/backup.sh and restore.sh
// read: the bucket, the age recipient, the bucket layout). Both are root:root 0600 and travel only inside the push's
// stdin, never in user data.
// Pure: plain data in, text out, no Pulumi imports.
import { BACKUP_LAYOUT, FULL_INTERVAL_SECONDS, parseRestoreFrom, RESTORE_FROM_EXPECTED } from "../core/backup-layout";
import { AGENT_USER, HOST_FILES, USER_NAME_PATTERN } from "../core/host-contract";

/** Where the push writes the files rendered here (host contract). */
export const RCLONE_CONFIG_PATH = HOST_FILES.rcloneConfig;
export const BACKUP_ENV_PATH = HOST_FILES.backupEnv;
/** Both carry or sit next to credentials: root-only. */
export const BACKUP_SETTINGS_MODE = "0600";
/** Name of the rclone remote; backup.env's BACKUP_REMOTE is `<remote>:<bucket>`. */
export const RCLONE_REMOTE_NAME = "r2";

export interface RcloneConfigInput {
    /** Cloudflare account id (32 hex characters): the R2 endpoint is https://<accountId>.r2.cloudflarestorage.com. */
    accountId: string;
    /** S3 access key id: the id of the bucket-scoped API token. */
    accessKeyId: string;
    /** S3 secret: SHA-256 hex of the token value. */
    secretAccessKey: string;
    /** Overrides the R2 endpoint (tests point it at a local S3 server). */
    endpoint?: string;
}

const ACCOUNT_ID = /^[0-9a-f]{32}$/;
/** rclone's INI parser has no quoting: a credential must be one line of printable ASCII without spaces. */
const CREDENTIAL = /^[\x21-\x7e]{1,256}$/;

export function r2Endpoint(accountId: string): string {
    if (!ACCOUNT_ID.test(accountId)) throw new Error(`renderRcloneConfig: accountId must be 32 lowercase hex characters`);
    return `https://${accountId}.r2.cloudflarestorage.com`;
}

/**
 * The `r2` remote. `no_check_bucket` because the token may only touch objects (it cannot create or even HEAD the
 * bucket); `acl = private` keeps objects private on S3 servers that honour ACLs.
 * Error messages never include the credential values.
 */
export function renderRcloneConfig(input: RcloneConfigInput): string {
    let endpoint: string;
    if (input.endpoint === undefined) {
        endpoint = r2Endpoint(input.accountId);
    } else if (/^https?:\/\/[^\s/]+(\/\S*)?$/.test(input.endpoint)) {
        endpoint = input.endpoint;
    } else {
        throw new Error("renderRcloneConfig: endpoint must be an http(s) URL");
    }
    if (!CREDENTIAL.test(input.accessKeyId))
        throw new Error("renderRcloneConfig: accessKeyId must be 1-256 printable characters without spaces");
    if (!CREDENTIAL.test(input.secretAccessKey))
        throw new Error("renderRcloneConfig: secretAccessKey must be 1-256 printable characters without spaces");
    return [
        "# openclaw-vps: rclone remote for the memory backups (written by the deploy; root-only).",
        `[${RCLONE_REMOTE_NAME}]`,
        "type = s3",
        "provider = Cloudflare",
        `access_key_id = ${input.accessKeyId}`,
        `secret_access_key = ${input.secretAccessKey}`,
        `endpoint = ${endpoint}`,
        "region = auto",
        "acl = private",
        "no_check_bucket = true",
        "",
    ].join("\n");
}

export type RestoreFrom = string;

export interface BackupEnvInput {
    /** R2 bucket name (S3 rules: 3-63 lowercase letters, digits, hyphens). */
    bucketName: string;
    /** What a new server restores before the agent starts (see RESTORE_FROM_EXPECTED); the operator's planner
     *  resolves it, the host only records it. */
    restoreFrom: RestoreFrom;
    /** The operator's age recipient (age1...): every archive is encrypted to it. Public: the host never decrypts. */
    recipient: string;
    /** Parallel uploads/server-side copies (default 8; the work is network-bound, not CPU-bound). */
    transfers?: number;
    /** Include OpenClaw's state (its SQLite databases via `openclaw backup create`), default true. */
    includeState?: boolean;
    /** Agent user (default openclaw, the host contract). */
    agentUser?: string;
}

const BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const USER = USER_NAME_PATTERN;

const RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

export function validateRestoreFrom(value: string): string | undefined {
    return parseRestoreFrom(value) ? undefined : `restoreFrom must be ${RESTORE_FROM_EXPECTED}, got ${JSON.stringify(value)}`;
}

/** KEY=value lines read (never executed) by cloud-init/backup-lib.sh. */
export function renderBackupEnv(input: BackupEnvInput): string {
    if (!BUCKET.test(input.bucketName))
        throw new Error(`renderBackupEnv: bucketName ${JSON.stringify(input.bucketName)} is not a valid bucket name`);
    const restoreProblem = validateRestoreFrom(input.restoreFrom);
    if (restoreProblem) throw new Error(`renderBackupEnv: ${restoreProblem}`);
    const transfers = input.transfers ?? 8;
    if (!Number.isInteger(transfers) || transfers < 1 || transfers > 99)
        throw new Error("renderBackupEnv: transfers must be an integer from 1 to 99");
    if (!RECIPIENT.test(input.recipient)) throw new Error("renderBackupEnv: recipient must be an age X25519 recipient (age1...)");
    const agentUser = input.agentUser ?? AGENT_USER;
    if (!USER.test(agentUser)) throw new Error(`renderBackupEnv: agentUser ${JSON.stringify(agentUser)} is not a valid user name`);
    return [
        "# openclaw-vps: settings of openclaw-backup.service and restore.sh (written by the deploy).",
        `BACKUP_REMOTE=${RCLONE_REMOTE_NAME}:${input.bucketName}`,
        `BACKUP_RECIPIENT=${input.recipient}`,
        `BACKUP_FULL_PREFIX=${BACKUP_LAYOUT.fullPrefix}`,
        `BACKUP_DIFF_PREFIX=${BACKUP_LAYOUT.diffPrefix}`,
        `BACKUP_MARKER_KEY=${BACKUP_LAYOUT.markerKey}`,
        `BACKUP_LEGACY_PREFIX=${BACKUP_LAYOUT.legacyPrefix}`,
        `BACKUP_ARCHIVE_SUFFIX=${BACKUP_LAYOUT.archiveSuffix}`,
        `BACKUP_FULL_INTERVAL_SECONDS=${FULL_INTERVAL_SECONDS}`,
        `RESTORE_FROM=${input.restoreFrom}`,
        `BACKUP_TRANSFERS=${transfers}`,
        `BACKUP_INCLUDE_STATE=${input.includeState === false ? 0 : 1}`,
        `AGENT_USER=${agentUser}`,
        "",
    ].join("\n");
}
