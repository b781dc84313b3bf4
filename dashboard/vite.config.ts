import { defineConfig } from "vite";

// The dashboard is served by `mozaggregator serve` at `/`, its assets under `/dashboard/assets/`
// (hashed names: the server marks them immutable). No inline scripts or styles: the server's
// Content-Security-Policy forbids them.
export default defineConfig({
  base: "/dashboard/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2020",
  },
  server: {
    // `npm run dev` proxies the API to a running `mozaggregator serve` (MOZAGGREGATOR_URL).
    proxy: Object.fromEntries(
      ["/aggregates_by", "/filters", "/authed"].map((p) => [
        p,
        process.env.MOZAGGREGATOR_URL ?? "http://127.0.0.1:5000",
      ]),
    ),
  },
});
