import { defineConfig, devices } from "@playwright/test";

// The server is started by `cargo leptos end-to-end` (scripts/test) before this runs.
// Against scripts/stack: PALISADE_PUBLIC_URL=https://localhost:58443 and
// PALISADE_E2E_IGNORE_HTTPS_ERRORS=1 (its certificate is self-signed, made by the script).
const baseURL = process.env.PALISADE_PUBLIC_URL ?? "http://localhost:3000";
const ignoreHTTPSErrors = process.env.PALISADE_E2E_IGNORE_HTTPS_ERRORS === "1";
// scripts/e2e: only the specs whose file names contain one of these words, each test N times.
const specs = (process.env.E2E_SPECS ?? "").split(",").filter(Boolean);

export default defineConfig({
  testDir: "./tests",
  ...(specs.length ? { testMatch: specs.map((word) => `**/*${word}*.spec.ts`) } : {}),
  repeatEach: Number(process.env.E2E_REPEAT ?? 1),
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    ignoreHTTPSErrors,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        // Debian's Chromium: Playwright's own browser download is not reachable here.
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
});
