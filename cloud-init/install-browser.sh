#!/usr/bin/env bash
# Installs the headless browser of OpenClaw's browser tool: Debian's Chromium (not a snap), signature-checked by apt
# against Debian's archive keys, and lets Chromium's own sandbox work for the agent user. Run as root by the push
# (install-tools.sh) before the gateway (re)starts. Safe to rerun: nothing changes when everything is in place.
#
# Why Debian's build (README "Tools"): Ubuntu 24.04's `chromium` is a snap, which cannot start under the gateway's
# hardened user unit. Debian 12 ships Chromium for amd64 and arm64 through bookworm-security, signed by the Debian
# security archive key, updated for every Chromium security release.
# - On Debian (the stand-in VPS) the host's own, already signed archive is used.
# - On Ubuntu the script adds Debian 12's main + security suites, signed by exactly the two Debian keys below (from
#   Ubuntu's own `debian-archive-keyring` package, fingerprints checked), and pins apt so that Debian provides only
#   Chromium itself (priority 700) and libraries Ubuntu lacks (priority 100: Debian never replaces an Ubuntu package).
#   Unattended upgrades also take Chromium's security updates from bookworm-security.
# - Chromium's sandbox: Ubuntu 24.04 lets only AppArmor-profiled programs create user namespaces
#   (kernel.apparmor_restrict_unprivileged_userns=1); the profile below grants Chromium's binary exactly that, the way
#   Ubuntu's own profiles do for Chrome. No --no-sandbox.
#
# Usage: install-browser.sh [--prefetch]
#   --prefetch: the deploy's browser stage on a new server (render/stage-script.ts), started beside provisioning:
#   waits until provision.sh says apt=free (its apt steps are done; it goes on with the others), then does everything
#   but the install: the sources and keys (Ubuntu), `apt-get update`, and Chromium's packages downloaded into apt's
#   cache (`apt-get install --download-only`), in a session of its own at the lowest priority. The install itself
#   (unpacking about 135 packages: 40-50 s of CPU and disk on 2 vCPUs) is the push's run after /readyz: measured
#   beside the gateway's first start, it slowed that start from 27 s to 45-50 s. Runs of the script (the stage, the
#   push) take turns on one lock.
# Env (tests; production sets none): OS_RELEASE (/etc/os-release), APT_ROOT (prefix for every file written, default
# ""), SKIP_APT=1 (write the files only), BROWSER_BIN (the contract's HOST_BROWSER_BIN), USERNS_RESTRICT (the sysctl
# file saying whether AppArmor restricts unprivileged user namespaces), PROVISION_STATUS (the contract's
# HOST_PROVISION_STATUS), BROWSER_WAIT_SECONDS (how long --prefetch waits, default 1800), BROWSER_LOCK.
set -euo pipefail

log() { printf '%s install-browser: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
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

OS_RELEASE=${OS_RELEASE:-/etc/os-release}
APT_ROOT=${APT_ROOT:-}
SKIP_APT=${SKIP_APT:-0}
BROWSER_BIN=${BROWSER_BIN:-$HOST_BROWSER_BIN}
AGENT_USER=${AGENT_USER:-$HOST_AGENT_USER}
# The real binary behind Debian's /usr/bin/chromium wrapper: what AppArmor attaches the profile to.
readonly CHROMIUM_REAL=/usr/lib/chromium/chromium
readonly DEBIAN_SUITE=bookworm
# Debian 12's archive and security archive signing keys (gpg fingerprints of the primary keys).
readonly DEBIAN_KEYS=(
    "debian-archive-bookworm-automatic.gpg B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"
    "debian-archive-bookworm-security-automatic.gpg 05AB90340C0C5E797F44A8C8254CF3B5AEC0A8F0"
)
readonly SOURCES_FILE=/etc/apt/sources.list.d/openclaw-vps-debian-chromium.sources
readonly PREFERENCES_FILE=/etc/apt/preferences.d/openclaw-vps-debian-chromium
readonly UNATTENDED_FILE=/etc/apt/apt.conf.d/52openclaw-vps-chromium
readonly APPARMOR_FILE=$HOST_BROWSER_APPARMOR
USERNS_RESTRICT=${USERNS_RESTRICT:-/proc/sys/kernel/apparmor_restrict_unprivileged_userns}

PROVISION_STATUS=${PROVISION_STATUS:-$HOST_PROVISION_STATUS}
BROWSER_WAIT_SECONDS=${BROWSER_WAIT_SECONDS:-1800}
BROWSER_LOCK=${BROWSER_LOCK:-$APT_ROOT/run/lock/openclaw-vps-install-browser.lock}
prefetch=0
case ${1:-} in
    "") ;;
    --prefetch) prefetch=1 ;;
    *) die "unknown argument '$1' (usage: install-browser.sh [--prefetch])" ;;
esac

export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a

[[ $EUID -eq 0 || -n $APT_ROOT ]] || die "run as root"

status_field() { [[ -r $PROVISION_STATUS ]] && sed -n "s/^$1=//p" "$PROVISION_STATUS" | tail -n 1; }

# The stage starts while provision.sh runs: apt is its own until the status says apt=free (or provisioning is done).
wait_for_provisioning() {
    local deadline=$((SECONDS + BROWSER_WAIT_SECONDS)) state apt said=0
    while :; do
        state=$(status_field state || true)
        apt=$(status_field apt || true)
        [[ $state != failed ]] || die "provisioning failed (see $PROVISION_STATUS): the browser is not installed"
        if [[ $state == "done" || $apt == "free" ]]; then break; fi
        ((SECONDS < deadline)) || die "provisioning did not free apt within ${BROWSER_WAIT_SECONDS} s (state=${state:-none} apt=${apt:-none})"
        if ((said == 0)); then
            log "waiting for provisioning to finish with apt (state=${state:-not started} apt=${apt:-busy})"
            said=1
        fi
        sleep 1
    done
    log "provisioning is done with apt (state=$state): fetching beside its remaining steps"
    # Provisioning reports what needs a restart at its end; no service is restarted under it.
    export NEEDRESTART_SUSPEND=1
}

mkdir -p -- "$(dirname -- "$BROWSER_LOCK")"
exec 7>>"$BROWSER_LOCK"
if ! flock -n 7; then
    log "another install-browser.sh run holds $BROWSER_LOCK (the deploy's browser stage); waiting for it"
    flock -w 3600 7 || die "$BROWSER_LOCK still held after 3600 s"
    log "the other run is done"
fi
# Beside provisioning's last steps and the release's npm ci, the prefetch's apt runs take only the CPU they leave: in a
# session of their own (setsid) whose autogroup runs at nice 19, plus the lowest best-effort disk priority. The
# kernel's autogroup scheduling shares the CPU between sessions, not processes, so a plain nice would yield nothing to
# another session. The push's run (the install, after /readyz) runs at normal priority.
yielding() {
    if ((prefetch)); then
        setsid --wait bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null || true; exec nice -n 19 ionice -c 2 -n 7 "$@"' yielding "$@"
    else
        "$@"
    fi
}

if ((prefetch)); then
    wait_for_provisioning
    log "apt runs in a session of its own at nice 19 (autogroup and process) and the lowest best-effort disk priority"
fi
[[ -r $OS_RELEASE ]] || die "$OS_RELEASE is missing"
os_id=$(sed -n 's/^ID=//p' "$OS_RELEASE" | tr -d '"')
os_version=$(sed -n 's/^VERSION_ID=//p' "$OS_RELEASE" | tr -d '"')

# Writes stdin to $1 (under APT_ROOT) only when it differs; prints "changed" when it wrote.
put() {
    local target="$APT_ROOT$1" tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if [[ -f $target ]] && cmp -s "$tmp" "$target"; then
        rm -f -- "$tmp"
        return 1
    fi
    mkdir -p -- "$(dirname -- "$target")"
    install -m 0644 -- "$tmp" "$target"
    rm -f -- "$tmp"
    log "wrote $1"
    return 0
}

sources_changed=0
case $os_id in
    debian)
        log "Debian $os_version: Chromium from the host's own signed archive"
        ;;
    ubuntu)
        log "Ubuntu $os_version: Chromium from Debian $DEBIAN_SUITE (signed by Debian's keys, pinned to Chromium only)"
        if [[ $SKIP_APT != 1 ]] && ! dpkg-query -W -f='${Status}' debian-archive-keyring 2>/dev/null | grep -q 'ok installed'; then
            yielding apt-get update -q >&2
            yielding apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends debian-archive-keyring gnupg >&2
        fi
        signed_by=()
        for entry in "${DEBIAN_KEYS[@]}"; do
            file="/usr/share/keyrings/${entry%% *}"
            want=${entry##* }
            [[ -r $APT_ROOT$file ]] || die "$file is missing (Ubuntu's debian-archive-keyring package provides it)"
            got=$(gpg --show-keys --with-colons "$APT_ROOT$file" 2>/dev/null | awk -F: '/^pub/{p=1} /^fpr/&&p{print $10; exit}')
            [[ $got == "$want" ]] || die "$file has key ${got:-none}; expected Debian's $want"
            signed_by+=("$file")
        done
        if put "$SOURCES_FILE" <<EOF; then sources_changed=1; fi
# Managed by openclaw-vps (cloud-init/install-browser.sh): Debian's Chromium, pinned by $PREFERENCES_FILE.
Types: deb
URIs: http://deb.debian.org/debian
Suites: $DEBIAN_SUITE
Components: main
Signed-By: ${signed_by[0]}

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: ${signed_by[1]}
EOF
        if put "$PREFERENCES_FILE" <<EOF; then sources_changed=1; fi
# Managed by openclaw-vps (cloud-init/install-browser.sh).
# Debian may only add what Ubuntu lacks (100 < Ubuntu's 500: never an upgrade or replacement of an Ubuntu package)...
Package: *
Pin: release o=Debian
Pin-Priority: 100

# ...and provides Chromium itself, security updates first.
Package: chromium chromium-common chromium-sandbox
Pin: release o=Debian,n=$DEBIAN_SUITE-security
Pin-Priority: 710

Package: chromium chromium-common chromium-sandbox
Pin: release o=Debian,n=$DEBIAN_SUITE
Pin-Priority: 700
EOF
        put "$UNATTENDED_FILE" <<EOF || true
// Managed by openclaw-vps (cloud-init/install-browser.sh): Chromium's security updates from Debian, unattended.
Unattended-Upgrade::Origins-Pattern {
        "origin=Debian,codename=$DEBIAN_SUITE-security,label=Debian-Security";
};
EOF
        ;;
    *) die "unsupported OS '$os_id' (Ubuntu 24.04 or Debian 12)" ;;
esac

if [[ $SKIP_APT != 1 ]]; then
    # Fresh lists when the sources changed or apt knows no Chromium yet; otherwise the prefetch's (or apt-daily's) lists
    # are used, and refreshed once if a package they name is gone from the mirror.
    candidate=$(apt-cache policy chromium 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if ((sources_changed)) || [[ -z $candidate || $candidate == "(none)" ]]; then
        yielding apt-get update -q >&2
    fi
    # No recommends: no desktop bits; chromium-sandbox is not needed (the gateway's NoNewPrivileges forbids setuid).
    packages=(chromium fonts-liberation)
    if ((prefetch)); then
        yielding apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends --download-only "${packages[@]}" >&2
        log "prefetched: Chromium's packages are in apt's cache; the push installs them once the gateway is ready"
        exit 0
    fi
    if ! apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${packages[@]}" >&2; then
        log "the install failed; refreshing apt's lists once and trying again"
        apt-get update -q >&2
        apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${packages[@]}" >&2
    fi
elif ((prefetch)); then
    log "prefetch: the sources are in place (SKIP_APT=1: nothing fetched)"
    exit 0
fi

# Chromium's namespace sandbox needs an unprivileged user namespace; Ubuntu 24.04's AppArmor denies that to programs
# without a profile that allows it. The profile confines nothing else (like Ubuntu's own for Chrome). Where the kernel
# does not restrict user namespaces (Debian 12, the stand-in VPS) no profile is needed, and none is written.
if [[ -r $USERNS_RESTRICT && $(cat "$USERNS_RESTRICT") == 1 ]]; then
    put "$APPARMOR_FILE" <<EOF || true
# Managed by openclaw-vps (cloud-init/install-browser.sh): lets Chromium's sandbox create its user namespace on
# Ubuntu 24.04 (kernel.apparmor_restrict_unprivileged_userns=1). Unconfined otherwise, as Ubuntu's Chrome profile.
abi <abi/4.0>,
include <tunables/global>

profile openclaw-vps-chromium $CHROMIUM_REAL flags=(unconfined) {
  userns,

  include if exists <local/openclaw-vps-chromium>
}
EOF
    if [[ -z $APT_ROOT ]]; then
        command -v apparmor_parser >/dev/null || die "user namespaces are restricted by AppArmor, but apparmor_parser is missing"
        # -r replaces the loaded profile (a no-op when unchanged); -W caches it for the next boot.
        apparmor_parser -r -W "$APPARMOR_FILE" >&2 || die "apparmor_parser could not load $APPARMOR_FILE"
        log "AppArmor profile for $CHROMIUM_REAL loaded (userns for Chromium's sandbox)"
    fi
else
    log "this kernel does not restrict user namespaces through AppArmor: Chromium's sandbox needs no profile"
fi

[[ $SKIP_APT == 1 ]] && exit 0
[[ -x $BROWSER_BIN ]] || die "$BROWSER_BIN is missing after the install"
version=$(runuser -u "$AGENT_USER" -- "$BROWSER_BIN" --version 2>/dev/null) || die "$BROWSER_BIN --version failed as $AGENT_USER"
origin=$(apt-cache policy chromium 2>/dev/null | sed -n 's/^ \*\*\* \([^ ]*\).*/\1/p' | head -n 1)
log "browser: $version (package ${origin:-unknown}) at $BROWSER_BIN"
