#!/bin/sh
# Hangar installer (SPEC §9). MASTER: installs Bun and the dependencies, writes a systemd unit
# that starts the master on boot, starts it. WORKER: installs Docker Engine and OpenSSH server
# so the master can add the node over SSH (it prints the master key to authorize).
# Re-running is safe. --dry-run prints every command instead of running it.
set -eu

usage() {
  cat <<USAGE
usage: $0 --flag MASTER|WORKER [--master_ip IP] [--ib_ip IP] [--front_port 443] [--api_port 56789]
          [--data_dir /var/lib/hangar] [--root_password PW] [--master_key 'ssh-ed25519 …'] [--dry-run]
USAGE
  exit 2
}

DRY=0
FLAG=""
MASTER_IP=""
IB_IP=""
FRONT_PORT=443
API_PORT=56789
DATA_DIR=/var/lib/hangar
ROOT_PASSWORD=""
MASTER_KEY=""
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)

run() {
  if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi
}

write_file() { # PATH CONTENT
  if [ "$DRY" = 1 ]; then printf '+ write %s:\n%s\n' "$1" "$2"; else printf '%s\n' "$2" >"$1"; fi
}

need_root() {
  [ "$DRY" = 1 ] || [ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
}

apt_install() {
  missing=""
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  run apt-get update
  # shellcheck disable=SC2086
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
}

install_master() {
  command -v npm >/dev/null 2>&1 || apt_install ca-certificates npm
  command -v bun >/dev/null 2>&1 || run npm install -g bun
  BUN=$(command -v bun || echo /usr/local/bin/bun)
  run sh -c "cd '$APP_DIR' && '$BUN' install --frozen-lockfile --production"
  run mkdir -p "$DATA_DIR"
  env_file=/etc/hangar/hangar.env
  run mkdir -p /etc/hangar
  if [ ! -f "$env_file" ] || [ "$DRY" = 1 ]; then
    write_file "$env_file" "# master ip $MASTER_IP, infiniband ip ${IB_IP:-none}, front port $FRONT_PORT (recorded for later use)
HANGAR_DATA_DIR=$DATA_DIR
HANGAR_PORT=$API_PORT${ROOT_PASSWORD:+
HANGAR_ROOT_PASSWORD=$ROOT_PASSWORD}"
    run chmod 600 "$env_file"
  fi
  write_file /etc/systemd/system/hangar.service "[Unit]
Description=Hangar GPU training platform (master)
After=network-online.target docker.service
Wants=network-online.target

[Service]
EnvironmentFile=$env_file
WorkingDirectory=$APP_DIR
ExecStart=$BUN src/main.ts
Restart=always
RestartSec=3

[Install]
WantedBy=multi-user.target"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    run systemctl daemon-reload
    run systemctl enable --now hangar.service
    echo "Hangar master installed: http://${MASTER_IP:-127.0.0.1}:$API_PORT (journalctl -u hangar shows the first root password)"
  else
    echo "no systemd here: start it with: cd $APP_DIR && set -a && . $env_file && $BUN src/main.ts"
  fi
}

install_worker() {
  apt_install docker.io openssh-server
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    run systemctl enable --now docker ssh
  fi
  if [ -n "$MASTER_KEY" ]; then
    run mkdir -p /root/.ssh
    run chmod 700 /root/.ssh
    if [ "$DRY" = 1 ] || ! grep -qF "$MASTER_KEY" /root/.ssh/authorized_keys 2>/dev/null; then
      if [ "$DRY" = 1 ]; then echo "+ append master key to /root/.ssh/authorized_keys"; else echo "$MASTER_KEY" >>/root/.ssh/authorized_keys; fi
    fi
  else
    echo "pass --master_key with the key from GET http://${MASTER_IP:-MASTER}:$API_PORT/api/nodes/master-key, or add it to /root/.ssh/authorized_keys yourself"
  fi
  echo "worker ready: add it on the master's Nodes page (IP of this server)"
}

main() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --flag) FLAG=${2:-}; shift 2 ;;
      --master_ip) MASTER_IP=${2:-}; shift 2 ;;
      --ib_ip) IB_IP=${2:-}; shift 2 ;;
      --front_port) FRONT_PORT=${2:-}; shift 2 ;;
      --api_port) API_PORT=${2:-}; shift 2 ;;
      --data_dir) DATA_DIR=${2:-}; shift 2 ;;
      --root_password) ROOT_PASSWORD=${2:-}; shift 2 ;;
      --master_key) MASTER_KEY=${2:-}; shift 2 ;;
      --dry-run) DRY=1; shift ;;
      -h|--help) usage ;;
      *) echo "install.sh: unknown option $1" >&2; usage ;;
    esac
  done
  need_root
  case "$FLAG" in
    MASTER) install_master ;;
    WORKER) install_worker ;;
    *) echo "install.sh: --flag must be MASTER or WORKER" >&2; usage ;;
  esac
}

main "$@"
