// The one command the master runs on a node to learn its facts ("Get Info" and each health
// probe). POSIX sh, for Debian/Ubuntu workers, root or not. Every part is guarded so one failure
// never stops the rest. Sections start with `@@hangar:<name>@@` and end with
// `@@hangar:<name>:exit=<code>@@`, so facts.ts can tell "nothing found" from "the command failed".
// Time limits keep a hung Docker daemon or GPU from stalling the probe: 5 s per Docker call
// (`docker info` only when `docker version` answered), 10 s for nvidia-smi, 2 s more each to KILL.
// test/fixtures/probe/probe.sh is a copy (for machines without Bun); a test keeps it in sync.
// No `${` anywhere: this is a JS template literal.
export const PROBE_SCRIPT = String.raw`export LC_ALL=C
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; export PATH
sec() { printf '@@hangar:%s@@\n' "$1"; }
end() { printf '\n@@hangar:%s:exit=%s@@\n' "$1" "$2"; }
# run SECONDS CMD...: stderr folded into stdout; 127 when CMD is not installed, 124 on time out.
run() {
  lim=$1; shift
  command -v "$1" >/dev/null 2>&1 || { printf '%s: command not found\n' "$1"; return 127; }
  if command -v timeout >/dev/null 2>&1; then timeout -k 2 "$lim" "$@" 2>&1; else "$@" 2>&1; fi
}
sec hostname; { hostname 2>/dev/null || uname -n; }; end hostname $?
sec ip
if j=$(ip -j addr 2>/dev/null) && case $j in '['*) true ;; *) false ;; esac; then
  printf '%s\n' "$j"; rc=0
else
  run 5 ip -o link; run 5 ip -o addr; rc=$?
fi
end ip $rc
sec links
for d in /sys/class/net/*; do
  [ -e "$d" ] || continue
  s=$(cat "$d/speed" 2>/dev/null) || s=
  case $s in '' | -*) s= ;; esac
  t=$(cat "$d/type" 2>/dev/null) || t=
  if [ -e "$d/device" ]; then p=1; else p=0; fi
  if [ -d "$d/bonding" ]; then k=bond; elif [ -d "$d/bridge" ]; then k=bridge; else k=; fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$d")" "$s" "$t" "$p" "$k"
done
end links 0
sec infiniband
for port in /sys/class/infiniband/*/ports/*; do
  [ -d "$port" ] || continue
  hca=$(dirname "$(dirname "$port")")
  nets=
  for nd in "$hca"/device/net/*; do
    [ -e "$nd" ] || continue
    nets="$nets$(basename "$nd"):$(cat "$nd/dev_port" 2>/dev/null),"
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$hca")" "$(basename "$port")" \
    "$(cat "$port/rate" 2>/dev/null)" "$(cat "$port/state" 2>/dev/null)" \
    "$(cat "$port/link_layer" 2>/dev/null)" "$nets"
done
end infiniband 0
sec cpus; { nproc 2>/dev/null || getconf _NPROCESSORS_ONLN; }; end cpus $?
sec meminfo; grep '^MemTotal:' /proc/meminfo 2>&1; end meminfo $?
sec docker; run 5 docker version --format '{{.Server.Version}}'; rc=$?; end docker $rc
sec runtimes
if [ "$rc" = 0 ]; then
  run 5 docker info --format '{{json .Runtimes}}'; rc=$?
else
  echo 'skipped: docker did not answer'
fi
end runtimes $rc
sec gpus; run 10 nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits; end gpus $?
`;

/**
 * A script as one `sh -c '…'` command. An SSH exec hands its command to the user's login shell,
 * which may be zsh (it aborts on an unmatched glob such as /sys/class/infiniband/*) or fish.
 */
export function shCommand(script: string): string {
  return `sh -c '${script.replaceAll("'", `'\\''`)}'`;
}
