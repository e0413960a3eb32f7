// Pure: GPU reservations of workspaces over time. In any instant the GPUs reserved by the
// workspaces whose period covers it may not exceed the cluster's GPUs.

export interface Reservation {
  name: string;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  gpus: number;
}

export interface Clash {
  /** GPUs reserved by others at the worst instant of the candidate's period. */
  reservedByOthers: number;
  requested: number;
  capacity: number;
  /** Workspaces reserving GPUs at that instant. */
  clashing: string[];
  at: number;
}

/** The worst instant for `candidate` among `others`, or null when it fits. */
export function reservationClash(candidate: Reservation, others: Reservation[], capacity: number): Clash | null {
  // Reserving no GPUs never overbooks, even on a cluster without GPUs or one already overbooked.
  if (candidate.gpus <= 0) return null;
  const overlapping = others.filter(
    (o) => o.name !== candidate.name && o.start < candidate.end && candidate.start < o.end && o.gpus > 0,
  );
  // Reservations only start at a start time, so the peak is at one of them (or the window's start).
  const instants = [candidate.start, ...overlapping.map((o) => o.start).filter((t) => t > candidate.start)];
  let worst: Clash | null = null;
  for (const at of instants) {
    const active = overlapping.filter((o) => o.start <= at && at < o.end);
    const reserved = active.reduce((s, o) => s + o.gpus, 0);
    if (!worst || reserved > worst.reservedByOthers)
      worst = {
        reservedByOthers: reserved,
        requested: candidate.gpus,
        capacity,
        clashing: active.map((o) => o.name),
        at,
      };
  }
  if (!worst || candidate.gpus + worst.reservedByOthers <= capacity) {
    return candidate.gpus > capacity
      ? { reservedByOthers: 0, requested: candidate.gpus, capacity, clashing: [], at: candidate.start }
      : null;
  }
  return worst;
}

export type WorkspaceStatus = "reserved" | "active" | "expired";

export function workspaceStatus(now: number, start: number, end: number): WorkspaceStatus {
  if (now < start) return "reserved";
  if (now >= end) return "expired";
  return "active";
}
