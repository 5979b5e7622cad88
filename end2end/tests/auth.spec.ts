import { expect, test, type Page } from "@playwright/test";
import { submitSignIn, uniqueEmail } from "./support/accounts";
import { latestMail, linkTo } from "./support/mail";
import { hydrated } from "./support/page";

const PASSWORD = "glacier orbit lantern 7 walrus";
const NEW_PASSWORD = "copper meadow quartz 42 heron";
const RESET_PASSWORD = "violet canyon ember 19 puffin";

async function signIn(page: Page, email: string, password: string) {
  await submitSignIn(page, email, password);
  await expect(page).toHaveURL(/\/account/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
}

test("a new account from sign-up to deletion", async ({ browser }) => {
  const email = uniqueEmail("flow");
  const started = Date.now() - 1000;
  const context = await browser.newContext();
  const page = await context.newPage();

  // Sign up, with live password feedback once hydrated: the length at once, the rest from
  // the server (zxcvbn is not in the wasm), asked once typing pauses.
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("short");
  await expect(page.getByTestId("password-strength")).toContainText("Use at least 8 characters");
  const rated = page.waitForResponse(
    (r) => r.url().endsWith("/api/auth/password_strength") && r.ok(),
  );
  await page.getByLabel("Password").fill("password1");
  await rated;
  await expect(page.getByTestId("password-strength")).toContainText("too easy to guess");
  await page.getByLabel("Password").fill(PASSWORD);
  await expect(page.getByTestId("password-strength")).toContainText(/Good|Strong/);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("signup-done")).toBeVisible();

  // Unconfirmed: sign-in is refused with a way to resend.
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("unconfirmed")).toBeVisible();

  // Confirm through the emailed link: the GET shows a button, the POST spends the token.
  const welcome = await latestMail(email, /confirm/i, started);
  await page.goto(linkTo(welcome, "/verify"));
  await page.getByTestId("confirm").click();
  await expect(page).toHaveURL(/\/signin\?verified=1/);

  await signIn(page, email, PASSWORD);

  // Edit the profile.
  const username = `u${Date.now() % 1e9}`;
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill("Ada Lovelace");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page).toHaveURL(/saved=profile/);
  await expect(page.getByLabel("Display name")).toHaveValue("Ada Lovelace");

  // Change the password.
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page).toHaveURL(/saved=password/);

  // A second browser signs in: both sessions are listed.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, email, NEW_PASSWORD);
  await page.reload();
  await expect(page.getByTestId("sessions").locator("li")).toHaveCount(2);

  // Revoke the other one: it is signed out on its next request.
  await page.getByTestId("sessions").locator('li[data-current="false"]').getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByTestId("sessions").locator("li")).toHaveCount(1);
  await otherPage.goto("/account");
  await expect(otherPage).toHaveURL(/\/signin/);

  // Forgot → reset: every old session is gone.
  const beforeReset = Date.now() - 1000;
  await otherPage.goto("/forgot");
  await hydrated(otherPage);
  await otherPage.getByLabel("Email").fill(email);
  await otherPage.getByRole("button", { name: "Send me a link" }).click();
  await expect(otherPage).toHaveURL(/sent=1/);
  const reset = await latestMail(email, /reset/i, beforeReset);
  await otherPage.goto(linkTo(reset, "/reset"));
  await hydrated(otherPage);
  await otherPage.getByLabel("New password").fill(RESET_PASSWORD);
  await otherPage.getByRole("button", { name: "Set the new password" }).click();
  await expect(otherPage).toHaveURL(/\/signin\?reset=1/);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/signin/);

  // Sign in with the new password and delete the account.
  await signIn(page, email, RESET_PASSWORD);
  await page.locator("#delete_password").fill(RESET_PASSWORD);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/\?deleted=1/);
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(RESET_PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("Email or password is incorrect.");

  await other.close();
  await context.close();
});

test("forms work before the wasm loads", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/signin");
  await page.getByLabel("Email").fill(uniqueEmail("nojs"));
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("Email or password is incorrect.");
  await context.close();
});
