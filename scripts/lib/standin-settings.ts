// A stack's settings for a deploy onto the stand-in VPS (`npm run try`, `npm run bench`, the stand-in tests): read from
// Pulumi.<stack>.yaml the way `npm run plan` reads it, with the stand-in's overrides (standin/deploy.ts), the
// scenario's admin key and the caller's `key=value` overrides on top, then validated by parseSettings as index.ts does.
import { generateIdentity } from "../../components/core/age";
import { parseSettings, type Settings } from "../../components/settings";
import { STANDIN_SETTING_OVERRIDES } from "../../standin/deploy";
import { readStackConfig } from "./stack-config";

export interface StandInSettings {
    settings: Settings;
    /** parseSettings' notes (unknown server type, open SSH, ...); the stack file's placeholder notes are left out. */
    warnings: string[];
    /** The age identity of settings.backupRecipient: a fresh pair per call (the stack's own identity is encrypted), so
     *  the stand-in's planner can read what the stand-in's host backs up. */
    backupIdentity: string;
}

/**
 * Throws ConfigError (every problem at once) when the stack plus overrides is not valid. Secrets in the stack file are
 * placeholders: the caller passes the real (or sentinel) secrets to the bundle itself.
 */
export function standInSettings(adminPublicKey: string, overrides: string[] = [], stack = "prod"): StandInSettings {
    const keys = generateIdentity();
    const config = readStackConfig(stack, {
        set: [...STANDIN_SETTING_OVERRIDES, `sshPublicKey=${adminPublicKey}`, `backupRecipient=${keys.recipient}`, ...overrides],
        secret: [`backupIdentity=${keys.identity}`],
    });
    const { settings, warnings } = parseSettings(config.config, { allowPlainSecrets: true });
    return { settings, warnings, backupIdentity: keys.identity };
}
