// A staged node's input cache: trimmed least recently used first.
import type { Deps } from "../../deps";
import { pickEvictions } from "../../domain/staging";
import { shellQuote } from "../spec";
import { type StagedNode, state } from "./state";
import { runOn } from "./transfer";

/** The timer trims a node's cache at most this often (a job's end always does). */
export const TRIM_EVERY_MS = 10 * 60_000;

/**
 * Evicts cached inputs from `node` (pickEvictions): entries no job folder there names, least
 * recently used first, while the cache is over HANGAR_STAGE_CACHE_MAX_GIB, and any unused for
 * HANGAR_STAGE_CACHE_MAX_DAYS. Never while a job is being staged on the node (it may have just
 * found an entry); unfinished entries (`.tmp`) go too. Returns the evicted keys.
 */
export async function trimCache(deps: Deps, node: Pick<StagedNode, "id" | "address">): Promise<string[]> {
  const s = state(deps);
  if ((s.staging.get(node.id) ?? 0) > 0) return [];
  const running = s.evicting.get(node.id);
  if (running) return running;
  const run = (async () => {
    const root = shellQuote(deps.config.stageCacheDir);
    const out = await runOn(
      deps,
      node.address,
      [
        `cd ${root} 2>/dev/null || exit 0`,
        `rm -rf content/*.tmp`,
        `echo "N $(date +%s)"`,
        `dirs=`,
        `for ok in content/*.ok; do [ -e "$ok" ] || continue; k=\${ok#content/}; k=\${k%.ok}; dirs="$dirs content/$k"; echo "C $k $(stat -c %Y "$ok")"; done`,
        `for f in jobs/*/keys; do [ -e "$f" ] && sed 's/^/U /' "$f"; done`,
        `if [ -n "$dirs" ]; then du -sk $dirs | sed 's/^/S /'; fi`,
        `exit 0`,
      ].join("\n"),
      "listing the cache on the node",
    );
    const used = new Map<string, number>();
    const sizes = new Map<string, number>();
    const inUse = new Set<string>();
    let now = Math.floor(Date.now() / 1000);
    for (const line of out.split("\n")) {
      const [tag, a, b] = line.split(/\s+/);
      if (tag === "N") now = Number(a);
      else if (tag === "C" && a) used.set(a, Number(b));
      else if (tag === "U" && a) inUse.add(a);
      else if (tag === "S" && b) sizes.set(b.replace(/^content\//, "").replace(/\/$/, ""), Number(a) * 1024);
    }
    const evict = pickEvictions(
      [...used].map(([key, lastUsed]) => ({
        key,
        lastUsed,
        bytes: Math.max(1024, sizes.get(key) ?? 0),
        inUse: inUse.has(key),
      })),
      now,
      { maxBytes: deps.config.stageCacheMaxGib * 2 ** 30, maxIdleSeconds: deps.config.stageCacheMaxDays * 86400 },
    ).filter((k) => /^[0-9a-f]+$/.test(k));
    if (evict.length)
      await runOn(
        deps,
        node.address,
        [
          `cd ${root} || exit 1`,
          `for k in ${evict.join(" ")}; do rm -f "content/$k.ok" && rm -rf "content/$k" || exit 1; done`,
          `for f in latest/*; do [ -e "$f" ] || continue; k=$(cat "$f"); [ -e "content/$k.ok" ] || rm -f "$f"; done`,
        ].join("\n"),
        "evicting cached inputs on the node",
      );
    s.trimmed.set(node.id, Date.now());
    return evict;
  })();
  s.evicting.set(node.id, run);
  try {
    return await run;
  } finally {
    s.evicting.delete(node.id);
  }
}
