// The contract with Supabase's client: the real `@supabase/auth-js` from npm, pointed at
// Palisade's /auth/v1 exactly as a Supabase app points it at Supabase, with nothing changed but
// the URL and the key. Accounts are made through Palisade's own pages (a real browser), then
// the client does everything else.
import { createHash } from "node:crypto";

import { AuthClient, isAuthWeakPasswordError, type Session } from "@supabase/auth-js";
import { expect, test } from "@playwright/test";

import { signUpConfirmed, uniqueEmail } from "./support/accounts";
import { latestMail, linkTo } from "./support/mail";

const baseURL = process.env.PALISADE_PUBLIC_URL ?? "http://127.0.0.1:3000";

/** The project's publishable key, derived from the server secret as the server derives it
 * (`app/src/ssr/auth/api_keys.rs`; `server api-keys` prints it). */
function publishableKey(): string {
  return `sb_publishable_${derivedKey("publishable").slice(0, 32)}`;
}

/** The secret key (`sb_secret_…`), for the admin API only: a server's, never a browser's. */
function secretKey(): string {
  return `sb_secret_${derivedKey("secret").slice(0, 48)}`;
}

function derivedKey(kind: "publishable" | "secret"): string {
  const secret = process.env.PALISADE_SECRET ?? "";
  expect(secret, "PALISADE_SECRET of the server under test").not.toBe("");
  return createHash("sha256")
    .update(`palisade/api-key/${kind}/v1\0`)
    .update(secret)
    .digest("hex");
}

/** A client configured the way supabase-js's createClient configures it: the key as `apikey`
 * and as a Bearer on every call, no storage shared between clients. `seen` collects the paths
 * it requested. Each client is a device of its own behind the proxy (scripts/test trusts
 * 127.0.0.1 as one), so the suite's sign-ins do not spend the browser specs' per-address
 * limits. */
function client(seen: string[] = [], key = publishableKey()): InstanceType<typeof AuthClient> {
  const address = `10.${rand255()}.${rand255()}.${1 + rand255() % 254}`;
  return new AuthClient({
    url: `${baseURL}/auth/v1`,
    headers: { apikey: key, Authorization: `Bearer ${key}`, "X-Forwarded-For": address },
    persistSession: false,
    autoRefreshToken: false,
    detectSessionInUrl: false,
    fetch: (input, init) => {
      seen.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    },
  });
}

const password = "Contract-Suite-Password-42";

function rand255(): number {
  return Math.floor(Math.random() * 255);
}

// The accounts come from Palisade's own sign-up page, used without JavaScript (the forms work
// before the wasm loads): the client under test is auth-js, not the page. That page is a
// device of its own behind the trusted proxy too, so this file's sign-ups do not spend the
// browser specs' per-address sign-up limit (10 an hour).
test.use({
  javaScriptEnabled: false,
  extraHTTPHeaders: { "X-Forwarded-For": `10.${rand255()}.${rand255()}.${1 + (rand255() % 254)}` },
});

async function confirmedAccount(page: import("@playwright/test").Page, tag: string) {
  const email = uniqueEmail(tag);
  await signUpConfirmed(page, email, password, { script: false });
  return email;
}

test("signInWithPassword gives a session with Supabase's user, getUser reads it", async ({
  page,
}) => {
  const email = await confirmedAccount(page, "sb-signin");
  const auth = client();

  const { data, error } = await auth.signInWithPassword({ email, password });
  expect(error).toBeNull();
  const session = data.session!;
  expect(session.token_type).toBe("bearer");
  expect(session.expires_in).toBeGreaterThan(0);
  expect(session.expires_at).toBeGreaterThan(Date.now() / 1000);
  expect(session.refresh_token).toBeTruthy();
  expect(data.user!.email).toBe(email);
  expect(data.user!.aud).toBe("authenticated");
  expect(data.user!.app_metadata.provider).toBe("email");
  expect(data.user!.identities?.[0]?.provider).toBe("email");

  const me = await auth.getUser(session.access_token);
  expect(me.error).toBeNull();
  expect(me.data.user!.id).toBe(data.user!.id);
  expect(me.data.user!.email_confirmed_at).toBeTruthy();

  // getClaims verifies the ES256 signature locally against the published keys: it fetches
  // the JWKS and never asks the server about the token.
  const seen: string[] = [];
  const verified = await client(seen).getClaims(session.access_token);
  expect(verified.error).toBeNull();
  expect(verified.data!.claims.sub).toBe(data.user!.id);
  expect(verified.data!.header.alg).toBe("ES256");
  expect(seen).toEqual(["/auth/v1/.well-known/jwks.json"]);

  // What an app reads to decide whether to ask for a second factor.
  const { data: level } = await auth.mfa.getAuthenticatorAssuranceLevel(session.access_token);
  expect(level!.currentLevel).toBe("aal1");
});

test("refused sign-ins carry the error codes apps branch on", async ({ page }) => {
  const email = await confirmedAccount(page, "sb-refused");
  const auth = client();

  const wrong = await auth.signInWithPassword({ email, password: "Not-The-Password-42" });
  expect(wrong.data.session).toBeNull();
  expect(wrong.error!.status).toBe(400);
  expect(wrong.error!.code).toBe("invalid_credentials");
  const unknown = await auth.signInWithPassword({
    email: uniqueEmail("sb-nobody"),
    password: "Not-The-Password-42",
  });
  expect(unknown.error!.code).toBe("invalid_credentials");
  expect(unknown.error!.message).toBe(wrong.error!.message);

  const spent = await auth.refreshSession({ refresh_token: "never-issued" });
  expect(spent.error!.code).toBe("refresh_token_not_found");
});

test("refreshSession rotates, and racing refreshes with one token all succeed alike", async ({
  page,
}) => {
  const email = await confirmedAccount(page, "sb-refresh");
  const { data } = await client().signInWithPassword({ email, password });
  const first = data.session!.refresh_token;

  // Two tabs waking up at once with the same stored session.
  const raced = await Promise.all(
    [client(), client(), client()].map((c) => c.refreshSession({ refresh_token: first })),
  );
  for (const r of raced) expect(r.error).toBeNull();
  const successors = new Set(raced.map((r) => r.data.session!.refresh_token));
  expect(successors.size).toBe(1);
  expect(successors.has(first)).toBe(false);

  const next = await client().refreshSession({ refresh_token: [...successors][0] });
  expect(next.error).toBeNull();
  const me = await client().getUser(next.data.session!.access_token);
  expect(me.data.user!.email).toBe(email);
});

test("signOut ends this sign-in, others, or all of them", async ({ page }) => {
  const email = await confirmedAccount(page, "sb-signout");
  const signIn = async () => {
    const auth = client();
    const { data, error } = await auth.signInWithPassword({ email, password });
    expect(error).toBeNull();
    return { auth, session: data.session! as Session };
  };
  const refreshes = async (session: Session) =>
    (await client().refreshSession({ refresh_token: session.refresh_token })).error === null;

  // local: this sign-in only.
  const a = await signIn();
  const b = await signIn();
  expect((await a.auth.signOut({ scope: "local" })).error).toBeNull();
  expect(await refreshes(a.session)).toBe(false);
  expect((await client().getUser(a.session.access_token)).error!.status).toBe(401);

  // others: every sign-in but this one.
  const c = await signIn();
  expect((await c.auth.signOut({ scope: "others" })).error).toBeNull();
  expect(await refreshes(b.session)).toBe(false);
  const { data: stillMe } = await client().getUser(c.session.access_token);
  expect(stillMe.user!.email).toBe(email);

  // global: all of them.
  const d = await signIn();
  expect((await d.auth.signOut({ scope: "global" })).error).toBeNull();
  expect(await refreshes(c.session)).toBe(false);
  expect((await client().getUser(d.session.access_token)).error!.status).toBe(401);
});

test("signUp waits for the emailed confirmation, alike for a taken address; reset mails a link", async ({
  page,
}) => {
  const auth = client();
  const email = uniqueEmail("sb-signup");
  const since = Date.now() - 1000;

  const { data, error } = await auth.signUp({ email, password });
  expect(error).toBeNull();
  expect(data.session).toBeNull();
  expect(data.user!.email).toBe(email);
  expect(data.user!.email_confirmed_at).toBeFalsy();
  const again = await auth.signUp({ email, password: "Another-Contract-Password-7" });
  expect(again.error).toBeNull();
  expect(again.data.session).toBeNull();
  expect(again.data.user!.identities!.length).toBe(data.user!.identities!.length);

  const weak = await auth.signUp({ email: uniqueEmail("sb-weak"), password: "short" });
  expect(isAuthWeakPasswordError(weak.error)).toBe(true);
  expect(weak.error!.code).toBe("weak_password");

  // Not confirmed yet: refused with the code apps branch on; confirmed through the emailed link.
  const early = await auth.signInWithPassword({ email, password });
  expect(early.error!.code).toBe("email_not_confirmed");
  const mail = await latestMail(email, /confirm/i, since);
  await page.goto(linkTo(mail, "/verify"));
  await page.getByTestId("confirm").click();
  await expect(page).toHaveURL(/\/signin\?verified=1/);
  const signedIn = await auth.signInWithPassword({ email, password });
  expect(signedIn.error).toBeNull();

  const reset = await auth.resetPasswordForEmail(email);
  expect(reset.error).toBeNull();
  await latestMail(email, /reset/i, since);
});

/** The 6-digit code of a mail (set on a line of its own in the text part). */
function codeIn(mail: { text: string }): string {
  const match = mail.text.match(/^\s+(\d{6})\s*$/m);
  expect(match, `a code in: ${mail.text}`).not.toBeNull();
  return match![1];
}

/** The token of the mail's link to `path`. */
function tokenIn(mail: Parameters<typeof linkTo>[0], path: string): string {
  return new URL(linkTo(mail, path), baseURL).searchParams.get("token")!;
}

test("updateUser changes metadata, and the password and address with the current password", async ({
  page,
}) => {
  const email = await confirmedAccount(page, "sb-update");
  const auth = client();
  const since = Date.now() - 1000;
  expect((await auth.signInWithPassword({ email, password })).error).toBeNull();

  const meta = await auth.updateUser({ data: { display_name: "Contract Suite" } });
  expect(meta.error).toBeNull();
  expect(meta.data.user!.user_metadata.display_name).toBe("Contract Suite");
  const unknownKey = await auth.updateUser({ data: { avatar_url: "https://x.test/a.png" } });
  expect(unknownKey.error!.code).toBe("validation_failed");

  const newPassword = "Contract-Suite-Password-43";
  const without = await auth.updateUser({ password: newPassword });
  expect(without.error!.code).toBe("reauthentication_needed");
  // Newer auth-js sends current_password; the body passes it through as is.
  const changed = await auth.updateUser({
    password: newPassword,
    current_password: password,
  } as Parameters<typeof auth.updateUser>[0]);
  expect(changed.error).toBeNull();
  expect((await client().signInWithPassword({ email, password })).error!.code).toBe(
    "invalid_credentials",
  );
  expect((await client().signInWithPassword({ email, password: newPassword })).error).toBeNull();

  // reauthenticate mails a code that lets one more change through as the nonce.
  expect((await auth.reauthenticate()).error).toBeNull();
  const nonce = codeIn(await latestMail(email, /confirmation code/i, since));
  const third = await auth.updateUser({ password, nonce });
  expect(third.error).toBeNull();

  // A new address: a link to it, nothing changes until the owner confirms it signed in.
  const target = uniqueEmail("sb-update-new");
  const moving = await auth.updateUser({
    email: target,
    current_password: password,
  } as Parameters<typeof auth.updateUser>[0]);
  expect(moving.error).toBeNull();
  expect(moving.data.user!.email).toBe(email);
  expect((moving.data.user as unknown as { new_email: string }).new_email).toBe(target);
  const confirm = await latestMail(target, /new email address/i, since);
  // auth-js sends no user token with verifyOtp: Palisade confirms an address change only for
  // its owner signed in (the browser's rule), so the bare client is refused and nothing moves.
  const bare = await client().verifyOtp({
    token_hash: tokenIn(confirm, "/confirm-email"),
    type: "email_change",
  });
  expect(bare.error!.status).toBe(401);
  expect((await auth.getUser()).data.user!.email).toBe(email);
});

test("resetPasswordForEmail mails a link whose token verifyOtp turns into a recovery session", async () => {
  const admin = client([], secretKey()).admin;
  const email = uniqueEmail("sb-recover");
  expect((await admin.createUser({ email, password, email_confirm: true })).error).toBeNull();
  const auth = client();
  const since = Date.now() - 1000;

  expect((await auth.resetPasswordForEmail(email)).error).toBeNull();
  const mail = await latestMail(email, /reset/i, since);
  const token_hash = tokenIn(mail, "/reset");
  const { data, error } = await auth.verifyOtp({ token_hash, type: "recovery" });
  expect(error).toBeNull();
  expect(data.session!.access_token).toBeTruthy();
  // The recovery session sets the new password without the old one.
  const newPassword = "Contract-Recovered-Password-44";
  expect((await auth.updateUser({ password: newPassword })).error).toBeNull();
  expect((await client().signInWithPassword({ email, password: newPassword })).error).toBeNull();
  const again = await client().verifyOtp({ token_hash, type: "recovery" });
  expect(again.error!.code).toBe("otp_expired");
});

test("signInWithOtp mails one link and code; the code signs in, for any address the same answer", async ({
  page,
}) => {
  const email = await confirmedAccount(page, "sb-otp");
  const auth = client();
  const since = Date.now() - 1000;

  expect((await auth.signInWithOtp({ email })).error).toBeNull();
  const nobody = await client().signInWithOtp({ email: uniqueEmail("sb-otp-nobody") });
  expect(nobody.error).toBeNull();
  const mail = await latestMail(email, /sign-in link/i, since);
  const { data, error } = await auth.verifyOtp({ email, token: codeIn(mail), type: "email" });
  expect(error).toBeNull();
  expect(data.session!.user.email).toBe(email);
  expect((await auth.getUser()).data.user!.email).toBe(email);
  // Link and code are one credential.
  const link = await client().verifyOtp({
    token_hash: tokenIn(mail, "/signin/email"),
    type: "magiclink",
  });
  expect(link.error!.code).toBe("otp_expired");
});

test("the admin API works with the secret key and refuses the publishable one", async () => {
  const admin = client([], secretKey()).admin;
  const email = uniqueEmail("sb-admin");

  const created = await admin.createUser({ email, password, email_confirm: true });
  expect(created.error).toBeNull();
  const id = created.data.user!.id;
  expect((await admin.getUserById(id)).data.user!.email).toBe(email);
  expect((await client().signInWithPassword({ email, password })).error).toBeNull();
  const taken = await admin.createUser({ email, password });
  expect(taken.error!.code).toBe("email_exists");

  const refused = await client().admin.getUserById(id);
  expect(refused.error!.status).toBe(401);

  expect((await admin.deleteUser(id)).error).toBeNull();
  expect((await admin.getUserById(id)).error!.status).toBe(404);
  expect((await client().signInWithPassword({ email, password })).error!.code).toBe(
    "invalid_credentials",
  );
});
