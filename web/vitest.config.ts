import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Unit tests of components and the API client, in jsdom. The browser tests
// have their own config (e2e/vitest.config.ts).
export default defineConfig({
  plugins: [react()],
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
