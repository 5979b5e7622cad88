// Passkeys in the browser: the WebAuthn calls (navigator.credentials) that the server cannot
// make, loaded only by /signin and /account. It talks to the server functions
// /api/passkeys/register_* and /api/auth/passkey_* with form posts, like the pages' forms, and
// passes credentials as the standard WebAuthn JSON (base64url), which webauthn-rs reads.
// Listeners are delegated from the document, so pages the app renders later work too.

const supported =
  typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

const b64url = {
  encode(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
  decode(value) {
    const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0)).buffer;
  },
};

// webauthn-rs writes absent options as null; WebIDL refuses null for most of them.
function dropNulls(value) {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
    return out;
  }
  return value;
}

const withIds = (list) =>
  (list || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));

function creationOptions(json) {
  const o = dropNulls(json.publicKey);
  return {
    ...o,
    challenge: b64url.decode(o.challenge),
    user: { ...o.user, id: b64url.decode(o.user.id) },
    excludeCredentials: withIds(o.excludeCredentials),
  };
}

function requestOptions(json) {
  const o = dropNulls(json.publicKey);
  return {
    ...o,
    challenge: b64url.decode(o.challenge),
    allowCredentials: withIds(o.allowCredentials),
  };
}

// Client extension results stay out: webauthn-rs needs none of them.
function credentialJson(credential) {
  const r = credential.response;
  const response = { clientDataJSON: b64url.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64url.encode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64url.encode(r.authenticatorData);
    response.signature = b64url.encode(r.signature);
    response.userHandle = r.userHandle ? b64url.encode(r.userHandle) : null;
  }
  return JSON.stringify({
    id: credential.id,
    rawId: b64url.encode(credential.rawId),
    type: credential.type,
    response,
    extensions: {},
  });
}

// The server's errors are the app's one error shape (AppError as JSON).
const MESSAGES = {
  Unauthorized: "Please sign in to continue.",
  Forbidden: "You do not have permission to do that.",
  NotFound: "Not found.",
  Unavailable: "The service is temporarily unavailable. Please try again in a moment.",
  Internal: "Something went wrong on our side. Please try again.",
};

class ServerError extends Error {}

function messageOf(error) {
  if (typeof error === "string") return MESSAGES[error] || MESSAGES.Internal;
  if (error && error.Invalid) return error.Invalid.message;
  if (error && error.Conflict) return error.Conflict;
  if (error && error.RateLimited)
    return `Too many attempts. Please wait ${error.RateLimited.retry_after_secs} seconds and try again.`;
  return MESSAGES.Internal;
}

async function call(path, fields = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(fields),
      credentials: "same-origin",
    });
  } catch {
    throw new ServerError("Could not reach the server. Check your connection and try again.");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ServerError(messageOf(body));
  return body;
}

function explain(error) {
  if (error instanceof ServerError) return error.message;
  switch (error && error.name) {
    case "NotAllowedError":
      return "The passkey request was cancelled or timed out.";
    case "InvalidStateError":
      return "This device already holds a passkey for your account.";
    case "SecurityError":
      return "Passkeys are not available on this address. Open the site at its usual address.";
    default:
      return "Your browser could not use a passkey here.";
  }
}

function showError(near, message) {
  const box =
    (near && near.querySelector("[data-passkey-error]")) ||
    document.querySelector("[data-passkey-error]");
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
}

// --- Sign-in -------------------------------------------------------------------------------

// One passkey sign-in: the server's options, the browser's assertion, the server's check,
// then the page it names. `mediation` is "conditional" for the autofill request (which waits
// until the person picks a passkey in the email field's list, or `signal` aborts it), null
// for the button's own request.
async function signIn(mediation, signal) {
  const started = await call("/api/auth/passkey_start");
  const request = { publicKey: requestOptions(JSON.parse(started.options)) };
  if (mediation) request.mediation = mediation;
  if (signal) request.signal = signal;
  const credential = await navigator.credentials.get(request);
  if (!credential) throw new Error("no passkey chosen");
  const fields = { ceremony: started.ceremony, credential: credentialJson(credential) };
  const next = new URLSearchParams(window.location.search).get("next");
  if (next) fields.next = next;
  const to = await call("/api/auth/passkey_finish", fields);
  window.location.assign(typeof to === "string" && to.startsWith("/") ? to : "/account");
}

let conditional = null; // the pending autofill request, if any
let conditionalFor = null; // the field it was started for: once per rendered sign-in form

// Autofill: the browser lists passkeys under the email field while this request waits. Its
// failures stay silent (the form and the button still work), and it is not retried for the
// same field, so a refusal cannot turn into a loop of requests.
async function startConditional() {
  const field = document.querySelector('input[autocomplete~="webauthn"]');
  if (!field || field === conditionalFor) return;
  conditionalFor = field;
  const available =
    PublicKeyCredential.isConditionalMediationAvailable &&
    (await PublicKeyCredential.isConditionalMediationAvailable());
  if (!available) return;
  const controller = new AbortController();
  conditional = controller;
  try {
    await signIn("conditional", controller.signal);
  } catch (error) {
    if (!controller.signal.aborted) console.info("passkey autofill ended:", error);
  } finally {
    if (conditional === controller) conditional = null;
  }
}

async function onSignInClick(button) {
  if (conditional) {
    conditional.abort();
    conditional = null;
  }
  const near = button.closest("[data-passkey-signin-box]");
  showError(near, "");
  button.disabled = true;
  try {
    await signIn(null, undefined);
  } catch (error) {
    showError(near, explain(error));
    button.disabled = false;
  }
}

// --- Registration --------------------------------------------------------------------------

async function onRegister(form) {
  const button = form.querySelector('button[type="submit"]');
  showError(form, "");
  if (button) button.disabled = true;
  try {
    const started = await call("/api/passkeys/register_start");
    const options = JSON.parse(started.options);
    const credential = await navigator.credentials.create({
      publicKey: creationOptions(options),
    });
    await call("/api/passkeys/register_finish", {
      ceremony: started.ceremony,
      name: new FormData(form).get("name") || "",
      credential: credentialJson(credential),
    });
    window.location.assign("/account?saved=passkey-added");
  } catch (error) {
    showError(form, explain(error));
    if (button) button.disabled = false;
  }
}

if (supported) {
  document.documentElement.dataset.passkeys = "supported";
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-passkey-signin]");
    if (button) {
      event.preventDefault();
      onSignInClick(button);
    }
  });
  document.addEventListener("submit", (event) => {
    const form = event.target.closest && event.target.closest("form[data-passkey-register]");
    if (form) {
      event.preventDefault();
      event.stopImmediatePropagation();
      onRegister(form);
    }
  }, true);
  // The sign-in page may be rendered after this module ran (navigation inside the app).
  new MutationObserver(() => startConditional()).observe(document.body, {
    childList: true,
    subtree: true,
  });
  startConditional();
}
