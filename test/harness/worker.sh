#!/bin/bash
# Stop/start one SSH test worker (node-loss tests).
#   stop:    kills the worker's sshd listener AND its connection processes, so a client's
#            pooled connection really breaks
#   start:   starts it again and waits until the port accepts connections
#   restart: stop then start
# The worker must have been set up by up.sh before.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $0 stop|start|restart <ip>   (ip: ${WORKERS[*]})" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1 ip=$2
is_worker "$ip" || [ -s "$(worker_dir "$ip")/mntns.pid" ] || usage # or the staged worker
[ -s "$(worker_dir "$ip")/sshd_config" ] || die "worker $ip is not set up; run test/harness/up.sh first"

require_root
take_lock
case "$action" in
  stop) worker_stop "$ip" ;;
  start) worker_start "$ip" ;;
  restart)
    worker_stop "$ip"
    worker_start "$ip"
    ;;
  *) usage ;;
esac
