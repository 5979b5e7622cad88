//! `/confirm-email?token=…`: confirm a new email address (the link sent to it).
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::account::ConfirmEmailChange,
    components::forms::{FormError, action_error},
};

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let action = ServerAction::<ConfirmEmailChange>::new();
    let error = action_error(action);
    let token = use_query_map()
        .with_untracked(|q| q.get("token"))
        .unwrap_or_default();
    view! {
        <Title text="Confirm your new email" />
        <section class="auth-card">
            <h1>"Confirm your new email"</h1>
            <p>"Use this address for your account from now on?"</p>
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="token" value=token />
                <FormError error />
                <button class="button" type="submit" data-testid="confirm">"Confirm the new address"</button>
            </ActionForm>
        </section>
    }
}
