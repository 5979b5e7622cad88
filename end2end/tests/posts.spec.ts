import { expect, test, type Page } from "@playwright/test";
import { signUpConfirmed, submitSignIn, uniqueEmail } from "./support/accounts";
import { hydrated } from "./support/page";

const PASSWORD = "harbor thistle comet 58 otter";

/** A new, confirmed, signed-in account in this page's context. */
async function signUpAndSignIn(page: Page): Promise<string> {
  const email = uniqueEmail("author");
  await signUpConfirmed(page, email, PASSWORD);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account/);
  return email;
}

test("a draft stays private until published, and an edit shows at once", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUpAndSignIn(page);
  const title = `Field notes ${Date.now()}`;

  // Write a draft, with a server-rendered preview on the way.
  await page.getByTestId("write-link").click();
  await expect(page).toHaveURL(/\/posts\/new$/);
  await hydrated(page);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel(/^Body/).fill("First **draft** of the notes.\n\n<script>window.pwned = 1</script>");
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("preview-body").locator("strong")).toHaveText("draft");
  await expect(page.getByTestId("preview-body").locator("script")).toHaveCount(0);
  await page.getByTestId("save-draft").click();
  await expect(page).toHaveURL(/\/posts\/[a-z0-9-]+\?saved=draft$/);
  await expect(page.getByTestId("draft-notice")).toBeVisible();
  const path = new URL(page.url()).pathname;

  // Signed out: not listed, and the post itself is a 404.
  const visitor = await browser.newContext();
  const anon = await visitor.newPage();
  await anon.goto("/posts");
  await expect(anon.getByText(title)).toHaveCount(0);
  expect((await anon.goto(path))?.status()).toBe(404);
  await expect(anon.getByRole("heading", { name: "This page does not exist" })).toBeVisible();

  // Publish: now everyone sees it, on the list, the post page and the home page.
  await page.getByTestId("publish").click();
  await expect(page).toHaveURL(/saved=published/);
  await expect(page.getByTestId("draft-notice")).toHaveCount(0);
  await anon.goto("/posts");
  await expect(anon.getByRole("link", { name: title })).toBeVisible();
  expect((await anon.goto(path))?.status()).toBe(200);
  await expect(anon.getByTestId("post-title")).toHaveText(title);
  await expect(anon.getByTestId("post-body").locator("strong")).toHaveText("draft");
  expect(await anon.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  await anon.goto("/");
  await expect(anon.getByRole("link", { name: title })).toBeVisible();

  // Edit: the cached pages show the change on the very next load.
  const revised = `${title} (revised)`;
  await page.getByTestId("edit").click();
  await expect(page).toHaveURL(/\/edit$/);
  await hydrated(page);
  await page.getByLabel("Title").fill(revised);
  await page.getByLabel(/^Body/).fill("Revised notes.");
  await page.getByTestId("save").click();
  await expect(page).toHaveURL(/saved=edited/);
  await expect(page.getByTestId("post-title")).toHaveText(revised);
  await anon.goto(path);
  await expect(anon.getByTestId("post-title")).toHaveText(revised);
  await expect(anon.getByTestId("post-body")).toHaveText("Revised notes.");
  await anon.goto("/posts");
  await expect(anon.getByRole("link", { name: revised })).toBeVisible();
  await anon.goto("/");
  await expect(anon.getByRole("link", { name: revised })).toBeVisible();

  // Refused input is shown next to its field, and nothing is saved. A full load this time:
  // the page's CSP must carry this render's nonce (it once came without it; see csp.rs).
  await page.goto("/posts/new");
  await hydrated(page);
  await page.getByLabel(/^Body/).fill("A body without a title.");
  await page.getByTestId("save-draft").click();
  await expect(page.locator('[data-field="title"]')).toHaveText("Give the post a title.");
  await page.goto("/posts/mine");
  await expect(page.getByTestId("my-posts").locator("tbody tr")).toHaveCount(1);

  await visitor.close();
  await context.close();
});
