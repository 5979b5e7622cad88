//! `/forgot`: ask for a reset link. The answer never says whether the address has an account.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::auth::ForgotPassword,
    components::forms::{FieldError, FormError, Notice, action_error},
};

#[component]
pub fn ForgotPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = action_error(action);
    view! {
        <Title text="Reset your password" />
        <section class="auth-card">
            <h1>"Reset your password"</h1>
            <Notice key="sent" value="1">
                "If an account uses that address, we sent it a link to choose a new password. It works for one hour."
            </Notice>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required />
                <FieldError error field="email" />
                <FormError error fields=&["email"] />
                <button class="button" type="submit">"Send me a link"</button>
            </ActionForm>
            <p class="muted"><A href="/signin">"Back to sign in"</A></p>
        </section>
    }
}
