import { expect, test, type Page } from "@playwright/test";
import { demoAdmin, signUpConfirmed, submitSignIn, uniqueEmail } from "./support/accounts";
import { hydrated } from "./support/page";

const PASSWORD = "ember quarry violet 58 osprey";

test("an admin bans a user signed in elsewhere: signed out at once, refused at sign-in, all in the audit log", async ({
  browser,
}) => {
  // Three sign-ins and a sign-up, each an argon2 hash in a debug build: give it room.
  test.slow();
  const admin = demoAdmin();
  const userEmail = uniqueEmail("banned");

  // The user, signed in in a browser of their own; the admin area is not for them.
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  await signUpConfirmed(user, userEmail, PASSWORD);
  await submitSignIn(user, userEmail, PASSWORD);
  await expect(user).toHaveURL(/\/account/);
  await expect(user.getByTestId("admin-link")).toHaveCount(0);
  const refused = await user.goto("/admin");
  expect(refused?.status()).toBe(403);
  await expect(user.getByRole("heading", { name: "Admins only" })).toBeVisible();

  // The admin, in another browser, finds the user and bans them for a day.
  const adminContext = await browser.newContext();
  const page = await adminContext.newPage();
  await submitSignIn(page, admin.email, admin.password);
  await expect(page).toHaveURL(/\/account/);
  await page.getByTestId("admin-link").click();
  await expect(page).toHaveURL(/\/admin$/);
  await hydrated(page);
  await page.getByLabel("Find a user").fill(userEmail);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/\/admin\/users\?q=/);
  await page.getByRole("link", { name: userEmail }).click();
  await expect(page.getByTestId("user-email")).toHaveText(userEmail);
  await expect(page.getByTestId("user-banned")).toHaveText("Not banned");
  await page.getByLabel("Ban for").selectOption("1d");
  await page.getByRole("button", { name: "Ban", exact: true }).click();
  await expect(page).toHaveURL(/done=banned/);
  await expect(page.getByTestId("user-banned")).not.toHaveText("Not banned");

  // The user's very next request is signed out...
  await user.goto("/account");
  await expect(user).toHaveURL(/\/signin/);
  await expect(user.getByTestId("sign-out")).toHaveCount(0);
  // ...and signing in again is refused.
  await submitSignIn(user, userEmail, PASSWORD);
  await expect(user.getByRole("alert")).toContainText("This account is suspended");
  await expect(user).toHaveURL(/\/signin/);

  // The audit log (reached through the admin sub-navigation) shows the ban, by the admin,
  // and the refused sign-in.
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await hydrated(page);
  await page.getByLabel("Target").fill(userEmail);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/target=/);
  const entries = page.getByTestId("audit-entries");
  const ban = entries.locator('tr[data-action="admin.user_banned"]');
  await expect(ban).toHaveCount(1);
  // Columns: time, action, actor, target, …; the seed's admin has the random handle every
  // sign-up gets (`user_` and hex digits), never a name taken from its email address.
  await expect(ban.locator("td").nth(2)).toHaveText(/^user_[0-9a-f]{10}$/);
  await expect(entries.locator('tr[data-action="user.sign_in_refused_banned"]')).toHaveCount(1);
  // Newest first: the refusal came after the ban.
  const actions = await entries.locator("tbody tr").evaluateAll((rows) =>
    rows.map((r) => r.getAttribute("data-action")),
  );
  expect(actions.indexOf("user.sign_in_refused_banned")).toBeLessThan(
    actions.indexOf("admin.user_banned"),
  );

  await userContext.close();
  await adminContext.close();
});
