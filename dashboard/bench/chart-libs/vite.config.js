export default { build: { rollupOptions: { input: { uplot: "uplot.html", plot: "plot.html", echarts: "echarts.html" } } } };
