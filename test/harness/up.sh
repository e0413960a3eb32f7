#!/bin/bash
# Bring up the real services the Hangar test suite needs (idempotent; fast when all is up):
#   PostgreSQL (private cluster, 127.0.0.1:55432), Docker Engine, the busybox test image,
#   and two SSH "workers" (sshd on 127.0.0.2 / 127.0.0.3) with a stand-in nvidia-smi.
# Writes $STATE/env (STATE=${HANGAR_TEST_STATE:-/tmp/hangar-test}): `export NAME=value`
# lines for the test runner. See test/harness/README.md.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $0        bring everything up and write \$HANGAR_TEST_STATE/env" >&2
  exit 2
}
[ $# -eq 0 ] || usage

start=$SECONDS
require_root
take_lock
ensure_packages
pg_up
docker_up
image_up
workers_up
write_env
log "ready in $((SECONDS - start)) s; source $STATE/env"
