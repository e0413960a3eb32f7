// bun run bench:tui — the terminal dashboard under load:
//  1. the process's RSS after following a job log that prints 100,000 lines over SSE (a local
//     server speaking the API's log stream, read by the shared client's followLog, the
//     dashboard rendering to a discarding terminal, polling 10,000 jobs and 500 nodes);
//  2. the time to render one frame of the Jobs view (a key press: the reducer step and the
//     whole screen rendered to a string) with 10,000 jobs and 500 nodes, at 160x48;
import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import { render, renderToString } from "ink";
import { createElement as h } from "react";
import recorded from "../test/fixtures/tui/snapshot.json";
import { Dashboard } from "../tui/Dashboard";
import { Screen } from "../tui/Screen";
import { apiSource, type Snapshot, type Source } from "../tui/source";
import { type Action, initialState, reduce, type State } from "../tui/state";
import { benchLine, median } from "./lib";

const JOBS = 10_000;
const NODES = 500;
const LOG_LINES = 100_000;
const FRAMES = Number(process.env.BENCH_FRAMES ?? 60);
const size = { columns: 160, rows: 48 };

const base = recorded as unknown as Snapshot;
const nodeT = base.nodes[1] ?? (base.nodes[0] as Snapshot["nodes"][number]);
const jobT = base.jobs[0] as Snapshot["jobs"][number];
const t0 = Date.parse(jobT.createdAt);
const nodes = Array.from({ length: NODES }, (_, i) => ({
  ...nodeT,
  id: `node-${i}`,
  name: `gpu${String(i).padStart(3, "0")}`,
  gpusInUse: i % 9,
  gpuTotal: 8,
}));
const STATES = ["running", "succeeded", "failed", "cancelled", "pending"] as const;
const jobs = Array.from({ length: JOBS }, (_, i) => ({
  ...jobT,
  id: `job${i}`,
  name: `sweep-${i}`,
  workspace: `ws${i % 40}`,
  status: STATES[i % STATES.length] as (typeof STATES)[number],
  node: `node-${i % NODES}`,
  assignments: [{ nodeId: `node-${i % NODES}`, gpuUuids: ["GPU-a", "GPU-b"] }],
  gpus: 2,
  createdAt: new Date(t0 - i * 1000).toISOString(),
  startedAt: new Date(t0 - i * 1000 + 500).toISOString(),
}));
const snapshot: Snapshot = { ...base, nodes, jobs, jobsTotal: JOBS };
const now = t0 + 60_000;

// 1. RSS after following a 100,000-line log.
const enc = new TextEncoder();
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    if (!new URL(req.url).pathname.endsWith("/log")) return new Response("not here", { status: 404 });
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent >= LOG_LINES) {
            controller.enqueue(enc.encode(`event: end\ndata: {"status":"succeeded","exitCode":0}\n\n`));
            controller.close();
            return;
          }
          let chunk = "";
          for (let k = 0; k < 1000 && sent < LOG_LINES; k++, sent++)
            chunk += `event: line\ndata: step ${sent} loss=${(1 / (sent + 1)).toFixed(6)} lr=0.001 epoch=${sent >> 10}\n\n`;
          controller.enqueue(enc.encode(chunk));
          await Bun.sleep(1);
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  },
});
const url = `http://127.0.0.1:${server.port}`;
const real = apiSource(url, () => "bench");
let done!: () => void;
const ended = new Promise<void>((resolve) => {
  done = resolve;
});
let lines = 0;
const source: Source = {
  where: url,
  load: async () => snapshot,
  connect: async () => null,
  disconnect: async () => null,
  probe: () => Promise.reject(new Error("no")),
  cancel: async () => null,
  setActive: async () => null,
  followLog: (id, on, signal) =>
    real.followLog(
      id,
      {
        line: (l) => {
          lines++;
          on.line(l);
        },
        end: (e) => {
          on.end(e);
          done();
        },
      },
      signal,
    ),
};
class Sink extends Writable {
  columns = size.columns;
  rows = size.rows;
  isTTY = true;
  override _write(_c: unknown, _e: string, cb: () => void) {
    cb();
  }
}
const stdin = Object.assign(new EventEmitter(), {
  isTTY: true,
  setRawMode: () => {},
  setEncoding: () => {},
  resume: () => {},
  pause: () => {},
  ref: () => {},
  unref: () => {},
  read: () => null,
});
Bun.gc(true);
const rssBefore = process.memoryUsage().rss;
const app = render(h(Dashboard, { source, size, pollMs: 2000, follow: { jobId: "job0", name: "sweep-0" } }), {
  stdout: new Sink() as unknown as NodeJS.WriteStream,
  stdin: stdin as unknown as NodeJS.ReadStream,
  patchConsole: false,
});
const followStart = performance.now();
await ended;
await Bun.sleep(500);
Bun.gc(true);
const rssAfter = process.memoryUsage().rss;
app.unmount();
server.stop(true);
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
console.log(
  `followed ${lines} log lines in ${((performance.now() - followStart) / 1000).toFixed(1)} s: RSS ${mb(rssAfter)} MB (before following ${mb(rssBefore)} MB; goal <= 150 MB)`,
);
if (lines !== LOG_LINES) throw new Error(`followed ${lines} lines, expected ${LOG_LINES}`);
// 2. Frames of the Jobs view.
let state: State = reduce(reduce(initialState, { type: "loaded", snapshot, at: now }), { type: "view", view: "jobs" });
const frame = (action: Action) => {
  const start = performance.now();
  state = reduce(state, action);
  const out = renderToString(h(Screen, { state, size, where: "bench", now }), { columns: size.columns });
  const ms = performance.now() - start;
  if (!out.includes("sweep-")) throw new Error("the Jobs view did not render its rows");
  return ms;
};
for (let i = 0; i < 5; i++) frame({ type: "move", delta: 1 }); // warm-up
const keyMs: number[] = [];
for (let i = 0; i < FRAMES; i++) keyMs.push(frame({ type: "move", delta: i % 7 === 0 ? 45 : 1 }));
// A poll that changed one job: the reducer's diff and a redraw.
const pollMs: number[] = [];
for (let i = 0; i < 10; i++) {
  const changed = {
    ...snapshot,
    jobs: snapshot.jobs.map((j, k) => (k === i ? { ...j, status: "failed" as const } : j)),
  };
  pollMs.push(frame({ type: "loaded", snapshot: changed, at: now }));
}
const p95 = [...keyMs].sort((a, b) => a - b)[Math.floor(keyMs.length * 0.95)] as number;
console.log(
  `Jobs view, ${JOBS} jobs, ${NODES} nodes, ${size.columns}x${size.rows}: key frame median ${median(keyMs).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms; poll frame median ${median(pollMs).toFixed(1)} ms`,
);

console.log(benchLine("tui-rss-mb", rssAfter / 1024 / 1024, "<=150"));
console.log(benchLine("tui-frame-ms", median(keyMs), "<=50"));
process.exit(0);
