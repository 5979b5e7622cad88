// Reading the mail Palisade sent, from MailDev's HTTP API (scripts start it on :1080).
import { expect, type Page } from "@playwright/test";

const api = process.env.MAILDEV_API_URL ?? "http://127.0.0.1:1080";

interface Mail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: { address: string }[];
  time: string;
}

/** Waits for the newest email to `to` whose subject matches, and returns it. */
export async function latestMail(to: string, subject: RegExp, after = 0): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      async () => {
        const res = await fetch(`${api}/api/email`);
        const all = (await res.json()) as Mail[];
        found = all
          .filter((m) => m.to.some((t) => t.address.toLowerCase() === to.toLowerCase()))
          .filter((m) => subject.test(m.subject))
          .filter((m) => Date.parse(m.time) >= after)
          .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0];
        return found !== undefined;
      },
      { timeout: 20_000, message: `an email to ${to} matching ${subject}` },
    )
    .toBe(true);
  return found!;
}

/** The first link in the mail's text that goes to `path`, as a path the browser can open. */
export function linkTo(mail: Mail, path: string): string {
  const match = mail.text.match(new RegExp(`https?://[^\\s]+${path}\\?token=[A-Za-z0-9_-]+`));
  expect(match, `a ${path} link in: ${mail.text}`).not.toBeNull();
  const url = new URL(match![0]);
  return url.pathname + url.search;
}

export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits until the wasm has taken over the page (the app marks `<html data-hydrated>`). */
export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/** Fills and submits the sign-in form; the caller checks where it lands. */
export async function submitSignIn(page: Page, email: string, password: string) {
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs up through the form and confirms the address with the emailed link. */
export async function signUpConfirmed(page: Page, email: string, password: string) {
  const since = Date.now() - 1000;
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("signup-done")).toBeVisible();
  const mail = await latestMail(email, /confirm/i, since);
  await page.goto(linkTo(mail, "/verify"));
  await page.getByTestId("confirm").click();
  await expect(page).toHaveURL(/\/signin\?verified=1/);
}
