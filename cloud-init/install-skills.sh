#!/usr/bin/env bash
# Installs the ClawHub skills the config pins (`skills: [slug@X.Y.Z, @owner/slug@X.Y.Z]`) into the agent's workspace
# with the pinned `clawhub` CLI from the npm registry. Run as root by the push (install-tools.sh), before the gateway
# (re)starts; the skills are installed as the agent user, so they are the agent's files like everything in its
# workspace (and backed up with it). Safe to rerun: a skill already at its pinned version is left alone; a skill at
# another version is copied to ~/openclaw-skill-backups/ first, then replaced by the pinned one.
# Skills the agent installed itself, and skills not in the list, are never touched (removing a skill from the list
# does not delete it: the agent may depend on it).
#
# Prints one line per skill on stdout for the push summary: `skill NAME VERSION installed|unchanged sha256:FINGERPRINT`.
#
# Usage: install-skills.sh SPEC...   (no spec = nothing to do)
# Env: CLAWHUB_VERSION and CLAWHUB_INTEGRITY (required: the CLI pin and its npm lock integrity, sha512-...),
# CLAWHUB_REGISTRY (default: provision.env's, else the CLI's own default), NPM_REGISTRY (default: provision.env's, else
# https://registry.npmjs.org/), NODE_BIN (/usr/local/bin/node), AGENT_USER/AGENT_HOME (the contract's),
# CLAWHUB_PREFIX (the contract's HOST_CLAWHUB_PREFIX), WORKSPACE_DIR (the contract's HOST_WORKSPACE_DIR).
set -euo pipefail

log() { printf '%s install-skills: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
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
PROVISION_ENV=${PROVISION_ENV:-$HOST_ETC_DIR/provision.env}
provision_value() { [[ -r $PROVISION_ENV ]] && sed -n "s/^$1=//p" "$PROVISION_ENV" | tail -n 1; }
if [[ -z ${NPM_REGISTRY:-} ]]; then NPM_REGISTRY=$(provision_value NPM_REGISTRY || true); fi
if [[ -z ${CLAWHUB_REGISTRY:-} ]]; then CLAWHUB_REGISTRY=$(provision_value CLAWHUB_REGISTRY || true); fi
NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org/}
NODE_BIN=${NODE_BIN:-/usr/local/bin/node}
AGENT_USER=${AGENT_USER:-$HOST_AGENT_USER}
CLAWHUB_PREFIX=${CLAWHUB_PREFIX:-$HOST_CLAWHUB_PREFIX}
WORKSPACE_DIR=${WORKSPACE_DIR:-$HOST_WORKSPACE_DIR}
if [[ $# -eq 0 ]]; then
    log "no ClawHub skill in the config: nothing to do"
    exit 0
fi
: "${CLAWHUB_VERSION:?CLAWHUB_VERSION (the pinned clawhub CLI) is required}"
: "${CLAWHUB_INTEGRITY:?CLAWHUB_INTEGRITY (the npm lock integrity of the clawhub CLI) is required}"

[[ $EUID -eq 0 ]] || die "run as root (it installs skills as ${AGENT_USER} via runuser)"
for spec in "$@"; do
    [[ $spec =~ ^(@[a-z0-9][a-z0-9_-]{0,38}/)?[a-z0-9][a-z0-9_-]{0,63}@[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
        die "skill spec '$spec' is not slug@X.Y.Z or @owner/slug@X.Y.Z"
done
[[ $CLAWHUB_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "CLAWHUB_VERSION '$CLAWHUB_VERSION' is not an exact version"
[[ $CLAWHUB_INTEGRITY =~ ^sha512-[A-Za-z0-9+/=]+$ ]] || die "CLAWHUB_INTEGRITY is not an npm sha512 integrity"
getent passwd "$AGENT_USER" >/dev/null || die "user ${AGENT_USER} does not exist"
AGENT_HOME=${AGENT_HOME:-$(getent passwd "$AGENT_USER" | cut -d: -f6)}
AGENT_GROUP=$(id -gn "$AGENT_USER")
[[ -x $NODE_BIN ]] || die "$NODE_BIN is not executable"
NPM_BIN=${NPM_BIN:-$(dirname "$NODE_BIN")/npm}
CLAWHUB_JS="$CLAWHUB_PREFIX/lib/node_modules/clawhub/bin/clawdhub.js"

json_get() { # file key... : the value at that path of the JSON file, or nothing (missing file, key or bad JSON)
    "$NODE_BIN" -e 'let j; try { j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")) } catch { process.exit(0) }
        for (const k of process.argv.slice(2)) j = j?.[k];
        if (j !== undefined && j !== null) process.stdout.write(String(j))' "$@"
}

# --- the CLI: root-owned (the agent cannot change the tool that installs its skills), the exact tarball the lock pins
installed_cli=$(json_get "$CLAWHUB_PREFIX/lib/node_modules/clawhub/package.json" version)
if [[ $installed_cli != "$CLAWHUB_VERSION" ]]; then
    log "installing clawhub $CLAWHUB_VERSION (found: ${installed_cli:-none}) from $NPM_REGISTRY"
    scratch=$(mktemp -d)
    trap 'rm -rf -- "$scratch"' EXIT
    (cd "$scratch" && HOME="$scratch" "$NPM_BIN" pack --silent --registry "$NPM_REGISTRY" "clawhub@$CLAWHUB_VERSION" >/dev/null)
    tarball="$scratch/clawhub-$CLAWHUB_VERSION.tgz"
    [[ -f $tarball ]] || die "npm pack clawhub@$CLAWHUB_VERSION produced no tarball"
    got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
    [[ $got == "$CLAWHUB_INTEGRITY" ]] || die "clawhub-$CLAWHUB_VERSION.tgz is $got; the lock pins $CLAWHUB_INTEGRITY"
    # Its dependencies are exact pins in its own package.json; npm checks each tarball against the registry's integrity.
    HOME="$scratch" "$NPM_BIN" install --global --prefix "$CLAWHUB_PREFIX" --ignore-scripts --no-audit --no-fund \
        --registry "$NPM_REGISTRY" "$tarball" >&2
    [[ $(json_get "$CLAWHUB_PREFIX/lib/node_modules/clawhub/package.json" version) == "$CLAWHUB_VERSION" ]] ||
        die "clawhub is not at $CLAWHUB_VERSION after the install"
    chmod -R go-w "$CLAWHUB_PREFIX"
fi

install -d -o "$AGENT_USER" -g "$AGENT_GROUP" -m 0700 "$WORKSPACE_DIR"
as_agent() {
    local passthrough=() var
    for var in HTTPS_PROXY HTTP_PROXY NO_PROXY https_proxy http_proxy no_proxy NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR; do
        if [[ -n ${!var:-} ]]; then passthrough+=("$var=${!var}"); fi
    done
    runuser -u "$AGENT_USER" -- env -i "${passthrough[@]}" \
        PATH="$(dirname "$NODE_BIN"):/usr/bin:/bin" HOME="$AGENT_HOME" NO_COLOR=1 \
        CLAWHUB_DISABLE_TELEMETRY=1 CLAWHUB_CONFIG_PATH="$AGENT_HOME/.config/clawhub/config.json" \
        ${CLAWHUB_REGISTRY:+CLAWHUB_REGISTRY="$CLAWHUB_REGISTRY"} "$@"
}
lock="$WORKSPACE_DIR/.clawhub/lock.json"

for spec in "$@"; do
    name=${spec%@*}
    version=${spec##*@}
    # The CLI keeps an owner-qualified skill in skills/@owner/slug, a plain one in skills/slug.
    dir="$WORKSPACE_DIR/skills/$name"
    current=$(json_get "$lock" skills "$name" version)
    if [[ $current == "$version" && -f $dir/SKILL.md ]]; then
        state=unchanged
    else
        force=()
        if [[ -e $dir ]]; then
            backup="$AGENT_HOME/openclaw-skill-backups/${name//\//_}-${current:-unknown}-$(date -u +%Y%m%dT%H%M%SZ)"
            as_agent mkdir -p -- "$(dirname -- "$backup")"
            as_agent cp -a -- "$dir" "$backup"
            log "$name ${current:-unknown} copied to $backup before installing $version"
            force=(--force)
        fi
        log "installing $name $version${CLAWHUB_REGISTRY:+ from $CLAWHUB_REGISTRY}"
        as_agent "$NODE_BIN" "$CLAWHUB_JS" --workdir "$WORKSPACE_DIR" --no-input install "$name" --version "$version" "${force[@]}" >&2 ||
            die "clawhub install $name --version $version failed"
        state=installed
    fi
    origin="$dir/.clawhub/origin.json"
    got=$(json_get "$origin" installedVersion)
    [[ $got == "$version" ]] || die "$name is at '${got:-nothing}' after installing $version ($origin)"
    [[ -f $dir/SKILL.md ]] || die "$name $version has no SKILL.md"
    fingerprint=$(json_get "$origin" fingerprint)
    printf 'skill %s %s %s sha256:%s\n' "$name" "$version" "$state" "${fingerprint:-unknown}"
done
log "done: $*"
