# shellcheck shell=sh
# Shared by install.sh and uninstall.sh (sourced): step reporting, --dry-run, idempotent file
# writes, packages and services. POSIX sh. Every change is counted, so a run that changed nothing
# says so; every failure names its step and the fix.

DRY=0
CHANGED=0
WARNINGS=0
STEP="start"
FIX="see the message above"
DIED=0
PROG=${PROG:-hangar}

# step NAME FIX: what the following commands do, and what to do when one of them fails.
step() {
  STEP=$1
  FIX=$2
  printf '\n== %s\n' "$1"
}
ok() { printf '   ok: %s\n' "$*"; }
changed() {
  CHANGED=$((CHANGED + 1))
  [ "$DRY" = 1 ] || printf '   changed: %s\n' "$*"
}
warn() {
  WARNINGS=$((WARNINGS + 1))
  printf '   WARNING: %s\n' "$*"
}
# die WHAT [FIX]: stop here, naming the step and the fix.
die() {
  DIED=1
  printf '%s: FAILED at step "%s": %s\n   fix: %s\n' "$PROG" "$STEP" "$1" "${2:-$FIX}" >&2
  exit 1
}
on_exit() {
  rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 2 ] && [ "$DIED" = 0 ]; then
    printf '%s: FAILED at step "%s" (exit %s)\n   fix: %s\n' "$PROG" "$STEP" "$rc" "$FIX" >&2
  fi
}
trap on_exit EXIT

# run CMD...: runs it (or prints it with --dry-run); a failure stops the run at this step.
run() {
  if [ "$DRY" = 1 ]; then
    printf '   + %s\n' "$*"
    return 0
  fi
  printf '   $ %s\n' "$*"
  "$@" || die "'$*' exited with $?"
}

# shellcheck disable=SC2034 # WROTE is read by the scripts that source this file
# write_file PATH MODE CONTENT: writes PATH (umask 077, then MODE) unless it already holds
# exactly CONTENT with MODE. Sets WROTE=1 when it wrote.
write_file() {
  WROTE=0
  if [ "$DRY" = 1 ]; then
    printf '   + write %s (mode %s):\n%s\n   + end of %s\n' "$1" "$2" "$3" "$1"
    WROTE=1
    return 0
  fi
  if [ -f "$1" ] && [ "$(cat "$1")" = "$3" ] && [ "$(stat -c %a "$1")" = "$2" ]; then
    ok "$1 is current"
    return 0
  fi
  wf_tmp="$1.hangar-new"
  (umask 077 && printf '%s\n' "$3" >"$wf_tmp") || die "cannot write $wf_tmp"
  { chmod "$2" "$wf_tmp" && mv -f "$wf_tmp" "$1"; } || die "cannot replace $1"
  WROTE=1
  changed "wrote $1"
}

# remove_lines FILE MARKER_REGEX: deletes the lines matching it (a no-op when none do).
remove_lines() {
  if [ "$DRY" = 1 ]; then
    printf "   + remove the lines matching '%s' from %s\n" "$2" "$1"
    return 0
  fi
  [ -f "$1" ] || return 0
  grep -qE "$2" "$1" || return 0
  rl_tmp="$1.hangar-new"
  grep -vE "$2" "$1" >"$rl_tmp" || true
  { chmod --reference="$1" "$rl_tmp" && mv -f "$rl_tmp" "$1"; } || die "cannot rewrite $1"
  changed "removed Hangar's lines from $1"
}

has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

# apt_install PKG...: installs the missing ones (one apt-get update first).
apt_install() {
  ai_missing=""
  for ai_p in "$@"; do
    if [ "$DRY" = 1 ] || ! pkg_installed "$ai_p"; then ai_missing="$ai_missing $ai_p"; fi
  done
  if [ -z "$ai_missing" ]; then
    ok "installed:$(printf ' %s' "$@")"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "no apt-get: Hangar's installer supports Debian and Ubuntu" \
    "install$ai_missing with this system's package manager, then run the installer again"
  FIX="check the network and the apt sources (apt-get update must work), then run the installer again"
  run apt-get update -q
  # shellcheck disable=SC2086 # one word per package
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $ai_missing
  changed "installed$ai_missing"
}

# ensure_service UNIT: enabled and running.
ensure_service() {
  if [ "$DRY" = 0 ] && systemctl is-enabled -q "$1" 2>/dev/null && systemctl is-active -q "$1"; then
    ok "$1 is enabled and running"
    return 0
  fi
  run systemctl enable --now "$1"
  changed "enabled and started $1"
}

# The version the local Docker Engine answers with ("" when none answers).
docker_version() {
  command -v docker >/dev/null 2>&1 || return 0
  timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null || true
}

# remove_hangar_containers: the containers Hangar started here (labels of src/executor/spec.ts).
remove_hangar_containers() {
  step "Hangar's containers" "remove them by hand: docker ps -a --filter label=hangar.job, then docker rm -f ID"
  if [ "$DRY" = 1 ]; then
    echo "   + docker rm -f (each container of docker ps -a --filter label=hangar.node, and of label=hangar.job)"
    return 0
  fi
  if [ -z "$(docker_version)" ]; then
    ok "no Docker Engine answers here: no containers to remove"
    return 0
  fi
  # The master labels its containers with its cluster id (DATA_DIR/cluster-id): a master's
  # uninstall removes only its own, not those of another master sharing this Docker Engine.
  rc_cluster=""
  [ -n "${DATA_DIR:-}" ] && [ -r "$DATA_DIR/cluster-id" ] && rc_cluster=$(head -n1 "$DATA_DIR/cluster-id")
  if [ -n "$rc_cluster" ]; then
    rc_ids=$(docker ps -aq --filter "label=hangar.cluster=$rc_cluster" | sort -u)
  else
    rc_ids=$({
      docker ps -aq --filter label=hangar.node
      docker ps -aq --filter label=hangar.job
    } | sort -u)
  fi
  if [ -z "$rc_ids" ]; then
    ok "none"
    return 0
  fi
  # shellcheck disable=SC2086 # one word per id
  run docker rm -f $rc_ids
  changed "removed $(printf '%s\n' "$rc_ids" | wc -l) container(s)"
}

# The value of NAME= in an env file ("" when absent).
env_value() { sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n1; }
