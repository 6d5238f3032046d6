import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

// The build is committed (internal/web/dist) and CI rebuilds it and fails on
// any difference, so the output must depend on the sources only: content
// hashes in names, no timestamps, no source maps that embed absolute paths.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: fileURLToPath(new URL("../internal/web/dist", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        entryFileNames: "assets/[name]-[hash].js",
        chunkFileNames: "assets/[name]-[hash].js",
        assetFileNames: "assets/[name]-[hash][extname]",
      },
    },
  },
  server: {
    // `npm run dev` against a quoteflow serve on :8080 (docs/WEB.md).
    proxy: { "/v1": "http://127.0.0.1:8080" },
  },
});
