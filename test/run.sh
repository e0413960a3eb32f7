#!/usr/bin/env bash
# `bun run test`: the whole suite. Brings up the real services the tests use (PostgreSQL,
# Docker Engine, sshd workers: test/harness/up.sh installs what is missing), checks that the
# generated migrations are current, then runs every test file on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || bun install --frozen-lockfile

bash test/harness/up.sh
# shellcheck disable=SC1091
source "${HANGAR_TEST_STATE:-/tmp/hangar-test}/env"
bash test/harness/extras.sh
bash test/harness/stage-worker.sh
bash test/harness/python-image.sh
bash test/harness/notebook-image.sh
bash test/harness/torch-image.sh
bash test/harness/systemd-image.sh
# shellcheck disable=SC1091
source "${HANGAR_TEST_STATE:-/tmp/hangar-test}/env.extras"

snapshot() { find src/store/migrations -type f -exec sha1sum {} + 2>/dev/null | sort; }
before=$(snapshot)
bun run db:generate >/dev/null
if [ "$before" != "$(snapshot)" ]; then
  echo "test: src/store/migrations was stale; 'bun run db:generate' changed it: commit the new migration" >&2
  exit 1
fi

log=$(mktemp)
set +e
bun test --timeout 60000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
echo "Tests: ${passed} passed, ${failed} failed"
exit "$status"
