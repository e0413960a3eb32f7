#!/bin/sh
# Removes what install.sh set up (manual §2-B). MASTER: the `hangar` unit, Hangar's containers,
# the NFS export; the data dir, settings and certificate stay unless --purge. WORKER: Hangar's
# containers, the NFS mounts and their fstab lines, the master's key; the local data dir (only
# empty mount points when NFS was used) stays unless --purge. Safe to run twice: a second run
# finds nothing to remove and says so. --dry-run prints every step instead.
set -eu
PROG=uninstall.sh
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

FLAG=""
PURGE=0
DATA_DIR=""
ETC=/etc/hangar
UNIT=/etc/systemd/system/hangar.service
SHARED="workspaces builtin storage-probe" # as in install.sh

usage() {
  echo "usage: $0 --flag MASTER|WORKER [--purge] [--data_dir DIR] [--dry-run]" >&2
  echo "  --purge     also delete the data dir (jobs, datasets, database), settings and certificate" >&2
  echo "  --data_dir  only when the settings file is gone (default: read from $ETC, else /var/lib/hangar)" >&2
  exit 2
}

parse() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --flag)
        FLAG=${2:-}
        shift
        ;;
      --data_dir)
        DATA_DIR=${2:-}
        shift
        ;;
      --purge) PURGE=1 ;;
      --dry-run) DRY=1 ;;
      -h | --help) usage ;;
      *)
        echo "$PROG: unknown option $1" >&2
        usage
        ;;
    esac
    shift
  done
  case "$FLAG" in MASTER | WORKER) ;; *)
    echo "$PROG: --flag must be MASTER or WORKER" >&2
    usage
    ;;
  esac
  settings=$ETC/hangar.env
  [ "$FLAG" = WORKER ] && settings=$ETC/worker.env
  [ -n "$DATA_DIR" ] || DATA_DIR=$(env_value "$settings" HANGAR_DATA_DIR)
  [ -n "$DATA_DIR" ] || DATA_DIR=/var/lib/hangar
  case "$DATA_DIR" in /?*) ;; *)
    echo "$PROG: --data_dir must be an absolute path" >&2
    usage
    ;;
  esac
}

preflight() {
  step "preflight" "run it as root: sudo sh $0 …"
  [ "$DRY" = 1 ] || [ "$(id -u)" = 0 ] || die "not root"
  ok "data dir $DATA_DIR"
}

remove_unit() {
  step "systemd unit hangar" "systemctl disable --now hangar; rm $UNIT; systemctl daemon-reload"
  if [ "$DRY" = 0 ] && [ ! -e "$UNIT" ]; then
    ok "no hangar unit"
    return 0
  fi
  if [ "$DRY" = 1 ] || has_systemd; then
    run systemctl disable --now hangar.service
  fi
  run rm -f "$UNIT"
  if [ "$DRY" = 1 ] || has_systemd; then run systemctl daemon-reload; fi
  changed "stopped and removed the hangar unit"
}

remove_export() {
  step "NFS export" "delete the lines ending in '# hangar' from /etc/exports, then: exportfs -ra"
  if [ "$DRY" = 0 ] && ! grep -q '# hangar$' /etc/exports 2>/dev/null; then
    ok "no Hangar export"
    return 0
  fi
  remove_lines /etc/exports '# hangar$'
  if [ "$DRY" = 1 ] || command -v exportfs >/dev/null 2>&1; then run exportfs -ra; fi
}

remove_mounts() {
  step "NFS mounts of the shared data" "umount the folders under $DATA_DIR (a job still using them?), delete their /etc/fstab lines"
  for sub in $SHARED; do
    if [ "$DRY" = 1 ] || mountpoint -q "$DATA_DIR/$sub" 2>/dev/null; then
      run umount "$DATA_DIR/$sub"
      changed "unmounted $DATA_DIR/$sub"
    fi
  done
  fstab_re="^[^#[:space:]]+[[:space:]]+$DATA_DIR/(workspaces|builtin|storage-probe)[[:space:]]+nfs[[:space:]]"
  if [ "$DRY" = 0 ] && ! grep -qE "$fstab_re" /etc/fstab 2>/dev/null; then
    ok "no Hangar line in /etc/fstab"
    return 0
  fi
  remove_lines /etc/fstab "$fstab_re"
}

remove_master_key() {
  step "the master's key" "delete the line ending in 'hangar-master' from /root/.ssh/authorized_keys"
  if [ "$DRY" = 0 ] && ! grep -q ' hangar-master$' /root/.ssh/authorized_keys 2>/dev/null; then
    ok "not authorised here"
    return 0
  fi
  remove_lines /root/.ssh/authorized_keys ' hangar-master$'
}

purge() {
  step "data" "rm -rf $DATA_DIR $ETC"
  if [ "$PURGE" = 0 ]; then
    ok "kept $DATA_DIR and $ETC (--purge deletes them)"
    return 0
  fi
  for sub in $SHARED; do
    if [ "$DRY" = 0 ] && mountpoint -q "$DATA_DIR/$sub" 2>/dev/null; then
      die "$DATA_DIR/$sub is still mounted: deleting would delete the master's data" "umount $DATA_DIR/$sub, then run again"
    fi
  done
  # The system user the master ran as (install.sh --master_user, default hangar): only a system one.
  svc_user=""
  if [ "$FLAG" = MASTER ]; then
    if [ "$DRY" = 1 ]; then
      svc_user=hangar
    elif id -u hangar >/dev/null 2>&1 && [ "$(id -u hangar)" -lt 1000 ]; then svc_user=hangar; fi
  fi
  if [ "$DRY" = 0 ] && [ ! -e "$DATA_DIR" ] && [ ! -e "$ETC" ] && [ -z "$svc_user" ]; then
    ok "nothing left to delete"
    return 0
  fi
  run rm -rf "$DATA_DIR" "$ETC"
  changed "deleted $DATA_DIR and $ETC"
  if [ -n "$svc_user" ]; then
    run userdel "$svc_user"
    changed "removed the system user $svc_user"
  fi
}

main() {
  parse "$@"
  preflight
  if [ "$FLAG" = MASTER ]; then
    remove_unit
    remove_hangar_containers
    remove_export
  else
    remove_hangar_containers
    remove_mounts
    remove_master_key
    if [ "$PURGE" = 0 ] && [ -f "$ETC/worker.env" ]; then
      step "worker settings" "rm -f $ETC/worker.env"
      run rm -f "$ETC/worker.env"
      changed "removed $ETC/worker.env"
    fi
  fi
  purge
  if [ "$DRY" = 1 ]; then
    echo "(dry run: nothing was changed)"
  elif [ "$CHANGED" = 0 ]; then
    echo "Nothing to remove: Hangar's $FLAG part is not installed here."
  else
    echo "Hangar's $FLAG part removed ($CHANGED change(s))$([ "$PURGE" = 1 ] && echo "; data deleted" || echo "; data kept in $DATA_DIR")."
  fi
}

main "$@"
