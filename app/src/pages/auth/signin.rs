//! `/signin`.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::auth::{ResendVerification, SignIn},
    components::forms::{FieldError, FormError, Notice, action_error},
    domain::redirect::local_path_or,
};

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let error = action_error(action);
    let resend_error = action_error(resend);
    // Checked here too, so the form never carries a hostile target (the server checks again).
    let next = use_query_map().with_untracked(|q| local_path_or(q.get("next").as_deref(), ""));
    let email = RwSignal::new(String::new());
    let unconfirmed = move || error.get().and_then(|e| e.for_field("unconfirmed"));
    view! {
        <Title text="Sign in" />
        <section class="auth-card">
            <h1>"Sign in"</h1>
            <Notice key="verified" value="1">"Your email address is confirmed. Sign in to continue."</Notice>
            <Notice key="reset" value="1">"Your password was changed. Sign in with the new one."</Notice>
            <Notice key="email_changed" value="1">"Your email address was changed."</Notice>
            <Notice key="signed_out" value="1">"You were signed out everywhere."</Notice>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next />
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username webauthn" required
                    on:input=move |ev| email.set(event_target_value(&ev)) />
                <FieldError error field="email" />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                <FieldError error field="password" />
                <FormError error fields=&["email", "password", "unconfirmed"] />
                <button class="button" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            {move || unconfirmed().map(|message| view! {
                <div class="callout" data-testid="unconfirmed">
                    <p>{message}</p>
                    <ActionForm action=resend>
                        <input type="hidden" name="email" value=email.get_untracked() />
                        <button class="button button--secondary" type="submit">"Send the email again"</button>
                    </ActionForm>
                    <FormError error=resend_error />
                </div>
            })}
            <PasskeySignIn />
            <p class="muted">
                <A href="/signin/email">"Email me a sign-in link"</A> " · "
                <A href="/forgot">"Forgot your password?"</A> " · "
                <A href="/signup">"Create an account"</A>
            </p>
        </section>
    }
}

/// "Sign in with a passkey": shown once `/passkeys.js` finds WebAuthn in the browser (it sets
/// `data-passkeys` on the document; style/main.css hides `data-passkey-only` until then). The
/// script also offers passkeys in the email field's autofill (`autocomplete="… webauthn"`).
#[component]
fn PasskeySignIn() -> impl IntoView {
    view! {
        <div class="passkey-signin" data-passkey-only data-passkey-signin-box>
            <p class="divider muted">"or"</p>
            <button class="button button--secondary" type="button" data-passkey-signin>
                "Sign in with a passkey"
            </button>
            <p class="form-error" role="alert" data-passkey-error hidden></p>
        </div>
        <script type="module" src="/passkeys.js"></script>
    }
}
