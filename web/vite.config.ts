// Two pages, bundled into the Python package's static folder: the explorer (/explore) and
// GraphiQL (GET /graphql). Every script, style and font is a file of the bundle, so the browser
// never fetches anything from another host (the server's Content-Security-Policy says so too).
import { resolve } from "node:path";
import { defineConfig } from "vite";

const out = resolve(__dirname, "../src/relgraph/api/static");

export default defineConfig({
  root: __dirname,
  base: "/static/",
  build: {
    outDir: out,
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
    // Reproducible file names (content hashes) and no source maps in the wheel.
    sourcemap: false,
    rollupOptions: {
      // GraphiQL's UI packages mark themselves "use client" (a React Server Components hint
      // that means nothing in a plain bundle): not worth a warning per module on every build.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
      input: {
        explore: resolve(__dirname, "explore/index.html"),
        graphiql: resolve(__dirname, "graphiql/index.html"),
      },
    },
  },
});
