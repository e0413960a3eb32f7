// The dashboard: the reducer, polling every 2 s, the followed log (SSE, reconnecting, lines
// flushed in batches), and the key table turned into actions. Rendering is Screen's.
import { useApp, useInput, useWindowSize } from "ink";
import { useCallback, useEffect, useReducer, useRef } from "react";
import { ApiError } from "../src/client/api";
import { type Command, commandFor, type KeyPress, type Mode, VIEWS, type ViewId } from "./keys";
import { Screen, type Size } from "./Screen";
import type { Source } from "./source";
import { type Action, initialState, reduce, type State, selectedIndex, visibleRows } from "./state";

export interface DashboardProps {
  source: Source;
  /** Poll period (ms). */
  pollMs?: number;
  /** Terminal size (default: the terminal's, following resizes). */
  size?: Size;
  /** Start in this view. */
  view?: ViewId;
  /** The clock (tests freeze it). */
  now?: () => number;
  /** Start following this job's log (the Log view). */
  follow?: { jobId: string; name: string };
}

const LOG_FLUSH_MS = 100;
const LOG_RETRY_MS = 2000;

export function modeOf(state: State): Mode {
  if (state.help) return "help";
  if (state.confirm) return "confirm";
  if (state.editingFilter) return "filter";
  return "normal";
}

export function Dashboard({ source, pollMs = 2000, size, view, now = Date.now, follow }: DashboardProps) {
  const [state, dispatch] = useReducer(reduce, null, () => {
    const start = view ? { ...initialState, view } : initialState;
    return follow ? reduce(start, { type: "logOpen", ...follow }) : start;
  });
  const stateRef = useRef(state);
  stateRef.current = state;
  const windowSize = useWindowSize();
  const screen = size ?? { columns: windowSize.columns || 80, rows: windowSize.rows || 24 };
  const { exit } = useApp();

  const refresh = useCallback(() => {
    source.load().then(
      (snapshot) => dispatch({ type: "loaded", snapshot, at: now() }),
      (err: Error) =>
        dispatch({
          type: "failed",
          error: err.message,
          unreachable: !(err instanceof ApiError) || err.status === 0,
        }),
    );
  }, [source, now]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, pollMs);
    return () => clearInterval(timer);
  }, [refresh, pollMs]);

  // Follow the log of state.log.jobId until it ends; reconnect (from the start) if the stream is cut.
  const followed = state.log?.jobId ?? null;
  useEffect(() => {
    if (!followed) return;
    const abort = new AbortController();
    let pending: string[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const lines = pending;
      pending = [];
      dispatch({ type: "logLines", lines });
    };
    const flusher = setInterval(flush, LOG_FLUSH_MS);
    let retry: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const follow = () => {
      source
        .followLog(
          followed,
          {
            line: (text) => {
              pending.push(text);
              // A burst is kept bounded before the next flush too.
              if (pending.length > 10_000) pending = pending.slice(-5000);
            },
            end: (end) => {
              ended = true;
              flush();
              dispatch({ type: "logEnd", end });
            },
          },
          abort.signal,
        )
        .then(
          () => {
            if (!ended && !abort.signal.aborted) throw new Error("the stream closed");
          },
          (err: Error) => {
            throw err;
          },
        )
        .catch((err: Error) => {
          if (abort.signal.aborted) return;
          flush();
          dispatch({ type: "logError", error: err.message });
          retry = setTimeout(() => {
            pending = [];
            dispatch({ type: "logReset" });
            follow();
          }, LOG_RETRY_MS);
        });
    };
    follow();
    return () => {
      abort.abort();
      clearInterval(flusher);
      clearTimeout(retry);
    };
  }, [followed, source]);

  const act = useCallback(
    (label: string, work: () => Promise<unknown>, done: (result: unknown) => string) => {
      dispatch({ type: "message", text: `${label}…` });
      work().then(
        (result) => {
          dispatch({ type: "message", text: done(result) });
          refresh();
        },
        (err: Error) => dispatch({ type: "message", text: `${label}: ${err.message}`, error: true }),
      );
    },
    [refresh],
  );

  const run = useCallback(
    (command: Command) => {
      const s = stateRef.current;
      const send = (a: Action) => dispatch(a);
      const rows = visibleRows(s);
      const sel = rows[selectedIndex(s.cursors[s.view], rows)] ?? null;
      const snap = s.snapshot;
      const page = Math.max(1, screenRef.current.rows - 6);
      if (command.startsWith("view:")) return send({ type: "view", view: command.slice(5) as ViewId });
      switch (command) {
        case "up":
          return send({ type: "move", delta: -1 });
        case "down":
          return send({ type: "move", delta: 1 });
        case "pageUp":
          return send({ type: "move", delta: -page });
        case "pageDown":
          return send({ type: "move", delta: page });
        case "top":
          return send({ type: "moveTo", where: "top" });
        case "bottom":
          return send({ type: "moveTo", where: "bottom" });
        case "open":
          return send({ type: "detail", open: true });
        case "back":
          return send({ type: "back" });
        case "filter":
          return send({ type: "filterStart" });
        case "refresh":
          return refresh();
        case "help":
          return send({ type: "help", open: true });
        case "quit":
          return exit();
        case "nextView":
          return send({ type: "cycleView", delta: 1 });
        case "prevView":
          return send({ type: "cycleView", delta: -1 });
        case "connect": {
          const n = snap?.nodes.find((x) => x.id === sel?.id);
          if (n)
            act(
              `connecting ${n.name}`,
              () => source.connect(n.id),
              () => `${n.name}: connect requested`,
            );
          return;
        }
        case "disconnect": {
          const n = snap?.nodes.find((x) => x.id === sel?.id);
          if (n)
            send({ type: "confirm", confirm: { kind: "disconnect", id: n.id, label: `Disconnect node ${n.name}` } });
          return;
        }
        case "probe": {
          const n = snap?.nodes.find((x) => x.id === sel?.id);
          if (n)
            act(
              `probing ${n.name}`,
              () => source.probe(n),
              (r) => {
                const p = r as Awaited<ReturnType<Source["probe"]>>;
                return `${n.name}: ${p.hostname}, ${p.gpus.length} GPU(s), ${p.cpus} CPUs, docker ${p.dockerVersion ?? p.dockerError ?? "-"}${p.warnings.length ? `; ${p.warnings[0]}` : ""}`;
              },
            );
          return;
        }
        case "cancelJob": {
          const id = s.view === "log" ? s.log?.jobId : sel?.id;
          if (!id) return;
          const name = snap?.jobs.find((j) => j.id === id)?.name ?? snap?.queue.items.find((q) => q.id === id)?.name;
          return send({ type: "confirm", confirm: { kind: "cancel", id, label: `Cancel job ${name ?? id} (${id})` } });
        }
        case "followLog": {
          if (!sel) return;
          const name =
            snap?.jobs.find((j) => j.id === sel.id)?.name ?? snap?.queue.items.find((q) => q.id === sel.id)?.name;
          return send({ type: "logOpen", jobId: sel.id, name: name ?? sel.id });
        }
        case "toggleActive": {
          const u = snap?.users.find((x) => x.userId === sel?.id);
          if (!u) return;
          const active = !u.active;
          return send({
            type: "confirm",
            confirm: {
              kind: "setActive",
              id: u.userId,
              active,
              label: `${active ? "Reactivate" : "Deactivate"} ${u.userId}`,
            },
          });
        }
        case "yes": {
          const c = s.confirm;
          send({ type: "confirm", confirm: null });
          if (!c) return;
          const work =
            c.kind === "cancel"
              ? () => source.cancel(c.id)
              : c.kind === "disconnect"
                ? () => source.disconnect(c.id)
                : () => source.setActive(c.id, c.active);
          act(c.label, work, () => `${c.label}: done`);
          return;
        }
        case "no":
          return send({ type: "confirm", confirm: null });
        case "filterDone":
          return send({ type: "filterEnd", keep: true });
        case "filterClear":
          return send({ type: "filterEnd", keep: false });
      }
    },
    [act, exit, refresh, source],
  );

  const screenRef = useRef(screen);
  screenRef.current = screen;

  useInput((input, key) => {
    const s = stateRef.current;
    const mode = modeOf(s);
    if (mode === "help") return dispatch({ type: "help", open: false });
    const command = commandFor(input, key as KeyPress, s.view, mode);
    if (command) return run(command);
    if (mode === "filter") {
      const text = s.filters[s.view];
      if (key.backspace || key.delete) dispatch({ type: "filterText", text: text.slice(0, -1) });
      else if (input && !key.ctrl && !key.meta && input >= " ") dispatch({ type: "filterText", text: text + input });
    }
  });

  return <Screen state={state} size={screen} where={source.where} now={now()} />;
}

export { VIEWS };
