//! `/verify`: with `?token=` from the email, a confirm button (scanners that follow links
//! spend nothing: only the POST does); without, the 6-digit code form and a resend form.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::auth::{ResendVerification, VerifyCode, VerifyEmail},
    components::forms::{FieldError, FormError, Notice, action_error},
};

#[component]
pub fn VerifyPage() -> impl IntoView {
    let token = use_query_map().with_untracked(|q| q.get("token"));
    view! {
        <Title text="Confirm your email" />
        <section class="auth-card">
            <h1>"Confirm your email"</h1>
            {match token {
                Some(token) => view! { <ConfirmLink token /> }.into_any(),
                None => view! { <CodeForms /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ConfirmLink(token: String) -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    let error = action_error(action);
    view! {
        <p>"One click to confirm that this address is yours."</p>
        <ActionForm action=action attr:class="form">
            <input type="hidden" name="token" value=token />
            <FormError error />
            <button class="button" type="submit" data-testid="confirm">"Confirm my email"</button>
        </ActionForm>
    }
}

#[component]
fn CodeForms() -> impl IntoView {
    let verify = ServerAction::<VerifyCode>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let error = action_error(verify);
    let resend_error = action_error(resend);
    view! {
        <Notice key="resent" value="1">"If that address is waiting for confirmation, a new email is on its way."</Notice>
        <p>"Enter the 6-digit code from the email we sent you."</p>
        <ActionForm action=verify attr:class="form" attr:novalidate=true>
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="email" required />
            <FieldError error field="email" />
            <label for="code">"Code"</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                pattern="[0-9]{6}" maxlength="6" required />
            <FieldError error field="code" />
            <FormError error fields=&["email", "code"] />
            <button class="button" type="submit">"Confirm"</button>
        </ActionForm>
        <h2>"No email?"</h2>
        <ActionForm action=resend attr:class="form form--inline" attr:novalidate=true>
            <label for="resend-email">"Email"</label>
            <input id="resend-email" name="email" type="email" autocomplete="email" required />
            <FormError error=resend_error />
            <button class="button button--secondary" type="submit">"Send it again"</button>
        </ActionForm>
    }
}
