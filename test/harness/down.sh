#!/bin/bash
# Stop what up.sh started: the SSH workers and the private PostgreSQL cluster.
# dockerd keeps running (images stay warm) unless --all is given; --all stops it only if
# the harness started it. $STATE (keys, data) is kept; rm -rf it for a clean slate.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

all=0
case "${1:-}" in
  "") ;;
  --all) all=1 ;;
  *) echo "usage: $0 [--all]" >&2; exit 2 ;;
esac

require_root
take_lock
for ip in "${WORKERS[@]}"; do worker_stop "$ip"; done
pg_stop
if [ $all = 1 ]; then docker_stop; fi
log "down"
