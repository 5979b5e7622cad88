//! `/signin/email`: email sign-in. Without `?token=`, a form that mails a link and a code, and
//! a form for the code (it works in any browser); with the link's `?token=`, a confirm button
//! (mail scanners that follow links spend nothing: only the POST does).
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::auth::{EmailSignInCode, EmailSignInLink, RequestEmailSignIn},
    components::forms::{FieldError, FormError, Notice, action_error},
};

#[component]
pub fn EmailSignInPage() -> impl IntoView {
    let token = use_query_map().with_untracked(|q| q.get("token"));
    view! {
        <Title text="Sign in by email" />
        <section class="auth-card">
            <h1>"Sign in by email"</h1>
            {match token {
                Some(token) => view! { <ConfirmLink token /> }.into_any(),
                None => view! { <AskAndCode /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ConfirmLink(token: String) -> impl IntoView {
    let action = ServerAction::<EmailSignInLink>::new();
    let error = action_error(action);
    view! {
        <p>"One click to sign in with the link we emailed you."</p>
        <ActionForm action=action attr:class="form">
            <input type="hidden" name="token" value=token />
            <FormError error />
            <button class="button" type="submit" data-testid="confirm">"Sign me in"</button>
        </ActionForm>
    }
}

#[component]
fn AskAndCode() -> impl IntoView {
    let ask = ServerAction::<RequestEmailSignIn>::new();
    let code = ServerAction::<EmailSignInCode>::new();
    let ask_error = action_error(ask);
    let error = action_error(code);
    view! {
        <Notice key="sent" value="1">
            "If that address has an account, an email with a sign-in link and a code is on its way. Both work once, for 15 minutes."
        </Notice>
        <ActionForm action=ask attr:class="form" attr:novalidate=true>
            <label for="ask-email">"Email"</label>
            <input id="ask-email" name="email" type="email" autocomplete="email" required />
            <FieldError error=ask_error field="email" />
            <FormError error=ask_error fields=&["email"] />
            <button class="button" type="submit">"Email me a sign-in link"</button>
        </ActionForm>
        <h2>"Got a code?"</h2>
        <ActionForm action=code attr:class="form" attr:novalidate=true>
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="email" required />
            <FieldError error field="email" />
            <label for="code">"Code"</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                pattern="[0-9]{6}" maxlength="6" required />
            <FieldError error field="code" />
            <FormError error fields=&["email", "code"] />
            <button class="button" type="submit">"Sign in"</button>
        </ActionForm>
        <p><a href="/signin">"Sign in with a password instead"</a></p>
    }
}
