import uPlot from "uplot"; import "uplot/dist/uPlot.min.css"; import {dates, series, bars} from "./data.js";
window.render = () => { const t0 = performance.now();
  new uPlot({width: 800, height: 300, series: [{}, ...series.map(() => ({stroke: "red"}))]}, [dates, ...series], document.body);
  const x = bars.map((_, i) => i);
  new uPlot({width: 800, height: 300, scales: {x: {time: false}}, series: [{}, {paths: uPlot.paths.bars(), fill: "blue"}]}, [x, bars], document.body);
  return performance.now() - t0; };
