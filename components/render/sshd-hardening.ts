// Renders the sshd hardening drop-in (cloud-init/sshd-hardening.conf with the admin login filled in). User data
// writes it to SSHD_HARDENING_PATH; tests feed it to the real sshd. No Pulumi imports.
import { DEFAULT_GATEWAY_PORT, HOST_FILES, USER_NAME_PATTERN } from "../core/host-contract";
import { readHostFile } from "./host-files";

/** Where the drop-in lives on the host. "01-" sorts before cloud-init's 50-cloud-init.conf: sshd keeps the first value. */
export const SSHD_HARDENING_PATH = HOST_FILES.sshdHardening;

export interface SshdHardeningInput {
    /** The only login sshd accepts (`AllowUsers`), by public key only. A Linux user name, never root. */
    adminUser: string;
    /** The gateway's loopback port: the one destination a local forward (`ssh -N -L`) may reach. */
    gatewayPort?: number;
}

const USER_NAME = USER_NAME_PATTERN;

export function renderSshdHardening(input: SshdHardeningInput): string {
    if (!USER_NAME.test(input.adminUser) || input.adminUser === "root") {
        throw new Error(`sshd hardening: adminUser ${JSON.stringify(input.adminUser)} must be a Linux user name other than root`);
    }
    const port = input.gatewayPort ?? DEFAULT_GATEWAY_PORT;
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
        throw new Error(`sshd hardening: gatewayPort ${JSON.stringify(port)} must be a TCP port from 1024 to 65535`);
    }
    const text = readHostFile("sshd-hardening.conf").split("@ADMIN_USER@").join(input.adminUser).split("@GATEWAY_PORT@").join(String(port));
    if (/@[A-Z_]+@/.test(text)) throw new Error("sshd hardening: cloud-init/sshd-hardening.conf has an unknown @placeholder@");
    return text;
}
