// Dashboard state: one reducer over a union of actions. Pure (times come in the actions).
import { VIEWS, type ViewId } from "./keys";
import { filterRows, type Row, tableFor } from "./rows";
import type { LogEnd, Snapshot } from "./source";

/** Lines of a followed log kept in memory; older ones are dropped (and counted). */
export const LOG_MAX_LINES = 5000;

export interface Cursor {
  /** The selected row's id: the selection stays on it when rows move. */
  id: string | null;
  /** Its place, used when the row is gone. */
  index: number;
}

export interface LogState {
  jobId: string;
  name: string;
  lines: string[];
  /** Lines dropped from the front (memory bound). */
  dropped: number;
  /** Lines scrolled up from the end; 0 follows the end. */
  scroll: number;
  end: LogEnd | null;
  error: string | null;
}

export type Confirm =
  | { kind: "cancel"; id: string; label: string }
  | { kind: "disconnect"; id: string; label: string }
  | { kind: "setActive"; id: string; label: string; active: boolean };

export interface State {
  view: ViewId;
  snapshot: Snapshot | null;
  /** Epoch ms of the last successful load. */
  loadedAt: number | null;
  /** The last load's failure; null once a load succeeds again. */
  error: string | null;
  /** The master could not be reached at all (as opposed to an API error). */
  unreachable: boolean;
  cursors: Record<ViewId, Cursor>;
  filters: Record<ViewId, string>;
  editingFilter: boolean;
  detail: boolean;
  help: boolean;
  confirm: Confirm | null;
  message: { text: string; error: boolean } | null;
  log: LogState | null;
}

export type Action =
  | { type: "loaded"; snapshot: Snapshot; at: number }
  | { type: "failed"; error: string; unreachable: boolean }
  | { type: "view"; view: ViewId }
  | { type: "cycleView"; delta: 1 | -1 }
  | { type: "move"; delta: number }
  | { type: "moveTo"; where: "top" | "bottom" }
  | { type: "detail"; open: boolean }
  | { type: "back" }
  | { type: "filterStart" }
  | { type: "filterText"; text: string }
  | { type: "filterEnd"; keep: boolean }
  | { type: "help"; open: boolean }
  | { type: "confirm"; confirm: Confirm | null }
  | { type: "message"; text: string; error?: boolean }
  | { type: "logOpen"; jobId: string; name: string }
  | { type: "logReset" }
  | { type: "logLines"; lines: string[] }
  | { type: "logEnd"; end: LogEnd }
  | { type: "logError"; error: string };

const perView = <T>(value: () => T) => Object.fromEntries(VIEWS.map((v) => [v, value()])) as Record<ViewId, T>;

export const initialState: State = {
  view: "overview",
  snapshot: null,
  loadedAt: null,
  error: null,
  unreachable: false,
  cursors: perView(() => ({ id: null, index: 0 })),
  filters: perView(() => ""),
  editingFilter: false,
  detail: false,
  help: false,
  confirm: null,
  message: null,
  log: null,
};

/** The rows a view shows now (filtered), for the reducer and the screen alike. */
export function visibleRows(state: State, view: ViewId = state.view): readonly Row[] {
  if (!state.snapshot) return [];
  return filterRows(tableFor(view, state.snapshot).rows, state.filters[view]);
}

/** The selected row's index in `rows`: where its id is, else its old place clamped. */
export function selectedIndex(cursor: Cursor, rows: readonly Row[]): number {
  if (rows.length === 0) return -1;
  if (cursor.id !== null) {
    const at = rows.findIndex((r) => r.id === cursor.id);
    if (at >= 0) return at;
  }
  return Math.min(Math.max(cursor.index, 0), rows.length - 1);
}

function moveCursor(state: State, to: (current: number, count: number) => number): State {
  const view = state.view;
  const rows = visibleRows(state, view);
  if (rows.length === 0) return state;
  const index = Math.min(Math.max(to(selectedIndex(state.cursors[view], rows), rows.length), 0), rows.length - 1);
  return { ...state, cursors: { ...state.cursors, [view]: { id: rows[index]?.id ?? null, index } } };
}

function scrollLog(state: State, to: (scroll: number, max: number) => number): State {
  if (!state.log) return state;
  const max = Math.max(0, state.log.lines.length - 1);
  return { ...state, log: { ...state.log, scroll: Math.min(Math.max(to(state.log.scroll, max), 0), max) } };
}

/** A part of the new snapshot equal to the old one keeps the old object, so unchanged views do not redraw. */
function keepSame(old: Snapshot | null, next: Snapshot): Snapshot {
  if (!old) return next;
  const out = { ...next } as Record<string, unknown>;
  const prev = old as unknown as Record<string, unknown>;
  let changed = false;
  for (const k of Object.keys(next)) {
    if (JSON.stringify(prev[k]) === JSON.stringify(out[k])) out[k] = prev[k];
    else changed = true;
  }
  return changed ? (out as unknown as Snapshot) : old;
}

export function reduce(state: State, action: Action): State {
  switch (action.type) {
    case "loaded":
      return {
        ...state,
        snapshot: keepSame(state.snapshot, action.snapshot),
        loadedAt: action.at,
        error: null,
        unreachable: false,
      };
    case "failed":
      return { ...state, error: action.error, unreachable: action.unreachable };
    case "view":
      return { ...state, view: action.view, detail: false, editingFilter: false, help: false };
    case "cycleView": {
      const i = VIEWS.indexOf(state.view);
      const view = VIEWS[(i + action.delta + VIEWS.length) % VIEWS.length] as ViewId;
      return { ...state, view, detail: false, editingFilter: false };
    }
    case "move":
      if (state.view === "log") return scrollLog(state, (s) => s - action.delta);
      return moveCursor(state, (i) => i + action.delta);
    case "moveTo":
      if (state.view === "log") return scrollLog(state, (_, max) => (action.where === "top" ? max : 0));
      return moveCursor(state, (_, n) => (action.where === "top" ? 0 : n - 1));
    case "detail":
      return { ...state, detail: action.open };
    case "back":
      if (state.help) return { ...state, help: false };
      if (state.detail) return { ...state, detail: false };
      if (state.filters[state.view]) return { ...state, filters: { ...state.filters, [state.view]: "" } };
      if (state.view === "log") return { ...state, view: "jobs" };
      return { ...state, message: null };
    case "filterStart":
      return { ...state, editingFilter: true };
    case "filterText":
      return { ...state, filters: { ...state.filters, [state.view]: action.text } };
    case "filterEnd":
      return {
        ...state,
        editingFilter: false,
        filters: action.keep ? state.filters : { ...state.filters, [state.view]: "" },
      };
    case "help":
      return { ...state, help: action.open };
    case "confirm":
      return { ...state, confirm: action.confirm };
    case "message":
      return { ...state, message: { text: action.text, error: action.error ?? false } };
    case "logOpen":
      return {
        ...state,
        view: "log",
        detail: false,
        log: { jobId: action.jobId, name: action.name, lines: [], dropped: 0, scroll: 0, end: null, error: null },
      };
    case "logReset":
      return state.log ? { ...state, log: { ...state.log, lines: [], dropped: 0, error: null } } : state;
    case "logLines": {
      if (!state.log || action.lines.length === 0) return state;
      const all = state.log.lines.concat(action.lines);
      const over = Math.max(0, all.length - LOG_MAX_LINES);
      const lines = over > 0 ? all.slice(over) : all;
      // Scrolled up: stay on the same lines while new ones arrive below.
      const scroll = state.log.scroll > 0 ? Math.min(state.log.scroll + action.lines.length, lines.length - 1) : 0;
      return { ...state, log: { ...state.log, lines, dropped: state.log.dropped + over, scroll } };
    }
    case "logEnd":
      return state.log ? { ...state, log: { ...state.log, end: action.end } } : state;
    case "logError":
      return state.log ? { ...state, log: { ...state.log, error: action.error } } : state;
  }
}
