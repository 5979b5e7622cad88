// Passkeys in Chromium, with its virtual authenticator (DevTools protocol): register one on
// /account, sign out, and sign in with the passkey alone.
import { expect, test } from "@playwright/test";
import { signUpConfirmed, submitSignIn, uniqueEmail } from "./support/accounts";
import { hydrated } from "./support/page";

const PASSWORD = "harbor velvet comet 31 otter";

test("a passkey registered on the account page signs its owner in alone", async ({ page, baseURL }) => {
  // Browsers refuse WebAuthn on an IP address: the relying party needs a host name.
  expect(
    new URL(baseURL!).hostname,
    "run with PALISADE_PUBLIC_URL on a host name, e.g. http://localhost:3000",
  ).not.toMatch(/^\d+\.\d+\.\d+\.\d+$|^\[/);

  // A platform authenticator that keeps discoverable credentials and verifies the user
  // (as a fingerprint reader would), answering without a prompt.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  const email = uniqueEmail("passkey");
  await signUpConfirmed(page, email, PASSWORD);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account/);
  await hydrated(page);

  // Register: the form appears once the page's script finds WebAuthn.
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
  await page.getByLabel("Name of the new passkey").fill("Virtual key");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page).toHaveURL(/saved=passkey-added/);
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  await expect(page.getByTestId("passkey")).toContainText("Virtual key");
  await expect(page.getByTestId("passkey")).toContainText("never used");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);

  // Sign out.
  await hydrated(page);
  await page.getByTestId("sign-out").click();
  await expect(page.getByRole("link", { name: "Sign in", exact: true })).toBeVisible();

  // Sign in with the passkey alone: no email, no password.
  // The email field offers passkeys in its autofill list (read from the served page: once the
  // script runs, the virtual authenticator may answer that autofill request at once).
  const signInPage = await (await page.request.get("/signin")).text();
  expect(signInPage).toContain('autocomplete="username webauthn"');
  await page.goto("/signin");
  const button = page.getByRole("button", { name: "Sign in with a passkey" });
  // The page also offers the passkey in the email field's autofill (conditional mediation);
  // should Chromium's virtual authenticator answer that request by itself, the page leaves
  // before the click, which is as good a passkey sign-in.
  await button.click({ timeout: 10_000 }).catch(() => undefined);
  await expect(page).toHaveURL(/\/account/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await expect(page.getByTestId("passkey")).toContainText("last used");
});
