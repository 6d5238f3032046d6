import { defineConfig } from "vitest/config";

// The browser tests: a real quoteflow (global-setup.ts) driven by Debian's
// Chromium through playwright-core (harness.ts). Node environment; one
// file at a time, as the machines have two cores and one browser each.
export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    environment: "node",
    include: ["e2e/**/*.spec.ts"],
    globalSetup: ["e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
