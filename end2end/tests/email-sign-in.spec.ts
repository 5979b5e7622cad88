// Email sign-in (issue 12): "Email me a sign-in link" on /signin mails a link and a code. Mail
// scanners fetch the link before the person clicks: that spends nothing; the click on the
// confirm page does. The code works in another browser.
import { expect, test } from "@playwright/test";

import { signUpConfirmed, uniqueEmail } from "./support/accounts";
import { latestMail, linkTo } from "./support/mail";
import { hydrated } from "./support/page";

const password = "Email-Sign-In-Password-42";

test("a sign-in link survives a mail scanner, signs in on the click, and its code works elsewhere", async ({
  page,
  browser,
  playwright,
}) => {
  const email = uniqueEmail("email-signin");
  await signUpConfirmed(page, email, password);
  let since = Date.now() - 1000;

  await page.goto("/signin");
  await hydrated(page);
  await page.getByRole("link", { name: "Email me a sign-in link" }).click();
  await expect(page).toHaveURL(/\/signin\/email$/);
  await page.locator("#ask-email").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page).toHaveURL(/\/signin\/email\?sent=1/);
  const link = linkTo(await latestMail(email, /sign-in link/i, since), "/signin/email");

  // The scanner: three GETs and a HEAD, with no cookies of the person's.
  const scanner = await playwright.request.newContext({ baseURL: new URL(page.url()).origin });
  for (const method of ["GET", "HEAD", "GET", "GET"]) {
    const seen = await scanner.fetch(link, { method });
    expect(seen.status()).toBe(200);
  }
  await scanner.dispose();

  await page.goto(link);
  await page.getByTestId("confirm").click();
  await expect(page).toHaveURL(/\/account/);

  // The code, typed in another browser.
  since = Date.now() - 1000;
  const other = await browser.newContext();
  const elsewhere = await other.newPage();
  await elsewhere.goto("/signin/email");
  await hydrated(elsewhere);
  await elsewhere.locator("#ask-email").fill(email);
  await elsewhere.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(elsewhere).toHaveURL(/\/signin\/email\?sent=1/);
  const mail = await latestMail(email, /sign-in link/i, since);
  const code = mail.text.match(/^\s+(\d{6})\s*$/m)![1];
  await elsewhere.locator("#email").fill(email);
  await elsewhere.locator("#code").fill(code);
  await elsewhere.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(elsewhere).toHaveURL(/\/account/);
  await other.close();
});
