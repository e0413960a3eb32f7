#!/bin/bash
# A worker that does NOT share the master's filesystem (storage mode `staged`): sshd on
# 127.0.0.4 and its own Docker Engine, both inside a private mount namespace where an empty
# tmpfs covers the folder test masters keep their data dirs in (${TMPDIR:-/tmp}: a master's
# data dir path is empty there). $STATE is bound back inside, so the worker's own files (host
# keys, sshd_config, the engine's data) stay where they are. The namespace is held by a
# `sleep` process (pid in $STATE/workers/<ip>/mntns.pid); `worker.sh stop|start <ip>` stops and
# starts its sshd inside it. Idempotent; run after up.sh and extras.sh: it sets
# HANGAR_TEST_STAGED_WORKER, HANGAR_TEST_STAGED_DOCKER_SOCKET and HANGAR_TEST_STAGED_CACHE (a
# cache folder that exists only inside the namespace) in $STATE/env.extras.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IP=${HANGAR_TEST_STAGED_WORKER:-127.0.0.4}
COVER=${TMPDIR:-/tmp}
COVER=${COVER%/}
W=$(worker_dir "$IP")
NS_PID_FILE=$W/mntns.pid
ENGINE=$STATE/docker-staged
SOCKET=$ENGINE/docker.sock
CACHE=$COVER/hangar-stage-cache
BRIDGE=hangar-br4
WORKER_GPUS[$IP]=gtx1080ti-x2

ns_pid() {
  local pid
  pid=$(read_pid "$NS_PID_FILE" || true)
  if pid_alive "$pid" && [ "$(comm_of "$pid")" = sleep ]; then echo "$pid"; else echo 0; fi
}
ns_ready() { [ "$(ns_pid)" != 0 ]; }
engine_ready() { DOCKER_HOST=unix://$SOCKET docker info >/dev/null 2>&1; }
in_ns() { nsenter "--mount=/proc/$(ns_pid)/ns/mnt" -- "$@"; }

# The namespace: tmpfs over $COVER, $STATE bound back when it lies under it.
ns_up() {
  [ "$(ns_pid)" = 0 ] || return 0
  local hold=/run/hangar-test-ns/$IP
  install -d -m 700 "$hold" "$W"
  log "staged worker $IP: new mount namespace (empty tmpfs over $COVER)"
  # shellcheck disable=SC2016 # the script's variables expand inside the namespace
  setsid unshare --mount --propagation private --fork bash -c '
    set -e
    state=$1 cover=$2 hold=$3 pidfile=$4
    case "$state/" in "$cover"/*) mount --bind "$state" "$hold" ;; esac
    mount -t tmpfs -o mode=1777 hangar-no-share "$cover"
    case "$state/" in "$cover"/*) mkdir -p "$state" && mount --move "$hold" "$state" ;; esac
    echo $$ >"$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
    exec sleep infinity' hangar-ns "$STATE" "$COVER" "$hold" "$NS_PID_FILE" </dev/null >/dev/null 2>&1 9>&- &
  wait_until 10 ns_ready || die "staged worker $IP: the mount namespace did not come up"
}

engine_up() {
  mkdir -p "$ENGINE"
  if engine_ready; then return 0; fi
  if pid_alive "$(read_pid "$ENGINE/pid" || true)"; then kill "$(read_pid "$ENGINE/pid")" 2>/dev/null || true; fi
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add 172.31.253.1/24 dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  local driver
  for driver in overlay2 vfs; do
    rm -f "$ENGINE/pid"
    in_ns setsid dockerd --data-root "$ENGINE/root" --exec-root "$ENGINE/exec" --pidfile "$ENGINE/pid" \
      -H "unix://$SOCKET" --bridge="$BRIDGE" --iptables=false --ip6tables=false --ip-masq=false \
      --storage-driver "$driver" </dev/null >"$ENGINE/log" 2>&1 9>&- &
    if wait_until 30 engine_ready; then
      log "staged worker $IP: engine up on $SOCKET ($driver, inside the namespace)"
      return 0
    fi
    kill "$(read_pid "$ENGINE/pid" || echo 0)" 2>/dev/null || true
    sleep 1
  done
  die "staged worker $IP: dockerd did not start: $(tail -n 5 "$ENGINE/log")"
}

image_in_engine() {
  DOCKER_HOST=unix://$SOCKET docker image inspect "$IMAGE" >/dev/null 2>&1 && return 0
  log "staged worker $IP: loading $IMAGE into its engine"
  docker save "$IMAGE" | DOCKER_HOST=unix://$SOCKET docker load -q >/dev/null
}

sshd_up() {
  local port
  port=$(worker_port)
  if worker_prepare "$IP" "$port" && [ "$(worker_pid "$IP")" != 0 ]; then
    log "staged worker $IP: sshd_config changed; restarting sshd"
    worker_stop "$IP"
  fi
  authorize_client_key "$IP"
  if worker_ready "$IP" "$port"; then
    log "staged worker $IP: sshd up on $IP:$port"
  else
    worker_start "$IP"
  fi
}

update_env_extras() {
  local extras=$STATE/env.extras tmp
  tmp=$(mktemp "$extras.XXXXXX")
  { grep -v '^export HANGAR_TEST_STAGED_' "$extras" 2>/dev/null || true; } >"$tmp"
  {
    env_line HANGAR_TEST_STAGED_WORKER "$IP"
    env_line HANGAR_TEST_STAGED_DOCKER_SOCKET "$SOCKET"
    env_line HANGAR_TEST_STAGED_CACHE "$CACHE"
  } >>"$tmp"
  chmod 644 "$tmp"
  if [ -f "$extras" ] && cmp -s "$tmp" "$extras"; then rm -f "$tmp"; else mv -f "$tmp" "$extras"; fi
}

require_root
take_lock
install -d -m 755 "$WORKERS_DIR"
ns_up
engine_up
image_in_engine
sshd_up
probe=$(mktemp -p "$COVER" hangar-stage-probe-XXXXXX)
if in_ns test -e "$probe"; then
  rm -f "$probe"
  die "staged worker $IP: the namespace sees the host's $COVER"
fi
rm -f "$probe"
update_env_extras
