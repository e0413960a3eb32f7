#!/bin/sh
# Hangar installer (the Flightbase manual's install, §2-A): one command per server, as root, on Debian/Ubuntu.
#   MASTER: Bun and the app's dependencies, Docker Engine, an NVIDIA check, the `hangar` system
#     user the master runs as (not root: README, Security model), the data dir (0700, its),
#     the settings file (0600), a TLS certificate, the `hangar` systemd unit (HTTPS on
#     --front_port, plain API on --api_port), the NFS export of the shared data to the workers.
#   WORKER: Docker Engine, OpenSSH server, the NVIDIA check, the master's key authorised, the
#     shared data NFS-mounted from the master at the same path; prints the line for Add Node.
# Idempotent: a second run changes nothing and says so. --dry-run prints every step instead.
set -eu
PROG=install.sh
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

usage() {
  cat >&2 <<USAGE
usage: $0 --flag MASTER --master_ip IP [--ib_ip IP] [--front_port 443] [--api_port 56789]
            [--api_local_only] [--tls_cert FILE --tls_key FILE] [--root_password_file FILE|-]
            [--nfs_clients CIDR] [--no-nfs] [--no-docker] [--data_dir /var/lib/hangar]
            [--master_user hangar] [--dry-run]
       $0 --flag WORKER --master_ip IP [--ib_ip IP] [--master_fingerprint sha256//… | --master_key 'ssh-ed25519 …']
            [--front_port 443] [--no-nfs] [--no-docker] [--data_dir /var/lib/hangar] [--dry-run]
  --master_ip        the master's address (MASTER: advertised in URLs and the certificate)
  --ib_ip            this server's InfiniBand IP (without it InfiniBand is not used)
  --front_port       HTTPS port of the web UI and API (443)
  --api_port         plain-HTTP API port for tools on the LAN (56789)
  --api_local_only   bind the plain API port to 127.0.0.1 only
  --tls_cert/--tls_key  your certificate and key (PEM); default: a self-signed one for --master_ip
  --root_password_file  root's first password, read from FILE (- : stdin); default: generated, printed once
  --nfs_clients      who may mount the shared data (default: the master's subnet)
  --no-nfs           the lab has its own shared storage at --data_dir on every server
  --no-docker        do not install Docker Engine (one is installed another way)
  --master_user      the system user the master runs as (hangar; created). root: the old way, see README
  --master_fingerprint  the certificate pin the master's installer printed (WORKER fetches the key with it)
  --master_key       the master's SSH public key itself (GET /api/nodes/master-key)
USAGE
  exit 2
}

FLAG=""
MASTER_IP=""
IB_IP=""
FRONT_PORT=443
API_PORT=56789
API_LOCAL_ONLY=0
DATA_DIR=/var/lib/hangar
TLS_CERT=""
TLS_KEY=""
PASSWORD_FILE=""
NFS=1
NFS_CLIENTS=""
DOCKER=1
MASTER_KEY=""
MASTER_FINGERPRINT=""
SVC_USER=hangar
APP_DIR=$(cd "$HERE/.." && pwd)
ETC=/etc/hangar
ENV_FILE=$ETC/hangar.env
FIRST_ENV=$ETC/first-start.env
UNIT=/etc/systemd/system/hangar.service
# The data dir's parts every node must see at the same path (src/lib/layout.ts): what jobs mount,
# and the probe by which the master detects the share (src/domain/storage.ts). Not the database,
# the keys or the logs.
SHARED="workspaces builtin storage-probe"
shared_list() { for sl in $SHARED; do printf ' %s' "$DATA_DIR/$sl"; done; }

need_value() {
  if [ -z "${2:-}" ] || [ "${2#--}" != "$2" ]; then
    echo "$PROG: $1 needs a value" >&2
    usage
  fi
}

parse() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) DRY=1 ;;
      --api_local_only) API_LOCAL_ONLY=1 ;;
      --no-nfs) NFS=0 ;;
      --no-docker) DOCKER=0 ;;
      -h | --help) usage ;;
      --flag | --master_ip | --ib_ip | --front_port | --api_port | --data_dir | --tls_cert | --tls_key | \
        --root_password_file | --nfs_clients | --master_key | --master_fingerprint | --master_user)
        need_value "$1" "${2:-}"
        case "$1" in
          --flag) FLAG=$2 ;;
          --master_ip) MASTER_IP=$2 ;;
          --ib_ip) IB_IP=$2 ;;
          --front_port) FRONT_PORT=$2 ;;
          --api_port) API_PORT=$2 ;;
          --data_dir) DATA_DIR=$2 ;;
          --tls_cert) TLS_CERT=$2 ;;
          --tls_key) TLS_KEY=$2 ;;
          --root_password_file) PASSWORD_FILE=$2 ;;
          --nfs_clients) NFS_CLIENTS=$2 ;;
          --master_key) MASTER_KEY=$2 ;;
          --master_fingerprint) MASTER_FINGERPRINT=$2 ;;
          --master_user) SVC_USER=$2 ;;
        esac
        shift
        ;;
      *)
        echo "$PROG: unknown option $1" >&2
        usage
        ;;
    esac
    shift
  done
  case "$FLAG" in
    MASTER | WORKER) ;;
    *)
      echo "$PROG: --flag must be MASTER or WORKER" >&2
      usage
      ;;
  esac
  is_ipv4 "$MASTER_IP" || {
    echo "$PROG: --master_ip must be the master's IPv4 address (got '${MASTER_IP}')" >&2
    usage
  }
  [ -z "$IB_IP" ] || is_ipv4 "$IB_IP" || {
    echo "$PROG: --ib_ip must be an IPv4 address (got '$IB_IP')" >&2
    usage
  }
  for p in "$FRONT_PORT" "$API_PORT"; do
    case "$p" in '' | *[!0-9]*) bad_port=1 ;; *) [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || bad_port=1 ;; esac
    [ -z "${bad_port:-}" ] || {
      echo "$PROG: ports must be numbers from 1 to 65535 (got '$p')" >&2
      usage
    }
  done
  [ "$FRONT_PORT" != "$API_PORT" ] || {
    echo "$PROG: --front_port and --api_port must differ" >&2
    usage
  }
  case "$DATA_DIR" in /?*) ;; *)
    echo "$PROG: --data_dir must be an absolute path" >&2
    usage
    ;;
  esac
  if [ -n "$TLS_CERT$TLS_KEY" ] && { [ -z "$TLS_CERT" ] || [ -z "$TLS_KEY" ]; }; then
    echo "$PROG: --tls_cert and --tls_key go together" >&2
    usage
  fi
  case "$SVC_USER" in '' | -* | *[!a-z0-9_-]*)
    echo "$PROG: --master_user must be a plain user name (lower-case letters, digits, _ and -)" >&2
    usage
    ;;
  esac
  if [ -n "$MASTER_KEY" ] && [ -n "$MASTER_FINGERPRINT" ]; then
    echo "$PROG: give --master_key or --master_fingerprint, not both" >&2
    usage
  fi
}

is_ipv4() {
  case "$1" in '' | *[!0-9.]* | .* | *. | *..*) return 1 ;; esac
  ii_old=$IFS
  IFS=.
  # shellcheck disable=SC2086 # split on dots
  set -- $1
  IFS=$ii_old
  [ $# = 4 ] && [ "$1" -le 255 ] && [ "$2" -le 255 ] && [ "$3" -le 255 ] && [ "$4" -le 255 ]
}

ip_to_int() {
  it_old=$IFS
  IFS=.
  # shellcheck disable=SC2086 # split on dots
  set -- $1
  IFS=$it_old
  echo $(((($1 * 256 + $2) * 256 + $3) * 256 + $4))
}
int_to_ip() { echo "$(($1 / 16777216 % 256)).$(($1 / 65536 % 256)).$(($1 / 256 % 256)).$(($1 % 256))"; }

# The CIDR (e.g. 10.0.0.5/24) an interface of this machine holds IP with ("" when none).
local_cidr() { ip -o -4 addr show 2>/dev/null | awk -v ip="$1" '{ split($4, a, "/"); if (a[1] == ip) { print $4; exit } }'; }
# The interface holding IP ("" when none).
iface_of() { ip -o -4 addr show 2>/dev/null | awk -v ip="$1" '{ split($4, a, "/"); if (a[1] == ip) { print $2; exit } }'; }

subnet_of() { # 10.0.0.5/24 -> 10.0.0.0/24
  so_ip=${1%/*}
  so_bits=${1#*/}
  so_size=1
  so_i=$so_bits
  while [ "$so_i" -lt 32 ]; do
    so_size=$((so_size * 2))
    so_i=$((so_i + 1))
  done
  echo "$(int_to_ip $(($(ip_to_int "$so_ip") / so_size * so_size)))/$so_bits"
}

preflight() {
  step "preflight: root, systemd, Debian/Ubuntu" "run the installer as root on a Debian/Ubuntu server booted with systemd"
  if [ "$DRY" = 1 ]; then
    ok "dry run: nothing is changed; every step prints what it would do"
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "not root" "run it as root: sudo sh $0 …"
  command -v apt-get >/dev/null 2>&1 || die "no apt-get: the installer supports Debian and Ubuntu"
  has_systemd || die "systemd is not running (PID 1): the hangar unit could not start or come back after a reboot"
  if [ -z "$(local_cidr "$MASTER_IP")" ] && [ "$FLAG" = MASTER ]; then
    warn "$MASTER_IP is not an address of this server (behind NAT? then the URLs and the certificate name that address)"
  fi
  if [ -n "$IB_IP" ] && [ -z "$(iface_of "$IB_IP")" ]; then
    warn "--ib_ip $IB_IP is not an address of this server: InfiniBand stays unused (fix: the IPoIB interface's address)"
  fi
  ok "root on $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-Linux}") with systemd"
}

packages() {
  step "packages" "check the network and the apt sources, then run the installer again"
  pk_list="ca-certificates curl"
  [ "$FLAG" = MASTER ] && pk_list="$pk_list openssl iproute2"
  [ "$FLAG" = WORKER ] && pk_list="$pk_list openssh-server iproute2"
  [ "$DOCKER" = 1 ] && pk_list="$pk_list docker.io"
  if [ "$NFS" = 1 ]; then
    if [ "$FLAG" = MASTER ]; then pk_list="$pk_list nfs-kernel-server"; else pk_list="$pk_list nfs-common"; fi
  fi
  if [ "$FLAG" = MASTER ] && { [ "$DRY" = 1 ] || ! command -v bun >/dev/null 2>&1; }; then
    pk_list="$pk_list npm"
  fi
  # shellcheck disable=SC2086 # one word per package
  apt_install $pk_list
}

docker_engine() {
  step "Docker Engine" "apt-get install docker.io && systemctl enable --now docker; then run the installer again"
  if [ "$DOCKER" = 0 ]; then
    dv=$(docker_version)
    if [ "$DRY" = 1 ]; then
      ok "--no-docker: Docker Engine is not installed by this run"
    elif [ -n "$dv" ]; then
      ok "--no-docker: Docker Engine $dv answers"
    else
      warn "--no-docker and no Docker Engine answers: this server runs no jobs until one does (fix: apt-get install docker.io)"
    fi
    return 0
  fi
  has_systemd || [ "$DRY" = 1 ] || die "no systemd to start Docker"
  ensure_service docker
  [ "$DRY" = 1 ] && return 0
  dv=$(docker_version)
  [ -n "$dv" ] || die "Docker Engine does not answer" "systemctl status docker; journalctl -u docker -n 50"
  ok "Docker Engine $dv"
}

nvidia_check() {
  step "NVIDIA driver and container toolkit" "see the warnings: GPU jobs need both"
  toolkit_fix="install nvidia-container-toolkit (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html), then: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker"
  if [ "$DRY" = 1 ]; then
    printf '   + nvidia-smi --query-gpu=driver_version,name --format=csv,noheader\n'
    printf '   + dpkg-query -W nvidia-container-toolkit; docker info (runtime nvidia)\n'
    return 0
  fi
  gpus=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    gpus=$(timeout 20 nvidia-smi --query-gpu=driver_version,name --format=csv,noheader 2>/dev/null || true)
    if [ -n "$gpus" ]; then
      ok "NVIDIA driver $(printf '%s\n' "$gpus" | head -n1 | cut -d, -f1), $(printf '%s\n' "$gpus" | wc -l) GPU(s):$(printf '%s\n' "$gpus" | cut -d, -f2 | sort | uniq -c | tr -s ' ' | tr '\n' ',' | sed 's/,$//')"
    else
      warn "nvidia-smi is installed but lists no GPU (fix: nvidia-smi shows why; a driver/kernel mismatch needs a reboot)"
    fi
  else
    warn "no NVIDIA driver (nvidia-smi not found): this server runs CPU-only jobs. For GPUs: install the NVIDIA driver (apt-get install nvidia-driver, or NVIDIA's package), reboot, and $toolkit_fix"
  fi
  tk=$(dpkg-query -W -f='${Version}' nvidia-container-toolkit 2>/dev/null || true)
  [ -n "$tk" ] || tk=$(nvidia-ctk --version 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -n1)
  if [ -n "$tk" ]; then
    ok "nvidia-container-toolkit $tk"
    if [ -n "$(docker_version)" ] && ! docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q nvidia; then
      warn "Docker has no nvidia runtime (fix: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker)"
    fi
  elif [ -n "$gpus" ]; then
    warn "GPUs but no nvidia-container-toolkit: GPU jobs fail (fix: $toolkit_fix)"
  else
    ok "no nvidia-container-toolkit (not needed without GPUs)"
  fi
}

# ensure_dir PATH MODE
ensure_dir() {
  if [ "$DRY" = 0 ] && [ -d "$1" ] && [ "$(stat -c %a "$1")" = "$2" ]; then
    ok "$1 (mode $2)"
    return 0
  fi
  run mkdir -p "$1"
  run chmod "$2" "$1"
  changed "$1 mode $2"
}

# ---------------------------------------------------------------- MASTER

# The master runs as SVC_USER, not root: a bug in serving member files then cannot read
# /etc/shadow or /root. It reaches Docker through the docker group (root-equivalent on this
# server: README, Security model) and binds the low HTTPS port with CAP_NET_BIND_SERVICE alone.
service_user() {
  step "service user $SVC_USER" "useradd --system --user-group --home-dir $DATA_DIR --no-create-home --shell /usr/sbin/nologin $SVC_USER"
  if [ "$SVC_USER" = root ]; then
    warn "--master_user root: the master runs as root (a bug in its file serving could reach every file of this server)"
    return 0
  fi
  if [ "$DRY" = 0 ] && id -u "$SVC_USER" >/dev/null 2>&1; then
    ok "$SVC_USER exists (uid $(id -u "$SVC_USER"))"
    return 0
  fi
  nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/bin/false
  run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell "$nologin" "$SVC_USER"
  changed "created the system user $SVC_USER"
}

# The unit's group for the Docker socket ("" without a docker group: --no-docker, no Engine yet).
docker_group() { if [ "$SVC_USER" != root ] && getent group docker >/dev/null 2>&1; then echo docker; fi; }

# own_tree PATH: PATH and everything under it belong to SVC_USER (an install that ran the master
# as root, or folders made by this run). Links are changed themselves, never followed (-h -P).
own_tree() {
  [ "$SVC_USER" != root ] || return 0
  if [ "$DRY" = 0 ] && [ "$(stat -c %U:%G "$1")" = "$SVC_USER:$SVC_USER" ] &&
    [ -z "$(find "$1" -xdev ! -user "$SVC_USER" -print -quit 2>/dev/null)" ]; then
    ok "$1 belongs to $SVC_USER"
    return 0
  fi
  run chown -R -h -P "$SVC_USER:$SVC_USER" "$1"
  changed "$1 now belongs to $SVC_USER"
}

# readable_by_service FILE: the master (SVC_USER) can read FILE (the TLS key and certificate).
readable_by_service() {
  [ "$SVC_USER" != root ] && [ "$DRY" = 0 ] || return 0
  runuser -u "$SVC_USER" -- test -r "$1" ||
    die "$1 is not readable by $SVC_USER, the user the master runs as" "chgrp $SVC_USER '$1' && chmod 640 '$1' (and let $SVC_USER into its folder), then run again"
}

bun_and_deps() {
  step "Bun and the app's dependencies" "npm install -g bun; cd $APP_DIR && bun install --frozen-lockfile --production"
  [ -f "$APP_DIR/package.json" ] || die "no package.json in $APP_DIR" "run installer/install.sh from a Hangar checkout"
  if [ "$DRY" = 0 ] && command -v bun >/dev/null 2>&1; then
    ok "bun $(bun --version) at $(command -v bun)"
  else
    run npm install -g bun
    changed "installed bun"
  fi
  BUN=$(command -v bun 2>/dev/null || echo /usr/local/bin/bun)
  stamp="$APP_DIR/node_modules/.hangar-installed"
  want="$(cat "$APP_DIR/bun.lock" "$APP_DIR/package.json" 2>/dev/null | cksum) production"
  if [ "$DRY" = 0 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    ok "dependencies match bun.lock"
    return 0
  fi
  run sh -c "cd '$APP_DIR' && '$BUN' install --frozen-lockfile --production"
  [ "$DRY" = 1 ] || printf '%s\n' "$want" >"$stamp"
  changed "installed the app's dependencies"
}

tls_cert() {
  step "TLS certificate" "give your own with --tls_cert FILE --tls_key FILE, or delete $ETC/tls.* and run again"
  if [ -n "$TLS_CERT" ]; then
    CERT=$TLS_CERT
    KEY=$TLS_KEY
    [ "$DRY" = 1 ] && return 0
    openssl x509 -in "$CERT" -noout 2>/dev/null || die "$CERT is not a readable PEM certificate"
    openssl pkey -in "$KEY" -noout 2>/dev/null || die "$KEY is not a readable PEM private key"
    ok "using $CERT"
    return 0
  fi
  CERT=$ETC/tls.crt
  KEY=$ETC/tls.key
  if [ "$DRY" = 0 ] && [ -f "$CERT" ] && [ -f "$KEY" ] &&
    openssl x509 -in "$CERT" -noout -checkend 2592000 >/dev/null 2>&1 &&
    openssl x509 -in "$CERT" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$MASTER_IP\$"; then
    ok "$CERT (self-signed, for $MASTER_IP)"
    return 0
  fi
  FIX="check that openssl works (openssl version), then run the installer again"
  run sh -c "umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj '/CN=Hangar $MASTER_IP' -addext 'subjectAltName=IP:$MASTER_IP' -keyout '$KEY' -out '$CERT' 2>/dev/null"
  run chmod 600 "$KEY"
  run chmod 644 "$CERT"
  # (tls_key_access then lets the master's group read the key)
  changed "generated a self-signed certificate for $MASTER_IP"
  RESTART=1
}

# The generated key: root's, readable by the master's group (0640 root:SVC_USER, in $ETC 0750
# root:SVC_USER). A key of yours must be readable by SVC_USER already.
tls_key_access() {
  [ "$SVC_USER" != root ] || return 0
  step "TLS key readable by $SVC_USER" "chgrp $SVC_USER $KEY && chmod 640 $KEY"
  if [ "$KEY" = "$ETC/tls.key" ]; then
    for tk in "$ETC:750" "$KEY:640"; do
      tk_path=${tk%:*}
      tk_mode=${tk##*:}
      if [ "$DRY" = 0 ] && [ "$(stat -c %a:%G "$tk_path")" = "$tk_mode:$SVC_USER" ]; then
        ok "$tk_path (mode $tk_mode, group $SVC_USER)"
      else
        run chgrp "$SVC_USER" "$tk_path"
        run chmod "$tk_mode" "$tk_path"
        changed "$tk_path mode $tk_mode, group $SVC_USER"
      fi
    done
  fi
  readable_by_service "$CERT"
  readable_by_service "$KEY"
  [ "$DRY" = 1 ] || ok "$SVC_USER reads $KEY"
}

cert_pin() {
  openssl x509 -in "$CERT" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 | sed 's|^|sha256//|'
}

# The master's password rule (src/domain/rules.ts), checked here so a bad one fails at this step.
password_problem() {
  pp_fix="a password of 8-20 letters, digits and ~!@#\$%^&*<>? with at least one of each kind"
  pp_bad='*[!A-Za-z0-9~!@#$%^&*<>?]*'
  # shellcheck disable=SC2254 # the pattern is meant to glob
  case "$1" in $pp_bad) die "the root password has a character other than letters, digits and ~!@#\$%^&*<>?" "$pp_fix" ;; esac
  if [ "${#1}" -lt 8 ] || [ "${#1}" -gt 20 ]; then die "the root password must be 8-20 characters long" "$pp_fix"; fi
  case "$1" in *[A-Za-z]*) ;; *) die "the root password needs a letter" "$pp_fix" ;; esac
  case "$1" in *[0-9]*) ;; *) die "the root password needs a digit" "$pp_fix" ;; esac
  pp_special='*[~!@#$%^&*<>?]*'
  # shellcheck disable=SC2254 # the pattern is meant to glob
  case "$1" in $pp_special) ;; *) die "the root password needs one of ~!@#\$%^&*<>?" "$pp_fix" ;; esac
}

settings_file() {
  step "settings file $ENV_FILE" "check that $ETC is writable (a read-only /etc?), then run again"
  api_host=0.0.0.0
  [ "$API_LOCAL_ONLY" = 1 ] && api_host=127.0.0.1
  settings="# Written by installer/install.sh; edit, then: systemctl restart hangar (README: Settings)
HANGAR_DATA_DIR=$DATA_DIR
HANGAR_PORT=$API_PORT
HANGAR_HOST=$api_host
HANGAR_FRONT_PORT=$FRONT_PORT
HANGAR_TLS_CERT=$CERT
HANGAR_TLS_KEY=$KEY
HANGAR_ADVERTISE_HOST=$MASTER_IP${IB_IP:+
HANGAR_IB_IP=$IB_IP}"
  write_file "$ENV_FILE" 600 "$settings"
  [ "$WROTE" = 0 ] || RESTART=1

  # First start: no database yet, or the last first start never answered (first-start.env is
  # deleted once it did).
  FIRST_START=0
  if [ "$DRY" = 1 ] || [ -f "$FIRST_ENV" ] || { [ ! -e "$DATA_DIR/hangar.db" ] && ! grep -q '^DATABASE_URL=' "$ENV_FILE"; }; then
    FIRST_START=1
  fi
  [ -n "$PASSWORD_FILE" ] || return 0
  if [ "$FIRST_START" = 0 ]; then
    warn "--root_password_file: root already exists, its password is unchanged (change it in the web UI: Users)"
    return 0
  fi
  if [ "$DRY" = 1 ]; then
    printf '   + read root'\''s first password from %s into %s (mode 600; deleted after the first start)\n' "$PASSWORD_FILE" "$FIRST_ENV"
    return 0
  fi
  if [ "$PASSWORD_FILE" = - ]; then pw=$(head -n1); else pw=$(head -n1 "$PASSWORD_FILE" 2>/dev/null) || die "cannot read $PASSWORD_FILE"; fi
  password_problem "$pw"
  # Only letters, digits and ~!@#$%^&*<>? get here: single quotes keep them as they are.
  (umask 077 && printf "HANGAR_ROOT_PASSWORD='%s'\n" "$pw" >"$FIRST_ENV") || die "cannot write $FIRST_ENV"
  unset pw
  ok "root's first password is in $FIRST_ENV (mode 600) until the master has started"
}

systemd_unit() {
  step "systemd unit hangar" "systemctl status hangar; journalctl -u hangar -n 50"
  service_lines=""
  if [ "$SVC_USER" != root ]; then
    groups=$(docker_group)
    [ -n "$groups" ] || [ "$DRY" = 1 ] ||
      warn "no docker group: the master cannot reach this server's Docker Engine (fix: install Docker Engine, then run the installer again)"
    [ "$DRY" = 0 ] || groups=docker
    # Not root: its own user and group, the Docker socket through the docker group, the low
    # HTTPS port through CAP_NET_BIND_SERVICE, and no way to gain more (no setuid).
    service_lines="
User=$SVC_USER
Group=$SVC_USER${groups:+
SupplementaryGroups=$groups}
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes"
  fi
  unit="[Unit]
Description=Hangar GPU training platform (master)
Documentation=file://$APP_DIR/README.md
Wants=network-online.target
After=network-online.target docker.service

[Service]
Type=simple
EnvironmentFile=$ENV_FILE
EnvironmentFile=-$FIRST_ENV
WorkingDirectory=$APP_DIR$service_lines
ExecStart=$BUN src/main.ts
Restart=on-failure
RestartSec=3
UMask=0077
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target"
  write_file "$UNIT" 644 "$unit"
  if [ "$WROTE" = 1 ]; then
    RESTART=1
    run systemctl daemon-reload
  fi
  if [ "$DRY" = 1 ] || ! systemctl is-enabled -q hangar 2>/dev/null; then
    run systemctl enable hangar
    changed "enabled hangar (starts at boot)"
  fi
  if [ "$DRY" = 0 ] && systemctl is-active -q hangar; then
    if [ "${RESTART:-0}" = 1 ]; then
      run systemctl restart hangar
      changed "restarted hangar (new settings)"
    else
      ok "hangar is running"
    fi
  else
    run systemctl start hangar
    changed "started hangar"
  fi
  health="https://127.0.0.1:$FRONT_PORT/api/health"
  FIX="systemctl status hangar; journalctl -u hangar -n 50 (a port in use? a bad setting in $ENV_FILE?)"
  if [ "$DRY" = 1 ]; then
    printf '   + wait until %s answers (90 s at most)\n' "$health"
  else
    i=0
    until curl -ksf --max-time 3 "$health" >/dev/null 2>&1; do
      i=$((i + 1))
      [ "$i" -lt 90 ] || die "the master did not answer $health within 90 s; its last log lines:
$(journalctl -u hangar -n 5 -o cat --no-pager 2>/dev/null | sed 's/^/     | /')"
      sleep 1
    done
    ok "$health answers"
  fi
  if [ -f "$FIRST_ENV" ] || [ "$DRY" = 1 ]; then run rm -f "$FIRST_ENV"; fi
}

nfs_export() {
  step "NFS export of the shared data" "apt-get install nfs-kernel-server; systemctl status nfs-server; or --no-nfs when the lab shares $DATA_DIR another way"
  for sub in $SHARED; do ensure_dir "$DATA_DIR/$sub" 700; done
  if [ "$NFS" = 0 ]; then
    ok "--no-nfs: workers must see$(shared_list) at the same paths from the lab's own shared storage"
    [ "$DRY" = 1 ] || remove_lines /etc/exports '# hangar$'
    return 0
  fi
  clients=$NFS_CLIENTS
  if [ -z "$clients" ]; then
    cidr=$(local_cidr "$MASTER_IP")
    if [ -n "$cidr" ]; then clients=$(subnet_of "$cidr"); elif [ "$DRY" = 1 ]; then clients=$(subnet_of "$MASTER_IP/24"); else
      die "$MASTER_IP is not on this server, so its subnet is unknown" "pass --nfs_clients CIDR (the workers' network, e.g. 10.0.0.0/24)"
    fi
  fi
  want=$(
    grep -v '# hangar$' /etc/exports 2>/dev/null || true
    for sub in $SHARED; do printf '%s %s(rw,sync,no_subtree_check,no_root_squash) # hangar\n' "$DATA_DIR/$sub" "$clients"; done
  )
  write_file /etc/exports 644 "$want"
  ensure_service nfs-server
  if [ "$WROTE" = 1 ]; then
    run exportfs -ra
    changed "exported$(shared_list) to $clients"
  fi
}

print_master_summary() {
  url="https://$MASTER_IP:$FRONT_PORT"
  api_shown="http://$MASTER_IP:$API_PORT"
  [ "$API_LOCAL_ONLY" = 1 ] && api_shown="http://127.0.0.1:$API_PORT (--api_local_only)"
  pin="(the pin of $CERT)"
  [ "$DRY" = 1 ] || pin=$(cert_pin)
  worker="sh installer/install.sh --flag WORKER --master_ip $MASTER_IP --master_fingerprint $pin"
  [ "$FRONT_PORT" = 443 ] || worker="$worker --front_port $FRONT_PORT"
  [ "$NFS" = 1 ] || worker="$worker --no-nfs"
  if [ "$FIRST_START" = 0 ]; then
    pw_line="root's password is unchanged (set at the first install)"
  elif [ -n "$PASSWORD_FILE" ]; then
    pw_from=$PASSWORD_FILE
    [ "$pw_from" != - ] || pw_from="standard input"
    pw_line="root with the password read from $pw_from"
  else
    pw_line="root's first password: journalctl -u hangar -o cat | grep 'First start'"
    if [ "$DRY" = 0 ]; then
      shown=$(journalctl -u hangar -o cat --no-pager 2>/dev/null | grep -m1 'First start:' || true)
      [ -z "$shown" ] || pw_line="$shown"
    fi
  fi
  cat <<DONE

Hangar master is ready.
  Web UI and API:  $url   (self-signed: accept the certificate, pin $pin)
  Plain-HTTP API:  $api_shown
  Log in:          $pw_line
  Settings:        $ENV_FILE (mode 600); data in $DATA_DIR (mode 700, owner $SVC_USER)
  Runs as:         $SVC_USER$([ "$SVC_USER" = root ] || echo " (not root; in the docker group)")
  On each worker:  $worker
DONE
}

install_master() {
  preflight
  packages
  docker_engine
  nvidia_check
  bun_and_deps
  service_user
  step "data and settings directories" "check the file systems holding $DATA_DIR and $ETC, then run again"
  ensure_dir "$DATA_DIR" 700
  # systemd reads the settings as root; the master itself reads only the certificate and key.
  if [ "$SVC_USER" = root ]; then ensure_dir "$ETC" 700; else ensure_dir "$ETC" 750; fi
  tls_cert
  tls_key_access
  settings_file
  nfs_export
  step "data dir owner" "chown -R -h $SVC_USER:$SVC_USER $DATA_DIR"
  own_tree "$DATA_DIR"
  systemd_unit
  print_master_summary
}

# ---------------------------------------------------------------- WORKER

master_key() {
  step "the master's SSH key in /root/.ssh/authorized_keys" \
    "pass --master_fingerprint exactly as the master's installer printed it, or --master_key 'ssh-ed25519 …' (GET /api/nodes/master-key)"
  key=$MASTER_KEY
  url="https://$MASTER_IP:$FRONT_PORT/api/nodes/master-key"
  if [ -z "$key" ]; then
    [ -n "$MASTER_FINGERPRINT" ] || die "neither --master_fingerprint nor --master_key was given"
    if [ "$DRY" = 1 ]; then
      printf '   + curl --pinnedpubkey %s %s\n' "$MASTER_FINGERPRINT" "$url"
      key="ssh-ed25519 (fetched) hangar-master"
    else
      body=$(curl -sS --fail --max-time 20 -k --pinnedpubkey "$MASTER_FINGERPRINT" "$url" 2>&1) ||
        die "could not fetch the key from $url: $body" \
          "is the master up (systemctl status hangar there) and reachable on port $FRONT_PORT? A 'pinned public key' error means the certificate is not the one the fingerprint names"
      key=$(printf '%s' "$body" | sed -n 's/.*"publicKey" *: *"\([^"]*\)".*/\1/p')
    fi
  fi
  case "$key" in
    ssh-ed25519\ ?* | ssh-rsa\ ?* | ecdsa-sha2-*\ ?*) ;;
    *) die "not an OpenSSH public key: '$key'" ;;
  esac
  line="$(printf '%s' "$key" | awk '{ print $1 " " $2 }') hangar-master"
  if [ "$DRY" = 0 ] && grep -qxF "$line" /root/.ssh/authorized_keys 2>/dev/null; then
    ok "authorised"
    return 0
  fi
  ensure_dir /root/.ssh 700
  remove_lines /root/.ssh/authorized_keys ' hangar-master$'
  if [ "$DRY" = 1 ]; then
    printf '   + append master key to /root/.ssh/authorized_keys: %s\n' "$line"
  else
    (umask 077 && printf '%s\n' "$line" >>/root/.ssh/authorized_keys) || die "cannot write /root/.ssh/authorized_keys"
    chmod 600 /root/.ssh/authorized_keys
  fi
  changed "authorised the master's key"
}

nfs_mount() {
  step "shared data from the master (NFS)" "check the master exports it (exportfs -v there) and this server's address is in --nfs_clients; or --no-nfs"
  ensure_dir "$DATA_DIR" 700
  if [ "$NFS" = 0 ]; then
    ok "--no-nfs:$(shared_list) must come from the lab's own shared storage, at the same paths"
    return 0
  fi
  want=$(
    awk -v d="$DATA_DIR" -v shared="$SHARED" 'BEGIN { n = split(shared, s, " "); for (i = 1; i <= n; i++) mine[d "/" s[i]] = 1 }
      !($2 in mine)' /etc/fstab 2>/dev/null || true
    for sub in $SHARED; do printf '%s:%s %s nfs defaults,_netdev,nofail 0 0\n' "$MASTER_IP" "$DATA_DIR/$sub" "$DATA_DIR/$sub"; done
  )
  write_file /etc/fstab 644 "$want"
  for sub in $SHARED; do
    ensure_dir "$DATA_DIR/$sub" 700
    if [ "$DRY" = 0 ] && mountpoint -q "$DATA_DIR/$sub"; then
      ok "$DATA_DIR/$sub is mounted"
    else
      run mount "$DATA_DIR/$sub"
      changed "mounted $DATA_DIR/$sub from $MASTER_IP"
    fi
  done
}

worker_settings() {
  step "worker settings $ETC/worker.env" "check that $ETC is writable, then run again"
  ensure_dir "$ETC" 700
  write_file "$ETC/worker.env" 600 "# Written by installer/install.sh (uninstall.sh reads it)
HANGAR_MASTER_IP=$MASTER_IP
HANGAR_DATA_DIR=$DATA_DIR
HANGAR_NFS=$NFS${IB_IP:+
HANGAR_IB_IP=$IB_IP}"
}

install_worker() {
  preflight
  packages
  docker_engine
  step "OpenSSH server" "apt-get install openssh-server && systemctl enable --now ssh"
  ensure_service ssh
  nvidia_check
  master_key
  worker_settings
  nfs_mount
  me=""
  [ "$DRY" = 1 ] || me=$(ip -o route get "$MASTER_IP" 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
  ib=""
  [ -z "$IB_IP" ] || ib=$(iface_of "$IB_IP")
  printf '\nHangar worker is ready. On the master: Nodes → Add Node:\n  IP %s  SSH port 22  user root%s\n' \
    "${me:-THIS_SERVER_IP}" "${ib:+  InfiniBand interface $ib}"
}

main() {
  parse "$@"
  RESTART=0
  if [ "$FLAG" = MASTER ]; then install_master; else install_worker; fi
  if [ "$DRY" = 1 ]; then
    echo "(dry run: nothing was changed)"
  elif [ "$CHANGED" = 0 ]; then
    echo "Nothing changed: already installed ($WARNINGS warning(s))."
  else
    echo "$CHANGED change(s), $WARNINGS warning(s)."
  fi
}

main "$@"
