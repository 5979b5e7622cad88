import { expect, test } from "@playwright/test";

test("the home page is rendered on the server before any script runs", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Palisade", level: 1 })).toBeVisible();
  // The server function ran during rendering: Postgres answered through begin_as.
  await expect(page.getByTestId("db-role")).toHaveText("anon");
  await context.close();
});

test("the page hydrates and the counter responds only then", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const counter = page.getByTestId("counter");
  await expect(counter).toHaveText("Clicked 0 times");
  await counter.click();
  await expect(counter).toHaveText("Clicked 1 time");
  await counter.click();
  await expect(counter).toHaveText("Clicked 2 times");
  expect(errors, "no script errors (CSP violations included)").toEqual([]);
});

test("a server function round trip reads from Postgres", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const before = await page.getByTestId("db-time").textContent();
  const call = page.waitForResponse(
    (r) => r.url().includes("/api/") && r.request().method() === "POST",
  );
  await page.getByTestId("db-recheck").click();
  const response = await call;
  expect(response.status()).toBe(200);
  await expect(page.getByTestId("db-time")).not.toHaveText(before ?? "");
  await expect(page.getByTestId("db-role")).toHaveText("anon");
  // Hydrated forms do not navigate: the page stayed put.
  await expect(page).toHaveURL(/\/$/);
});

test("the form works without JavaScript too", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await page.getByTestId("db-recheck").click();
  // The server function answers a plain form post with a redirect back to the page.
  await expect(page).toHaveURL(/\/\??$/);
  await expect(page.getByTestId("db-role")).toHaveText("anon");
  await context.close();
});

test("unknown pages get a styled 404", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to the home page" })).toBeVisible();
});

test("hashed assets are cached for a year, pages are not", async ({ page, request }) => {
  const assets: string[] = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.startsWith("/pkg/")) assets.push(r.url());
  });
  const pageResponse = await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  expect(pageResponse?.headers()["cache-control"] ?? "").not.toContain("immutable");
  const csp = pageResponse?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("'nonce-");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(assets.some((u) => u.endsWith(".wasm"))).toBe(true);
  for (const url of assets) {
    const r = await request.get(url);
    expect(r.status(), url).toBe(200);
    expect(r.headers()["cache-control"], url).toContain("immutable");
  }
});
