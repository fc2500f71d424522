#!/usr/bin/env bash
# The bundle applier: the library that every script rendered by components/render/bundle.ts embeds. It owns HOW the
# push changes the host (docs/host-contract.md, "Order of events", steps 3-7): atomic, sha256-gated writes with
# owner/group/mode; create-only files that are never overwritten; the first-boot restore before the agent's files
# and the gateway; the OpenClaw release (upgrade-openclaw.sh); the plugin installer; enabling and (only when needed)
# restarting the services; waiting for /readyz.
#
# The rendered script defines `bundle_define` (bundle_option/bundle_service/bundle_dir/bundle_file calls, contents in
# quoted base64 heredocs) and ends with `bundle_main </dev/null`. Everything lives in functions, so bash has parsed the
# whole script before anything runs: a truncated transfer is a syntax error, not half a deploy, and no command can
# swallow the rest of a script that arrives on stdin (`sudo bash -s`).
#
# Never `set -x` here and never echo a file's content: secrets pass through this script.
#
# Test/stand-in overrides (environment; production sets none of them):
#   OPENCLAW_VPS_ROOT  prefix for every host path (like DESTDIR); default "" = the real filesystem.
#   PATH               lets tests put recording stand-ins for systemctl/loginctl/journalctl first.
set -euo pipefail

APPLY_ROOT="${OPENCLAW_VPS_ROOT:-}"
APPLY_LOG_PREFIX="[openclaw-vps push]"

# Bundle model, filled by bundle_define.
declare -A BUNDLE_OPTIONS=(
    # Paths and the agent user have no defaults: the renderer always sets them from the host contract.
    [agent_user]=""
    [restore_from]=none
    [restore_script]=""
    [restore_marker]=""
    [baseline_script]=""
    [plugin_installer]=""
    [plugin_args]=""
    [tools_after_gateway]=0
    [release_script]=""
    [release_spec]=""
    [release_config]=""
    [state_dir]=""
    [ready_url]=""
    [ready_unit]=""
    [ready_timeout]=180
    [user_manager_timeout]=60
    # A user unit of the agent user from an older push (the gateway before it became a system unit): retired first.
    [retire_user_unit]=""
    [boot_timeout]=300
)
BUNDLE_SERVICE_UNITS=()
BUNDLE_SERVICE_BLOCKING=()
BUNDLE_DIR_PATHS=()
BUNDLE_DIR_OWNERS=()
BUNDLE_DIR_GROUPS=()
BUNDLE_DIR_MODES=()
BUNDLE_DIR_STAGES=()
BUNDLE_FILE_PATHS=()
BUNDLE_FILE_OWNERS=()
BUNDLE_FILE_GROUPS=()
BUNDLE_FILE_MODES=()
BUNDLE_FILE_POLICIES=()
BUNDLE_FILE_STAGES=()
BUNDLE_FILE_EFFECTS=()
BUNDLE_FILE_CONTENTS=()

# Outcome, for the summary.
FILES_CHANGED=()
FILES_CREATED=()
FILES_FIXED=()
FILES_KEPT=0
FILES_AGENT_KEPT=0
SERVICES_RESTARTED=()
SERVICES_STARTED=()
SERVICES_RETIRED=()

log() { printf '%s %s\n' "$APPLY_LOG_PREFIX" "$*"; }
die() {
    printf '%s ERROR: %s\n' "$APPLY_LOG_PREFIX" "$*" >&2
    exit 1
}

# ---- declarations (called from the generated bundle_define) ----

bundle_option() { BUNDLE_OPTIONS[$1]="$2"; }

bundle_service() { # unit [no-block]
    BUNDLE_SERVICE_UNITS+=("$1")
    BUNDLE_SERVICE_BLOCKING+=("${2:-block}")
}

bundle_dir() { # path owner group mode stage(host|agent)
    BUNDLE_DIR_PATHS+=("$1")
    BUNDLE_DIR_OWNERS+=("$2")
    BUNDLE_DIR_GROUPS+=("$3")
    BUNDLE_DIR_MODES+=("$4")
    BUNDLE_DIR_STAGES+=("$5")
}

bundle_file() { # path owner group mode policy(replace|create-only) stage(host|agent) effects(comma list or -); base64 on stdin
    local content=""
    # `read` is a builtin: the (possibly secret) content never becomes a process argument.
    IFS= read -r -d '' content || true
    BUNDLE_FILE_PATHS+=("$1")
    BUNDLE_FILE_OWNERS+=("$2")
    BUNDLE_FILE_GROUPS+=("$3")
    BUNDLE_FILE_MODES+=("$4")
    BUNDLE_FILE_POLICIES+=("$5")
    BUNDLE_FILE_STAGES+=("$6")
    BUNDLE_FILE_EFFECTS+=("$7")
    BUNDLE_FILE_CONTENTS+=("$content") # base64 -d skips the line breaks
}

# ---- helpers ----

host_path() { printf '%s%s' "$APPLY_ROOT" "$1"; }

# Runs a command as OWNER (no PAM, no login): files in the agent's own directories are written by the agent's user,
# so a symlink or rename race planted by the agent can never make root write or chmod anything outside them.
as_user() { # owner group command...
    local owner=$1 group=$2
    shift 2
    if [[ $owner == root ]]; then
        "$@"
    else
        setpriv --reuid="$owner" --regid="$group" --init-groups -- "$@"
    fi
}

# The atomic writer, run as the file's owner: temp file in the target's directory, mode set, then rename.
# Content comes on stdin; the arguments are paths and modes only.
# shellcheck disable=SC2016 # expanded by the inner bash
WRITER_PROGRAM='set -euo pipefail
umask 077
tmp=$(mktemp "$1/.openclaw-vps.XXXXXX")
trap '\''rm -f -- "$tmp"'\'' EXIT
cat >"$tmp"
chmod "$3" "$tmp"
if [[ -n $4 ]]; then chgrp "$4" "$tmp"; fi
mv -f -T -- "$tmp" "$2"
trap - EXIT'

decode_content() { printf '%s' "${BUNDLE_FILE_CONTENTS[$1]}" | base64 -d; }

file_sha256() { # path (regular file)
    local sum
    sum=$(sha256sum <"$1")
    printf '%s' "${sum%% *}"
}

owner_group_mode() { stat -c '%U:%G:%a' -- "$1"; }

# Mode as stat prints it (no leading zeros), e.g. 0600 -> 600.
normal_mode() { printf '%o' "$((8#$1))"; }

state_path() { host_path "${BUNDLE_OPTIONS[state_dir]}/$1"; }

# Pending effects survive a failed push: a file that changed marks its effects first, and the marker is removed only
# once the effect (restart, reload, plugin install) succeeded, so the next push finishes what this one could not.
mark_pending() { # effect
    local marker
    marker=$(state_path "pending/$1")
    if [[ ! -e $marker ]]; then : >"$marker"; fi
}
is_pending() { [[ -e $(state_path "pending/$1") ]]; }
clear_pending() { rm -f -- "$(state_path "pending/$1")"; }

ensure_state_dir() {
    local dir
    dir=$(state_path pending)
    mkdir -p -- "$dir"
    chmod 0700 -- "$(state_path '')" "$dir"
}

# Creates missing parents of PATH as OWNER (mode 0755, or 0700 for a secret's parent); never touches existing ones.
ensure_parents() { # path owner group dirmode
    local target=$1 owner=$2 group=$3 mode=$4 parent missing=()
    parent=$(dirname -- "$target")
    while [[ ! -e $parent && $parent != "$APPLY_ROOT" && $parent != / ]]; do
        missing=("$parent" "${missing[@]}")
        parent=$(dirname -- "$parent")
    done
    local dir
    for dir in "${missing[@]}"; do
        if [[ $owner == root ]]; then
            mkdir -m "$mode" -- "$dir"
        else
            # The first missing directory sits in an existing one that may be root's: create it as root, hand it
            # over (no-follow), then let the owner do the rest.
            if [[ $(stat -c %U -- "$(dirname -- "$dir")") == "$owner" ]]; then
                as_user "$owner" "$group" mkdir -m "$mode" -- "$dir"
            else
                mkdir -m "$mode" -- "$dir"
                chown -h "$owner:$group" -- "$dir"
            fi
        fi
        log "created directory ${dir#"$APPLY_ROOT"}"
    done
}

apply_dir() { # index
    local i=$1 path owner group mode target actual
    path=${BUNDLE_DIR_PATHS[$i]}
    owner=${BUNDLE_DIR_OWNERS[$i]}
    group=${BUNDLE_DIR_GROUPS[$i]}
    mode=${BUNDLE_DIR_MODES[$i]}
    target=$(host_path "$path")
    if [[ -L $target ]]; then die "$path is a symlink; refusing to manage it as a directory"; fi
    if [[ ! -e $target ]]; then
        ensure_parents "$target" "$owner" "$group" 0755
        mkdir -m 0700 -- "$target"
        chown -h "$owner:$group" -- "$target"
        as_user "$owner" "$group" chmod "$mode" -- "$target"
        log "created directory $path ($owner:$group $mode)"
        return
    fi
    [[ -d $target ]] || die "$path exists and is not a directory"
    actual=$(owner_group_mode "$target")
    if [[ $actual != "$owner:$group:$(normal_mode "$mode")" ]]; then
        # cloud-init leaves some directories root-owned: hand them over without following links, then let the owner
        # set the mode (chmod follows links; as the owner it can only ever touch the owner's own files).
        chown -h "$owner:$group" -- "$target"
        as_user "$owner" "$group" chmod "$mode" -- "$target"
        log "fixed directory $path ($actual -> $owner:$group:$mode)"
    fi
}

apply_file() { # index
    local i=$1 path owner group mode policy effects target new_sha actual effect
    path=${BUNDLE_FILE_PATHS[$i]}
    owner=${BUNDLE_FILE_OWNERS[$i]}
    group=${BUNDLE_FILE_GROUPS[$i]}
    mode=${BUNDLE_FILE_MODES[$i]}
    policy=${BUNDLE_FILE_POLICIES[$i]}
    effects=${BUNDLE_FILE_EFFECTS[$i]}
    target=$(host_path "$path")

    if [[ $policy == create-only ]] && [[ -e $target || -L $target ]]; then
        # The agent's file (or the one it replaced ours with): never read, rewritten, re-moded or deleted.
        FILES_AGENT_KEPT=$((FILES_AGENT_KEPT + 1))
        return
    fi

    new_sha=$(decode_content "$i" | sha256sum)
    new_sha=${new_sha%% *}
    local existed=0
    if [[ -f $target && ! -L $target ]]; then
        existed=1
        if [[ $(file_sha256 "$target") == "$new_sha" ]]; then
            actual=$(owner_group_mode "$target")
            if [[ $actual != "$owner:$group:$(normal_mode "$mode")" ]]; then
                chown -h "$owner:$group" -- "$target"
                as_user "$owner" "$group" chmod "$mode" -- "$target"
                FILES_FIXED+=("$path")
                log "fixed owner/mode of $path ($actual -> $owner:$group:$mode)"
            else
                FILES_KEPT=$((FILES_KEPT + 1))
            fi
            return
        fi
    elif [[ -e $target || -L $target ]]; then
        existed=1 # a symlink, fifo or other odd thing: the rename replaces the entry itself, never its target
        [[ ! -d $target || -L $target ]] || die "$path is a directory; expected a file"
    fi

    ensure_parents "$target" "$owner" "$group" "$([[ $mode =~ ^0?[0-7]00$ ]] && echo 0700 || echo 0755)"
    if [[ $effects != - ]]; then
        local -a effect_list
        IFS=, read -r -a effect_list <<<"$effects"
        for effect in "${effect_list[@]}"; do mark_pending "$effect"; done
    fi
    local chgrp_to=""
    if [[ $owner == root && $group != root ]]; then chgrp_to=$group; fi
    decode_content "$i" |
        as_user "$owner" "$group" bash -c "$WRITER_PROGRAM" openclaw-vps-writer "$(dirname -- "$target")" "$target" "$mode" "$chgrp_to"
    if ((existed)); then
        FILES_CHANGED+=("$path")
        log "replaced $path"
    else
        FILES_CREATED+=("$path")
        log "created $path"
    fi
}

apply_stage() { # stage
    local stage=$1 i
    for i in "${!BUNDLE_DIR_PATHS[@]}"; do
        if [[ ${BUNDLE_DIR_STAGES[$i]} == "$stage" ]]; then apply_dir "$i"; fi
    done
    for i in "${!BUNDLE_FILE_PATHS[@]}"; do
        if [[ ${BUNDLE_FILE_STAGES[$i]} == "$stage" ]]; then apply_file "$i"; fi
    done
}

agent_uid() { id -u "${BUNDLE_OPTIONS[agent_user]}"; }

# systemctl --user for the agent: its own uid and runtime dir, the user manager's private socket (works without
# dbus-user-session). Only to retire the gateway's old user unit.
user_systemctl() {
    local user=${BUNDLE_OPTIONS[agent_user]} uid
    uid=$(agent_uid)
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- \
        env XDG_RUNTIME_DIR="/run/user/$uid" systemctl --user "$@"
}

# Hosts pushed before the gateway became a system unit run it as a user unit of the agent (lingering). It holds the
# gateway's port, so it is stopped, disabled and removed before the system unit starts; with it goes linger (no user
# unit is left, and a user manager is one more process for the agent to abuse). Nothing the agent wrote is touched.
retire_user_unit() {
    local unit=${BUNDLE_OPTIONS[retire_user_unit]} user=${BUNDLE_OPTIONS[agent_user]} uid file socket deadline linger
    [[ -n $unit ]] || return 0
    file=$(host_path "$(getent passwd "$user" | cut -d: -f6)/.config/systemd/user/$unit")
    linger=$(host_path "/var/lib/systemd/linger/$user")
    uid=$(agent_uid)
    socket=$(host_path "/run/user/$uid/systemd/private")
    if [[ -e $file ]]; then
        log "retiring the gateway's old user unit ($unit of $user): the system unit replaces it"
        deadline=$((SECONDS + BUNDLE_OPTIONS[user_manager_timeout]))
        if [[ -e $linger ]]; then
            # Linger on: the user manager is up or coming up, and it may be running the old gateway.
            until [[ -e $socket ]]; do
                ((SECONDS < deadline)) || die "the user manager of $user did not start within ${BUNDLE_OPTIONS[user_manager_timeout]}s ($socket is missing); the old gateway could not be stopped"
                sleep 1
            done
        fi
        if [[ -e $socket ]]; then
            user_systemctl disable --now --quiet "$unit" || die "could not stop the old user unit $unit"
        fi
        rm -f -- "$file"
        if [[ -e $socket ]]; then user_systemctl daemon-reload; fi
        SERVICES_RETIRED+=("user:$unit")
    fi
    if [[ -e $linger ]]; then
        log "turning linger off for $user (no user unit is left to run without a login)"
        loginctl disable-linger "$user"
        SERVICES_RETIRED+=("linger:$user")
    fi
}

restore_on_first_boot() {
    local marker from script
    marker=$(host_path "${BUNDLE_OPTIONS[restore_marker]}")
    from=${BUNDLE_OPTIONS[restore_from]}
    script=$(host_path "${BUNDLE_OPTIONS[restore_script]}")
    if [[ -e $marker ]]; then
        log "first-boot restore already done on this server ($(grep -m1 '^restore_from=' "$marker" 2>/dev/null || echo marker present))"
        return
    fi
    if [[ $from != none ]]; then
        [[ -x $script ]] || die "restore is required (restoreFrom=$from) but ${BUNDLE_OPTIONS[restore_script]} is missing"
        log "first boot: restoring snapshot '$from' before the agent's files and the gateway"
        "$script" --snapshot "$from" --first-boot || die "restore of snapshot '$from' failed; the gateway was not started (the next push retries)"
    else
        log "first boot: restoreFrom=none, starting with a fresh workspace"
    fi
    mkdir -p -- "$(dirname -- "$marker")"
    printf 'restore_from=%s\nat=%s\n' "$from" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$marker.tmp"
    chmod 0644 -- "$marker.tmp"
    mv -f -T -- "$marker.tmp" "$marker"
}

# The kernel and system baseline (baseline.sh, pushed in the host stage): on the real host only, never into an
# OPENCLAW_VPS_ROOT sandbox (its sysctls, modes and login.defs are the machine's own).
apply_baseline() {
    local script
    script=$(host_path "${BUNDLE_OPTIONS[baseline_script]:-}")
    if [[ -n $APPLY_ROOT || ! -x $script ]]; then return 0; fi
    log "kernel and system baseline (baseline.sh)"
    "$script" || die "baseline.sh failed"
}

# File integrity (integrity.sh, pushed in the host stage): the push tells the check and apt's hooks that it runs (they
# leave its changes alone), and writes AIDE's new baseline at its end: our own changes are legitimate, so a second push
# changes nothing and the check after a push is clean. Never into an OPENCLAW_VPS_ROOT sandbox.
integrity() { # push-start|baseline
    local script
    script=$(host_path "${BUNDLE_OPTIONS[integrity_script]:-}")
    if [[ -n $APPLY_ROOT || -z ${BUNDLE_OPTIONS[integrity_script]:-} || ! -x $script ]] || ! command -v aide >/dev/null; then return 0; fi
    case $1 in
        push-start) "$script" push-start "$$" >/dev/null || log "integrity.sh push-start failed (continuing)" ;;
        baseline)
            log "file integrity: new AIDE baseline"
            "$script" baseline || log "WARNING: integrity.sh baseline failed; the next check reports this push's changes"
            ;;
    esac
}

install_plugins() {
    local installer=${BUNDLE_OPTIONS[plugin_installer]}
    [[ -n $installer ]] || return 0
    if [[ ! -e $(state_path plugins.done) ]]; then mark_pending install-plugins; fi
    is_pending install-plugins || return 0
    local -a specs=()
    read -r -a specs <<<"${BUNDLE_OPTIONS[plugin_args]}"
    log "installing the provider plugins the config needs (before the gateway starts): ${specs[*]:-none}"
    if [[ ${BUNDLE_OPTIONS[tools_after_gateway]} == 1 ]]; then mark_pending tools-after-gateway; fi
    "$(host_path "$installer")" "${specs[@]}" || die "the plugin installer failed; the gateway was not (re)started"
    : >"$(state_path plugins.done)"
    clear_pending install-plugins
}

# What the gateway does not need to start (the browser: install-tools.sh --after-gateway), once it is ready; pending
# until it succeeds, so a failure here is retried by the next push.
install_after_gateway() {
    local installer=${BUNDLE_OPTIONS[plugin_installer]}
    [[ -n $installer && ${BUNDLE_OPTIONS[tools_after_gateway]} == 1 ]] || return 0
    is_pending tools-after-gateway || return 0
    log "installing what the gateway does not need to start (the browser)"
    "$(host_path "$installer")" --after-gateway || die "the installer's after-gateway part failed (the gateway runs; push again)"
    clear_pending tools-after-gateway
}

# The OpenClaw release (upgrade-openclaw.sh apply): installed side by side if it is not yet, then made current; on a
# host whose gateway runs, that is the guarded upgrade (checked on a copy of the state, backup first, rolled back on
# failure). It gets the config this push deploys, so the new release starts with it; a second push finds the
# release current and changes nothing.
apply_release() {
    local script=${BUNDLE_OPTIONS[release_script]} candidate="" i
    [[ -n $script ]] || return 0
    local -a args=(apply --spec "$(host_path "${BUNDLE_OPTIONS[release_spec]}")")
    if [[ -n ${BUNDLE_OPTIONS[release_config]} ]]; then
        for i in "${!BUNDLE_FILE_PATHS[@]}"; do
            if [[ ${BUNDLE_FILE_PATHS[$i]} == "${BUNDLE_OPTIONS[release_config]}" ]]; then
                candidate=$(state_path release-config.json)
                (
                    umask 077
                    decode_content "$i" >"$candidate"
                )
            fi
        done
        [[ -n $candidate ]] || die "the release's config ${BUNDLE_OPTIONS[release_config]} is not in the bundle"
        args+=(--config "$candidate")
    fi
    if [[ -n ${BUNDLE_OPTIONS[plugin_args]} ]]; then args+=(--plugins "${BUNDLE_OPTIONS[plugin_args]}"); fi
    if [[ -n ${BUNDLE_OPTIONS[ready_url]} ]]; then args+=(--ready-url "${BUNDLE_OPTIONS[ready_url]}"); fi
    log "the OpenClaw release (install side by side, then switch; guarded when the gateway runs)"
    "$(host_path "$script")" "${args[@]}" ||
        die "the OpenClaw release was not installed or upgraded (the reason is above; a failed upgrade was rolled back)"
    if [[ -n $candidate ]]; then rm -f -- "$candidate"; fi
}

# Enables a service, restarts it when one of its files changed, otherwise only makes sure it runs.
run_service() { # unit [no-block]
    local unit=$1 ctl=(systemctl) start_flags=()
    if [[ ${2:-block} == no-block ]]; then start_flags=(--no-block); fi
    "${ctl[@]}" enable --quiet "$unit"
    if is_pending "restart:$unit"; then
        log "restarting $unit (its unit, config or secrets changed)"
        "${ctl[@]}" "${start_flags[@]}" restart "$unit"
        SERVICES_RESTARTED+=("$unit")
        clear_pending "restart:$unit"
    elif ! "${ctl[@]}" is-active --quiet "$unit"; then
        log "starting $unit"
        "${ctl[@]}" "${start_flags[@]}" start "$unit"
        SERVICES_STARTED+=("$unit")
    fi
}

start_services() {
    local i state
    # A start or restart queued while the host is still booting waits for the whole boot; say so instead of hanging
    # silently, and go on after a bounded wait (a degraded host still gets its services).
    state=$(timeout "${BUNDLE_OPTIONS[boot_timeout]}" systemctl is-system-running --wait 2>/dev/null || true)
    log "host state: ${state:-unknown}"
    retire_user_unit
    if is_pending daemon-reload; then
        log "reloading systemd (a system unit changed)"
        systemctl daemon-reload
        clear_pending daemon-reload
    fi
    for i in "${!BUNDLE_SERVICE_UNITS[@]}"; do
        run_service "${BUNDLE_SERVICE_UNITS[$i]}" "${BUNDLE_SERVICE_BLOCKING[$i]}"
    done
}

wait_ready() {
    local url=${BUNDLE_OPTIONS[ready_url]} unit=${BUNDLE_OPTIONS[ready_unit]} deadline started=$SECONDS
    [[ -n $url ]] || return 0
    deadline=$((SECONDS + BUNDLE_OPTIONS[ready_timeout]))
    log "waiting for $url (up to ${BUNDLE_OPTIONS[ready_timeout]}s)"
    until curl -fsS -o /dev/null --max-time 3 "$url" 2>/dev/null; do
        local why=""
        if ((SECONDS >= deadline)); then
            why="$url did not answer 200 within ${BUNDLE_OPTIONS[ready_timeout]}s"
        elif [[ -n $unit ]] && systemctl is-failed --quiet "$unit"; then
            # Exit 78 (config error) is never restarted: no point waiting for the timeout.
            why="$unit failed before $url answered 200"
        fi
        if [[ -n $why ]]; then
            printf '%s ERROR: %s; last log lines of %s:\n' "$APPLY_LOG_PREFIX" "$why" "${unit:-the gateway}" >&2
            if [[ -n $unit ]]; then
                journalctl --no-pager -o short-iso -n 40 -u "$unit" >&2 || true
            fi
            exit 1
        fi
        sleep 1
    done
    log "gateway ready after $((SECONDS - started))s"
}

print_summary() {
    local path restarted
    log "summary: ${#FILES_CHANGED[@]} changed, ${#FILES_CREATED[@]} created, ${#FILES_FIXED[@]} owner/mode fixed, $FILES_KEPT unchanged, $FILES_AGENT_KEPT agent-owned kept"
    for path in "${FILES_CHANGED[@]}"; do log "  changed $path"; done
    for path in "${FILES_CREATED[@]}"; do log "  created $path"; done
    for path in "${FILES_FIXED[@]}"; do log "  fixed   $path"; done
    restarted=$(
        IFS=,
        printf '%s' "${SERVICES_RESTARTED[*]}"
    )
    log "services restarted: ${restarted:-none}"
    if ((${#SERVICES_RETIRED[@]})); then log "retired: ${SERVICES_RETIRED[*]}"; fi
    # One machine-readable line for components/remote.ts.
    printf 'PUSH-SUMMARY changed=%d created=%d fixed=%d kept=%d agent_kept=%d restarted=%s started=%s\n' \
        "${#FILES_CHANGED[@]}" "${#FILES_CREATED[@]}" "${#FILES_FIXED[@]}" "$FILES_KEPT" "$FILES_AGENT_KEPT" \
        "${restarted:--}" "$(
            IFS=,
            printf '%s' "${SERVICES_STARTED[*]:--}"
        )"
}

preflight() {
    ((EUID == 0)) || die "must run as root (sudo bash -s)"
    local tool
    for tool in base64 sha256sum setpriv stat mktemp systemctl; do
        command -v "$tool" >/dev/null || die "missing tool: $tool"
    done
    if [[ -n ${BUNDLE_OPTIONS[ready_url]} ]]; then command -v curl >/dev/null || die "missing tool: curl"; fi
    id -u "${BUNDLE_OPTIONS[agent_user]}" >/dev/null 2>&1 || die "user ${BUNDLE_OPTIONS[agent_user]} does not exist (provisioning not finished?)"
}

# Where the push spends its time (the first boot's budget, README "Benchmarks"): each phase's seconds, printed as one
# machine-readable PUSH-TIMES line at the end (scripts/bench.ts reads it).
PHASE_TIMES=()
PHASE_NAME=""
PHASE_START=""
phase() { # name: ends the running phase, starts the next one ("" ends the last)
    local now=${EPOCHREALTIME/,/.}
    if [[ -n $PHASE_NAME ]]; then
        PHASE_TIMES+=("$PHASE_NAME=$(awk -v a="$PHASE_START" -v b="$now" 'BEGIN { printf "%.1f", b - a }')")
    fi
    PHASE_NAME=$1
    PHASE_START=$now
}

bundle_main() {
    umask 022
    cd / # the agent's user must be able to stand in the working directory of the commands it runs
    bundle_define
    preflight
    log "applying ${#BUNDLE_FILE_PATHS[@]} files, ${#BUNDLE_DIR_PATHS[@]} directories"
    ensure_state_dir
    log "step 1/6: host files (scripts, units, root-only credentials, the release spec)"
    phase host-files
    integrity push-start
    apply_stage host
    phase baseline
    apply_baseline
    log "step 2/6: first-boot restore"
    phase restore
    restore_on_first_boot
    log "step 3/6: the OpenClaw release"
    phase release
    apply_release
    log "step 4/6: the agent's config, secrets, unit and workspace seed"
    phase agent-files
    apply_stage agent
    log "step 5/6: plugins and services"
    phase tools
    install_plugins
    phase services
    start_services
    log "step 6/6: readiness, then what the gateway does not need to start"
    phase readiness
    wait_ready
    phase browser
    install_after_gateway
    phase integrity
    integrity baseline
    phase ""
    print_summary
    printf 'PUSH-TIMES %s\n' "${PHASE_TIMES[*]}"
}
