//! `/signup` and `/signup/done`.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::auth::SignUp,
    components::forms::{FieldError, FormError, NewPassword, action_error},
};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action);
    let email = RwSignal::new(String::new());
    view! {
        <Title text="Create an account" />
        <section class="auth-card">
            <h1>"Create an account"</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required
                    on:input=move |ev| email.set(event_target_value(&ev)) />
                <FieldError error field="email" />
                <NewPassword name="password" label="Password" context=email />
                <FieldError error field="password" />
                <FormError error fields=&["email", "password"] />
                <button class="button" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="muted">"Already have an account? " <A href="/signin">"Sign in"</A></p>
        </section>
    }
}

#[component]
pub fn SignUpDonePage() -> impl IntoView {
    view! {
        <Title text="Check your email" />
        <section class="auth-card" data-testid="signup-done">
            <h1>"Check your email"</h1>
            <p>
                "We sent a link to confirm your address. It works for 24 hours; the email also
                 has a 6-digit code you can "
                <A href="/verify">"enter instead"</A> "."
            </p>
            <p class="muted">
                "If that address already has an account, we sent its owner a note instead."
            </p>
        </section>
    }
}
