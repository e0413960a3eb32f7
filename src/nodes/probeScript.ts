// The one command the master runs on a node to learn its facts ("Get Info" and each health
// probe). POSIX sh; every part is guarded so one failure never stops the rest. Sections start
// with `@@hangar:<name>@@` and end with `@@hangar:<name>:exit=<code>@@`; facts.ts parses them.
export const PROBE_SCRIPT = String.raw`
export LC_ALL=C
sec() { printf '@@hangar:%s@@\n' "$1"; }
end() { printf '\n@@hangar:%s:exit=%s@@\n' "$1" "$2"; }
sec hostname; hostname 2>&1; end hostname $?
sec ip; ip -j addr 2>&1; end ip $?
sec links
for d in /sys/class/net/*; do
  [ -e "$d" ] || continue
  n=$(basename "$d")
  s=$(cat "$d/speed" 2>/dev/null || true)
  t=$(cat "$d/type" 2>/dev/null || true)
  if [ -e "$d/device" ]; then p=1; else p=0; fi
  printf '%s\t%s\t%s\t%s\n' "$n" "$s" "$t" "$p"
done
end links 0
sec infiniband
for port in /sys/class/infiniband/*/ports/*; do
  [ -d "$port" ] || continue
  dev=$(basename "$(dirname "$(dirname "$port")")")
  nets=$(ls "/sys/class/infiniband/$dev/device/net" 2>/dev/null | tr '\n' ',')
  printf '%s\t%s\t%s\t%s\t%s\n' "$dev" "$(cat "$port/rate" 2>/dev/null)" "$(cat "$port/state" 2>/dev/null)" "$(cat "$port/link_layer" 2>/dev/null)" "$nets"
done
end infiniband 0
sec cpus; nproc 2>&1; end cpus $?
sec meminfo; grep -E '^MemTotal:' /proc/meminfo 2>&1; end meminfo $?
sec docker; docker version --format '{{.Server.Version}}' 2>&1; end docker $?
sec runtimes; docker info --format '{{json .Runtimes}}' 2>&1; end runtimes $?
sec gpus; nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits 2>&1; end gpus $?
true
`;
