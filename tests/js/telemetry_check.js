// Drives Mozilla's telemetry.js (v2, the dashboard's client of the aggregates service) against a
// running mozaggregator server, the way the dashboards use it: init (channels and dates),
// versions, filter options, histogram info and evolutions by build id and submission date,
// with and without filters, then the derived statistics telemetry.js computes.
//
// No npm dependencies: XMLHttpRequest is shimmed over node's http module.
//
// Usage: TELEMETRY_JS=/path/to/telemetry.js BASE_URL=http://127.0.0.1:5000/ node telemetry_check.js
// Optional: MAX_METRICS (default 40) limits the metrics tried per version.
// Exits 0 when every step succeeded, 1 otherwise; prints one line per step and a summary.
"use strict";

const http = require("http");
const path = require("path");

const telemetryPath = process.env.TELEMETRY_JS;
const baseUrl = process.env.BASE_URL || "http://127.0.0.1:5000/";
const maxMetrics = Number(process.env.MAX_METRICS || 40);
if (!telemetryPath) {
  console.error("TELEMETRY_JS must point at a local copy of telemetry.js");
  process.exit(2);
}

let requests = 0;
const statuses = {};

// The subset of XMLHttpRequest telemetry.js uses: open/send, status, responseText, onload and
// onerror called with `this` = the request, and arbitrary properties (`_loading`).
class XMLHttpRequest {
  open(method, url, async) {
    this.method = method.toUpperCase();
    this.url = url;
    this.async = async !== false;
    this.status = 0;
    this.responseText = "";
  }
  send() {
    requests++;
    const req = http.request(this.url, { method: this.method }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        this.status = res.statusCode;
        statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
        this.responseText = Buffer.concat(chunks).toString("utf8");
        if (this.onload) this.onload.call(this);
      });
    });
    req.on("error", () => {
      this.status = 0;
      if (this.onerror) this.onerror.call(this);
    });
    req.end();
  }
}
global.XMLHttpRequest = XMLHttpRequest;

const { Telemetry } = require(path.resolve(telemetryPath));
Telemetry.BASE_URL = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";

let failures = 0;
let steps = 0;
function step(name, fn) {
  steps++;
  try {
    fn();
    console.log("ok   " + name);
  } catch (e) {
    failures++;
    console.log("FAIL " + name + ": " + (e && e.stack ? e.stack.split("\n")[0] : e));
  }
}
const call = (f, ...args) => new Promise((resolve) => f(...args, (...r) => resolve(r)));

process.on("uncaughtException", (e) => {
  console.log("FAIL uncaught exception (an assertion inside telemetry.js): " + e.message);
  process.exit(1);
});

function checkEvolution(label, evolution) {
  const dates = evolution.dates();
  if (dates.length === 0) throw new Error("no dates");
  const h = evolution.histogram();
  const mean = h.mean();
  const p50 = h.percentile(50);
  const means = evolution.means();
  const subs = evolution.submissions();
  if (![mean, p50].every((x) => typeof x === "number")) throw new Error("non-numeric statistics");
  if (means.length !== dates.length || subs.length !== dates.length) throw new Error("per-date series lengths");
  return `${label}: ${dates.length} dates, ${h.count} samples, mean ${mean.toFixed(2)}, p50 ${p50.toFixed ? p50.toFixed(2) : p50}`;
}

async function main() {
  await new Promise((resolve) => Telemetry.init(resolve));
  const versions = Telemetry.getVersions();
  step("init: channels and dates", () => {
    const channels = Object.keys(Telemetry.CHANNEL_VERSION_DATES);
    if (channels.length === 0) throw new Error("no channels");
    console.log("     channels " + channels.join(",") + "; versions " + versions.join(","));
    if (versions.length === 0) throw new Error("no channel/version in both families");
  });
  let evolutions = 0;
  for (const cv of versions) {
    const [channel, version] = cv.split("/");
    const [filters] = await call(Telemetry.getFilterOptions, channel, version);
    step(`filters ${cv}`, () => {
      if (!filters.metric || filters.metric.length === 0) throw new Error("no metrics");
      for (const os of filters.os || []) {
        if (os.split(",").length < 2) throw new Error("os value without version: " + os);
      }
    });
    const metrics = (filters.metric || []).slice(0, maxMetrics);
    for (const metric of metrics) {
      const [kind, description, buckets] = await call(Telemetry.getHistogramInfo, channel, version, metric, null);
      for (const useSubmissionDate of [true, false]) {
        const [map] = await call(Telemetry.getEvolution, channel, version, metric, {}, useSubmissionDate);
        const labels = Object.keys(map);
        step(`evolution ${cv} ${metric} by ${useSubmissionDate ? "submission date" : "build id"} (${kind}, ${buckets ? buckets.length : 0} buckets)`, () => {
          if (kind !== null && typeof description !== "string") throw new Error("description not a string");
          for (const label of labels) {
            evolutions++;
            const line = checkEvolution(label === "" ? "(unkeyed)" : label, map[label]);
            if (labels.length <= 2) console.log("     " + line);
          }
        });
      }
      if (filters.application && filters.application.length > 0) {
        const f = { application: filters.application[0], os: (filters.os || ["x"])[0].split(",")[0] };
        const [map] = await call(Telemetry.getEvolution, channel, version, metric, f, true);
        step(`evolution ${cv} ${metric} filtered ${JSON.stringify(f)}`, () => {
          for (const label of Object.keys(map)) {
            evolutions++;
            checkEvolution(label, map[label]);
          }
        });
      }
    }
  }
  console.log(`\n${steps - failures} passed, ${failures} failed`);
  console.log(`(${requests} HTTP requests; statuses ${JSON.stringify(statuses)}; ${evolutions} evolutions checked)`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log("FAIL " + e.message);
  process.exit(1);
});
