#!/usr/bin/env bash
# Runs once inside the freshly bootstrapped stand-in rootfs (chroot, no network) and makes it look
# like a cloud image: no identity of its own (machine-id, SSH host keys), cloud-init reading only the
# NoCloud seed, en_US.UTF-8, systemd-networkd, apt going through the stand-in's caching proxy.
# Owned by the stand-in VPS (standin/rootfs.ts); part of the rootfs recipe hash, so editing it rebuilds the cache.
#
# Usage: configure.sh PHASE, the builder runs them in this order:
#   download  (with this machine's network, no package script runs) fetch the updates released since bookworm
#   finish    (no network) install those updates, then make it a cloud image
# Installing the updates here keeps a scenario's `apt-get upgrade` (provision.sh) from spending 40 s on them.
set -euo pipefail

step() { printf '[configure] %s\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive

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

step "fail2ban is not on a fresh cloud server: provision.sh installs and enables it, so it must not start (and fail) before that"
systemctl disable fail2ban.service

step "clean caches; dpkg syncs again like on a real server"
rm -f /etc/dpkg/dpkg.cfg.d/standin-build-unsafe-io
apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*.log /var/log/apt/* /tmp/* /var/tmp/*
step "done"
