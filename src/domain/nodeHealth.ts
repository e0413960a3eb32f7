// Pure: how a node's status follows from what the admin wants and what the last probe saw.

export const NODE_STATUSES = ["attached", "attaching", "detached", "error"] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
/** What the admin wants: `attached` (schedulable) or `detached`. */
export const NODE_DESIRED = ["attached", "detached"] as const;
export type NodeDesired = (typeof NODE_DESIRED)[number];

export type ProbeOutcome = { ok: true; warning: string | null } | { ok: false; reason: string };

export interface HealthInput {
  desired: NodeDesired;
  status: NodeStatus;
  statusMessage: string | null;
  failuresInRow: number;
  lostAfter: number;
  probe: ProbeOutcome;
}

export interface HealthResult {
  status: NodeStatus;
  statusMessage: string | null;
  failuresInRow: number;
}

export function nextHealth(h: HealthInput): HealthResult {
  if (h.desired === "detached") return { status: "detached", statusMessage: null, failuresInRow: 0 };
  if (h.probe.ok) return { status: "attached", statusMessage: h.probe.warning, failuresInRow: 0 };
  const failures = h.failuresInRow + 1;
  // A connect attempt fails at once; an attached node gets `lostAfter` chances (a blip is not an outage).
  if (h.status === "attaching" || h.status === "error" || failures >= h.lostAfter)
    return { status: "error", statusMessage: h.probe.reason, failuresInRow: failures };
  return { status: h.status, statusMessage: h.statusMessage, failuresInRow: failures };
}
