#!/usr/bin/env bash
# Installs the OpenClaw provider plugins that openclaw.json needs (e.g. @openclaw/voyage-provider@2026.9.6), pinned
# to the OpenClaw version, into the service user's OpenClaw state (~/.openclaw), where the gateway run by that user
# finds them. Run as root by the push, before the gateway (re)starts, so the gateway never installs packages while
# starting. Safe to rerun: a plugin already installed at the pinned version is left alone.
# Route: npm when the registry has that exact version, else ClawHub (`clawhub:NAME@VERSION`, the same pin), the other
# install route OpenClaw's docs give for its official plugins; any answer from npm but 200 or 404 is an error.
#
# Usage: install-plugins.sh SPEC...   (exact pins only: NAME@X.Y.Z; no spec = nothing to do)
# Env: AGENT_USER and AGENT_HOME (default: the host contract's), NPM_REGISTRY (default: provision.env's, else
# https://registry.npmjs.org/), OPENCLAW_BIN (/usr/local/bin/openclaw), NODE_BIN (/usr/local/bin/node).
set -euo pipefail

log() { printf '%s install-plugins: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# The host contract (components/core/host-contract.ts): shared paths and names (HOST_*), written by user data and the
# push. A HOST_* variable already set in the environment wins (tests point them at sandboxes).
readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"
PROVISION_ENV=${PROVISION_ENV:-$HOST_ETC_DIR/provision.env}
# Only the key we use, never the whole file into our environment.
if [[ -z ${NPM_REGISTRY:-} && -r $PROVISION_ENV ]]; then NPM_REGISTRY=$(sed -n 's/^NPM_REGISTRY=//p' "$PROVISION_ENV" | tail -n 1); fi
AGENT_USER=${AGENT_USER:-$HOST_AGENT_USER}
NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org/}
OPENCLAW_BIN=${OPENCLAW_BIN:-/usr/local/bin/openclaw}
NODE_BIN=${NODE_BIN:-/usr/local/bin/node}

[[ $EUID -eq 0 ]] || die "run as root (it installs as ${AGENT_USER} via runuser)"
if [[ $# -eq 0 ]]; then
    log "no plugin needed by the config: nothing to do"
    exit 0
fi
getent passwd "$AGENT_USER" >/dev/null || die "user ${AGENT_USER} does not exist"
AGENT_HOME=${AGENT_HOME:-$(getent passwd "$AGENT_USER" | cut -d: -f6)}
STATE_DIR="$AGENT_HOME/.openclaw"
[[ -r "$OPENCLAW_BIN" ]] || die "$OPENCLAW_BIN is missing (provision.sh installs OpenClaw first)"
[[ -x "$NODE_BIN" ]] || die "$NODE_BIN is not executable"

for spec in "$@"; do
    [[ "$spec" =~ ^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*@[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
        die "plugin spec '$spec' is not an exact pin NAME@X.Y.Z"
done

# The version of package $1 installed in the user's managed plugin projects (npm) or extensions (ClawHub), or nothing.
installed_version() {
    local name=$1 manifest found=""
    shopt -s nullglob
    for manifest in "$STATE_DIR"/npm/projects/*/node_modules/"$name"/package.json "$STATE_DIR"/extensions/*/package.json; do
        found=$("$NODE_BIN" -e 'const m = require(process.argv[1]); if (m.name === process.argv[2]) process.stdout.write(String(m.version || ""))' \
            "$manifest" "$name")
        if [[ -n $found ]]; then break; fi
    done
    shopt -u nullglob
    printf '%s' "$found"
}

# Where NAME@VERSION installs from: "npm" when the registry has that exact version, "clawhub" when it answers 404.
install_route() { # name version
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 60 "${NPM_REGISTRY%/}/${1/\//%2f}/$2") ||
        die "cannot reach $NPM_REGISTRY to look up $1@$2"
    case $code in
        200) echo npm ;;
        404) echo clawhub ;;
        *) die "$NPM_REGISTRY answered $code for $1@$2 (not 200, not 404): not installing it" ;;
    esac
}

install -d -o "$AGENT_USER" -g "$(id -gn "$AGENT_USER")" -m 0700 "$STATE_DIR"

for spec in "$@"; do
    name=${spec%@*}
    version=${spec##*@}
    current=$(installed_version "$name")
    if [[ "$current" == "$version" ]]; then
        log "$name $version already installed: unchanged"
        continue
    fi
    route=$(install_route "$name" "$version")
    if [[ $route == npm ]]; then
        target=$spec
        pin=(--pin)
        log "installing $spec (found: ${current:-none}) from $NPM_REGISTRY as $AGENT_USER"
    else
        target="clawhub:$spec"
        pin=()
        log "installing $target (found: ${current:-none}; $NPM_REGISTRY has no $spec) as $AGENT_USER"
    fi
    # `plugins install` records the plugin in the state dir's index and also enables it in the config it is given.
    # It gets a scratch config: the deployed openclaw.json is read-only and already enables the plugin itself. The
    # scratch config's port has no gateway, so the CLI installs on disk instead of asking a running gateway to.
    scratch=$(runuser -u "$AGENT_USER" -- mktemp -d)
    printf '{ "gateway": { "mode": "local", "port": 9 } }\n' | runuser -u "$AGENT_USER" -- tee "$scratch/openclaw.json" >/dev/null
    # A clean environment for the agent user, except how this host reaches the registry (proxy, extra CA).
    passthrough=()
    for var in HTTPS_PROXY HTTP_PROXY NO_PROXY https_proxy http_proxy no_proxy NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR; do
        if [[ -n "${!var:-}" ]]; then passthrough+=("$var=${!var}"); fi
    done
    status=0
    runuser -u "$AGENT_USER" -- env -i "${passthrough[@]}" \
        PATH="$(dirname "$NODE_BIN"):/usr/local/bin:/usr/bin:/bin" \
        HOME="$AGENT_HOME" \
        OPENCLAW_STATE_DIR="$STATE_DIR" \
        OPENCLAW_CONFIG_PATH="$scratch/openclaw.json" \
        NO_COLOR=1 \
        npm_config_registry="$NPM_REGISTRY" \
        "$NODE_BIN" "$OPENCLAW_BIN" plugins install "$target" "${pin[@]}" >&2 || status=$?
    rm -rf -- "$scratch"
    [[ $status -eq 0 ]] || die "openclaw plugins install $target failed (exit $status)"
    current=$(installed_version "$name")
    [[ "$current" == "$version" ]] || die "$name is at '${current:-nothing}' after installing $spec"
    log "$name $version installed"
done

# If the deployed config is already in place, let OpenClaw itself confirm that no plugin it enables is missing.
if [[ -f "$STATE_DIR/openclaw.json" ]]; then
    report=$(runuser -u "$AGENT_USER" -- env -i PATH="$(dirname "$NODE_BIN"):/usr/bin:/bin" HOME="$AGENT_HOME" \
        OPENCLAW_STATE_DIR="$STATE_DIR" OPENCLAW_CONFIG_PATH="$STATE_DIR/openclaw.json" NO_COLOR=1 \
        "$NODE_BIN" "$OPENCLAW_BIN" config validate --json 2>/dev/null || true)
    missing=$(printf '%s' "$report" | "$NODE_BIN" -e '
        let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
            const start = text.indexOf("{");
            const report = start < 0 ? {} : JSON.parse(text.slice(start));
            const missing = (report.warnings || []).filter((w) => /plugin not installed/.test(w.message)).map((w) => w.path);
            process.stdout.write(missing.join(" "));
        });')
    [[ -z "$missing" ]] || die "the deployed config still enables plugins that are not installed: $missing"
    log "openclaw config validate: every plugin the config enables is installed"
fi
log "done: $*"
