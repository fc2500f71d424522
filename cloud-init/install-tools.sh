#!/usr/bin/env bash
# What the push installs around the gateway's (re)start. Before it: the provider plugins the config needs (arguments,
# install-plugins.sh) and the pinned ClawHub skills (install-skills.sh, tools.env's SKILLS). After it
# (`--after-gateway`): the headless browser (install-browser.sh, when tools.env says BROWSER=1), which the gateway does
# not need to start; on a new server the deploy's browser stage has fetched its packages beside provisioning by then (or
# is still at it: install-browser.sh waits for it), so Chromium's install is never on the way to the gateway's first
# start.
# Run as root by the push whenever openclaw.json or tools.env changed, and on the first push. Each installer is safe
# to rerun and changes nothing when everything is in place.
#
# Usage: install-tools.sh [PLUGIN_SPEC...] | install-tools.sh --after-gateway
# Env: TOOLS_ENV (default: the contract's HOST_TOOLS_ENV). The installers are this script's siblings (HOST_BIN_DIR on a
# host). OPENCLAW_VPS_ROOT (the push's sandbox in tests) installs plugins only: never a browser or skills there.
set -euo pipefail

log() { printf '%s install-tools: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"
TOOLS_ENV=${TOOLS_ENV:-$HOST_TOOLS_ENV}
BIN_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly BIN_DIR

# tools.env is data (KEY=value, plain words), read key by key, never sourced.
tools_value() { [[ -r $TOOLS_ENV ]] && sed -n "s/^$1=//p" "$TOOLS_ENV" | tail -n 1; }
browser=$(tools_value BROWSER || true)
skills=$(tools_value SKILLS || true)
clawhub_version=$(tools_value CLAWHUB_VERSION || true)
clawhub_integrity=$(tools_value CLAWHUB_INTEGRITY || true)
[[ -r $TOOLS_ENV ]] || log "$TOOLS_ENV is missing: no browser, no ClawHub skill"

if [[ ${1:-} == --after-gateway ]]; then
    if [[ -n ${OPENCLAW_VPS_ROOT:-} ]]; then
        log "sandboxed push (OPENCLAW_VPS_ROOT=$OPENCLAW_VPS_ROOT): the browser is installed on a host only"
    elif [[ $browser == 1 ]]; then
        "$BIN_DIR/install-browser.sh" || die "the browser installer failed"
    else
        log "browser: off (browser=false)"
    fi
    log "done (after the gateway)"
    exit 0
fi

"$BIN_DIR/install-plugins.sh" "$@" || die "the plugin installer failed"

if [[ -n ${OPENCLAW_VPS_ROOT:-} ]]; then
    log "sandboxed push (OPENCLAW_VPS_ROOT=$OPENCLAW_VPS_ROOT): the browser and skills are installed on a host only"
    exit 0
fi

read -r -a skill_specs <<<"$skills"
CLAWHUB_VERSION=$clawhub_version CLAWHUB_INTEGRITY=$clawhub_integrity \
    "$BIN_DIR/install-skills.sh" "${skill_specs[@]}" || die "the skill installer failed"
log "done (before the gateway)"
