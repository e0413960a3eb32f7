// The GPU usage chart (uPlot), loaded on demand: only Workspace Home needs it, so it stays out
// of the login page's bundle.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface UsagePoint {
  at: string;
  training: number;
  deployment: number;
}

/** Draws the series into `el` (replacing what was there); returns a function that removes it. */
export function drawUsage(el: HTMLElement, points: readonly UsagePoint[], width: number): () => void {
  const xs = points.map((p) => Date.parse(p.at) / 1000);
  const css = getComputedStyle(document.documentElement);
  const accent = css.getPropertyValue("--accent").trim() || "#2f5bea";
  const ok = css.getPropertyValue("--ok").trim() || "#1f8a4c";
  el.replaceChildren();
  const plot = new uPlot(
    {
      width,
      height: 220,
      // The browser's local time, as every date on the page.
      tzDate: (ts) => new Date(ts * 1000),
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max))] } },
      axes: [{}, { label: "GPUs", values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) }],
      series: [
        {},
        {
          label: "Training",
          stroke: accent,
          fill: `${accent}22`,
          width: 2,
          paths: uPlot.paths.stepped?.({ align: 1 }),
        },
        { label: "Deployment", stroke: ok, fill: `${ok}22`, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) },
      ],
    },
    [xs, points.map((p) => p.training), points.map((p) => p.deployment)],
    el,
  );
  return () => plot.destroy();
}
