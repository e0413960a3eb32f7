# shellcheck shell=bash
# Shared functions of the test harness (sourced by up.sh, down.sh, worker.sh).
# Everything lives under $STATE; nothing here touches system services or their config.

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${HANGAR_TEST_STATE:-/tmp/hangar-test}
# Defaults are what CI uses. The overrides exist to run a second, isolated instance beside
# a running one (another $HANGAR_TEST_STATE, PostgreSQL port and worker addresses); the port
# of a cluster is fixed when its $STATE/pg is first created.
PG_PORT=${HANGAR_TEST_PG_PORT:-55432}
PG_URL="postgres://hangar:hangar@127.0.0.1:${PG_PORT}/postgres"
IMAGE=${HANGAR_TEST_IMAGE:-hangar-test/busybox:latest}
read -ra WORKERS <<<"${HANGAR_TEST_WORKERS:-127.0.0.2 127.0.0.3}"
[ ${#WORKERS[@]} -gt 0 ] || WORKERS=(127.0.0.2 127.0.0.3)
# Which recorded card set (test/harness/nvidia-smi/<set>/) each worker reports, by position:
# 1st worker 2x GTX 1080 Ti, 2nd 4x A100-SXM4-80GB, further ones alternate.
GPU_SETS=(gtx1080ti-x2 a100-sxm4-80gb-x4)
declare -A WORKER_GPUS=()
for _i in "${!WORKERS[@]}"; do WORKER_GPUS[${WORKERS[$_i]}]=${GPU_SETS[$((_i % ${#GPU_SETS[@]}))]}; done
unset _i
SSHD=/usr/sbin/sshd
SFTP_SERVER=/usr/lib/openssh/sftp-server
# PATH of commands run over SSH on a worker (after the worker's own bin/ with nvidia-smi).
WORKER_BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'harness: %s\n' "$*" >&2; }
die() {
  printf 'harness: ERROR: %s\n' "$*" >&2
  exit 1
}

# Serialise harness scripts (two test runs starting at once must not race).
# Daemons are started with 9>&- so they never inherit (and hold) the lock.
take_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 300 9 || die "another harness script holds $STATE/.lock for 5 minutes"
}

require_root() { [ "$(id -u)" = 0 ] || die "run as root (needs to start sshd on port 22/2222, dockerd, runuser)"; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
read_pid() { [ -s "$1" ] && head -n1 "$1" | tr -cd '0-9'; }
comm_of() { cat "/proc/$1/comm" 2>/dev/null; }
# port_open HOST PORT: something accepts TCP connections there (loopback: answers at once)
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# wait_until SECONDS CMD...: poll every 0.1 s
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}
# write_if_changed FILE: replace FILE with stdin when different; status 0 = changed
write_if_changed() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if [ -e "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$1"
}

# ---------------------------------------------------------------- packages

pg_bindir() {
  local d
  # shellcheck disable=SC2012 # version-sorted folder names
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

pkg_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

apparmor_needed() {
  # dockerd loads its AppArmor profile when the kernel has AppArmor on; without
  # apparmor_parser containers fail to start. Only then install the apparmor package.
  [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && ! command -v apparmor_parser >/dev/null
}

# ensure_packages: install (once, non-interactively) the Debian packages whose commands are missing.
ensure_packages() {
  local -a missing=()
  need() { # need PACKAGE TEST...
    local pkg=$1
    shift
    "$@" >/dev/null 2>&1 || missing+=("$pkg")
  }
  need util-linux command -v runuser
  need util-linux command -v flock
  need util-linux command -v setsid
  need postgresql-client command -v psql
  need postgresql-client command -v pg_dump
  need postgresql-client command -v pg_isready
  need postgresql pg_bindir
  need docker.io command -v dockerd
  need docker.io command -v docker
  need busybox-static pkg_installed busybox-static
  need openssh-server test -x "$SSHD"
  need openssh-sftp-server test -x "$SFTP_SERVER"
  need openssh-client command -v ssh
  need openssh-client command -v ssh-keygen
  need tar command -v tar
  need iproute2 command -v ip # the node probe and extras.sh (bridge for the second engine)
  need tmux command -v tmux # the gateway test drives an interactive ssh session in it
  need chromium command -v chromium # the web UI tests drive it headless (playwright-core)
  if command -v dockerd >/dev/null && apparmor_needed; then missing+=(apparmor); fi
  [ ${#missing[@]} -gt 0 ] || return 0

  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  require_root
  log "installing missing packages: ${missing[*]}"
  # Keep maintainer scripts from starting system services (system sshd on 0.0.0.0:22,
  # the system PostgreSQL cluster, docker.service): the harness runs its own instances.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, written by hangar test/harness\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created=1
  fi
  local rc=0
  {
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q >&2 &&
      apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >&2
  } </dev/null || rc=$?
  [ $created = 1 ] && rm -f "$policy"
  [ $rc = 0 ] || die "apt-get install ${missing[*]} failed (rc=$rc)"
  if apparmor_needed; then
    log "AppArmor is enabled in the kernel; installing apparmor for dockerd"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends apparmor </dev/null >&2 ||
      die "apt-get install apparmor failed"
  fi
}

# ---------------------------------------------------------------- PostgreSQL

PG_DATA=$STATE/pg
PG_RUN=$STATE/pg-run # unix socket directory (owned by postgres)
PG_LOG=$STATE/postgres.log

pg_as_postgres() { (cd / && runuser -u postgres -- "$@"); }

pg_running() {
  local pid
  pid=$(read_pid "$PG_DATA/postmaster.pid") || return 1
  pid_alive "$pid" && [ "$(comm_of "$pid")" = postgres ] || return 1
}

# Postmasters of this $PG_DATA without a valid postmaster.pid (e.g. $STATE deleted under them).
pg_orphans() {
  local p
  pg_running && return 0
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = postgres ] || continue
    [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "$(pg_bindir)/postgres -D $PG_DATA " ] && echo "${p#/proc/}"
  done
  return 0
}

pg_stop() {
  local bindir
  if ! pg_running; then
    log "postgres: not running"
    return 0
  fi
  bindir=$(pg_bindir) || die "postgres binaries not found"
  log "postgres: stopping cluster in $PG_DATA"
  pg_as_postgres "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 9>&- ||
    die "pg_ctl stop failed"
}

pg_up() {
  local bindir
  bindir=$(pg_bindir) || die "postgres binaries not found under /usr/lib/postgresql/*/bin"
  id postgres >/dev/null 2>&1 || die "OS user 'postgres' missing (package postgresql-common should create it)"
  chmod 755 "$STATE"
  pg_as_postgres test -x "$STATE" ||
    die "user postgres cannot enter $STATE (set HANGAR_TEST_STATE to a path postgres can traverse)"

  if pg_running; then
    # Warm path: one real login as the test role proves server and role are fine.
    if PGCONNECT_TIMEOUT=5 psql "$PG_URL" -qAtX -c 'select 1' >/dev/null 2>&1; then
      log "postgres: up on 127.0.0.1:$PG_PORT ($PG_DATA)"
      return 0
    fi
  else
    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
      log "postgres: initdb $PG_DATA"
      rm -rf "$PG_DATA"
      install -d -o postgres -g postgres -m 700 "$PG_DATA"
      pg_as_postgres "$bindir/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 --no-sync >"$STATE/initdb.log" 2>&1 ||
        die "initdb failed, see $STATE/initdb.log: $(tail -n 5 "$STATE/initdb.log")"
      cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- hangar test harness (private cluster, throwaway data) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    local orphan
    for orphan in $(pg_orphans); do
      log "postgres: stopping orphaned postmaster $orphan (its $PG_DATA was deleted under it)"
      kill -QUIT "$orphan" 2>/dev/null || true
      wait_until 10 eval "! kill -0 $orphan 2>/dev/null" || kill -KILL "$orphan" 2>/dev/null || true
    done
    if port_open 127.0.0.1 "$PG_PORT"; then
      die "port 127.0.0.1:$PG_PORT is taken by another process (not the harness cluster in $PG_DATA)"
    fi
    install -d -o postgres -g postgres -m 755 "$PG_RUN"
    touch "$PG_LOG" && chown postgres:postgres "$PG_LOG"
    log "postgres: starting $("$bindir/postgres" --version) on 127.0.0.1:$PG_PORT"
    pg_as_postgres "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start </dev/null >/dev/null 9>&- ||
      die "pg_ctl start failed, see $PG_LOG: $(tail -n 5 "$PG_LOG")"
  fi
  # Superuser test role (tests CREATE/DROP DATABASE freely).
  pg_as_postgres "$bindir/psql" -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 -c "
    DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hangar') THEN
        CREATE ROLE hangar LOGIN SUPERUSER PASSWORD 'hangar';
      ELSE
        ALTER ROLE hangar LOGIN SUPERUSER PASSWORD 'hangar';
      END IF;
    END \$\$;" >/dev/null || die "could not create role hangar"
  PGCONNECT_TIMEOUT=5 psql "$PG_URL" -qAtX -c 'select 1' >/dev/null || die "cannot log in with $PG_URL"
  log "postgres: up on 127.0.0.1:$PG_PORT ($PG_DATA)"
}

# ---------------------------------------------------------------- Docker

DOCKERD_LOG=$STATE/dockerd.log
# Only when the harness started dockerd itself. Outside $STATE: dockerd is one per machine
# and outlives `rm -rf $STATE`; `down.sh --all` must still know it is ours.
DOCKERD_PID=/run/hangar-test-dockerd.pid

docker_ok() { docker info >/dev/null 2>&1; }

# start_dockerd DRIVER: start dockerd in the background, wait for `docker info`. 1 = it died.
start_dockerd() {
  local driver=$1 pid args=()
  if [ -n "$driver" ]; then args+=(--storage-driver="$driver"); fi
  log "docker: starting dockerd ${args[*]} (log $DOCKERD_LOG)"
  echo "=== $(date -Is) dockerd ${args[*]}" >>"$DOCKERD_LOG"
  setsid dockerd "${args[@]}" </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$DOCKERD_PID"
  local deadline=$((SECONDS + 60))
  while ! docker_ok; do
    if ! pid_alive "$pid"; then
      wait "$pid" 2>/dev/null || true
      rm -f "$DOCKERD_PID"
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      die "dockerd did not answer 'docker info' within 60 s; see $DOCKERD_LOG: $(tail -n 5 "$DOCKERD_LOG")"
    fi
    sleep 0.2
  done
}

docker_up() {
  if docker_ok; then
    log "docker: engine up"
    return 0
  fi
  # A dockerd that is still starting (pid file of dockerd itself): give it the 60 s.
  local pid
  pid=$(read_pid /var/run/docker.pid || true)
  if pid_alive "$pid" && [ "$(comm_of "$pid")" = dockerd ]; then
    log "docker: dockerd (pid $pid) running but not answering yet; waiting"
    wait_until 60 docker_ok || die "dockerd (pid $pid) does not answer 'docker info' within 60 s; see $DOCKERD_LOG"
    log "docker: engine up"
    return 0
  fi
  if grep -qs '"storage-driver"' /etc/docker/daemon.json; then
    # The flag would clash with the config file; use what the file says.
    start_dockerd "" || die "dockerd exited; see $DOCKERD_LOG: $(tail -n 5 "$DOCKERD_LOG")"
  elif ! start_dockerd overlay2; then
    log "docker: dockerd with overlay2 exited ($(tail -n 1 "$DOCKERD_LOG")); falling back to vfs"
    start_dockerd vfs || die "dockerd exited with vfs too; see $DOCKERD_LOG: $(tail -n 5 "$DOCKERD_LOG")"
  fi
  log "docker: engine up ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}' 2>/dev/null))"
}

docker_stop() {
  local pid
  pid=$(read_pid "$DOCKERD_PID" || true)
  if pid_alive "$pid" && [ "$(comm_of "$pid")" = dockerd ]; then
    log "docker: stopping dockerd (pid $pid, started by the harness)"
    kill -TERM "$pid"
    wait_until 30 eval "! kill -0 $pid 2>/dev/null" || {
      log "docker: dockerd did not exit in 30 s; killing"
      kill -KILL "$pid" 2>/dev/null || true
    }
    rm -f "$DOCKERD_PID"
  elif docker_ok; then
    log "docker: dockerd was not started by the harness; leaving it running"
  else
    log "docker: not running"
  fi
}

# busybox_path: the statically linked busybox of Debian's busybox-static
busybox_path() {
  local p
  p=$(dpkg -L busybox-static 2>/dev/null | grep -m1 '/bin/busybox$') || true
  [ -n "$p" ] && [ -x "$p" ] || p=/bin/busybox
  [ -x "$p" ] && echo "$p"
}

image_up() {
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "image: $IMAGE present"
    return 0
  fi
  local bb tmp root applet
  bb=$(busybox_path) || die "busybox-static not installed"
  tmp=$(mktemp -d)
  root=$tmp/rootfs
  mkdir -p "$root"/{bin,etc,dev,proc,sys,root,tmp,var/tmp,usr/local/bin}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root"
  ln -s ../bin "$root/usr/bin"
  ln -s ../bin "$root/usr/sbin"
  ln -s bin "$root/sbin"
  cp "$bb" "$root/bin/busybox"
  # Relative links (busybox --install would point them at the host's path).
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hangar-test-busybox\n' >"$root/etc/hostname"
  log "image: building $IMAGE from $bb (docker import)"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf - . |
    docker import \
      --change 'CMD ["/bin/sh"]' \
      --change "ENV PATH=$WORKER_BASE_PATH" \
      --change 'LABEL org.hangar.test=busybox' \
      --message 'hangar test image: Debian busybox-static' \
      - "$IMAGE" >/dev/null || {
    rm -rf "$tmp"
    die "docker import of $IMAGE failed"
  }
  rm -rf "$tmp"
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "image $IMAGE missing after import"
  log "image: $IMAGE built"
}

# ---------------------------------------------------------------- SSH workers

WORKERS_DIR=$STATE/workers
PORT_FILE=$WORKERS_DIR/port
CLIENT_KEY=$STATE/client_key
KNOWN_HOSTS=$STATE/known_hosts
SSH_CONFIG=$STATE/ssh_config

worker_dir() { echo "$WORKERS_DIR/$1"; }

is_worker() {
  local w
  for w in "${WORKERS[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}

worker_port() {
  [ -s "$PORT_FILE" ] || die "worker port not chosen yet (run test/harness/up.sh)"
  cat "$PORT_FILE"
}

# Listener pid of a worker's sshd (0 = not running).
worker_pid() {
  local w pid
  w=$(worker_dir "$1")
  pid=$(read_pid "$w/sshd.pid" || true)
  if pid_alive "$pid" && [ "$(comm_of "$pid")" = sshd ]; then
    echo "$pid"
  else
    echo 0
  fi
}

# Pids of sshd listeners started from this worker's config whose pid file is gone
# (e.g. $STATE was deleted while they ran). The listener's title keeps its arguments.
worker_orphans() {
  local cfg p
  cfg="-f $(worker_dir "$1")/sshd_config"
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = sshd ] || continue
    case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in
      *"$cfg "*"[listener]"*) echo "${p#/proc/}" ;;
    esac
  done
}

worker_kill_orphans() { # IP
  local pid
  [ "$(worker_pid "$1")" = 0 ] || return 0
  for pid in $(worker_orphans "$1"); do
    log "worker $1: killing orphaned sshd listener $pid (its pid file is gone)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 5 eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  done
}

# Choose the port once: 22 when both addresses have it free, else 2222.
choose_port() {
  local port=22 ip
  if [ -s "$PORT_FILE" ]; then
    cat "$PORT_FILE"
    return 0
  fi
  # Our own listeners left over from a deleted $STATE must not count as "taken".
  for ip in "${WORKERS[@]}"; do worker_kill_orphans "$ip"; done
  for ip in "${WORKERS[@]}"; do
    if port_open "$ip" 22; then
      log "workers: $ip:22 is taken (system sshd on 0.0.0.0:22?); using port 2222"
      port=2222
    fi
  done
  if [ $port = 2222 ]; then
    for ip in "${WORKERS[@]}"; do
      port_open "$ip" 2222 && die "both $ip:22 and $ip:2222 are taken; free one of them"
    done
  fi
  echo "$port" >"$PORT_FILE"
  echo "$port"
}

worker_sshd_config() { # IP PORT
  local ip=$1 port=$2 w
  w=$(worker_dir "$ip")
  cat <<EOF
# hangar test worker $ip -- generated by test/harness/up.sh; edits are overwritten
ListenAddress $ip:$port
HostKey $w/ssh_host_ed25519_key
HostKey $w/ssh_host_ecdsa_key
HostKey $w/ssh_host_rsa_key
PidFile $w/sshd.pid
LogLevel VERBOSE
AuthorizedKeysFile $w/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# $STATE is under /tmp (world-writable): StrictModes would refuse the key file.
StrictModes no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
StreamLocalBindUnlink yes
AllowAgentForwarding no
X11Forwarding no
PermitUserEnvironment no
MaxStartups 100:30:200
MaxSessions 100
MaxAuthTries 20
# Defaults plus (explicitly) the AES ciphers that ssh2 under Bun needs (no chacha20 there).
Ciphers +aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr
UseDNS no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
Subsystem sftp $SFTP_SERVER
# Per-worker PATH (stand-in nvidia-smi first). SetEnv covers what sshd itself runs; the
# ForceCommand wrapper sets it again after any profile for exec, shell and subsystem.
SetEnv HANGAR_TEST_WORKER=$ip PATH=$w/bin:$WORKER_BASE_PATH
ForceCommand $w/session
EOF
  if sshd_supports PerSourcePenalties; then
    echo "# OpenSSH >= 9.8: do not throttle tests that fail to log in on purpose"
    echo "PerSourcePenalties no"
  fi
}

sshd_supports() { # OPTION: does this sshd know the config keyword?
  local cache=$WORKERS_DIR/.sshd-supports-$1
  if [ ! -e "$cache" ]; then
    local out
    # Capture first: with pipefail, `sshd | grep -q` fails when grep exits early (SIGPIPE).
    out=$("$SSHD" -t -f /dev/null -o "$1=no" -h /dev/null 2>&1 || true)
    if printf '%s' "$out" | grep -qi 'unsupported option\|bad configuration option'; then
      echo no >"$cache"
    else
      echo yes >"$cache"
    fi
  fi
  [ "$(cat "$cache")" = yes ]
}

# The ForceCommand: every session (exec, shell, sftp subsystem) goes through it, so the
# worker's PATH wins over sshd's default PATH, /etc/profile and ~/.bashrc.
worker_session_script() { # IP
  local ip=$1 w
  w=$(worker_dir "$ip")
  cat <<EOF
#!/bin/bash
# hangar test worker $ip: session wrapper (sshd ForceCommand), generated by test/harness/up.sh
export HANGAR_TEST_WORKER=$ip
export PATH=$w/bin:$WORKER_BASE_PATH
if [ -n "\${SSH_ORIGINAL_COMMAND+set}" ]; then
  # exec request or subsystem (sftp: SSH_ORIGINAL_COMMAND=$SFTP_SERVER). --norc: Debian's
  # bash would otherwise source ~/.bashrc for commands run by sshd and could reorder PATH.
  exec /bin/bash --norc -c "\$SSH_ORIGINAL_COMMAND"
fi
if [ -t 0 ]; then
  # interactive shell: sources the usual profile files, then puts the worker's bin/ first
  exec /bin/bash --rcfile $w/bashrc -i
fi
# shell request without a pty (commands on stdin)
exec /bin/bash --norc -s
EOF
}

worker_bashrc() { # IP
  local w
  w=$(worker_dir "$1")
  cat <<EOF
# hangar test worker $1: rc file of interactive SSH shells (after the usual profile files)
[ -r /etc/profile ] && . /etc/profile
[ -r "\$HOME/.profile" ] && . "\$HOME/.profile"
export PATH=$w/bin:\$PATH
export HANGAR_TEST_WORKER=$1
EOF
}

# worker_prepare IP PORT: keys, config, bin/, recorded GPU data. Status 0 = sshd config changed.
worker_prepare() {
  local ip=$1 port=$2 w t changed=1 set
  w=$(worker_dir "$ip")
  set=${WORKER_GPUS[$ip]}
  install -d -m 700 "$w" "$w/bin" "$w/gpus"
  for t in ed25519 ecdsa rsa; do
    if [ ! -s "$w/ssh_host_${t}_key" ]; then
      ssh-keygen -q -t "$t" -N '' -C "hangar-test-worker-$ip" -f "$w/ssh_host_${t}_key" </dev/null >/dev/null ||
        die "ssh-keygen $t for $ip failed"
    fi
  done
  [ -e "$w/authorized_keys" ] || : >"$w/authorized_keys"
  chmod 600 "$w/authorized_keys"
  # Stand-in nvidia-smi and its recorded data (refreshed from the repo on every up).
  write_if_changed "$w/bin/nvidia-smi" <"$HARNESS_DIR/nvidia-smi/nvidia-smi" || true
  chmod 755 "$w/bin/nvidia-smi"
  for t in "$HARNESS_DIR/nvidia-smi/$set"/*; do
    # shellcheck disable=SC2094 # reads the repo's file, writes the worker's
    write_if_changed "$w/gpus/$(basename "$t")" <"$t" || true
  done
  worker_session_script "$ip" | write_if_changed "$w/session" || true
  chmod 755 "$w/session"
  worker_bashrc "$ip" | write_if_changed "$w/bashrc" || true
  worker_sshd_config "$ip" "$port" | write_if_changed "$w/sshd_config" && changed=0
  chmod 755 "$WORKERS_DIR" "$w" "$w/bin" "$w/gpus"
  return $changed
}

worker_ready() { # IP PORT
  port_open "$1" "$2" && [ "$(worker_pid "$1")" != 0 ]
}

worker_start() { # IP
  local ip=$1 port w pid out
  port=$(worker_port)
  w=$(worker_dir "$ip")
  pid=$(worker_pid "$ip")
  if [ "$pid" != 0 ]; then
    log "worker $ip: sshd already running (pid $pid) on $ip:$port"
    return 0
  fi
  worker_kill_orphans "$ip"
  if port_open "$ip" "$port"; then
    wait_until 5 eval "! port_open $ip $port" ||
      die "worker $ip: $ip:$port is taken by another process (see: ss -ltnp)"
  fi
  install -d -m 755 /run/sshd # privilege separation directory (no system sshd ran here)
  # A worker in its own mount namespace (stage-worker.sh) starts its sshd inside it.
  local ns=() nspid
  nspid=$(read_pid "$w/mntns.pid" || true)
  if pid_alive "$nspid"; then ns=(nsenter "--mount=/proc/$nspid/ns/mnt" --); fi
  out=$("${ns[@]}" "$SSHD" -f "$w/sshd_config" -E "$w/sshd.log" 2>&1 </dev/null 9>&-) ||
    die "worker $ip: sshd failed to start: $out $(tail -n 3 "$w/sshd.log" 2>/dev/null)"
  wait_until 10 worker_ready "$ip" "$port" ||
    die "worker $ip: sshd does not accept connections on $ip:$port; see $w/sshd.log: $(tail -n 3 "$w/sshd.log")"
  log "worker $ip: sshd up on $ip:$port (pid $(worker_pid "$ip"))"
}

# worker_stop IP: stop the listener AND every connection's sshd process, so that clients'
# pooled connections really break (like a node that went away).
worker_stop() {
  local ip=$1 w pid port victims=() others=() p
  w=$(worker_dir "$ip")
  pid=$(worker_pid "$ip")
  if [ "$pid" = 0 ]; then
    local orphans
    read -ra orphans <<<"$(worker_orphans "$ip" | tr '\n' ' ')"
    pid=${orphans[0]:-0}
  fi
  if [ "$pid" = 0 ]; then
    log "worker $ip: sshd not running"
    rm -f "$w/sshd.pid"
    return 0
  fi
  kill -STOP "$pid" 2>/dev/null || true # no new connections are forked while we look
  # All descendants of the listener (per-connection sshd processes and their sessions).
  declare -A kids=()
  local s line rest ppid
  for s in /proc/[0-9]*/stat; do
    read -r line <"$s" 2>/dev/null || continue
    rest=${line##*) }
    ppid=${rest#* }
    ppid=${ppid%% *}
    p=${s#/proc/}
    kids[$ppid]+=" ${p%/stat}"
  done
  local queue=("$pid") cur
  while [ ${#queue[@]} -gt 0 ]; do
    cur=${queue[0]}
    queue=("${queue[@]:1}")
    for p in ${kids[$cur]:-}; do
      if [ "$(comm_of "$p")" = sshd ]; then victims+=("$p"); else others+=("$p"); fi
      queue+=("$p")
    done
  done
  kill -KILL "$pid" "${victims[@]}" 2>/dev/null || true
  # Session processes lose their connection like on a hangup.
  [ ${#others[@]} -eq 0 ] || kill -HUP "${others[@]}" 2>/dev/null || true
  rm -f "$w/sshd.pid"
  port=$(cat "$PORT_FILE" 2>/dev/null || echo 22)
  wait_until 5 eval "! port_open $ip $port" || log "worker $ip: warning: $ip:$port still accepts connections"
  log "worker $ip: sshd stopped (listener $pid, ${#victims[@]} connection process(es) killed)"
}

ensure_client_key() {
  if [ ! -s "$CLIENT_KEY" ]; then
    ssh-keygen -q -t ed25519 -N '' -C hangar-test-client -f "$CLIENT_KEY" </dev/null >/dev/null || die "ssh-keygen client key failed"
  fi
  chmod 600 "$CLIENT_KEY"
}

authorize_client_key() { # IP
  local w pub
  w=$(worker_dir "$1")
  pub=$(cat "$CLIENT_KEY.pub")
  grep -qxF "$pub" "$w/authorized_keys" 2>/dev/null || printf '%s\n' "$pub" >>"$w/authorized_keys"
}

write_client_files() { # PORT
  local port=$1 ip t hostpat
  {
    for ip in "${WORKERS[@]}"; do
      if [ "$port" = 22 ]; then hostpat=$ip; else hostpat="[$ip]:$port"; fi
      for t in ed25519 ecdsa rsa; do
        printf '%s %s\n' "$hostpat" "$(cut -d' ' -f1,2 "$(worker_dir "$ip")/ssh_host_${t}_key.pub")"
      done
    done
  } | write_if_changed "$KNOWN_HOSTS" || true
  cat <<EOF | write_if_changed "$SSH_CONFIG" || true
# ssh -F $SSH_CONFIG 127.0.0.2 <command>  (generated by test/harness/up.sh)
Host ${WORKERS[*]}
  User root
  Port $port
  IdentityFile $CLIENT_KEY
  IdentitiesOnly yes
  UserKnownHostsFile $KNOWN_HOSTS
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
EOF
}

workers_up() {
  local port ip pid
  require_root
  install -d -m 755 "$WORKERS_DIR"
  port=$(choose_port)
  ensure_client_key
  for ip in "${WORKERS[@]}"; do
    if worker_prepare "$ip" "$port"; then
      pid=$(worker_pid "$ip")
      if [ "$pid" != 0 ]; then
        log "worker $ip: sshd_config changed; reloading sshd (SIGHUP)"
        kill -HUP "$pid"
        sleep 0.2
        wait_until 10 worker_ready "$ip" "$port" || die "worker $ip: sshd did not come back after reload; see $(worker_dir "$ip")/sshd.log"
      fi
    fi
    authorize_client_key "$ip"
    if ! worker_ready "$ip" "$port"; then worker_start "$ip"; else log "worker $ip: sshd up on $ip:$port (pid $(worker_pid "$ip"))"; fi
  done
  write_client_files "$port"
}

# env_line NAME VALUE: an `export NAME="value"` line (plain values stay readable)
env_line() {
  if [[ $2 =~ ^[A-Za-z0-9_./:@%+=,\ -]*$ ]]; then
    printf 'export %s="%s"\n' "$1" "$2"
  else
    printf 'export %s=%q\n' "$1" "$2"
  fi
}

write_env() {
  local port
  port=$(worker_port)
  {
    echo "# written by test/harness/up.sh; source it before running the tests"
    env_line HANGAR_TEST_STATE "$STATE"
    env_line HANGAR_TEST_PG_URL "$PG_URL"
    env_line HANGAR_TEST_PG_PORT "$PG_PORT"
    env_line HANGAR_TEST_IMAGE "$IMAGE"
    env_line HANGAR_TEST_WORKERS "${WORKERS[*]}"
    env_line HANGAR_TEST_WORKER_PORT "$port"
    env_line HANGAR_TEST_CLIENT_KEY "$CLIENT_KEY"
    env_line HANGAR_TEST_KNOWN_HOSTS "$KNOWN_HOSTS"
    env_line HANGAR_TEST_SSH_CONFIG "$SSH_CONFIG"
  } | write_if_changed "$STATE/env" || true
}
