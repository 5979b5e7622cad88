// Accounts made and signed in through the real forms, the way a person does.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { expect, type Page } from "@playwright/test";

import { latestMail, linkTo } from "./mail";
import { hydrated } from "./page";

/** A made-up address no other run has used. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Fills and submits the sign-in form; the caller checks where it lands. */
export async function submitSignIn(page: Page, email: string, password: string) {
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Signs up through the form and confirms the address with the emailed link. A page without
 * JavaScript (`{ script: false }`) uses the forms as they work before the wasm loads. */
export async function signUpConfirmed(
  page: Page,
  email: string,
  password: string,
  { script = true }: { script?: boolean } = {},
) {
  const since = Date.now() - 1000;
  await page.goto("/signup");
  if (script) await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("signup-done")).toBeVisible();
  const mail = await latestMail(email, /confirm/i, since);
  await page.goto(linkTo(mail, "/verify"));
  await page.getByTestId("confirm").click();
  await expect(page).toHaveURL(/\/signin\?verified=1/);
}

/** The server binary cargo-leptos built (and runs for these tests). */
function palisadeBin(): string {
  const candidates = [
    process.env.PALISADE_BIN,
    resolve(process.cwd(), "../target/debug/palisade"),
    resolve(process.cwd(), "target/debug/palisade"),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  expect(found, `the palisade binary in one of ${candidates.join(", ")}`).toBeDefined();
  return found!;
}

/**
 * The demo admin of `palisade seed-dev`, run against the server's own database (the
 * environment is the server's). Idempotent; its output prints the password.
 */
export function demoAdmin(): { email: string; password: string } {
  const out = execFileSync(palisadeBin(), ["seed-dev"], { encoding: "utf8", env: process.env });
  const match = out.match(/(admin@palisade\.local)\s+password: (\S+)/);
  expect(match, `the seed's output names the admin: ${out}`).not.toBeNull();
  return { email: match![1], password: match![2] };
}
