// Second factors in the browser: enrol an authenticator app (codes computed here from the
// secret the page shows, as an app would), sign in with a code, with a recovery code, and
// step up before changing the password on a session that predates the factor.
import { createHmac } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { signUpConfirmed, submitSignIn, uniqueEmail } from "./support/accounts";
import { hydrated } from "./support/page";

const PASSWORD = "granite ferry nimbus 58 otter";
const NEW_PASSWORD = "saffron pylon drizzle 31 lynx";

function base32Decode(input: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of input.replace(/=+$/, "").toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238: HMAC-SHA1, 30-second steps, 6 digits. */
function totp(secret: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac("sha1", secret).update(counter).digest();
  const offset = digest[19] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/** A code the server has not seen yet: each accepted code must be of a later time step than
 * the one before (replays are refused), and at most one step ahead of now. */
async function nextCode(secret: Buffer, used: { step: number }): Promise<string> {
  for (;;) {
    const now = Math.floor(Date.now() / 30_000);
    const step = Math.max(now, used.step + 1);
    if (step <= now + 1) {
      used.step = step;
      return totp(secret, step);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function signOut(page: Page) {
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/$/);
}

test("enrol TOTP, sign in with a code and a recovery code, step up to change the password", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const email = uniqueEmail("mfa");
  const page = await (await browser.newContext()).newPage();
  await signUpConfirmed(page, email, PASSWORD);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account/);

  // A second browser signed in before the factor exists: its session stays aal1.
  const laptop = await (await browser.newContext()).newPage();
  await submitSignIn(laptop, email, PASSWORD);
  await expect(laptop).toHaveURL(/\/account/);

  // Enrol: QR code and secret, confirmed by a first code.
  await page.getByLabel("Name of the new factor").fill("Phone");
  await page.getByRole("button", { name: "Add an authenticator app" }).click();
  await expect(page).toHaveURL(/\/account\/two-factor\?factor=/);
  await expect(page.getByTestId("totp-qr").locator("svg")).toBeVisible();
  const secret = base32Decode((await page.getByTestId("totp-secret").innerText()).trim());
  const used = { step: 0 };
  await hydrated(page);
  await page.getByLabel("Code from the app").fill(await nextCode(secret, used));
  await page.getByRole("button", { name: "Confirm" }).click();

  // Ten recovery codes, shown once.
  await expect(page).toHaveURL(/\/account\/recovery-codes/);
  const codes = (await page.getByTestId("recovery-codes").locator("li").allInnerTexts()).map((c) =>
    c.trim(),
  );
  expect(codes).toHaveLength(10);
  await page.getByRole("link", { name: "I saved them: continue to your account" }).click();
  await expect(page.getByTestId("factors")).toContainText("Phone");
  await expect(page.getByTestId("recovery-codes-left")).toContainText("10");

  // Sign out; the password alone no longer signs in.
  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/signin\/factor/);
  await hydrated(page);
  await page.getByLabel("Authentication code").fill(await nextCode(secret, used));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/account/);
  await expect(page.getByTestId("account-email")).toHaveText(email);

  // A recovery code in place of the app, once.
  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/signin\/factor/);
  await hydrated(page);
  await page.getByLabel("Authentication code").fill(codes[0]);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/account/);
  await expect(page.getByTestId("recovery-codes-left")).toContainText("9");

  // The older session must step up before changing the password, then it goes through.
  await laptop.goto("/account");
  await hydrated(laptop);
  await laptop.getByLabel("Current password").fill(PASSWORD);
  await laptop.getByLabel("New password").fill(NEW_PASSWORD);
  await laptop.getByRole("button", { name: "Change password" }).click();
  await laptop.getByTestId("step-up").click();
  await expect(laptop).toHaveURL(/\/step-up\?next=\/account/);
  await hydrated(laptop);
  await laptop.getByLabel("Authentication code").fill(await nextCode(secret, used));
  await laptop.getByRole("button", { name: "Confirm" }).click();
  await expect(laptop).toHaveURL(/\/account$/);
  await laptop.getByLabel("Current password").fill(PASSWORD);
  await laptop.getByLabel("New password").fill(NEW_PASSWORD);
  await laptop.getByRole("button", { name: "Change password" }).click();
  await expect(laptop).toHaveURL(/saved=password/);
});
