#!/bin/sh
# Removes what install.sh set up. MASTER: stops and removes the systemd unit (the data dir is
# kept unless --purge). WORKER: nothing of Hangar's is installed there beyond the master key.
set -eu

DRY=0
FLAG=""
PURGE=0
DATA_DIR=/var/lib/hangar
run() { if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi; }
usage() { echo "usage: $0 --flag MASTER|WORKER [--purge] [--data_dir DIR] [--dry-run]" >&2; exit 2; }

main() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --flag) FLAG=${2:-}; shift 2 ;;
      --purge) PURGE=1; shift ;;
      --data_dir) DATA_DIR=${2:-}; shift 2 ;;
      --dry-run) DRY=1; shift ;;
      *) usage ;;
    esac
  done
  case "$FLAG" in
    MASTER)
      if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        run systemctl disable --now hangar.service || true
      fi
      run rm -f /etc/systemd/system/hangar.service
      [ "$PURGE" = 1 ] && run rm -rf "$DATA_DIR" /etc/hangar
      echo "Hangar master removed${PURGE:+ }$([ "$PURGE" = 1 ] && echo "(data deleted)" || echo "(data kept in $DATA_DIR)")"
      ;;
    WORKER)
      run sed -i '/hangar-master$/d' /root/.ssh/authorized_keys
      echo "master key removed from /root/.ssh/authorized_keys"
      ;;
    *) usage ;;
  esac
}

main "$@"
