#!/usr/bin/env bash
# Installs and upgrades OpenClaw (and the Node it runs on) on an openclaw-vps host, side by side and guarded
# (docs/host-contract.md, "The OpenClaw release"). One idempotent script; the push runs it on every deploy:
#
#   upgrade-openclaw.sh stage --spec DIR
#       Installs the release described by DIR (package.json + package-lock.json derived from the project's lock,
#       release.env) next to whatever runs: the newest Node NODE_MAJOR from the Node mirror (checksum verified) in
#       nodes/<version>, then `npm ci` (integrity-checked against the lock) in releases/<id>, then a check that the
#       installed tree is the locked one. Touches nothing that runs. Safe to run while provisioning.
#   upgrade-openclaw.sh apply --spec DIR [--config FILE] [--plugins "SPEC..."] [--ready-url URL] [--no-backup]
#       Stages the release if needed, then makes it the current one:
#       - a new host (no release yet): switches at once (the gateway has never run);
#       - the release already current: nothing (a second run changes nothing);
#       - otherwise the guarded upgrade: the new version's `config validate`, `doctor --lint` and its non-interactive
#         migrations on a copy of the state (with FILE, the config the push is about to deploy); a verified backup
#         (the backup job, through its systemd unit); then, holding the backup lock, the gateway stops, the state is
#         copied aside (with a manifest), FILE is installed as the agent's config, the `current` link switches in
#         one rename, the provider plugins follow the new version, the gateway starts, and /readyz plus
#         `openclaw health --json` must answer. Any failure puts back the old release AND the pre-upgrade state
#         (checked against its manifest), starts the old gateway, and exits 1 with the reason and the gateway's
#         last journal lines. Releases other than the current and the previous one are pruned, with their Nodes.
#   upgrade-openclaw.sh node MAJOR     installs the newest Node MAJOR side by side (no release); prints its directory
#   upgrade-openclaw.sh status         what is installed, current and previous, and the last upgrade's outcome
#
# DIR/release.env: OPENCLAW_VERSION=, NODE_MAJOR=, RELEASE_ID=<version>-node<major>-<sha256(package.json NUL lock)[:12]>.
# Mirrors come from provision.env (NODE_DIST_URL, NPM_REGISTRY), like every host install.
# Test overrides (production sets none): UPGRADE_LOG, UPGRADE_STATUS, UPGRADE_LOCK, UPGRADE_READY_TIMEOUT (s),
# PROVISION_ENV, NODE_DIST_URL, NPM_REGISTRY.
set -Eeuo pipefail

readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"

readonly NODES_DIR=$HOST_NODE_VERSIONS_DIR
readonly RELEASES_DIR=$HOST_RELEASES_DIR
readonly CURRENT_LINK=$HOST_CURRENT_RELEASE
readonly PREVIOUS_LINK=$HOST_PREVIOUS_RELEASE
readonly AGENT_USER=$HOST_AGENT_USER
readonly AGENT_HOME=$HOST_AGENT_HOME
readonly STATE_DIR=$HOST_AGENT_STATE_DIR
readonly GATEWAY_UNIT=$HOST_GATEWAY_UNIT
readonly BACKUP_SERVICE=$HOST_BACKUP_SERVICE
readonly BACKUP_STATUS=$HOST_BACKUP_STATUS
readonly BACKUP_LOCK=$HOST_BACKUP_LOCK
readonly LOG_FILE=${UPGRADE_LOG:-$HOST_UPGRADE_LOG}
readonly STATUS_FILE=${UPGRADE_STATUS:-$HOST_UPGRADE_STATUS}
readonly LOCK_FILE=${UPGRADE_LOCK:-/run/lock/openclaw-vps-upgrade.lock}
# Only catches a hang (a failed unit ends the wait at once): a start under load can take minutes.
readonly READY_TIMEOUT=${UPGRADE_READY_TIMEOUT:-600}
readonly PROVISION_ENV=${PROVISION_ENV:-$HOST_ETC_DIR/provision.env}
# Where the pre-upgrade state waits during the switch: next to the state dir, so putting it back is a rename.
readonly STATE_SNAPSHOT="$AGENT_HOME/.openclaw-pre-upgrade"
readonly TOOLS=(node npm npx)

export HOME=/root
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

log() {
    local line
    line="$(date -u +%Y-%m-%dT%H:%M:%SZ) [openclaw-vps upgrade] $*"
    printf '%s\n' "$line"
    if [[ -n $LOG_FILE ]]; then printf '%s\n' "$line" >>"$LOG_FILE" 2>/dev/null || true; fi
}
die() {
    log "ERROR: $*" >&2
    exit 1
}

# ---- settings -----------------------------------------------------------------------------------------------

# Only the keys we use, read as data (never sourced).
read_mirrors() {
    local url_re='^(https?|file)://[A-Za-z0-9._~:/?#@!$&*+,;=%-]+$'
    if [[ -r $PROVISION_ENV ]]; then
        NODE_DIST_URL=${NODE_DIST_URL:-$(sed -n 's/^NODE_DIST_URL=//p' "$PROVISION_ENV" | tail -n 1)}
        NPM_REGISTRY=${NPM_REGISTRY:-$(sed -n 's/^NPM_REGISTRY=//p' "$PROVISION_ENV" | tail -n 1)}
    fi
    NODE_DIST_URL=${NODE_DIST_URL:-https://nodejs.org/dist}
    NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org/}
    [[ $NODE_DIST_URL =~ $url_re ]] || die "NODE_DIST_URL must be an http(s) URL"
    [[ $NPM_REGISTRY =~ $url_re ]] || die "NPM_REGISTRY must be an http(s) URL"
    [[ $NPM_REGISTRY == */ ]] || NPM_REGISTRY="$NPM_REGISTRY/"
}

# The release spec the push wrote (or the stage command brought): checked before anything is installed.
read_spec() { # dir
    SPEC_DIR=$1
    local file line key value
    for file in package.json package-lock.json release.env; do
        [[ -f $SPEC_DIR/$file ]] || die "release spec $SPEC_DIR lacks $file"
    done
    OPENCLAW_VERSION="" NODE_MAJOR="" RELEASE_ID=""
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ -z $line || $line == \#* ]]; then continue; fi
        [[ $line =~ ^([A-Z_]+)=(.*)$ ]] || die "$SPEC_DIR/release.env: not a KEY=value line: $line"
        key=${BASH_REMATCH[1]}
        value=${BASH_REMATCH[2]}
        case $key in
            OPENCLAW_VERSION | NODE_MAJOR | RELEASE_ID) printf -v "$key" '%s' "$value" ;;
            *) ;;
        esac
    done <"$SPEC_DIR/release.env"
    [[ $OPENCLAW_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
        die "release.env: OPENCLAW_VERSION must be an exact version, got '$OPENCLAW_VERSION'"
    [[ $NODE_MAJOR =~ ^[1-9][0-9]*$ ]] || die "release.env: NODE_MAJOR must be a number, got '$NODE_MAJOR'"
    local digest
    digest=$({ cat "$SPEC_DIR/package.json" && printf '\0' && cat "$SPEC_DIR/package-lock.json"; } | sha256sum)
    [[ $RELEASE_ID == "$OPENCLAW_VERSION-node$NODE_MAJOR-${digest:0:12}" ]] ||
        die "release.env: RELEASE_ID '$RELEASE_ID' does not match its files (expected $OPENCLAW_VERSION-node$NODE_MAJOR-${digest:0:12})"
}

# ---- Node, side by side --------------------------------------------------------------------------------------

node_arch() {
    case "$(uname -m)" in
        x86_64) echo x64 ;;
        aarch64 | arm64) echo arm64 ;;
        *) die "no official Node build for $(uname -m)" ;;
    esac
}

fetch() { # url [curl args...]
    local url=$1
    shift
    curl -fsSL --retry 5 --retry-delay 3 --retry-connrefused --connect-timeout 20 "$@" "$url"
}

# The newest Node MAJOR of the mirror in NODES_DIR/<version> (verified against SHASUMS256.txt before it is unpacked);
# an installed one is reused. Sets NODE_VERSION and NODE_HOME.
ensure_node() { # major
    local major=$1 arch base sums line sha file work
    arch=$(node_arch)
    base="${NODE_DIST_URL%/}/latest-v${major}.x"
    sums=$(fetch "$base/SHASUMS256.txt") || die "cannot read $base/SHASUMS256.txt"
    line=$(grep -E "^[0-9a-f]{64}  node-v${major}\.[0-9]+\.[0-9]+-linux-${arch}\.tar\.xz\$" <<<"$sums" || true)
    [[ -n $line && $(wc -l <<<"$line") == 1 ]] || die "$base/SHASUMS256.txt lists no single linux-$arch tar.xz"
    sha=${line%% *}
    file=${line##* }
    NODE_VERSION=${file#node-}
    NODE_VERSION=${NODE_VERSION%-linux-*}
    NODE_HOME="$NODES_DIR/$NODE_VERSION"
    if [[ -x $NODE_HOME/bin/node && $("$NODE_HOME/bin/node" --version 2>/dev/null) == "$NODE_VERSION" ]]; then
        log "node: $NODE_VERSION already installed in $NODE_HOME"
        return 0
    fi
    log "node: installing $NODE_VERSION from $base (side by side in $NODES_DIR)"
    install -d -m 0755 "$NODES_DIR"
    work=$(mktemp -d "$NODES_DIR/.install.XXXXXX")
    fetch "$base/$file" -o "$work/$file"
    printf '%s  %s\n' "$sha" "$work/$file" | sha256sum --check --status || {
        rm -rf -- "$work"
        die "checksum mismatch for $file: refusing to install it"
    }
    mkdir "$work/node"
    tar -xJf "$work/$file" -C "$work/node" --strip-components=1 --no-same-owner
    chmod -R go-w "$work/node"
    chmod 0755 "$work/node"
    ensure_node_libraries "$work/node/bin/node"
    [[ $("$work/node/bin/node" --version) == "$NODE_VERSION" ]] || die "the unpacked node does not report $NODE_VERSION"
    rm -rf -- "$NODE_HOME"
    mv -T "$work/node" "$NODE_HOME"
    rm -rf -- "$work"
    log "node: $NODE_VERSION installed"
}

# Newer official Node builds link libatomic (Node 26 does; 24 does not): install the shared libraries a Node needs
# that the base system lacks, from the distribution (only the ones we know; anything else is a clear error).
ensure_node_libraries() { # node binary
    local missing library packages=()
    command -v ldd >/dev/null || return 0
    missing=$(ldd "$1" 2>/dev/null | sed -n 's/^[[:space:]]*\([^[:space:]]*\) => not found$/\1/p' || true)
    [[ -n $missing ]] || return 0
    for library in $missing; do
        case $library in
            libatomic.so.1) packages+=(libatomic1) ;;
            *) die "Node $NODE_VERSION needs $library, which this host lacks" ;;
        esac
    done
    log "node: $NODE_VERSION needs ${missing//$'\n'/ }: installing ${packages[*]} from the distribution"
    DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends "${packages[@]}" >&2 ||
        die "could not install ${packages[*]} for Node $NODE_VERSION"
}

# Does NODE_VERSION satisfy the release's engines.node? npm's own semver decides (it comes with that Node).
check_engines() { # release dir with package-lock.json
    local range
    range=$("$NODE_HOME/bin/node" -e '
        const lock = require(process.argv[1]);
        process.stdout.write(String(lock.packages["node_modules/openclaw"]?.engines?.node ?? ""));' "$1/package-lock.json")
    [[ -n $range ]] || die "the release's lock declares no engines.node for openclaw"
    if ! "$NODE_HOME/bin/node" "$NODE_HOME/lib/node_modules/npm/node_modules/semver/bin/semver.js" -r "$range" "${NODE_VERSION#v}" >/dev/null; then
        die "openclaw $OPENCLAW_VERSION needs Node $range; the newest Node $NODE_MAJOR is $NODE_VERSION (set nodeMajor to a major that satisfies it)"
    fi
    log "engines: openclaw $OPENCLAW_VERSION needs Node $range; $NODE_VERSION satisfies it"
}

# ---- releases, side by side ----------------------------------------------------------------------------------

release_dir() { printf '%s/%s' "$RELEASES_DIR" "$1"; }
is_complete() { [[ -f $(release_dir "$1")/.complete ]]; }
link_target() { readlink -- "$1" 2>/dev/null || true; }
current_id() {
    local target
    target=$(link_target "$CURRENT_LINK")
    if [[ -n $target ]]; then basename -- "$target"; fi
}

# The lock without `resolved` URLs (npm here writes none for registry packages): point each registry package at the
# configured registry's tarball URL; `integrity` stays, so `npm ci` refuses any tarball whose hash differs.
resolve_lock() { # node in out
    # shellcheck disable=SC2016 # JavaScript, not shell
    "$1" -e '
        const fs = require("node:fs");
        const [input, output, registry] = process.argv.slice(1);
        const lock = JSON.parse(fs.readFileSync(input, "utf8"));
        for (const [path, entry] of Object.entries(lock.packages)) {
            if (path === "" || entry.link || entry.inBundle || entry.resolved) continue;
            if (!entry.integrity || !entry.version) throw new Error(`${path}: no version or integrity in the lock`);
            const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
            entry.resolved = `${registry}${name}/-/${name.slice(name.lastIndexOf("/") + 1)}-${entry.version}.tgz`;
        }
        fs.writeFileSync(output, JSON.stringify(lock, null, 2) + "\n");' "$2" "$3" "$NPM_REGISTRY"
}

# The installed tree is the locked one: every locked package that is installed has the locked version and integrity
# (npm's own record, node_modules/.package-lock.json) and that version on disk; only optional packages for another
# platform may be missing; nothing unlocked is installed.
verify_tree() { # release dir
    # shellcheck disable=SC2016 # JavaScript, not shell
    "$NODE_HOME/bin/node" -e '
        const fs = require("node:fs");
        const path = require("node:path");
        const dir = process.argv[1];
        const locked = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8")).packages;
        const installed = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", ".package-lock.json"), "utf8")).packages;
        const problems = [];
        let count = 0;
        for (const [p, want] of Object.entries(locked)) {
            if (p === "") continue;
            const have = installed[p];
            const onDisk = fs.existsSync(path.join(dir, p, "package.json"));
            if (!have || !onDisk) {
                if (!want.optional) problems.push(`${p} is locked but not installed`);
                continue;
            }
            count++;
            if (have.version !== want.version) problems.push(`${p}: installed ${have.version}, locked ${want.version}`);
            if (want.integrity && have.integrity !== want.integrity) problems.push(`${p}: integrity differs from the lock`);
            const version = JSON.parse(fs.readFileSync(path.join(dir, p, "package.json"), "utf8")).version;
            if (version !== want.version) problems.push(`${p}: package.json on disk says ${version}, locked ${want.version}`);
        }
        for (const p of Object.keys(installed)) if (!(p in locked)) problems.push(`${p} is installed but not locked`);
        if (problems.length) {
            console.error(problems.slice(0, 20).join("\n"));
            process.exit(1);
        }
        console.log(count);' "$1"
}

stage_release() {
    local dir work count
    dir=$(release_dir "$RELEASE_ID")
    if is_complete "$RELEASE_ID"; then
        NODE_HOME=$(readlink -f -- "$dir/node")
        NODE_VERSION=$(basename -- "$NODE_HOME")
        [[ -x $NODE_HOME/bin/node ]] || die "release $RELEASE_ID is installed but its Node ($NODE_HOME) is gone"
        log "release $RELEASE_ID already installed (Node $NODE_VERSION)"
        return 0
    fi
    ensure_node "$NODE_MAJOR"
    check_engines "$SPEC_DIR"
    install -d -m 0755 "$RELEASES_DIR"
    work="$RELEASES_DIR/.staging-$RELEASE_ID"
    rm -rf -- "$work"
    install -d -m 0755 "$work"
    install -m 0644 "$SPEC_DIR/package.json" "$work/package.json"
    install -m 0644 "$SPEC_DIR/release.env" "$work/release.env"
    resolve_lock "$NODE_HOME/bin/node" "$SPEC_DIR/package-lock.json" "$work/package-lock.json"
    printf 'registry=%s\nengine-strict=true\nfund=false\naudit=false\nupdate-notifier=false\n' "$NPM_REGISTRY" >"$work/.npmrc"
    ln -sfn "$NODE_HOME" "$work/node"
    log "openclaw: npm ci of $RELEASE_ID from $NPM_REGISTRY (Node $NODE_VERSION)"
    local started=$SECONDS
    (cd "$work" && env -i HOME=/root PATH="$NODE_HOME/bin:/usr/bin:/bin" \
        ${HTTPS_PROXY:+HTTPS_PROXY=$HTTPS_PROXY} ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS} \
        npm ci --no-fund --no-audit --no-update-notifier --loglevel=warn) ||
        die "npm ci of openclaw $OPENCLAW_VERSION failed (nothing was switched)"
    count=$(verify_tree "$work") || die "the installed tree is not the locked one (nothing was switched)"
    log "openclaw: $count packages installed in $((SECONDS - started)) s, each the locked version and integrity"
    chown -R root:root "$work"
    chmod -R go-w "$work"
    [[ $("$NODE_HOME/bin/node" "$work/node_modules/openclaw/openclaw.mjs" --version 2>/dev/null) == *"$OPENCLAW_VERSION"* ]] ||
        die "the installed openclaw does not report $OPENCLAW_VERSION"
    printf '%s\n' "$RELEASE_ID" >"$work/.complete"
    rm -rf -- "$dir"
    mv -T "$work" "$dir"
    log "release $RELEASE_ID installed in $dir"
}

# The commands everything else runs point into `current`, so one rename switches Node and OpenClaw together.
link_tools() {
    local tool
    for tool in "${TOOLS[@]}"; do link_if_needed "$CURRENT_LINK/node/bin/$tool" "/usr/local/bin/$tool"; done
    link_if_needed "$CURRENT_LINK/node_modules/openclaw/openclaw.mjs" /usr/local/bin/openclaw
}

link_if_needed() { # target link
    if [[ $(link_target "$2") != "$1" ]]; then
        ln -sfn -- "$1" "$2.new"
        mv -T -- "$2.new" "$2"
        log "linked $2 -> $1"
    fi
}

switch_to() { # release id
    ln -sfn -- "$(release_dir "$1")" "$CURRENT_LINK.new"
    mv -T -- "$CURRENT_LINK.new" "$CURRENT_LINK"
    log "current release: $1"
}

set_previous() { # release id or ""
    if [[ -z $1 ]]; then
        rm -f -- "$PREVIOUS_LINK"
    else
        ln -sfn -- "$(release_dir "$1")" "$PREVIOUS_LINK.new"
        mv -T -- "$PREVIOUS_LINK.new" "$PREVIOUS_LINK"
    fi
}

# A host installed before releases existed (one Node and one OpenClaw linked into /usr/local/bin): recorded as a
# release of links, so the upgrade can switch away from it and back.
adopt_unmanaged_install() {
    local node openclaw id dir version
    [[ -z $(current_id) ]] || return 0
    node=$(readlink -f -- /usr/local/bin/node 2>/dev/null || true)
    openclaw=$(readlink -f -- /usr/local/bin/openclaw 2>/dev/null || true)
    [[ -x $node && -f $openclaw && $(basename -- "$openclaw") == openclaw.mjs ]] || return 0
    version=$("$node" -e 'process.stdout.write(require(process.argv[1]).version)' "$(dirname -- "$openclaw")/package.json")
    id="adopted-$version"
    dir=$(release_dir "$id")
    log "adopting the OpenClaw $version installed before releases ($openclaw, Node $node) as release $id"
    install -d -m 0755 "$RELEASES_DIR" "$dir" "$dir/node_modules"
    ln -sfn -- "$(dirname -- "$(dirname -- "$node")")" "$dir/node"
    ln -sfn -- "$(dirname -- "$openclaw")" "$dir/node_modules/openclaw"
    printf '%s\n' "$id" >"$dir/.complete"
    switch_to "$id"
    link_tools
}

prune() {
    local keep_current keep_previous entry id keep_nodes=() node
    keep_current=$(current_id)
    keep_previous=$(basename -- "$(link_target "$PREVIOUS_LINK")" 2>/dev/null || true)
    shopt -s nullglob
    for entry in "$RELEASES_DIR"/* "$RELEASES_DIR"/.staging-*; do
        id=$(basename -- "$entry")
        if [[ $id == "$keep_current" || $id == "$keep_previous" ]]; then continue; fi
        rm -rf -- "$entry"
        log "pruned release $id (only the current and the previous release are kept)"
    done
    for id in "$keep_current" "$keep_previous"; do
        if [[ -n $id && -L $(release_dir "$id")/node ]]; then keep_nodes+=("$(basename -- "$(readlink -f -- "$(release_dir "$id")/node")")"); fi
    done
    for entry in "$NODES_DIR"/* "$NODES_DIR"/.install.*; do
        node=$(basename -- "$entry")
        if [[ " ${keep_nodes[*]} " == *" $node "* ]]; then continue; fi
        rm -rf -- "$entry"
        log "pruned Node $node (no kept release uses it)"
    done
    shopt -u nullglob
}

# ---- the gateway ---------------------------------------------------------------------------------------------

# The gateway is a system unit running as the agent user (components/render/gateway-unit.ts).
gateway_ctl() { systemctl "$@" "$GATEWAY_UNIT"; }
# active, activating, inactive, failed, ... ("inactive" too when the unit is not installed yet: a new host).
gateway_state() {
    local state
    state=$(gateway_ctl is-active 2>/dev/null || true)
    echo "${state:-none}"
}

as_agent() { # command... (clean environment, the agent's HOME)
    runuser -u "$AGENT_USER" -- env -i HOME="$AGENT_HOME" PATH="/usr/local/bin:/usr/bin:/bin" NO_COLOR=1 "$@"
}

gateway_journal() {
    journalctl --no-pager -o short-iso -n 40 -u "$GATEWAY_UNIT" 2>&1 || true
}

# OpenClaw (2026.9.x) gives its state lease 5 s to come up at start (hard-coded); on a loaded host it misses that,
# its startup migrations refuse to run and it exits 78, like a bad config. That start, and only that one, is worth
# another try: a release that rejects the config fails the same way every time and is rolled back at once.
readonly LEASE_TIMEOUT_SIGNATURE="state lease heartbeat did not become ready"
readonly GATEWAY_STARTS=${UPGRADE_GATEWAY_STARTS:-5}

# Did the gateway's run since epoch S fail on the state lease's start timeout (and not on anything else)?
failed_on_lease_timeout() { # since-epoch
    journalctl --no-pager -o cat --since "@$1" -u "$GATEWAY_UNIT" 2>/dev/null |
        grep -qF "$LEASE_TIMEOUT_SIGNATURE"
}

# /readyz 200, then `openclaw health --json` (RPC with the gateway token, from the state dir where .env lives).
# The gateway must have been started (gateway_ctl start) at START_EPOCH. Sets WHY on failure.
wait_healthy() {
    local deadline=$((SECONDS + READY_TIMEOUT)) report starts=1 started=${START_EPOCH:-$(date +%s)}
    WHY=""
    until curl -fsS -o /dev/null --max-time 3 "$READY_URL" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            WHY="$READY_URL did not answer 200 within ${READY_TIMEOUT}s"
            return 1
        fi
        if gateway_ctl is-failed --quiet; then
            if ((starts < GATEWAY_STARTS)) && failed_on_lease_timeout "$started"; then
                starts=$((starts + 1))
                log "gateway: its start failed on OpenClaw's 5 s state-lease timeout (a loaded host, not the release): start $starts of $GATEWAY_STARTS"
                gateway_ctl reset-failed || true
                started=$(date +%s)
                gateway_ctl start || true
                deadline=$((SECONDS + READY_TIMEOUT))
                continue
            fi
            WHY="$GATEWAY_UNIT failed before $READY_URL answered 200 ($(gateway_ctl show -p Result -p ExecMainStatus --value | tr '\n' ' '))"
            return 1
        fi
        sleep 0.5
    done
    READY_AT=$(date +%s.%N)
    until report=$(as_agent env -C "$STATE_DIR" OPENCLAW_CONFIG_READONLY=1 openclaw health --json --timeout 20000 2>&1) &&
        grep -q '"ok": *true' <<<"$report"; do
        if ((SECONDS >= deadline)); then
            WHY="openclaw health --json did not report ok within ${READY_TIMEOUT}s: $(tail -c 600 <<<"$report" | tr '\n' ' ')"
            return 1
        fi
        sleep 2
    done
    return 0
}

# ---- the guarded upgrade -------------------------------------------------------------------------------------

# The new release checks the config it will run with, on a copy of the state (nothing live is touched).
check_on_copy() {
    local copy="$AGENT_HOME/.openclaw-upgrade-check" node openclaw out status
    node="$(release_dir "$RELEASE_ID")/node/bin/node"
    openclaw="$(release_dir "$RELEASE_ID")/node_modules/openclaw/openclaw.mjs"
    rm -rf -- "$copy"
    install -d -o "$AGENT_USER" -g "$(id -gn "$AGENT_USER")" -m 0700 "$copy"
    cp -a --reflink=auto -- "$STATE_DIR/." "$copy/"
    if [[ -n $CANDIDATE_CONFIG ]]; then
        as_agent tee "$copy/openclaw.json" <"$CANDIDATE_CONFIG" >/dev/null
    fi
    local -a env=(OPENCLAW_STATE_DIR="$copy" OPENCLAW_CONFIG_PATH="$copy/openclaw.json")
    log "check: openclaw $OPENCLAW_VERSION config validate, doctor --lint and its non-interactive migrations on a copy of the state"
    out=$(as_agent env -C "$copy" "${env[@]}" "$node" "$openclaw" config validate --json 2>&1) || true
    grep -q '"valid": *true' <<<"$out" || {
        rm -rf -- "$copy"
        die "openclaw $OPENCLAW_VERSION rejects the config: $(tail -c 1500 <<<"$out" | tr '\n' ' ') (nothing was changed)"
    }
    status=0
    out=$(as_agent env -C "$copy" "${env[@]}" OPENCLAW_CONFIG_READONLY=1 "$node" "$openclaw" doctor --lint --json --severity-min error 2>&1) || status=$?
    if ((status != 0)); then
        rm -rf -- "$copy"
        die "openclaw $OPENCLAW_VERSION doctor --lint found errors (exit $status): $(tail -c 1500 <<<"$out" | tr '\n' ' ') (nothing was changed)"
    fi
    status=0
    out=$(as_agent env -C "$copy" "${env[@]}" "$node" "$openclaw" doctor --non-interactive 2>&1) || status=$?
    rm -rf -- "$copy"
    ((status == 0)) || die "openclaw $OPENCLAW_VERSION doctor --non-interactive failed on a copy of the state (exit $status): $(tail -c 1500 <<<"$out" | tr '\n' ' ') (nothing was changed)"
    log "check: passed"
}

verified_backup() {
    if ((NO_BACKUP)); then
        log "backup: skipped (--no-backup)"
        return 0
    fi
    systemctl cat "$BACKUP_SERVICE" >/dev/null 2>&1 || die "no $BACKUP_SERVICE on this host: refusing to upgrade without a backup (nothing was changed)"
    local started last_success last_error
    started=$(date -u +%s)
    log "backup: starting $BACKUP_SERVICE and waiting for it (a verified snapshot before anything changes)"
    systemctl start "$BACKUP_SERVICE" || true
    last_success=$(sed -n "s/^last_success=//p" "$BACKUP_STATUS" 2>/dev/null | tr -d "'\"" | tail -n 1)
    last_error=$(sed -n "s/^last_error=//p" "$BACKUP_STATUS" 2>/dev/null | tr -d "'\"" | tail -n 1)
    if [[ -z $last_success ]] || (($(date -u -d "$last_success" +%s 2>/dev/null || echo 0) < started - 1)) || [[ -n $last_error ]]; then
        die "the backup before the upgrade failed (${last_error:-no new success in $BACKUP_STATUS}): nothing was changed"
    fi
    log "backup: snapshot $(sed -n "s/^last_snapshot=//p" "$BACKUP_STATUS" | tr -d "'\"" | tail -n 1) verified"
}

state_manifest() { # dir: one line per entry (type, mode, owner, size, sha256 of files, link targets), sorted
    (cd "$1" && find . -printf '%y %m %u:%g %s %p %l\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

write_status() { # result reason
    local tmp="$STATUS_FILE.tmp"
    install -d -m 0755 "$(dirname -- "$STATUS_FILE")"
    {
        printf 'current=%s\nprevious=%s\n' "$(current_id)" "$(basename -- "$(link_target "$PREVIOUS_LINK")" 2>/dev/null || true)"
        printf 'last_result=%s\nlast_from=%s\nlast_to=%s\n' "$1" "${FROM_ID:-}" "$RELEASE_ID"
        printf 'last_reason=%q\nlast_downtime_seconds=%s\nupdated=%s\n' "$2" "${DOWNTIME:-}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$STATUS_FILE"
}

install_candidate_config() {
    [[ -n $CANDIDATE_CONFIG ]] || return 0
    if cmp -s "$CANDIDATE_CONFIG" "$STATE_DIR/openclaw.json"; then return 0; fi
    # Written by the agent's user (never root into a directory the agent owns), atomically, 0600.
    # shellcheck disable=SC2016 # expanded by the inner bash
    as_agent bash -c 'umask 077; t=$(mktemp "$1/.openclaw-vps.XXXXXX"); cat >"$t"; chmod 0600 "$t"; mv -f -T "$t" "$1/openclaw.json"' \
        openclaw-vps-config "$STATE_DIR" <"$CANDIDATE_CONFIG"
    log "config: the new openclaw.json is in place for the new release"
}

# Puts back the old release and the pre-upgrade state; the old gateway starts again. Exits.
rollback() { # why
    local why=$1 journal failed
    trap - EXIT
    journal=$(gateway_journal)
    log "ROLLBACK: $why"
    gateway_ctl stop || true
    failed="$AGENT_HOME/.openclaw-failed-upgrade-$(date -u +%Y%m%dT%H%M%SZ)"
    if [[ -f $STATE_SNAPSHOT/MANIFEST ]]; then
        install -d -m 0700 "$failed"
        mv -T -- "$STATE_DIR" "$failed/state"
        mv -T -- "$STATE_SNAPSHOT/state" "$STATE_DIR"
        if [[ $(state_manifest "$STATE_DIR" | sha256sum) == "$(sha256sum <"$STATE_SNAPSHOT/MANIFEST")" ]]; then
            log "rollback: the pre-upgrade state is back, byte-identical ($(grep -c '^[^ ]* ' "$STATE_SNAPSHOT/MANIFEST") entries checked against its manifest); the failed state is in $failed"
        else
            log "rollback: WARNING: the restored state differs from its manifest" >&2
        fi
    fi
    # A copy that never completed was never used: the live state is still the pre-upgrade one.
    rm -rf -- "$STATE_SNAPSHOT"
    if [[ -n $FROM_ID ]]; then
        switch_to "$FROM_ID"
        set_previous "$PREVIOUS_BEFORE"
    fi
    START_EPOCH=$(date +%s)
    gateway_ctl start || true
    local outcome="FAILED and was rolled back"
    if wait_healthy; then
        DOWNTIME=$(awk -v a="$DOWN_AT" -v b="$READY_AT" 'BEGIN { printf "%.1f", b - a }')
        log "rollback: openclaw ${FROM_VERSION:-} is back and healthy (gateway not ready for $DOWNTIME s in all)"
        write_status rolled-back "$why"
    else
        log "ROLLBACK FAILED: the old release did not come back either: $WHY" >&2
        write_status failed "$why; rollback: $WHY"
        outcome="FAILED, and the rollback did not bring the old release back ($WHY): see the journal below and upgrade.log"
    fi
    {
        echo "openclaw-vps upgrade to $OPENCLAW_VERSION ($RELEASE_ID) $outcome: $why"
        echo "---- last journal lines of $GATEWAY_UNIT (the failed start) ----"
        printf '%s\n' "$journal"
    } >&2
    exit 1
}

guarded_upgrade() {
    FROM_ID=$(current_id)
    FROM_VERSION=$(sed -n 's/^OPENCLAW_VERSION=//p' "$(release_dir "$FROM_ID")/release.env" 2>/dev/null || echo "${FROM_ID#adopted-}")
    PREVIOUS_BEFORE=$(basename -- "$(link_target "$PREVIOUS_LINK")" 2>/dev/null || true)
    log "upgrade: openclaw ${FROM_VERSION} ($FROM_ID) -> $OPENCLAW_VERSION ($RELEASE_ID)"
    check_on_copy
    verified_backup
    # No backup (and no reboot, which waits for this lock too) may run while the state is swapped.
    exec 8>>"$BACKUP_LOCK"
    flock -w 1800 8 || die "the backup lock stayed busy for 30 min (nothing was changed)"

    DOWN_AT=$(date +%s.%N)
    # From here on, any way out that is not success puts everything back (the state only once its copy is complete).
    STEP="stopping the gateway"
    trap 'rollback "the upgrade stopped (exit $?) while $STEP"' EXIT
    log "upgrade: stopping the gateway"
    gateway_ctl stop
    STEP="copying the state aside"
    rm -rf -- "$STATE_SNAPSHOT"
    install -d -m 0700 "$STATE_SNAPSHOT"
    cp -a --reflink=auto -- "$STATE_DIR" "$STATE_SNAPSHOT/state"
    state_manifest "$STATE_SNAPSHOT/state" >"$STATE_SNAPSHOT/MANIFEST.tmp"
    mv -T -- "$STATE_SNAPSHOT/MANIFEST.tmp" "$STATE_SNAPSHOT/MANIFEST"
    log "upgrade: state copied aside ($(du -sh "$STATE_SNAPSHOT/state" | cut -f1), $(grep -c '^[^ ]* ' "$STATE_SNAPSHOT/MANIFEST") entries)"
    STEP="installing the new config"
    install_candidate_config
    STEP="switching to the new release"
    switch_to "$RELEASE_ID"
    set_previous "$FROM_ID"
    link_tools
    STEP="installing the provider plugins"
    if [[ -n $PLUGINS ]]; then
        # shellcheck disable=SC2086 # a space-separated list of validated package specs
        "$HOST_BIN_DIR/install-plugins.sh" $PLUGINS || rollback "the provider plugins for $OPENCLAW_VERSION did not install"
    fi
    STEP="starting the gateway"
    log "upgrade: starting the gateway on openclaw $OPENCLAW_VERSION"
    START_EPOCH=$(date +%s)
    gateway_ctl start || true
    wait_healthy || rollback "$WHY"
    trap - EXIT
    DOWNTIME=$(awk -v a="$DOWN_AT" -v b="$READY_AT" 'BEGIN { printf "%.1f", b - a }')
    rm -rf -- "$STATE_SNAPSHOT"
    log "upgrade: openclaw $OPENCLAW_VERSION is ready and healthy; the gateway was not ready for $DOWNTIME s"
    write_status ok ""
    prune
}

apply() {
    stage_release
    adopt_unmanaged_install
    local current
    current=$(current_id)
    if [[ $current == "$RELEASE_ID" ]]; then
        link_tools
        log "release $RELEASE_ID is current: nothing to do"
        prune
        return 0
    fi
    local gateway
    gateway=$(gateway_state)
    log "gateway: $gateway; current release: ${current:-none}"
    if [[ -z $current || $gateway == none || $gateway == inactive || $gateway == failed ]]; then
        # A new host (or a gateway that is not running): nothing to keep alive, nothing to roll back to.
        FROM_ID=$current
        switch_to "$RELEASE_ID"
        set_previous "$current"
        link_tools
        write_status installed ""
        log "release $RELEASE_ID installed and current${current:+ (previous: $current)}"
        prune
        return 0
    fi
    guarded_upgrade
}

status() {
    echo "current=$(current_id)"
    echo "previous=$(basename -- "$(link_target "$PREVIOUS_LINK")" 2>/dev/null || true)"
    echo "releases=$(find "$RELEASES_DIR" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null)"
    echo "nodes=$(find "$NODES_DIR" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null)"
    if [[ -r $STATUS_FILE ]]; then sed -n 's/^\(last_[a-z_]*\)=/\1=/p' "$STATUS_FILE"; fi
}

usage() {
    sed -n '2,/^set -/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}

main() {
    local command=${1:-}
    [[ -n $command ]] || usage
    shift
    SPEC=""
    CANDIDATE_CONFIG=""
    PLUGINS=""
    READY_URL=""
    NO_BACKUP=0
    FROM_ID=""
    while (($#)); do
        case $1 in
            --spec) SPEC=${2:?--spec needs a directory} && shift 2 ;;
            --config) CANDIDATE_CONFIG=${2:?--config needs a file} && shift 2 ;;
            --plugins) PLUGINS=${2-} && shift 2 ;;
            --ready-url) READY_URL=${2:?--ready-url needs a URL} && shift 2 ;;
            --no-backup) NO_BACKUP=1 && shift ;;
            *) if [[ $command == node && -z ${NODE_MAJOR_ARG:-} ]]; then NODE_MAJOR_ARG=$1 && shift; else usage; fi ;;
        esac
    done
    [[ $(id -u) == 0 ]] || die "run as root"
    if [[ -n $PLUGINS && ! $PLUGINS =~ ^[A-Za-z0-9@/._=:+\ -]+$ ]]; then die "--plugins: not a list of package specs"; fi
    install -d -m 0755 "$(dirname -- "$LOG_FILE")" "$(dirname -- "$LOCK_FILE")"
    # One install or upgrade at a time (the stage command and the push may overlap on a new host).
    exec 7>"$LOCK_FILE"
    flock -w 3600 7 || die "another upgrade-openclaw.sh run holds $LOCK_FILE"
    case $command in
        node)
            [[ ${NODE_MAJOR_ARG:-} =~ ^[1-9][0-9]*$ ]] || usage
            read_mirrors
            ensure_node "$NODE_MAJOR_ARG"
            printf '%s\n' "$NODE_HOME"
            ;;
        stage)
            [[ -n $SPEC ]] || usage
            read_spec "$SPEC"
            read_mirrors
            stage_release
            ;;
        apply)
            [[ -n $SPEC ]] || usage
            read_spec "$SPEC"
            read_mirrors
            if [[ -n $CANDIDATE_CONFIG && ! -r $CANDIDATE_CONFIG ]]; then die "--config $CANDIDATE_CONFIG is not readable"; fi
            if [[ -z $READY_URL ]]; then
                local port
                port=$(sed -n 's/.*"port": *\([0-9]\{2,5\}\).*/\1/p' "${CANDIDATE_CONFIG:-$STATE_DIR/openclaw.json}" 2>/dev/null | head -n 1)
                READY_URL="http://127.0.0.1:${port:-18789}/readyz"
            fi
            [[ $READY_URL =~ ^http://127\.0\.0\.1:[0-9]{1,5}/[A-Za-z0-9/_.-]*$ ]] || die "--ready-url must be http://127.0.0.1:PORT/path"
            apply
            ;;
        status) status ;;
        *) usage ;;
    esac
}

main "$@"
