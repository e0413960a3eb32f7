#!/bin/bash
# A bare Debian server for the installer tests: hangar-test/systemd:latest, a minimal Debian 12
# root that boots systemd as PID 1 (debootstrap --variant=minbase + systemd, systemd-sysv, dbus,
# and what installer/install.sh would otherwise fetch with apt: ca-certificates, curl, openssl,
# iproute2, openssh-server), brought in with `docker import` by debootstrap-image.sh like
# python-image.sh; no Docker registry involved. Built once (a few minutes), then cached by the
# hash of this recipe (label hangar.recipe). Run it privileged with cgroups (docker import cannot
# set STOPSIGNAL: pass it), e.g.
#   docker run -d --privileged --stop-signal SIGRTMIN+3 -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
#     --tmpfs /tmp IMAGE
# Idempotent; ~0.1-1 s when the image is current. Run as root after up.sh (needs dockerd);
# adds `export HANGAR_TEST_SYSTEMD_IMAGE=...` to $STATE/env.extras. Progress goes to stderr.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
STATE=${HANGAR_TEST_STATE:-/tmp/hangar-test}
IMAGE=${HANGAR_TEST_SYSTEMD_IMAGE:-hangar-test/systemd:latest}
NAME=systemd-image
ENV_VAR=HANGAR_TEST_SYSTEMD_IMAGE
CACHE_NAME=debootstrap-systemd
# shellcheck source=debootstrap-image.sh
. "$(dirname "${BASH_SOURCE[0]}")/debootstrap-image.sh"

# ---------------------------------------------------------------- the recipe (hashed)

SUITE=bookworm
VARIANT=minbase
INCLUDE=systemd,systemd-sysv,dbus,ca-certificates,curl,openssl,iproute2,openssh-server,procps
CHANGES=('CMD ["/sbin/init"]' 'ENV container=docker'
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'ENV LANG=C.UTF-8')

# The shared slim_root (it prunes Python's test folders, so it needs the folder), then what a
# container needs: no getty on its console, no udev, sshd host keys made per container (the
# postinst made them at build time). Hashed with the recipe (declare -f slim_root).
eval "shared_$(declare -f slim_root)"
slim_root() {
  local r=$1
  mkdir -p "$r/usr/lib/python3/dist-packages"
  shared_slim_root "$r"
  rmdir "$r/usr/lib/python3/dist-packages" "$r/usr/lib/python3" 2>/dev/null || true
  rm -f "$r"/etc/systemd/system/getty.target.wants/* "$r"/etc/systemd/system/multi-user.target.wants/e2scrub_reap.service
  ln -sf /dev/null "$r/etc/systemd/system/systemd-udevd.service"
  rm -f "$r"/etc/ssh/ssh_host_*
  mkdir -p "$r/etc/systemd/system/ssh.service.d"
  printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
    >"$r/etc/systemd/system/ssh.service.d/hostkeys.conf"
}

check_root() {
  [ -x "$1/lib/systemd/systemd" ] || die "debootstrap succeeded but the root has no systemd"
  [ -x "$1/usr/sbin/sshd" ] || die "debootstrap succeeded but the root has no sshd"
}

build_image
