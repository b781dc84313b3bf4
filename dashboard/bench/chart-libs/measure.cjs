// Same job for each library (one 6-line chart over 30 dates, one 50-bar chart): gzipped size
// of its minified bundle and render time in Chromium. Run: npm ci && npx vite build && node measure.cjs
const { chromium } = require("../../node_modules/playwright-core");
const http = require("http"), fs = require("fs"), path = require("path"), zlib = require("zlib");
const root = path.join(__dirname, "dist");
const srv = http.createServer((q, r) => { const f = path.join(root, q.url.split("?")[0]);
  if (!fs.existsSync(f)) { r.statusCode = 404; return r.end(); }
  r.setHeader("content-type", f.endsWith(".js") ? "text/javascript" : f.endsWith(".css") ? "text/css" : "text/html"); r.end(fs.readFileSync(f)); });
srv.listen(0, "127.0.0.1", async () => {
  const port = srv.address().port;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  for (const lib of ["uplot", "plot", "echarts"]) {
    const times = [];
    for (let i = 0; i < 7; i++) {
      const page = await browser.newPage();
      const t0 = Date.now();
      await page.goto(`http://127.0.0.1:${port}/${lib}.html`);
      await page.waitForFunction(() => window.render);
      const r = await page.evaluate(() => window.render());
      times.push([r, Date.now() - t0]); await page.close();
    }
    times.sort((a, b) => a[0] - b[0]);
    const js = fs.readdirSync(path.join(root, "assets")).filter(f => f.startsWith(lib === "plot" ? "plot" : lib) && f.endsWith(".js"));
    const gz = js.map(f => zlib.gzipSync(fs.readFileSync(path.join(root, "assets", f))).length);
    console.log(lib, "gz bytes", gz, "render ms median", times[3][0].toFixed(1), "load+render ms median", times.sort((a,b)=>a[1]-b[1])[3][1]);
  }
  await browser.close(); srv.close();
});
