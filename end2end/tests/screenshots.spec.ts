import { expect, test, type Page } from "@playwright/test";
import { demoAdmin, signUpConfirmed, submitSignIn, uniqueEmail } from "./support/accounts";
import { hydrated } from "./support/page";

// The README's screenshots, taken from the server scripts/e2e starts (a fresh test
// database, so what they show is made here): `SCREENSHOTS=1 scripts/e2e screenshots`.
// Skipped in every other run; it checks nothing the other specs do not.
test.skip(!process.env.SCREENSHOTS, "only when asked for: SCREENSHOTS=1 scripts/e2e screenshots");

const OUT = "../docs/screenshots";
const PASSWORD = "lantern basalt heron 58 quill";

async function shoot(page: Page, path: string, name: string) {
  await page.goto(path);
  await hydrated(page);
  await page.screenshot({ path: `${OUT}/${name}.png` });
}

async function publish(page: Page, title: string, body: string) {
  await page.goto("/posts/new");
  await hydrated(page);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel(/^Body/).fill(body);
  await page.getByTestId("save-draft").click();
  await expect(page).toHaveURL(/saved=draft$/);
  await page.getByTestId("publish").click();
  await expect(page).toHaveURL(/saved=published/);
}

test("the README's screenshots", async ({ browser }) => {
  test.slow();
  const viewport = { width: 1200, height: 820 };
  const visitor = await (await browser.newContext({ viewport })).newPage();
  await shoot(visitor, "/signup", "signup");

  const author = await (await browser.newContext({ viewport })).newPage();
  const email = uniqueEmail("writer");
  await signUpConfirmed(author, email, PASSWORD);
  await submitSignIn(author, email, PASSWORD);
  await expect(author).toHaveURL(/\/account/);
  await publish(author, "Why one binary", "Postgres, Redis and **one process** to deploy.");
  await publish(author, "Sessions you can revoke", "Every device listed, each one ends on a click.");
  await shoot(author, "/account", "account");

  await shoot(visitor, "/", "home");
  await shoot(visitor, "/posts", "posts");
  await shoot(visitor, "/no/such/page", "not-found");

  const admin = demoAdmin();
  const page = await (await browser.newContext({ viewport })).newPage();
  await submitSignIn(page, admin.email, admin.password);
  await expect(page).toHaveURL(/\/account/);
  await shoot(page, "/admin/users", "admin");
});
