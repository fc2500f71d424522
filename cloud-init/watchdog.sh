#!/usr/bin/env bash
# The host watchdog (openclaw-watchdog.service, started by its timer every `watchdogInterval`): runs the read-only
# host audit (audit-host.sh, the checks of `npm run verify`), keeps each check's state between runs and notifies on
# changes only: one alert when a check starts failing, nothing while it stays failed, one "resolved" when it passes
# again; optionally one daily digest. Alerts leave the host straight to the Telegram Bot API, ntfy or a webhook with
# curl: never through the gateway, which may be the thing that is down.
#
# Settings: /etc/openclaw-vps/watchdog.env (non-secret) and /etc/openclaw-vps/alerts.env (root, 0600: the bot token
# and URLs), both read as data, never sourced. Secrets reach curl on its stdin (`curl --config -`), never argv, and
# are never logged. Safe to rerun at any time: a run only ever adds transitions it has not notified yet.
# Overrides for tests: WATCHDOG_ENV, ALERTS_ENV, WATCHDOG_STATE_DIR, WATCHDOG_AUDIT (the audit command), WATCHDOG_NOW.
set -euo pipefail

# The host contract (components/core/host-contract.ts): shared paths and names (HOST_*), written by user data and the
# push. A HOST_* variable already set in the environment wins (tests point them at sandboxes).
readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"

WATCHDOG_ENV=${WATCHDOG_ENV:-$HOST_ETC_DIR/watchdog.env}
ALERTS_ENV=${ALERTS_ENV:-$HOST_ETC_DIR/alerts.env}
STATE_DIR=${WATCHDOG_STATE_DIR:-$HOST_WATCHDOG_STATE}

# Liveness every run; the slow or static checks (OpenClaw's security audit, user data, firewall, sshd) once a day.
# integrity only reads the status files of the daily AIDE check and the weekly rootkit scan (integrity.sh).
readonly FREQUENT_GROUPS="gateway-ready,services,restarts,gateway-memory,units,backup,resources,reboot,tokens,integrity"
readonly DAILY_GROUPS="openclaw-audit,userdata,firewall,sshd,sockets,cloud-init"
readonly DAILY_SECONDS=86400

log() { printf 'watchdog: %s\n' "$*"; }

# KEY=value lines of a settings file into variables, as data; a variable already set wins.
read_settings() { # file
    local line key value
    [[ -r $1 ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[A-Z][A-Z0-9_]*= ]] || continue
        key=${line%%=*}
        value=${line#*=}
        if [[ -z ${!key+set} ]]; then printf -v "$key" '%s' "$value"; fi
    done <"$1"
}

now_epoch() { echo "${WATCHDOG_NOW:-$(date -u +%s)}"; }

# ---- state: one file per check, "status<TAB>since<TAB>notified<TAB>summary" -------------------------------------
# notified: "-" (nothing told), "fail@<time of the alert>" (the owner knows it fails), "pass" (told it recovered).

state_file() { printf '%s/checks/%s' "$STATE_DIR" "$1"; }

read_state() { # id -> sets S_STATUS S_SINCE S_NOTIFIED S_SUMMARY
    S_STATUS="" S_SINCE="" S_NOTIFIED="" S_SUMMARY=""
    local file
    file=$(state_file "$1")
    if [[ -r $file ]]; then IFS=$'\t' read -r S_STATUS S_SINCE S_NOTIFIED S_SUMMARY <"$file" || true; fi
    [[ $S_NOTIFIED != - ]] || S_NOTIFIED=""
}

write_state() { # id status since notified summary ("-" stands for "never notified": read collapses empty tab fields)
    local file tmp
    file=$(state_file "$1")
    tmp="$file.tmp"
    printf '%s\t%s\t%s\t%s\n' "$2" "$3" "${4:--}" "$5" >"$tmp"
    mv -f "$tmp" "$file"
}

# ---- delivery -----------------------------------------------------------------------------------------------------

SECRETS=()

# A value as a double-quoted curl config string.
curl_quoted() {
    local v=${1//\\/\\\\}
    printf '"%s"' "${v//\"/\\\"}"
}

# POST a body file; the URL (and any header carrying a secret) travels in curl's config on stdin, never in argv.
post() { # url content-type body-file [header...]
    local url=$1 type=$2 body=$3 header err
    shift 3
    if ! err=$(
        {
            printf 'url = %s\n' "$(curl_quoted "$url")"
            for header in "$@"; do printf 'header = %s\n' "$(curl_quoted "$header")"; done
        } | curl --config - --silent --show-error --fail --max-time 20 --retry 2 --retry-delay 3 \
            -X POST -H "Content-Type: $type" --data-binary "@$body" -o /dev/null 2>&1
    ); then
        local secret
        for secret in "${SECRETS[@]}"; do err=${err//"$secret"/[secret]}; done
        log "delivery failed: ${err:-curl failed}"
        return 1
    fi
}

webhook_body() { # kind text -> JSON for the webhook's host (Slack and Discord have their own shapes)
    local host=${ALERT_WEBHOOK_URL#*://}
    host=${host%%/*}
    host=${host%%:*}
    case $host in
        hooks.slack.com) jq -n --arg text "$2" '{text: $text}' ;;
        discord.com | discordapp.com | *.discord.com) jq -n --arg text "$2" '{content: $text}' ;;
        *) jq -n --arg text "$2" --arg kind "$1" --arg host "$WATCHDOG_LABEL" '{text: $text, kind: $kind, agent: $host}' ;;
    esac
}

# Sends one message to every configured destination; fails when none took it.
notify() { # kind(alert|resolved|digest) title text
    local kind=$1 title=$2 text=$3 body delivered=0 tags priority
    body=$(mktemp)
    # shellcheck disable=SC2064 # the file name is fixed now, on purpose
    trap "rm -f '$body'" RETURN
    if [[ -n ${ALERT_TELEGRAM_BOT_TOKEN:-} && -n ${ALERT_TELEGRAM_CHAT_ID:-} ]]; then
        jq -n --arg chat "$ALERT_TELEGRAM_CHAT_ID" --arg text "$title"$'\n'"$text" \
            '{chat_id: $chat, text: $text, disable_web_page_preview: true}' >"$body"
        post "${WATCHDOG_TELEGRAM_API%/}/bot$ALERT_TELEGRAM_BOT_TOKEN/sendMessage" application/json "$body" && delivered=$((delivered + 1))
    fi
    if [[ -n ${ALERT_NTFY_URL:-} ]]; then
        printf '%s\n' "$text" >"$body"
        case $kind in alert) tags=rotating_light priority=high ;; resolved) tags=white_check_mark priority=default ;; *) tags=clipboard priority=low ;; esac
        # HTTP headers are ASCII: the title loses its leading emoji; ntfy shows the tag as one instead.
        post "$ALERT_NTFY_URL" "text/plain; charset=utf-8" "$body" "Title: ${title#* }" "Tags: $tags" "Priority: $priority" && delivered=$((delivered + 1))
    fi
    if [[ -n ${ALERT_WEBHOOK_URL:-} ]]; then
        webhook_body "$kind" "$title"$'\n'"$text" >"$body"
        post "$ALERT_WEBHOOK_URL" application/json "$body" && delivered=$((delivered + 1))
    fi
    ((delivered > 0))
}

has_destination() { [[ (-n ${ALERT_TELEGRAM_BOT_TOKEN:-} && -n ${ALERT_TELEGRAM_CHAT_ID:-}) || -n ${ALERT_NTFY_URL:-} || -n ${ALERT_WEBHOOK_URL:-} ]]; }

clock() { TZ=$WATCHDOG_TIMEZONE date -d "@$1" '+%H:%M %Z'; }

duration() { # seconds
    local s=$1
    if ((s >= 86400)); then printf '%dd %dh' $((s / 86400)) $((s % 86400 / 3600)); elif ((s >= 3600)); then printf '%dh %dmin' $((s / 3600)) $((s % 3600 / 60)); else printf '%dmin' $((s / 60)); fi
}

# ---- one run ------------------------------------------------------------------------------------------------------

run_audit() { # groups -> the audit's stdout
    if [[ -n ${WATCHDOG_AUDIT:-} ]]; then
        AUDIT_ONLY=$1 bash -c "$WATCHDOG_AUDIT"
        return
    fi
    AUDIT_ONLY=$1 AUDIT_ADMIN_USER=$WATCHDOG_ADMIN_USER AUDIT_GATEWAY_PORT=$WATCHDOG_GATEWAY_PORT \
        AUDIT_BACKUP_SCHEDULE=$WATCHDOG_BACKUP_SCHEDULE AUDIT_DAILY_TOKENS=$WATCHDOG_DAILY_TOKENS \
        AUDIT_TIMEZONE=$WATCHDOG_TIMEZONE bash "$HOST_BIN_DIR/audit-host.sh" 2>/dev/null
}

main() {
    read_settings "$WATCHDOG_ENV"
    read_settings "$ALERTS_ENV"
    : "${WATCHDOG_LABEL:=openclaw}" "${WATCHDOG_ADMIN_USER:=}" "${WATCHDOG_GATEWAY_PORT:=}" "${WATCHDOG_BACKUP_SCHEDULE:=hourly}"
    : "${WATCHDOG_TIMEZONE:=UTC}" "${WATCHDOG_DAILY_DIGEST:=0}" "${WATCHDOG_DIGEST_AT:=08:00}" "${WATCHDOG_DAILY_TOKENS:=0}"
    : "${WATCHDOG_TELEGRAM_API:=https://api.telegram.org}"
    SECRETS=("${ALERT_TELEGRAM_BOT_TOKEN:-}" "${ALERT_NTFY_URL:-}" "${ALERT_WEBHOOK_URL:-}")
    install -d -m 0700 "$STATE_DIR" "$STATE_DIR/checks"
    local now last_daily=0 out daily="" code=0
    now=$(now_epoch)
    [[ -r $STATE_DIR/daily ]] && last_daily=$(<"$STATE_DIR/daily")

    out=$(run_audit "$FREQUENT_GROUPS") || code=$?
    if ! grep -q $'^AUDIT-END\t' <<<"$out"; then
        # The audit itself broke: that is a failure of its own, with the same notify-once rule.
        out=$'AUDIT\twatchdog-audit\tfail\tcritical\tthe host audit did not finish (exit '"$code"$')\n'
    else
        out+=$'\nAUDIT\twatchdog-audit\tpass\tcritical\tthe host audit ran\n'
        if ((now - last_daily >= DAILY_SECONDS)); then
            daily=$(run_audit "$DAILY_GROUPS") || true
            if grep -q $'^AUDIT-END\t' <<<"$daily"; then
                out+=$'\n'"$daily"
                # A daily check that failed is looked at again within the hour (a boot or a deploy in progress
                # can fail one for a moment), not only tomorrow; the slow ones never run every interval.
                if grep -q $'^AUDIT\t[^\t]*\tfail\t' <<<"$daily"; then
                    echo $((now - DAILY_SECONDS + 3600)) >"$STATE_DIR/daily"
                else
                    echo "$now" >"$STATE_DIR/daily"
                fi
            fi
        fi
    fi

    local tag id status _severity summary failing=() new=() resolved=() lines_new="" lines_resolved=""
    while IFS=$'\t' read -r tag id status _severity summary; do
        [[ $tag == AUDIT && $id =~ ^[a-z0-9-]+$ ]] || continue
        read_state "$id"
        case $status in
            fail)
                failing+=("$id")
                if [[ $S_STATUS == fail ]]; then
                    write_state "$id" fail "$S_SINCE" "$S_NOTIFIED" "$summary"
                else
                    write_state "$id" fail "$now" "$S_NOTIFIED" "$summary"
                fi
                ;;
            # A check that just recovered keeps its failing-since until the owner heard it is resolved.
            pass) write_state "$id" pass "${S_SINCE:-$now}" "$S_NOTIFIED" "$summary" ;;
            *) ;; # skip: not judged this time, the last verdict stands
        esac
    done <<<"$out"

    # What changed since the last notification: new failures, and failures that are gone. The owner heard of each
    # failure as part of an alert (its "incident", the alert's time: notified=fail@<time>); a recovery is told once
    # every check of that incident passes again, so one outage gives one alert and one "resolved".
    local file incident
    declare -A open_incidents=()
    for file in "$STATE_DIR"/checks/*; do
        [[ -e $file && $file != *.tmp ]] || continue
        read_state "${file##*/}"
        if [[ $S_STATUS == fail && $S_NOTIFIED == fail@* ]]; then open_incidents[${S_NOTIFIED#fail@}]=1; fi
    done
    for file in "$STATE_DIR"/checks/*; do
        [[ -e $file && $file != *.tmp ]] || continue
        id=${file##*/}
        read_state "$id"
        if [[ $S_STATUS == fail && $S_NOTIFIED != fail@* ]]; then
            new+=("$id")
            lines_new+="• $id: $S_SUMMARY"$'\n'
        elif [[ $S_STATUS == pass && $S_NOTIFIED == fail@* ]]; then
            incident=${S_NOTIFIED#fail@}
            [[ -z ${open_incidents[$incident]:-} ]] || continue
            resolved+=("$id")
            lines_resolved+="• $id (failing since $(clock "$S_SINCE"))"$'\n'
        fi
    done

    log "${#failing[@]} check(s) failing${failing[*]:+: ${failing[*]}}; new: ${#new[@]}, resolved: ${#resolved[@]}"
    if ((${#new[@]} + ${#resolved[@]} > 0)); then
        local title text kind
        if ((${#new[@]})); then
            kind=alert title="🔴 $WATCHDOG_LABEL: ${#new[@]} problem(s)"
        else
            kind=resolved title="✅ $WATCHDOG_LABEL: resolved"
        fi
        if [[ -n $lines_new && -n $lines_resolved ]]; then
            text="$lines_new"$'\n'"✅ resolved:"$'\n'"$lines_resolved"
        else
            text="$lines_new$lines_resolved"
        fi
        if ! has_destination; then
            log "no alert destination configured: $title (see the journal)"
        elif ! notify "$kind" "$title" "${text%$'\n'}"; then
            log "no destination took the alert; it is sent again on the next run"
            return 0
        else
            log "sent: $title"
        fi
        # Delivered (or nowhere to deliver): remember what the owner now knows.
        for id in "${new[@]}"; do
            read_state "$id"
            write_state "$id" "$S_STATUS" "$S_SINCE" "fail@$now" "$S_SUMMARY"
        done
        for id in "${resolved[@]}"; do
            read_state "$id"
            write_state "$id" pass "$now" pass "$S_SUMMARY"
        done
    fi

    if [[ $WATCHDOG_DAILY_DIGEST == 1 ]] && has_destination; then
        local today at
        today=$(TZ=$WATCHDOG_TIMEZONE date -d "@$now" +%F)
        at=$(TZ=$WATCHDOG_TIMEZONE date -d "@$now" +%H:%M)
        if [[ ! $at < $WATCHDOG_DIGEST_AT && $(cat "$STATE_DIR/digest" 2>/dev/null || true) != "$today" ]]; then
            local digest="" ok=0
            for file in "$STATE_DIR"/checks/*; do
                [[ -e $file && $file != *.tmp ]] || continue
                read_state "${file##*/}"
                if [[ $S_STATUS == fail ]]; then
                    digest+="🔴 ${file##*/} ($(duration $((now - S_SINCE)))): $S_SUMMARY"$'\n'
                else
                    ok=$((ok + 1))
                fi
            done
            digest+="✅ $ok check(s) passing"
            if notify digest "📋 $WATCHDOG_LABEL: daily digest $today" "$digest"; then echo "$today" >"$STATE_DIR/digest"; fi
        fi
    fi
}

main "$@" </dev/null
