// The stand-in VPS's public API: a local server that boots the project's real user data with the real cloud-init,
// deploys onto it with the code `pulumi up` runs, and the stand-ins around it (internet, bucket, backup host). Used
// by the tests, `npm run try` and `npm run bench`; it imports components/, never scripts/ or test/.
export { StandInVps, cleanupStaleInstances, standInInternet, STANDIN_NETWORK, STANDIN_MIRRORS } from "./vps";
export type { BootState, ExecOptions, StandInVpsOptions } from "./vps";
export { STANDIN_CLOUDFLARED_RECORD, STANDIN_CLOUDFLARED_VERSION, StandInInternet } from "./internet";
export { createEgressProxy, STANDIN_EGRESS_PROXY } from "./egress-proxy";
export { ensureRootfs, isRootfsCached, ROOTFS_RECIPE } from "./rootfs";
export { cacheDir, isAlive, log, run, startTime, withLock } from "./process";
export type { RunOptions, RunResult } from "./process";
export { checkPrerequisites, describeMissing, findTool, requireTools, STANDIN_TOOLS } from "./prerequisites";
export type { PrerequisiteCheck, ToolPackages } from "./prerequisites";
export {
    answersWithin,
    createAdminKey,
    provisionProgress,
    provisionStepSeconds,
    sshTo,
    standInHostMirrors,
    standInUserData,
    standInUserDataInput,
} from "./scenario";
export type { AdminKey, ProvisionProgress } from "./scenario";
export {
    gatewaySystemctl,
    bucketDataDir,
    CLOUDFLARED_RECORD_PREFIX,
    connectAdmin,
    deploy,
    deployBundle,
    deployBundleInput,
    hostMemoryFrom,
    deployPlan,
    DEPLOY_READER,
    DEPLOY_SENTINELS,
    EGRESS_DROP_IN_PATH,
    gatewayProcess,
    installEgressDropIn,
    installRecordingCloudflared,
    installRecordingCloudflaredOverSsh,
    installRestorePlan,
    isLoopback,
    listeners,
    LLM_API_ENDPOINTS,
    planRestoreInNamespace,
    RECORDING_CLOUDFLARED,
    renderEgressDropIn,
    startBucket,
    STANDIN_S3_ENDPOINT,
    STANDIN_S3_PORT,
    STANDIN_SETTING_OVERRIDES,
    waitGatewayReady,
} from "./deploy";
export type { BucketCredentials, DeployOptions, DeployPlan, DeployRun, GatewayProcess } from "./deploy";
export {
    applyLifecycle,
    countRequests,
    requestClass,
    s3ObjectFile,
    setLastModified,
    startS3Server,
    storedObjects,
    uploadsUnder,
} from "./bucket";
export type { RequestCount, S3KeyPair, S3Request, S3Server, S3ServerOptions } from "./bucket";
export {
    callTool,
    currentTurn,
    LlmStandIn,
    messageText,
    requestText,
    SILENT_REPLY,
    systemPrompt,
    toolNames,
    toolResults,
    userText,
} from "./llm";
export type { LlmReply, LlmRequest, LlmScript, ScriptedToolCall } from "./llm";
export { TelegramStandIn } from "./telegram";
export type { SentMessage, TelegramCall, TelegramUser } from "./telegram";
export {
    agentIds,
    chownTree,
    createBackupHost,
    HOST_SCRIPTS_DIR,
    OPENCLAW_BIN,
    planRestoreFor,
    rclone,
    readStatus,
    runHostScript,
    THROWAWAY_AGENT_USER,
    TOOLS_PATH,
    writeTree,
} from "./backup-host";
export type { BackupHost, ScriptResult } from "./backup-host";
export {
    clearRunFiles,
    ensureStateDir,
    followEvents,
    readSupervisorRecord,
    runningSupervisor,
    startSupervisor,
    stopSupervisor,
    supervisorLogTail,
    supervisorPaths,
    withoutSecrets,
} from "./supervisor-control";
export type { StopResult, SupervisorConfig, SupervisorEvent, SupervisorPaths, SupervisorRecord } from "./supervisor-control";
