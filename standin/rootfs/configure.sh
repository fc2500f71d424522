#!/usr/bin/env bash
# Runs once inside the freshly bootstrapped stand-in rootfs (chroot, no network) and makes it look
# like a cloud image: no identity of its own (machine-id, SSH host keys), cloud-init reading only the
# NoCloud seed, en_US.UTF-8, systemd-networkd, apt going through the stand-in's caching proxy. And like an Ubuntu
# 24.04 cloud image where provision.sh must cope with it: needrestart restarting services by itself, no legacy
# time-zone names (tzdata-legacy), an apt job holding apt's locks at boot, and a service whose binary provisioning's
# upgrade replaces (so needrestart has something to restart).
# Owned by the stand-in VPS (standin/rootfs.ts); part of the rootfs recipe hash, so editing it rebuilds the cache.
#
# Usage: configure.sh PHASE, the builder runs them in this order:
#   download  (with this machine's network, no package script runs) fetch the updates released since bookworm
#   finish    (no network) install those updates, then make it a cloud image
# Installing the updates here keeps a scenario's `apt-get upgrade` (provision.sh) from spending 40 s on them.
set -euo pipefail

step() { printf '[configure] %s\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive
# The image installs needrestart; while it is built, nothing may restart anything (this is a chroot, not a server).
export NEEDRESTART_SUSPEND=1

if [[ ${1:-} == download ]]; then
    step "apt sources like a real server: release, updates and security"
    cat >/etc/apt/sources.list <<SOURCES
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
    apt-get -q update
    apt-get -q -y --download-only upgrade
    step "download done"
    exit 0
fi
[[ ${1:-} == finish ]] || {
    echo "usage: configure.sh download|finish" >&2
    exit 2
}

# Set by the builder: where the container reaches the host side of its private network.
: "${STANDIN_GATEWAY:?}" "${STANDIN_APT_PROXY_PORT:?}"

step "install the downloaded updates (offline: package scripts cannot reach any network)"
apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-download upgrade

step "apt goes through the stand-in's caching proxy (the container has no route to the internet)"
cat >/etc/apt/apt.conf.d/00standin-proxy <<PROXY
// The stand-in VPS has no internet: the test's caching proxy forwards to deb.debian.org.
Acquire::http::Proxy "http://${STANDIN_GATEWAY}:${STANDIN_APT_PROXY_PORT}/";
Acquire::https::Proxy "http://${STANDIN_GATEWAY}:${STANDIN_APT_PROXY_PORT}/";
PROXY

step "locale en_US.UTF-8"
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >>/etc/locale.gen
locale-gen
update-locale LANG=en_US.UTF-8

step "cloud-init reads only the NoCloud seed (no metadata service in the stand-in)"
cat >/etc/cloud/cloud.cfg.d/90-standin.cfg <<'CLOUD'
# Stand-in VPS: the seed is in /var/lib/cloud/seed/nocloud; there is no metadata service.
datasource_list: [ NoCloud, None ]
manage_etc_hosts: true
CLOUD

step "systemd-networkd manages the container's interface (cloud-init writes its .network file)"
systemctl enable systemd-networkd.service
# Waiting for an IPv6 router advertisement that never comes costs 13 s of every boot.
mkdir -p /etc/systemd/network/10-cloud-init-host0.network.d
cat >/etc/systemd/network/10-cloud-init-host0.network.d/50-standin-no-ra.conf <<'NETWORK'
[Network]
IPv6AcceptRA=no
NETWORK

step "name resolution: no DNS on the private network, so lookups fail fast instead of hanging"
rm -f /etc/resolv.conf
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "${STANDIN_GATEWAY}" >/etc/resolv.conf

step "no identity of its own: every instance gets a new machine-id and SSH host keys on first boot"
echo localhost >/etc/hostname
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
rm -f /etc/ssh/ssh_host_*

step "needrestart as Ubuntu 24.04 ships it: after every dpkg run it restarts what uses replaced files, by itself"
# Ubuntu's needrestart (3.6-7ubuntu4) restarts automatically in interactive and non-interactive runs alike; Debian's
# asks, or only lists without a terminal. This makes Debian's behave like Ubuntu's.
mkdir -p /etc/needrestart/conf.d
cat >/etc/needrestart/conf.d/90-standin-ubuntu.conf <<'NEEDRESTART'
# Stand-in VPS (standin/rootfs/configure.sh): restart automatically, like Ubuntu 24.04's needrestart.
$nrconf{restart} = 'a';
NEEDRESTART

step "a canary service whose binary provisioning's apt-get upgrade replaces (standin-canary 1 installed, 2 in a local archive)"
canary_deb() { # version output
    local root
    root=$(mktemp -d)
    mkdir -p "$root/DEBIAN" "$root/usr/libexec/standin-canary" "$root/lib/systemd/system"
    cp /usr/bin/sleep "$root/usr/libexec/standin-canary/canary"
    cat >"$root/lib/systemd/system/standin-canary.service" <<'UNIT'
[Unit]
Description=Stand-in canary: a long-running process whose binary a package upgrade replaces (needrestart's target)
[Service]
ExecStart=/usr/libexec/standin-canary/canary infinity
[Install]
WantedBy=multi-user.target
UNIT
    printf 'Package: standin-canary\nVersion: %s\nArchitecture: amd64\nMaintainer: openclaw-vps stand-in <standin@openclaw-vps.invalid>\nDescription: stand-in canary for needrestart (openclaw-vps tests)\n' "$1" >"$root/DEBIAN/control"
    dpkg-deb --root-owner-group --build "$root" "$2" >/dev/null
    rm -rf "$root"
}
canary_deb 1 /tmp/standin-canary_1_amd64.deb
dpkg -i /tmp/standin-canary_1_amd64.deb
rm -f /tmp/standin-canary_1_amd64.deb
systemctl enable standin-canary.service
mkdir -p /var/lib/standin-updates
canary_deb 2 /var/lib/standin-updates/standin-canary_2_amd64.deb
(
    cd /var/lib/standin-updates
    deb=standin-canary_2_amd64.deb
    {
        dpkg-deb --field "$deb"
        printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$deb" "$(stat -c %s "$deb")" "$(sha256sum <"$deb" | cut -d' ' -f1)"
    } >Packages
    printf 'Origin: openclaw-vps stand-in\nLabel: stand-in updates\nSHA256:\n %s %s Packages\n' "$(sha256sum <Packages | cut -d' ' -f1)" "$(stat -c %s Packages)" >Release
)
echo 'deb [trusted=yes] file:/var/lib/standin-updates ./' >/etc/apt/sources.list.d/standin-updates.list

step "no legacy time-zone names: Ubuntu 24.04 ships them only in tzdata-legacy, not installed on its cloud images"
# The names come from components/core/timezones.ts (the builder writes them to /tmp/standin-legacy-zones); dpkg never
# installs them again, so a tzdata upgrade during provisioning leaves them out too.
{
    echo "# Stand-in VPS: like Ubuntu 24.04's tzdata, without tzdata-legacy's names (standin/rootfs/configure.sh)"
    echo "path-exclude=/usr/share/zoneinfo/right/*"
    sed 's|^|path-exclude=/usr/share/zoneinfo/|' /tmp/standin-legacy-zones
} >/etc/dpkg/dpkg.cfg.d/standin-no-tzdata-legacy
while IFS= read -r zone; do rm -f "/usr/share/zoneinfo/$zone"; done </tmp/standin-legacy-zones
rm -rf /usr/share/zoneinfo/right /usr/share/zoneinfo/US /usr/share/zoneinfo/Canada /usr/share/zoneinfo/Chile /usr/share/zoneinfo/Mexico
rm -f /tmp/standin-legacy-zones

step "something holds apt's locks at boot (as apt-daily-upgrade or unattended-upgrades can): provision.sh must wait for it"
# Not apt-daily.service itself: cloud-init orders cloud-final Before=apt-daily.service on Debian and Ubuntu, so a daily
# run queued at boot waits for provisioning; the daily job that does collide is one already running (apt-daily-upgrade,
# unattended-upgrades, a missed run that started first). This unit plays it, before cloud-final starts.
mkdir -p /usr/local/lib/standin
cat >/usr/local/lib/standin/apt-lock-holder <<'HOLDER'
#!/usr/bin/python3
# STAND-IN apt job at boot (standin/rootfs/configure.sh): takes apt's daily lock and the lists lock exactly as
# apt.systemd.daily and apt-get do, tells systemd it is up, and holds them until provision.sh has said that it waits
# for them (or provisioning is already done, or 10 minutes passed). Then it exits, like a finished run.
import fcntl, os, socket, time
daily = open("/var/lib/apt/daily_lock", "a")
fcntl.flock(daily, fcntl.LOCK_EX)
lists = open("/var/lib/apt/lists/lock", "a")
fcntl.lockf(lists, fcntl.LOCK_EX)
address = os.environ.get("NOTIFY_SOCKET", "")
if address:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.connect("\0" + address[1:] if address.startswith("@") else address)
        notify.sendall(b"READY=1")
print("apt lock holder: holding /var/lib/apt/daily_lock and /var/lib/apt/lists/lock", flush=True)
deadline = time.time() + 600
while time.time() < deadline:
    try:
        if "state=done" in open("/var/lib/openclaw-vps/provision.status").read():
            break
    except OSError:
        pass
    try:
        if "is running; waiting" in open("/var/log/openclaw-vps/provision.log").read():
            print("apt lock holder: provision.sh is waiting for it", flush=True)
            time.sleep(2)
            break
    except OSError:
        pass
    time.sleep(0.5)
print("apt lock holder: done, locks released", flush=True)
HOLDER
chmod 0755 /usr/local/lib/standin/apt-lock-holder
cat >/etc/systemd/system/standin-apt-lock-holder.service <<'UNIT'
# Stand-in VPS (standin/rootfs/configure.sh): an apt job holding apt's locks at boot, up before cloud-final (which runs
# provision.sh), until provision.sh waits for it.
[Unit]
Description=Stand-in: an apt job holding apt's daily and lists locks at boot
After=local-fs.target
Before=cloud-final.service
[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/local/lib/standin/apt-lock-holder
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable standin-apt-lock-holder.service

step "fail2ban is not on a fresh cloud server: provision.sh installs and enables it, so it must not start (and fail) before that"
systemctl disable fail2ban.service

step "clean caches; dpkg syncs again like on a real server"
rm -f /etc/dpkg/dpkg.cfg.d/standin-build-unsafe-io
apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*.log /var/log/apt/* /tmp/* /var/tmp/*
step "done"
