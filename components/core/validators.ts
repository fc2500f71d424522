// Format checks shared by the config schema (settings.ts) and the renderers, which re-check their own inputs:
// one definition of an IANA time zone, an FQDN, a CIDR and an OpenSSH public key line. No Pulumi imports.
import { createHash } from "node:crypto";
import * as net from "node:net";
import { isTzdataName } from "./timezones";

const FQDN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A local time of day, HH:MM (24:00 allowed as an end). */
export const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** One OpenSSH public key line: type, base64 blob, optional printable comment. */
export const SSH_PUBLIC_KEY =
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x20-\x7e]*)?$/;

export function isFqdn(value: string): boolean {
    const labels = value.toLowerCase().split(".");
    return (
        value.length <= 253 &&
        labels.length >= 2 &&
        labels.every((l) => FQDN_LABEL.test(l)) &&
        /^[a-z]{2,63}$/.test(labels[labels.length - 1])
    );
}

/**
 * A zone that both tzdata (what the host sets its clock from) and Node's ICU (what OpenClaw reads) know: America/New_York,
 * Europe/Berlin, UTC, EST5EDT, or a legacy name such as US/Eastern (components/core/timezones.ts; the renderers replace it
 * by the zone it links to). No raw offsets, paths or free text, and none of the names only ICU knows (IST, SystemV/EST5).
 */
export function isIanaTimezone(value: string): boolean {
    if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(value) || /^[+-]?\d/.test(value)) return false;
    if (!isTzdataName(value)) return false;
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: value });
        return true;
    } catch {
        return false;
    }
}

/** An IPv4 or IPv6 network in CIDR notation with its prefix length. */
export function isCidr(value: string): boolean {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
    if (!m) return false;
    const family = net.isIP(m[1]);
    const prefix = Number(m[2]);
    return (family === 4 && prefix <= 32) || (family === 6 && prefix <= 128);
}

/** The MD5 fingerprint of an OpenSSH public key line, as Hetzner and DigitalOcean list keys ("aa:bb:...:ff"). */
export function sshKeyMd5Fingerprint(publicKeyLine: string): string {
    const blob = publicKeyLine.trim().split(/\s+/)[1] ?? "";
    return createHash("md5")
        .update(Buffer.from(blob, "base64"))
        .digest("hex")
        .replace(/(..)(?!$)/g, "$1:");
}
