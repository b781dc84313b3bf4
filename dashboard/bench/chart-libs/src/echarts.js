import * as echarts from "echarts/core"; import {LineChart, BarChart} from "echarts/charts";
import {GridComponent, TooltipComponent} from "echarts/components"; import {CanvasRenderer} from "echarts/renderers";
import {dates, series, bars} from "./data.js";
echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, CanvasRenderer]);
window.render = () => { const t0 = performance.now();
  for (const opt of [
    {xAxis: {type: "time"}, yAxis: {}, tooltip: {}, series: series.map(s => ({type: "line", data: s.map((y, i) => [dates[i] * 1000, y])}))},
    {xAxis: {type: "category"}, yAxis: {}, tooltip: {}, series: [{type: "bar", data: bars}]}]) {
    const d = document.createElement("div"); d.style.cssText = "width:800px;height:300px"; document.body.append(d);
    echarts.init(d).setOption(opt); }
  return performance.now() - t0; };
