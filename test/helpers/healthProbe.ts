// `bun test/helpers/healthProbe.ts URL SECONDS [EVERY_MS]`: GETs URL/api/health every EVERY_MS
// (default 100) for SECONDS and prints one JSON object: the latencies (ms) and every failure.
// A process of its own, so the latency measured is the master's, not the event loop of the test
// that drives the load. For comparison it also probes a bare Bun server of its own (`control`):
// what the machine's own scheduling costs a request at that moment (other processes share it).
export {};

const [base, seconds, everyArg] = process.argv.slice(2);
if (!base || !seconds) throw new Error("usage: healthProbe.ts URL SECONDS [EVERY_MS]");
const every = Number(everyArg ?? 100);
const end = Date.now() + Number(seconds) * 1000;
const control = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ status: "ok" }) });
const latencies: number[] = [];
const controlLatencies: number[] = [];
const failures: string[] = [];

async function probe(url: string): Promise<number> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status?: string };
    if (res.status !== 200 || body.status !== "ok") failures.push(`${res.status} ${JSON.stringify(body)}`);
  } catch (err) {
    failures.push(String(err));
  }
  return performance.now() - t0;
}

while (Date.now() < end) {
  const t0 = performance.now();
  latencies.push(await probe(`${base}/api/health`));
  controlLatencies.push(await probe(`http://127.0.0.1:${control.port}/`));
  await Bun.sleep(Math.max(0, every - (performance.now() - t0)));
}
control.stop(true);
console.log(JSON.stringify({ latencies, controlLatencies, failures }));
