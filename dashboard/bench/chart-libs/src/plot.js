import * as Plot from "@observablehq/plot"; import {dates, series, bars} from "./data.js";
window.render = () => { const t0 = performance.now();
  const rows = series.flatMap((s, k) => s.map((y, i) => ({x: new Date(dates[i] * 1000), y, k})));
  document.body.append(Plot.plot({width: 800, height: 300, marks: [Plot.line(rows, {x: "x", y: "y", stroke: "k"})]}));
  document.body.append(Plot.plot({width: 800, height: 300, marks: [Plot.barY(bars.map((y, i) => ({i, y})), {x: "i", y: "y"})]}));
  return performance.now() - t0; };
