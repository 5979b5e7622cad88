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
  const secret = process.env.PALISADE_SECRET ?? "";
  expect(secret, "PALISADE_SECRET of the server under test").not.toBe("");
  const digest = createHash("sha256")
    .update("palisade/api-key/publishable/v1\0")
    .update(secret)
    .digest("hex");
  return `sb_publishable_${digest.slice(0, 32)}`;
}

/** A client configured the way supabase-js's createClient configures it: the key as `apikey`
 * and as a Bearer on every call, no storage shared between clients. `seen` collects the paths
 * it requested. Each client is a device of its own behind the proxy (scripts/test trusts
 * 127.0.0.1 as one), so the suite's sign-ins do not spend the browser specs' per-address
 * limits. */
function client(seen: string[] = []): InstanceType<typeof AuthClient> {
  const key = publishableKey();
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
// before the wasm loads): the client under test is auth-js, not the page.
test.use({ javaScriptEnabled: false });

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
