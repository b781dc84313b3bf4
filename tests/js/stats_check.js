// Compares mozaggregator's `tmo` statistics with Mozilla's telemetry.js (v2, the dashboards'
// client): for each case of a JSON file written by mozaggregator-core/tests/stats_tmo.rs, builds
// the telemetry.js objects from an API answer the way telemetry.js does after fetching one
// (`new Telemetry.Evolution(answer.buckets, entries, answer.kind, …)`, then `.histogram()`,
// which sums the per-date entries), and compares `percentile(p)` and `mean()` with our answers.
//
// A value matches when both are finite and within 1e-12 relative, or when telemetry.js gives NaN
// or an infinity and ours is null. For kinds without order (categorical, boolean, flag) we
// answer null by design; telemetry.js computes numbers there, which are counted, not compared.
//
// No npm dependencies, no network.
//
// Usage: TELEMETRY_JS=/path/to/telemetry.js node stats_check.js CASES.json
// Prints one line per failing histogram (the first 25), then "N passed, M failed" (histograms)
// and the comparison totals; exits 0 when every histogram passed, 1 otherwise, 2 on bad usage.
"use strict";

const fs = require("fs");
const path = require("path");

const telemetryPath = process.env.TELEMETRY_JS;
const casesPath = process.argv[2];
if (!telemetryPath || !casesPath) {
  console.error("usage: TELEMETRY_JS=/path/to/telemetry.js node stats_check.js CASES.json");
  process.exit(2);
}

// telemetry.js only creates an XMLHttpRequest when it fetches, which nothing here asks it to
// do; this stand-in makes any attempt fail loudly instead of reaching the network.
class XMLHttpRequest {
  open(method, url) {
    throw new Error(`stats_check.js makes no requests (${method} ${url})`);
  }
  send() {
    throw new Error("stats_check.js makes no requests");
  }
}
global.XMLHttpRequest = XMLHttpRequest;

const { Telemetry } = require(path.resolve(telemetryPath));
const input = JSON.parse(fs.readFileSync(casesPath, "utf8"));
const percentiles = input.percentiles;
const ORDERED = new Set(["exponential", "linear", "enumerated", "count"]);
const TOLERANCE = 1e-12;

let passed = 0;
let failed = 0;
let compared = 0;
let bothNull = 0;
let unorderedNumbers = 0;
let maxRelative = 0;
let worst = "";
const failures = [];

// [ok, relative error] of our value (number or null) against telemetry.js's.
function compare(ours, theirs) {
  if (typeof theirs !== "number") return [false, Infinity];
  if (!Number.isFinite(theirs)) return [ours === null, ours === null ? 0 : Infinity];
  if (typeof ours !== "number") return [false, Infinity];
  if (ours === theirs) return [true, 0];
  const relative = Math.abs(ours - theirs) / Math.max(Math.abs(ours), Math.abs(theirs));
  return [relative <= TOLERANCE, relative];
}

for (const c of input.cases) {
  const answer = c.answer;
  const problems = [];
  try {
    const evolution = new Telemetry.Evolution(answer.buckets, answer.data, answer.kind,
      answer.description, c.name);
    const histogram = evolution.histogram();
    const theirs = percentiles.map((p, i) => ["p" + p, c.ours.percentiles[i],
      histogram.percentile(p)]);
    theirs.push(["mean", c.ours.mean, histogram.mean()]);
    for (const [name, ours, their] of theirs) {
      if (ORDERED.has(answer.kind)) {
        const [ok, relative] = compare(ours, their);
        compared++;
        if (ours === null && ok) bothNull++;
        if (Number.isFinite(relative) && relative > maxRelative) {
          maxRelative = relative;
          worst = `${c.name} ${name}: ours ${ours}, telemetry.js ${their}`;
        }
        if (!ok) problems.push(`${name}: ours ${ours}, telemetry.js ${their}`);
      } else {
        if (ours !== null) problems.push(`${name}: ours ${ours}, expected null for ${answer.kind}`);
        if (Number.isFinite(their)) unorderedNumbers++;
      }
    }
  } catch (e) {
    problems.push("telemetry.js threw: " + (e && e.message ? e.message : e));
  }
  if (problems.length === 0) {
    passed++;
  } else {
    failed++;
    failures.push(`FAIL ${c.name}: ${problems.join("; ")}`);
  }
}

for (const line of failures.slice(0, 25)) console.log(line);
if (failures.length > 25) console.log(`… and ${failures.length - 25} more failing histograms`);
console.log(`${passed} passed, ${failed} failed`);
console.log(`${compared} values compared on ordered kinds (${bothNull} null on both sides), ` +
  `max relative error ${maxRelative}${worst ? " (" + worst + ")" : ""}; ` +
  `${unorderedNumbers} telemetry.js numbers on categorical/boolean/flag left null by design`);
process.exit(failed === 0 ? 0 : 1);
