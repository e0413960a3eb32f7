#!/bin/bash
# More services for the image tests, after up.sh: a local Docker registry (Debian's
# docker-registry) on 127.0.0.1:5000 holding the test image, and a second Docker Engine on its
# own socket, standing in for a worker whose engine lacks images. Idempotent; appends exports
# to $STATE/env.extras (sourced by test/run.sh after $STATE/env).
set -euo pipefail
STATE=${HANGAR_TEST_STATE:-/tmp/hangar-test}
IMAGE=${HANGAR_TEST_IMAGE:-hangar-test/busybox:latest}
log() { printf 'harness: %s\n' "$*" >&2; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

registry_up() {
  command -v docker-registry >/dev/null || {
    log "registry: installing docker-registry"
    # (apt's package lists may be empty on a fresh machine where up.sh had nothing to install.)
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y -q docker-registry </dev/null >/dev/null 2>&1 || {
      apt-get -o DPkg::Lock::Timeout=300 update -q </dev/null >/dev/null &&
        apt-get -o DPkg::Lock::Timeout=300 install -y -q docker-registry </dev/null >/dev/null
    } || { log "registry: ERROR: apt-get install docker-registry failed"; exit 1; }
  }
  # Debian's package starts its own service on :5000; ours is the one on 127.0.0.1:5000.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl stop docker-registry 2>/dev/null || true; fi
  local dir=$STATE/registry
  mkdir -p "$dir/data"
  if ! alive "$dir/pid" || ! port_open 127.0.0.1 5000; then
    cat >"$dir/config.yml" <<YML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $dir/data }, delete: { enabled: true } }
http: { addr: 127.0.0.1:5000 }
YML
    nohup docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 50); do port_open 127.0.0.1 5000 && break; sleep 0.1; done
    port_open 127.0.0.1 5000 || { log "registry did not start: $(tail -5 "$dir/log")"; exit 1; }
    log "registry: up on 127.0.0.1:5000"
  fi
  if ! docker manifest inspect --insecure 127.0.0.1:5000/hangar-test/busybox:1 >/dev/null 2>&1; then
    docker tag "$IMAGE" 127.0.0.1:5000/hangar-test/busybox:1
    docker push -q 127.0.0.1:5000/hangar-test/busybox:1 >/dev/null
    docker rmi 127.0.0.1:5000/hangar-test/busybox:1 >/dev/null
    log "registry: pushed 127.0.0.1:5000/hangar-test/busybox:1"
  fi
}

engine2_up() {
  local dir=$STATE/docker2
  mkdir -p "$dir"
  if alive "$dir/pid" && DOCKER_HOST=unix://$dir/docker.sock docker info >/dev/null 2>&1; then return; fi
  # Its own bridge: with --bridge=none dockerd deletes the host's docker0, breaking the main engine.
  if ! ip link show hangar-br2 >/dev/null 2>&1; then
    ip link add hangar-br2 type bridge
    ip addr add 172.31.254.1/24 dev hangar-br2
    ip link set hangar-br2 up
  fi
  local driver
  for driver in overlay2 vfs; do
    nohup dockerd --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$dir/pid" \
      -H "unix://$dir/docker.sock" --bridge=hangar-br2 --iptables=false --ip6tables=false --ip-masq=false \
      --storage-driver "$driver" >"$dir/log" 2>&1 &
    for _ in $(seq 100); do DOCKER_HOST=unix://$dir/docker.sock docker info >/dev/null 2>&1 && break; sleep 0.2; done
    if DOCKER_HOST=unix://$dir/docker.sock docker info >/dev/null 2>&1; then
      log "engine2: up on $dir/docker.sock ($driver)"
      return
    fi
    kill "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null || true
    sleep 1
  done
  log "engine2 did not start: $(tail -5 "$dir/log")"
  exit 1
}

registry_up
engine2_up
# Only its own lines: the image scripts and stage-worker.sh add theirs to the same file, and a
# later run of this script alone (a bench) must not drop them.
extras=$STATE/env.extras
tmp=$(mktemp "$extras.XXXXXX")
{ grep -vE '^export HANGAR_TEST_(REGISTRY|REGISTRY_IMAGE|ENGINE2_SOCKET)=' "$extras" 2>/dev/null || true; } >"$tmp"
cat >>"$tmp" <<ENV
export HANGAR_TEST_REGISTRY="127.0.0.1:5000"
export HANGAR_TEST_REGISTRY_IMAGE="127.0.0.1:5000/hangar-test/busybox:1"
export HANGAR_TEST_ENGINE2_SOCKET="$STATE/docker2/docker.sock"
ENV
chmod 644 "$tmp"
mv -f "$tmp" "$extras"
