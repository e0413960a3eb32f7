// The whole screen as a pure function of the state and the terminal size: tabs, the status line
// (or the unreachable line), the view (a table and its detail pane, or the log), and the footer.
// Selection is bold + inverse, statuses are words: nothing relies on colour alone.
import { Box, Text } from "ink";
import { memo } from "react";
import { helpFor, hintFor, VIEW_TITLES, VIEWS, type ViewId } from "./keys";
import { bar, bytes, type Column, detailFor, filterRows, type Row, type Table, type Tone, tableFor } from "./rows";
import type { Snapshot } from "./source";
import { type State, selectedIndex } from "./state";

export interface Size {
  columns: number;
  rows: number;
}

/** Side-by-side detail pane from this width; below it, the pane opens under the table on Enter. */
export const WIDE = 140;
const SIDE_PANE = 56;

const TONE_COLOR: Record<Exclude<Tone, undefined>, string | undefined> = {
  good: "green",
  bad: "red",
  warn: "yellow",
  dim: undefined,
};

function fit(text: string, width: number, right = false): string {
  if (width <= 0) return "";
  const t = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
  return right ? t.padStart(width) : t.padEnd(width);
}

/** The columns that fit this width, and their widths (flex columns share what is left). */
export function layoutColumns(columns: readonly Column[], width: number): { col: Column; index: number; w: number }[] {
  const shown = columns
    .map((col, index) => ({ col, index }))
    .filter(({ col }) => !col.minScreen || width >= col.minScreen);
  const fixed = shown.reduce((sum, { col }) => sum + col.width, 0) + Math.max(0, shown.length - 1);
  const flex = shown.filter(({ col }) => col.flex);
  const extra = Math.max(0, width - fixed);
  const each = flex.length ? Math.floor(extra / flex.length) : 0;
  let rest = flex.length ? extra - each * flex.length : 0;
  return shown.map(({ col, index }) => {
    let w = col.width;
    if (col.flex) {
      w += each + (rest > 0 ? 1 : 0);
      if (rest > 0) rest--;
    }
    return { col, index, w };
  });
}

function cellText(value: string, w: number, right?: boolean): string {
  if (value.startsWith("\u0000bar:")) {
    const [, used, total] = value.split(":");
    return fit(bar(Number(used), Number(total), w), w);
  }
  return fit(value, w, right);
}

export const TableView = memo(function TableView(props: {
  table: Table;
  rows: readonly Row[];
  selected: number;
  width: number;
  height: number;
  title: string;
}) {
  const { rows, selected, width, height } = props;
  // One column for the selection mark: it shows even where a terminal has no inverse or bold.
  const cols = layoutColumns(props.table.columns, width - 1);
  const bodyHeight = Math.max(1, height - 1);
  const start = selected < 0 ? 0 : Math.floor(selected / bodyHeight) * bodyHeight;
  const shown = rows.slice(start, start + bodyHeight);
  const header = cols.map(({ col, w }) => fit(col.title, w, col.right)).join(" ");
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        {fit(` ${header}`, width)}
      </Text>
      {shown.length === 0 && <Text dimColor>{props.title}</Text>}
      {shown.map((r, i) => {
        const line = cols.map(({ col, index, w }) => cellText(r.cells[index] ?? "", w, col.right)).join(" ");
        const isSel = start + i === selected;
        const tone = r.tone;
        return (
          <Text
            key={r.id}
            wrap="truncate"
            inverse={isSel}
            bold={isSel}
            dimColor={!isSel && tone === "dim"}
            color={!isSel && tone ? TONE_COLOR[tone] : undefined}
          >
            {fit(`${start + i === selected ? "›" : " "}${line}`, width)}
          </Text>
        );
      })}
    </Box>
  );
});

function Detail({ lines, width, height }: { lines: string[]; width: number; height: number }) {
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="single" borderDimColor paddingX={1}>
      {lines.slice(0, Math.max(0, height - 2)).map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines of a pane, in order
        <Text key={i} wrap="truncate" bold={i === 0}>
          {l}
        </Text>
      ))}
    </Box>
  );
}

function Tabs({ view }: { view: ViewId }) {
  return (
    <Text wrap="truncate">
      {VIEWS.map((v, i) => {
        const label = ` ${i + 1} ${VIEW_TITLES[v]} `;
        return v === view ? (
          <Text key={v} inverse bold>
            {label}
          </Text>
        ) : (
          <Text key={v}>{label}</Text>
        );
      })}
    </Text>
  );
}

function clock(ms: number | null): string {
  return ms === null ? "--:--:--" : new Date(ms).toISOString().slice(11, 19);
}

function StatusLine({ state, where }: { state: State; where: string }) {
  const s = state.snapshot;
  if (state.error)
    return (
      <Text inverse bold wrap="truncate">
        {state.unreachable ? ` MASTER UNREACHABLE at ${where}: ` : " ERROR: "}
        {state.error} · retrying{state.loadedAt ? ` · data from ${clock(state.loadedAt)}` : ""}{" "}
      </Text>
    );
  if (!s) return <Text dimColor>connecting to {where}…</Text>;
  return (
    <Text wrap="truncate">
      master <Text color="green">{s.health.status}</Text> v{s.health.version} · {s.me.userId} ({s.me.role}) · policy{" "}
      {s.queue.policy} · updated {clock(state.loadedAt)}
    </Text>
  );
}

/** The Overview's summary above its node table. */
export function summaryLines(s: Snapshot, now: number, width: number): string[] {
  const gpuUse = s.nodes.reduce((sum, n) => sum + n.gpusInUse, 0);
  const gpuTotal = s.nodes.reduce((sum, n) => sum + n.gpuTotal, 0);
  const attached = s.nodes.filter((n) => n.status === "attached").length;
  const running = s.jobs.filter((j) => j.status === "running" || j.status === "starting").length;
  const pending = s.queue.total;
  const active = s.workspaces.filter((w) => w.status === "active").length;
  const latest = s.backups.reduce<(typeof s.backups)[number] | null>(
    (a, b) => (a === null || b.takenAt > a.takenAt ? b : a),
    null,
  );
  const barWidth = Math.max(10, Math.min(40, width - 40));
  const pct = gpuTotal ? Math.round((gpuUse / gpuTotal) * 100) : 0;
  const age = latest ? Math.round((now - Date.parse(latest.takenAt)) / 3600_000) : 0;
  return [
    `GPUs   ${bar(gpuUse, gpuTotal, barWidth)} ${Number.isInteger(gpuUse) ? gpuUse : gpuUse.toFixed(2)}/${gpuTotal} in use (${pct}%)`,
    `nodes  ${attached}/${s.nodes.length} attached · jobs ${running} running, ${pending} pending · workspaces ${active} active`,
    latest
      ? `backup ${latest.name} · ${latest.takenAt.slice(0, 16).replace("T", " ")} · ${bytes(latest.bytes)} · ${age > 26 ? `OVERDUE (${age} h old)` : "ok"}`
      : "backup none yet",
  ];
}

function LogBody({ state, width, height }: { state: State; width: number; height: number }) {
  const log = state.log;
  if (!log)
    return (
      <Box height={height}>
        <Text dimColor>no log followed: pick a job in Jobs (4) and press l</Text>
      </Box>
    );
  const bodyHeight = Math.max(1, height - 1);
  const filter = state.filters.log.toLowerCase();
  const source = filter ? log.lines.filter((l) => l.toLowerCase().includes(filter)) : log.lines;
  const endAt = Math.max(0, source.length - log.scroll);
  const shown = source.slice(Math.max(0, endAt - bodyHeight), endAt);
  const where = log.scroll > 0 ? `scrolled ${log.scroll} up (G: follow)` : "at the end";
  const status = log.error
    ? `stream cut: ${log.error}; reconnecting`
    : log.end
      ? `ended: ${log.end.status}${log.end.exitCode !== null ? ` exit ${log.end.exitCode}` : ""}`
      : "following";
  const kept = `${log.lines.length} lines${log.dropped ? ` (+${log.dropped} older dropped)` : ""}`;
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate">
        {fit(`log ${log.name} (${log.jobId}) · ${status} · ${kept} · ${where}`, width)}
      </Text>
      {shown.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines of a log window, in order
        <Text key={i} wrap="truncate">
          {l.length > width ? l.slice(0, width) : l || " "}
        </Text>
      ))}
    </Box>
  );
}

function HelpBody({ view, width, height }: { view: ViewId; width: number; height: number }) {
  const lines = helpFor(view);
  return (
    <Box flexDirection="column" height={height}>
      <Text bold>keys in {VIEW_TITLES[view]} (any key closes)</Text>
      <Box flexWrap="wrap">
        {lines.map((l) => (
          <Box key={l.help} width={Math.floor(width / 2)}>
            <Text wrap="truncate">
              <Text bold>{fit(l.keys, 10)}</Text> {l.help}
            </Text>
          </Box>
        ))}
      </Box>
    </Box>
  );
}

function Footer({ state, width, position }: { state: State; width: number; position: string }) {
  if (state.confirm)
    return (
      <Text inverse bold wrap="truncate">
        {fit(` ${state.confirm.label}? y yes · n no `, width)}
      </Text>
    );
  if (state.editingFilter)
    return (
      <Text wrap="truncate">
        <Text bold>/</Text>
        {state.filters[state.view]}
        <Text inverse> </Text>
        <Text dimColor> Enter keep · Esc drop</Text>
      </Text>
    );
  const filter = state.filters[state.view];
  return (
    <Text wrap="truncate">
      {state.message && (
        <Text bold color={state.message.error ? "red" : undefined}>
          {state.message.error ? "! " : ""}
          {state.message.text}
          {"  "}
        </Text>
      )}
      {position && <Text bold>{position} </Text>}
      {filter && <Text bold>[/{filter}] </Text>}
      <Text dimColor>{hintFor(state.view)}</Text>
    </Text>
  );
}

export function Screen({ state, size, where, now }: { state: State; size: Size; where: string; now: number }) {
  const width = Math.max(40, size.columns);
  const bodyHeight = Math.max(4, size.rows - 3);
  const table = state.snapshot && state.view !== "log" ? tableFor(state.view, state.snapshot, now) : null;
  let position = "";
  if (table && !state.help) {
    const rows = filterRows(table.rows, state.filters[state.view]);
    position = `${selectedIndex(state.cursors[state.view], rows) + 1}/${rows.length}`;
  }
  return (
    <Box flexDirection="column" width={width} height={size.rows}>
      <Tabs view={state.view} />
      <StatusLine state={state} where={where} />
      {state.help ? (
        <HelpBody view={state.view} width={width} height={bodyHeight} />
      ) : state.view === "log" ? (
        <LogBody state={state} width={width} height={bodyHeight} />
      ) : state.snapshot && table ? (
        <ViewBody state={state} snapshot={state.snapshot} table={table} width={width} height={bodyHeight} now={now} />
      ) : (
        <Box height={bodyHeight}>
          <Text dimColor>waiting for the master…</Text>
        </Box>
      )}
      <Footer state={state} width={width} position={position} />
    </Box>
  );
}

function ViewBody(props: {
  state: State;
  snapshot: Snapshot;
  table: Table;
  width: number;
  height: number;
  now: number;
}) {
  const { state, snapshot, table, width, now } = props;
  const view = state.view;
  const rows = filterRows(table.rows, state.filters[view]);
  const selected = selectedIndex(state.cursors[view], rows);
  const selectedId = selected >= 0 ? (rows[selected]?.id ?? null) : null;
  const wide = width >= WIDE;
  const summary = view === "overview" ? summaryLines(snapshot, now, width) : [];
  let height = props.height - summary.length;
  const showDetail = wide || state.detail;
  const detailLines = showDetail ? detailFor(view, snapshot, selectedId, now) : [];
  const belowHeight = !wide && state.detail ? Math.min(detailLines.length + 2, Math.floor(height / 2) + 1) : 0;
  height -= belowHeight;
  const tableWidth = wide ? width - SIDE_PANE - 1 : width;
  const empty = state.filters[view] ? `no ${VIEW_TITLES[view]} row matches /${state.filters[view]}` : "nothing here";
  return (
    <Box flexDirection="column" height={props.height}>
      {summary.map((l) => (
        <Text key={l.slice(0, 6)} wrap="truncate">
          {l}
        </Text>
      ))}
      <Box>
        <TableView table={table} rows={rows} selected={selected} width={tableWidth} height={height} title={empty} />
        {wide && (
          <Box marginLeft={1}>
            <Detail lines={detailLines} width={SIDE_PANE} height={height} />
          </Box>
        )}
      </Box>
      {belowHeight > 0 && <Detail lines={detailLines} width={width} height={belowHeight} />}
    </Box>
  );
}
