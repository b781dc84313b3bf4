// Shared pieces of the browser tests: the `mozaggregator` binary, stores made by the real
// ingest of generated pings, servers on free ports, and Debian's Chromium driven by
// playwright-core.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "..", "..");

/** The `mozaggregator` binary: $MOZAGGREGATOR_BIN, else the debug build of the workspace. */
export function binary() {
  const candidates = [
    process.env.MOZAGGREGATOR_BIN,
    process.env.CARGO_TARGET_DIR && path.join(process.env.CARGO_TARGET_DIR, "debug", "mozaggregator"),
    path.join(repo, "target", "debug", "mozaggregator"),
  ].filter(Boolean);
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`no mozaggregator binary (tried ${candidates.join(", ")}); build it or set MOZAGGREGATOR_BIN`);
  return found;
}

/** Where screenshots and measurements go (gitignored). */
export const artifacts = process.env.DASHBOARD_ARTIFACTS ?? path.join(repo, "target", "dashboard-artifacts");
fs.mkdirSync(artifacts, { recursive: true });

export function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dashboard-${name}-`));
}

/**
 * A store made the way production makes one: `mozaggregator generate` pings for each
 * submission date piped into `mozaggregator aggregate`.
 */
export function makeStore(dir, { days, pings, seed = 1 }) {
  const bin = binary();
  const db = path.join(dir, "store.sqlite");
  for (const [i, day] of days.entries()) {
    execFileSync(
      "bash",
      ["-o", "pipefail", "-c", `"$0" generate --pings ${pings} --seed ${seed + i} --submission-date ${day} | "$0" aggregate --db "$1" - > /dev/null`, bin, db],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
  }
  return db;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/**
 * Runs `mozaggregator ARGS --bind 127.0.0.1:PORT` and waits until it answers `/status`.
 * Returns `{url, stdout(), stop()}`.
 */
export async function startServer(args, { timeoutMs = 300_000 } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(binary(), [...args, "--bind", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${err}`);
    try {
      const r = await fetch(`${url}/status`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`server did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stdout: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export async function launchBrowser() {
  // playwright-core gives every launch a fresh, temporary --user-data-dir of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A page that records console errors, page errors and failed requests (a 403 or 404 the page
 * handles is not an error of the page, but the browser logs it to the console: those are
 * kept apart in `httpErrors`).
 */
export async function newPage(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  const httpErrors = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/Failed to load resource: the server responded with a status of (403|404)/.test(m.text())) httpErrors.push(m.text());
    else errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, context, errors, httpErrors };
}

/** Waits until the page finished the render of its current state. */
export async function settled(page) {
  await page.waitForFunction(() => document.body.dataset.ready && !document.querySelector("#status")?.textContent?.startsWith("Loading"));
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

export async function getJson(url, headers = {}) {
  const r = await fetch(url, { headers });
  if (!r.ok) throw new Error(`${r.status} ${url}: ${await r.text()}`);
  return r.json();
}

/** Submission dates ending `n` days before 2024-02-01 (fixed, so runs are reproducible). */
export function days(n, end = "20240131") {
  const t = Date.UTC(+end.slice(0, 4), +end.slice(4, 6) - 1, +end.slice(6, 8));
  return Array.from({ length: n }, (_, i) => new Date(t - (n - 1 - i) * 86400e3).toISOString().slice(0, 10).replace(/-/g, ""));
}
