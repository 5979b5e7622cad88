//! `/reset?token=…`: choose a new password. Only the POST spends the link.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::auth::ResetPassword,
    components::forms::{FieldError, FormError, NewPassword, action_error},
};

#[component]
pub fn ResetPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = action_error(action);
    let token = use_query_map()
        .with_untracked(|q| q.get("token"))
        .unwrap_or_default();
    view! {
        <Title text="Choose a new password" />
        <section class="auth-card">
            <h1>"Choose a new password"</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="token" value=token />
                <NewPassword name="password" label="New password" />
                <FieldError error field="password" />
                <FieldError error field="token" />
                <FormError error fields=&["password", "token"] />
                <button class="button" type="submit">"Set the new password"</button>
            </ActionForm>
            <p class="muted"><A href="/forgot">"Need a new link?"</A></p>
        </section>
    }
}
