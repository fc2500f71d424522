// Rules that more than one place states: each is written once here, as a test plus the sentence that says what is
// expected. The settings schema shows that sentence when a value breaks the rule, Pulumi.yaml and the README reuse it
// in the key's description, and the renderers that re-check their input use the same rule. No Pulumi imports.

export interface Rule<T> {
    /** What a valid value looks like, as the error message and the docs say it. */
    readonly expected: string;
    readonly test: (value: T) => boolean;
}

/** systemd calendar shorthands that fire at most once an hour. */
const CALENDAR_SHORTHANDS = new Set(["hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly", "semiannually"]);
const CALENDAR_CHARS = /^[A-Za-z0-9 *:/,.~+-]{1,64}$/;
/** A single fixed value of a time field: 0, 00, 30, 05. */
const FIXED = /^\d{1,2}$/;

/**
 * Fires at most once an hour: a shorthand, or a full expression (`[weekday] [date] hour:minute[:second]`) whose
 * minute (and second) is one fixed value. Every hour at :00 fits, `*:0/2` (every two minutes) and `*:00,30` do not.
 * The rest of the grammar is systemd's: `systemd-analyze calendar` checks rendered timers in the tools tests.
 */
export function firesAtMostHourly(expression: string): boolean {
    const value = expression.trim();
    if (value !== expression || !CALENDAR_CHARS.test(value)) return false;
    if (CALENDAR_SHORTHANDS.has(value.toLowerCase())) return true;
    // The time is the last field with a colon (a time zone such as UTC may follow it).
    const time =
        value
            .split(/\s+/)
            .filter((field) => field.includes(":"))
            .pop() ?? "";
    const parts = time.split(":");
    if (parts.length < 2 || parts.length > 3) return false;
    const [, minute, second = "0"] = parts;
    return FIXED.test(minute) && Number(minute) < 60 && FIXED.test(second) && Number(second) < 60;
}

export const BACKUP_SCHEDULE_RULE: Rule<string> = {
    expected:
        "a systemd calendar expression that fires at most once an hour: hourly, daily, or one with a fixed minute such as *-*-* 00/6:00:00 or Mon..Fri *-*-* 09:30",
    test: firesAtMostHourly,
};

export const API_KEY_RULE: Rule<string> = {
    expected: "an API key (at least 8 characters, no spaces)",
    test: (v) => v.trim().length >= 8 && !/\s/.test(v.trim()),
};

export const DURATION_RULE: Rule<string> = {
    expected: "a duration such as 30m, 24h or 168h",
    test: (v) => /^(\d+(ms|s|m|h))+$/.test(v),
};

/** How the offline plan marks a secret it cannot read (encrypted in the stack file, or not set yet). Checks that
 *  would reject any fake value (an age identity must be a real key) let such a placeholder through: it never reaches
 *  a cloud, because only `npm run plan` and the mock engine put it there. */
export const PLAN_PLACEHOLDER_PREFIX = "PLAN-PLACEHOLDER-";
export const isPlanPlaceholder = (value: string): boolean => value.startsWith(PLAN_PLACEHOLDER_PREFIX);
const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/** A reboot window `HH:MM-HH:MM` (local time, may cross midnight), 15 minutes to 12 hours long, or `off`. */
export function rebootWindowMinutes(value: string): { start: number; length: number } | undefined {
    const m = WINDOW.exec(value);
    if (!m) return undefined;
    const start = Number(m[1]) * 60 + Number(m[2]);
    const end = Number(m[3]) * 60 + Number(m[4]);
    const length = (end - start + 24 * 60) % (24 * 60);
    return length >= 15 && length <= 12 * 60 ? { start, length } : undefined;
}

export const REBOOT_WINDOW_RULE: Rule<string> = {
    expected: "a daily window HH:MM-HH:MM in `timezone`, 15 minutes to 12 hours long (e.g. 04:00-05:00; it may cross midnight), or off",
    test: (v) => v === "off" || rebootWindowMinutes(v) !== undefined,
};

export const HTTPS_URL_RULE: Rule<string> = {
    expected: "an https:// URL with a host (and, for ntfy, the topic path), e.g. https://ntfy.sh/my-agent-alerts",
    test: (v) => {
        try {
            const url = new URL(v);
            return url.protocol === "https:" && url.hostname !== "" && !/\s/.test(v) && url.username === "" && url.password === "";
        } catch {
            return false;
        }
    },
};

export const TELEGRAM_BOT_TOKEN_RULE: Rule<string> = {
    expected: "a Telegram bot token as BotFather prints it: <bot id>:<35 or so letters, digits, _ and ->, e.g. 123456789:AAE...",
    test: (v) => /^[0-9]{6,12}:[A-Za-z0-9_-]{30,}$/.test(v.trim()),
};

export const TELEGRAM_CHAT_ID_RULE: Rule<string> = {
    expected: "a numeric Telegram chat id (your user id for a DM, e.g. 123456789; a group's is negative, e.g. -1001234567890)",
    test: (v) => /^-?[0-9]{1,20}$/.test(v),
};

/** A systemd time span of at least a minute and at most an hour (how often the watchdog looks). */
export const WATCHDOG_INTERVAL_RULE: Rule<string> = {
    expected: "a time span between 1min and 1h, e.g. 2min, 5min or 90s",
    test: (v) => {
        const m = /^(\d+)(s|sec|min|m|h)$/.exec(v);
        if (!m) return false;
        const seconds = Number(m[1]) * (m[2].startsWith("s") ? 1 : m[2] === "h" ? 3600 : 60);
        return seconds >= 60 && seconds <= 3600;
    },
};

/**
 * A ClawHub skill pinned to one release: `slug@X.Y.Z` or owner-qualified `@owner/slug@X.Y.Z`. The renderer and
 * cloud-init/install-skills.sh re-check it (the host script with the same pattern).
 */
export const SKILL_SPEC_RULE: Rule<string> = {
    expected: "slug@X.Y.Z or @owner/slug@X.Y.Z (one exact release), e.g. @steipete/github@1.2.0",
    test: (v) => /^(@[a-z0-9][a-z0-9_-]{0,38}\/)?[a-z0-9][a-z0-9_-]{0,63}@\d+\.\d+\.\d+$/.test(v),
};

// ---- messaging channels: tokens and the ids of their allowlists ---------------------------------------------------
// The shapes the platforms issue. OpenClaw itself does not check them (2026.9.6 accepts any string), so a typo would
// only show up as a channel that never connects; the schema refuses it by key instead, before anything is created.

const matches = (pattern: RegExp) => (v: string) => pattern.test(v);

export const TELEGRAM_USER_ID_RULE: Rule<string> = {
    expected: "numeric Telegram user ids such as 123456789 (not @usernames: message @userinfobot to see yours)",
    test: matches(/^[1-9][0-9]{0,15}$/),
};

export const DISCORD_BOT_TOKEN_RULE: Rule<string> = {
    expected:
        "a Discord bot token (Developer Portal > your app > Bot > Reset Token): three dot-separated parts such as MTIz...NjQ.Gx1a2b.c3d4..., without a `Bot ` prefix",
    test: matches(/^[A-Za-z0-9_-]{20,40}\.[A-Za-z0-9_-]{5,10}\.[A-Za-z0-9_-]{25,}$/),
};

export const DISCORD_USER_ID_RULE: Rule<string> = {
    expected: "Discord user ids (snowflakes: 17-20 digits, e.g. 123456789012345678; Developer Mode > right-click your name > Copy User ID)",
    test: matches(/^[1-9][0-9]{16,19}$/),
};

export const SLACK_BOT_TOKEN_RULE: Rule<string> = {
    expected: "a Slack bot token: xoxb-... (your app > OAuth & Permissions > Bot User OAuth Token)",
    test: matches(/^xoxb-[0-9]+-[0-9]+-[A-Za-z0-9]{16,}$/),
};

export const SLACK_APP_TOKEN_RULE: Rule<string> = {
    expected: "a Slack app-level token with connections:write: xapp-1-A...-...-... (your app > Basic Information > App-Level Tokens)",
    test: matches(/^xapp-[0-9]-[A-Z0-9]+-[0-9]+-[A-Za-z0-9]{16,}$/),
};

export const SLACK_USER_ID_RULE: Rule<string> = {
    expected: "Slack member ids such as U0123456789 (your profile > ... > Copy member ID); not names or e-mail addresses",
    test: matches(/^[UW][A-Z0-9]{8,12}$/),
};

export const E164_RULE: Rule<string> = {
    expected: "phone numbers in E.164 form: + country code and number, digits only, e.g. +4915123456789",
    test: matches(/^\+[1-9][0-9]{7,14}$/),
};
