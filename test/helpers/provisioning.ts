// Shared by the first-boot tests (user data, provision.sh, wait-provisioned.sh, sshd, ufw): example inputs, the
// paths of the host files, and small wrappers that run real tools and fail loudly when one is missing.
import "./contract";
import { spawnSync, SpawnSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { UserDataInput } from "../../components/render/user-data";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const CLOUD_INIT_DIR = path.join(REPO_ROOT, "cloud-init");
export const PROVISION_SCRIPT = path.join(CLOUD_INIT_DIR, "provision.sh");
export const WAIT_SCRIPT = path.join(CLOUD_INIT_DIR, "wait-provisioned.sh");

/** A fixed, production-like input (public mirrors), the one the snapshot shows. */
export const EXAMPLE_USER_DATA_INPUT: UserDataInput = {
    adminUser: "ops",
    sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdvcmtzLW9uLW15LW1hY2hpbmUtZXhhbXBsZS1rZXkx ops@laptop",
    swapMb: 2048,
    timezone: "UTC",
    hostname: "openclaw",
};

/** A second input that differs in every field, with local mirrors as the stand-in VPS uses them. */
export const ALTERNATE_USER_DATA_INPUT: UserDataInput = {
    adminUser: "admin_2",
    sshPublicKey: "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExample= alt key",
    swapMb: 0,
    timezone: "America/New_York",
    hostname: "research-agent-2",
    mirrors: {
        nodeDistUrl: "http://10.77.0.1:8080/node",
        npmRegistry: "http://10.77.0.1:8080/npm/",
        cloudflaredAptUrl: "http://10.77.0.1:8080/cloudflared",
        cloudflaredAptKeyUrl: "http://10.77.0.1:8080/cloudflare-main.gpg",
    },
};

export interface RunResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs a command to completion (never through a shell unless the caller asks for bash). */
export function run(command: string, args: string[], options: SpawnSyncOptions = {}): RunResult {
    const result = spawnSync(command, args, { encoding: "utf8", timeout: 120_000, maxBuffer: 32 * 1024 * 1024, ...options });
    if (result.error) throw result.error;
    return { status: result.status, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? "") };
}

/** Fails (never skips) when a tool is missing, saying which Debian package provides it. */
export function requireTool(command: string, debianPackage: string): string {
    const found = spawnSync("bash", ["-c", 'command -v -- "$1"', "bash", command], { encoding: "utf8" });
    const where = String(found.stdout ?? "").trim();
    if (found.status !== 0 || !where) {
        throw new Error(`${command} is not installed: \`apt-get install ${debianPackage}\` (CI installs it)`);
    }
    return where;
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `openclaw-vps-${prefix}-`));
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Parses provision.sh's status file (key=value lines). */
export function readStatusFile(file: string): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return fields;
}

/** Every `*.sh` file under cloud-init/ (recursively), including ones added later by anyone. */
export function hostShellScripts(): string[] {
    return shellScriptsUnder(CLOUD_INIT_DIR);
}

/** Every `*.sh` file under `root` (recursively). */
export function shellScriptsUnder(root: string): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile() && entry.name.endsWith(".sh")) found.push(full);
        }
    };
    walk(root);
    return found.sort();
}

/**
 * Runs a bash script as root in a private network and mount namespace (`unshare --net --mount`): firewall rules,
 * listeners and bind mounts made there never reach this machine. Only loopback exists until the script adds more.
 */
export function runInPrivateNamespace(script: string, env: Record<string, string> = {}, timeoutMs = 120_000): RunResult {
    requireTool("unshare", "util-linux");
    requireTool("ip", "iproute2");
    if (process.getuid?.() !== 0) throw new Error("this test needs root (network and mount namespaces)");
    const prelude = "set -euo pipefail\nip link set lo up\n";
    return run("unshare", ["--net", "--mount", "--propagation", "private", "bash", "-c", prelude + script], {
        env: { ...process.env, ...env },
        timeout: timeoutMs,
    });
}

/**
 * Prelude for runInPrivateNamespace scripts that run provision.sh: puts this machine's writable places out of reach
 * (/etc becomes a copy in $DIR; /run, /home, /opt, /usr/local/bin, /var/lib, /var/log become empty tmpfs), points
 * provision.sh's log, status, lock and env file into $DIR, and defines `provision ARGS...`, which runs
 * $PROVISION and appends its output and `exit=N` to $DIR/runs.out without stopping the script.
 */
export const PROVISION_SANDBOX = String.raw`
mount -t tmpfs tmpfs /run
mkdir -p /run/lock
cp -a /etc "$DIR/etc"
mount --bind "$DIR/etc" /etc
for d in /home /opt /usr/local/bin /var/lib /var/log; do mount -t tmpfs tmpfs "$d"; done
export PROVISION_ENV_FILE="$DIR/provision.env" PROVISION_LOG="$DIR/provision.log" PROVISION_STATUS="$DIR/provision.status"
export PROVISION_CONSOLE=/dev/null PROVISION_LOCK="$DIR/provision.lock"
provision() { # args...: runs provision.sh, records its exit status, never stops this script
  local status=0
  bash "$PROVISION" "$@" >>"$DIR/runs.out" 2>&1 || status=$?
  echo "exit=$status" >>"$DIR/runs.out"
}
`;
