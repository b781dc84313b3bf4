// uPlot wrappers: bars per bucket (with an optional CDF line), lines over dates, and a hover
// tooltip with the exact numbers. Every chart draws what the API answered; nothing here
// computes a statistic.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

const live = new Set<uPlot>();

/** Destroys the charts of the previous render. */
export function destroyCharts(): void {
  for (const u of live) u.destroy();
  live.clear();
}

function width(el: HTMLElement): number {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || 600));
}

const height = () => (window.innerWidth < 600 ? 240 : 320);

export const fmt = (v: number | null | undefined, digits = 4): string => {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) return v.toExponential(3);
  return v.toLocaleString("en-US", { maximumSignificantDigits: digits + 2 });
};

/** A tooltip that follows the cursor and lists every series' exact value at that x. */
function tooltipPlugin(xLabel: (idx: number) => string, valueFmt: (v: number | null | undefined, si: number) => string, colorOf: (si: number) => string): uPlot.Plugin {
  let tip: HTMLDivElement;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "tooltip";
        tip.hidden = true;
        u.over.appendChild(tip);
        u.over.addEventListener("mouseleave", () => (tip.hidden = true));
      },
      setCursor: (u) => {
        const idx = u.cursor.idx;
        if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
          tip.hidden = true;
          return;
        }
        const rows = [`<b>${escapeHtml(xLabel(idx))}</b>`];
        u.series.forEach((s, si) => {
          if (si === 0 || !s.show) return;
          const v = u.data[si][idx];
          rows.push(`<span class="sw" data-c="${si}"></span>${escapeHtml(String(s.label ?? ""))}: ${escapeHtml(valueFmt(v, si))}`);
        });
        tip.innerHTML = rows.join("<br>");
        tip.querySelectorAll<HTMLSpanElement>(".sw").forEach((sw) => (sw.style.background = colorOf(Number(sw.dataset.c))));
        tip.hidden = false;
        const left = u.cursor.left ?? 0;
        const top = u.cursor.top ?? 0;
        const w = u.over.clientWidth;
        tip.style.left = `${left > w / 2 ? left - tip.offsetWidth - 12 : left + 12}px`;
        tip.style.top = `${Math.max(0, top - 10)}px`;
      },
    },
  };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function resizeWith(u: uPlot, el: HTMLElement): void {
  const ro = new ResizeObserver(() => {
    if (live.has(u)) u.setSize({ width: width(el), height: height() });
  });
  ro.observe(el);
  const destroy = u.destroy.bind(u);
  u.destroy = () => {
    ro.disconnect();
    destroy();
  };
}

export interface BarSeries {
  label: string;
  values: number[];
}

/**
 * Bars per bucket, one bar group per bucket (evenly spaced: for exponential layouts the bucket
 * bounds grow geometrically, so the axis is logarithmic in value), labelled with the bucket's
 * lower bound. `cdf` adds each series' cumulative proportion on a right-hand axis.
 */
export function barChart(
  el: HTMLElement,
  opts: { buckets: (number | string)[]; series: BarSeries[]; cdf?: number[][]; xTitle: string; yTitle: string; title: string },
): uPlot {
  const n = opts.buckets.length;
  const xs = Array.from({ length: n }, (_, i) => i);
  const k = opts.series.length;
  const size = k === 1 ? 0.9 : 0.45;
  const series: uPlot.Series[] = [{ label: "bucket" }];
  opts.series.forEach((s, i) => {
    series.push({
      label: s.label,
      stroke: COLORS[i],
      fill: COLORS[i] + "b0",
      width: 0,
      // One series: centred bars; two: side by side (left of the bucket, right of it).
      paths: uPlot.paths.bars!({ size: [size, Infinity], align: k === 1 ? 0 : i === 0 ? 1 : -1 }),
      points: { show: false },
    });
  });
  const data: uPlot.AlignedData = [xs, ...opts.series.map((s) => s.values)];
  (opts.cdf ?? []).forEach((c, i) => {
    series.push({ label: `CDF ${opts.series[i]?.label ?? ""}`, stroke: COLORS[i], width: 2, dash: [6, 3], scale: "cdf", points: { show: false } });
    data.push(c);
  });
  const label = (i: number) => String(opts.buckets[Math.round(i)] ?? "");
  const u = new uPlot(
    {
      title: opts.title,
      width: width(el),
      height: height(),
      legend: { live: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.6, n - 0.4] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] }, cdf: { range: [0, 1] } },
      axes: [
        {
          label: opts.xTitle,
          values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? label(s) : "")),
          // As many bucket labels as fit (about 70 px each).
          splits: (u) => {
            const fit = Math.max(2, Math.floor(u.bbox.width / uPlot.pxRatio / 70));
            const step = Math.max(1, Math.ceil(n / fit));
            return xs.filter((x) => x % step === 0);
          },
          rotate: 0,
        },
        { label: opts.yTitle, values: (_u, splits) => splits.map((v) => `${+(v * 100).toFixed(2)}%`), size: 60 },
        ...(opts.cdf?.length ? [{ scale: "cdf", side: 1, label: "cumulative proportion", grid: { show: false }, values: (_u: uPlot, splits: number[]) => splits.map((v) => `${Math.round(v * 100)}%`), size: 50 } as uPlot.Axis] : []),
      ],
      series,
      plugins: [tooltipPlugin((i) => `bucket ${label(i)}`, (v) => (v === null || v === undefined ? "–" : `${fmt(v * 100, 4)}%`), (si) => COLORS[(si - 1) % k])],
    },
    data,
    el,
  );
  live.add(u);
  resizeWith(u, el);
  return u;
}

export interface LineSeries {
  label: string;
  values: (number | null)[];
  scale?: string;
  dash?: number[];
}

const toTs = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8)) / 1000;
export const prettyDate = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

/** Lines over dates (YYYYMMDD), one per series; a second y axis for series on scale `y2`. */
export function lineChart(
  el: HTMLElement,
  opts: { dates: string[]; series: LineSeries[]; xTitle: string; yTitle: string; y2Title?: string; title: string; percent?: boolean },
): uPlot {
  const xs = opts.dates.map(toTs);
  const hasY2 = opts.series.some((s) => s.scale === "y2");
  const u = new uPlot(
    {
      title: opts.title,
      width: width(el),
      height: height(),
      legend: { live: false },
      // Room on the right for the last date's label.
      padding: [10, hasY2 ? 10 : 44, 0, 0],
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y2: {} },
      axes: [
        {
          label: opts.xTitle,
          // Ticks on the dates themselves (UTC days), as many as fit (about 90 px each).
          splits: (u) => {
            const fit = Math.max(2, Math.floor(u.bbox.width / uPlot.pxRatio / 90));
            const step = Math.max(1, Math.ceil(xs.length / fit));
            return xs.filter((_, i) => i % step === 0);
          },
          values: (_u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(0, 10)),
        },
        { label: opts.yTitle, size: 70, values: (_u, splits) => splits.map((v) => (opts.percent ? `${+(v * 100).toFixed(2)}%` : fmt(v, 3))) },
        ...(hasY2 ? [{ scale: "y2", side: 1, label: opts.y2Title ?? "", grid: { show: false }, size: 70, values: (_u: uPlot, splits: number[]) => splits.map((v) => fmt(v, 3)) } as uPlot.Axis] : []),
      ],
      series: [
        { label: "date" },
        ...opts.series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          scale: s.scale ?? "y",
          dash: s.dash,
          spanGaps: false,
          points: { show: true, size: 5 },
        })),
      ],
      plugins: [tooltipPlugin((i) => prettyDate(opts.dates[i] ?? ""), (v, si) => (opts.percent && opts.series[si - 1]?.scale !== "y2" && v != null ? `${fmt(v * 100, 4)}%` : fmt(v ?? null)), (si) => COLORS[(si - 1) % COLORS.length])],
    },
    [xs, ...opts.series.map((s) => s.values)] as uPlot.AlignedData,
    el,
  );
  live.add(u);
  resizeWith(u, el);
  return u;
}
