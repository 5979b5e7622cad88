import { expect, test, type Browser, type Page } from "@playwright/test";
import { demoAdmin, submitSignIn } from "./support/accounts";

test("the home page is rendered on the server before any script runs", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Palisade", level: 1 })).toBeVisible();
  // The posts list server function ran during rendering.
  await expect(page.getByRole("heading", { name: "Latest posts" })).toBeVisible();
  await context.close();
});

test("the page hydrates and its links then navigate without a reload", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  // A marker on the window survives only a navigation made by the hydrated router.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Posts" }).click();
  await expect(page).toHaveURL(/\/posts$/);
  await expect(page.getByRole("heading", { name: "Posts", level: 1 })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  expect(errors, "no script errors (CSP violations included)").toEqual([]);
});

/** The demo admin, signed in, on the admin System page (which shows the database). */
async function adminOnSystemPage(page: Page) {
  const admin = demoAdmin();
  await submitSignIn(page, admin.email, admin.password);
  await expect(page).toHaveURL(/\/account/);
  await page.goto("/admin/system");
}

test("a server function round trip reads from Postgres", async ({ page }) => {
  test.slow(); // an argon2 sign-in in a debug build
  await adminOnSystemPage(page);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const before = await page.getByTestId("db-time").textContent();
  const call = page.waitForResponse(
    (r) => r.url().includes("/api/") && r.request().method() === "POST",
  );
  await page.getByTestId("db-recheck").click();
  const response = await call;
  expect(response.status()).toBe(200);
  await expect(page.getByTestId("db-time")).not.toHaveText(before ?? "");
  await expect(page.getByTestId("db-role")).toHaveText("admin");
  // Hydrated forms do not navigate: the page stayed put.
  await expect(page).toHaveURL(/\/admin\/system$/);
});

test("the form works without JavaScript too", async ({ browser }: { browser: Browser }) => {
  test.slow();
  const signedIn = await browser.newContext();
  await adminOnSystemPage(await signedIn.newPage());
  // The same session, in a browser without JavaScript.
  const context = await browser.newContext({
    javaScriptEnabled: false,
    storageState: await signedIn.storageState(),
  });
  const page = await context.newPage();
  await page.goto("/admin/system");
  await page.getByTestId("db-recheck").click();
  // The server function answers a plain form post with a redirect back to the page.
  await expect(page).toHaveURL(/\/admin\/system\??$/);
  await expect(page.getByTestId("db-role")).toHaveText("admin");
  await context.close();
  await signedIn.close();
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
