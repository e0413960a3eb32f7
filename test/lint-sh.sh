#!/usr/bin/env bash
# `bun run lint`, second half: shellcheck on the repo's shell scripts. .ci/run installs it;
# elsewhere: apt-get install shellcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || {
  echo "lint: shellcheck is not installed (apt-get install shellcheck)" >&2
  exit 1
}
shellcheck -x -P SCRIPTDIR installer/*.sh test/harness/*.sh test/run.sh test/lint-sh.sh .ci/run
