// Scenario inputs for a stand-in VPS: the project's real user data rendered with the stand-in's mirror URLs, a fresh
// admin key, SSH to the instance the way the deploy connects, and reading provision.sh's step lines.
import { connect } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeSSH } from "node-ssh";
import { readOpenclawPin } from "../components/core/pins";
import { renderUserData, type HostMirrors, type UserDataInput } from "../components/render/user-data";
import { STANDIN_MIRRORS, standInAptKeyFingerprint } from "./internet";
import { requireTools } from "./prerequisites";
import { run } from "./process";
import type { StandInVps } from "./vps";

/**
 * The stand-in's mirror URLs in the renderer's shape, and the fingerprint of the throwaway key its cloudflared repository
 * is signed with (production leaves all of them at the public defaults and the pin in components/core/pins.ts).
 */
export function standInHostMirrors(): HostMirrors {
    return {
        nodeDistUrl: STANDIN_MIRRORS.NODE_DIST_URL,
        npmRegistry: STANDIN_MIRRORS.NPM_REGISTRY,
        cloudflaredAptUrl: STANDIN_MIRRORS.CLOUDFLARED_APT_URL,
        cloudflaredAptKeyUrl: STANDIN_MIRRORS.CLOUDFLARED_APT_KEY_URL,
        cloudflaredAptKeyFingerprint: standInAptKeyFingerprint(),
    };
}

export interface AdminKey {
    privateKey: string;
    publicKey: string;
}

/** A fresh ed25519 key pair for the admin user of one scenario (never reused, never on disk afterwards). */
export async function createAdminKey(): Promise<AdminKey> {
    requireTools({ "ssh-keygen": "openssh-client" }, { root: false });
    const dir = mkdtempSync(join(tmpdir(), "standin-key-"));
    const path = join(dir, "id_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "standin-admin", "-f", path]);
    try {
        return { privateKey: readFileSync(path, "utf8"), publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
    } finally {
        rmSync(dir, { recursive: true, force: true }); // the key lives on in memory only
    }
}

/** User data input as `pulumi up` would render it, pointed at the stand-in's mirrors. */
export function standInUserDataInput(publicKey: string, overrides: Partial<UserDataInput> = {}): UserDataInput {
    return {
        adminUser: "ops",
        nodeMajor: 24,
        openclawVersion: readOpenclawPin().version,
        swapMb: 2048,
        timezone: "Europe/Berlin",
        hostname: "standin",
        sshPublicKey: publicKey,
        mirrors: standInHostMirrors(),
        ...overrides,
    };
}

/** The real renderer's output for the stand-in. */
export function standInUserData(publicKey: string, overrides: Partial<UserDataInput> = {}): string {
    return renderUserData(standInUserDataInput(publicKey, overrides));
}

/** An SSH session to the stand-in's sshd through its loopback forward, as the deploy connects to a server. */
export async function sshTo(vps: StandInVps, username: string, privateKey: string, timeoutMs = 20_000): Promise<NodeSSH> {
    const ssh = new NodeSSH();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            await ssh.connect({ host: vps.ssh.host, port: vps.ssh.port, username, privateKey, readyTimeout: 10_000 });
            // A connection reset when the container reboots or is destroyed must not become an uncaught exception;
            // commands still fail through their own promises.
            ssh.connection?.on("error", () => undefined);
            return ssh;
        } catch (error) {
            ssh.dispose();
            // sshd may still be starting (Ubuntu socket-activates it; here it starts with the boot).
            if (Date.now() > deadline) throw new Error(`ssh ${username}@${vps.name}: ${(error as Error).message}`, { cause: error });
            await new Promise((resolve) => setTimeout(resolve, 500));
        }
    }
}

/** Timestamped step lines of provision.sh's log as [step, seconds] (start to ok). */
export function provisionStepSeconds(log: string): [string, number][] {
    const starts = new Map<string, number>();
    const durations: [string, number][] = [];
    for (const line of log.split("\n")) {
        const match = /^(\S+) .*step \d+\/\d+ ([a-z_]+): (start|ok)$/.exec(line);
        if (!match) continue;
        const time = Date.parse(match[1]!);
        if (match[3] === "start") starts.set(match[2]!, time);
        else durations.push([match[2]!, (time - (starts.get(match[2]!) ?? time)) / 1000]);
    }
    return durations;
}

export interface ProvisionProgress {
    /** The line without its timestamp and tag, e.g. "step 5/12 node: start". */
    text: string;
    step?: { index: number; total: number; name: string; state: "start" | "ok" };
    done?: boolean;
    failed?: boolean;
}

/** provision.sh's own lines on the console (it copies every step line there), or undefined for any other line. */
export function provisionProgress(line: string): ProvisionProgress | undefined {
    const text = /\[openclaw-vps provision\] (.*?)\s*$/.exec(line)?.[1];
    if (text === undefined) return undefined;
    const step = /^step (\d+)\/(\d+) ([a-z_]+): (start|ok)$/.exec(text);
    return {
        text,
        ...(step ? { step: { index: Number(step[1]), total: Number(step[2]), name: step[3]!, state: step[4] as "start" | "ok" } } : {}),
        ...(/^provisioning done\b/.test(text) ? { done: true } : {}),
        ...(/^(FAILED|ERROR)\b/.test(text) ? { failed: true } : {}),
    };
}

/** Whether anything answers an HTTP request sent to this local port (a forward into the container) within the limit. */
export function answersWithin(port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = connect({ host: "127.0.0.1", port }, () => socket.write("GET / HTTP/1.0\r\n\r\n"));
        const timer = setTimeout(() => {
            socket.destroy();
            resolve(false);
        }, timeoutMs);
        socket.once("data", () => {
            clearTimeout(timer);
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => undefined);
    });
}
