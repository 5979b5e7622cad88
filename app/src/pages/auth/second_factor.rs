//! `/signin/factor` (sign-in's second step) and `/step-up` (prove the second factor again
//! before a sensitive action). One field takes a code from the authenticator app or a
//! recovery code.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::factors::{SecondFactor, StepUp},
    components::forms::{FieldError, FormError, action_error},
    domain::redirect::local_path_or,
};

/// The code field both pages share.
#[component]
fn CodeField(error: Signal<Option<crate::error::AppError>>) -> impl IntoView {
    view! {
        <label for="code">"Authentication code"</label>
        <input id="code" name="code" autocomplete="one-time-code" required autofocus
            maxlength="32" spellcheck="false" autocapitalize="off" />
        <p class="muted">"The 6-digit code from your authenticator app, or one of your recovery codes."</p>
        <FieldError error field="code" />
        <FormError error fields=&["code"] />
    }
}

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let action = ServerAction::<SecondFactor>::new();
    let error = action_error(action);
    let next = use_query_map().with_untracked(|q| local_path_or(q.get("next").as_deref(), ""));
    view! {
        <Title text="Two-step sign-in" />
        <section class="auth-card">
            <h1>"Two-step sign-in"</h1>
            <p>"The first step was right (your password or the emailed link). Now confirm it's you with your second factor."</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next />
                <CodeField error />
                <button class="button" type="submit" disabled=move || action.pending().get()>"Continue"</button>
            </ActionForm>
            <p class="muted"><A href="/signin">"Start again"</A></p>
        </section>
    }
}

#[component]
pub fn StepUpPage() -> impl IntoView {
    let action = ServerAction::<StepUp>::new();
    let error = action_error(action);
    let next =
        use_query_map().with_untracked(|q| local_path_or(q.get("next").as_deref(), "/account"));
    let back = next.clone();
    view! {
        <Title text="Confirm it's you" />
        <section class="auth-card">
            <h1>"Confirm it's you"</h1>
            <p>"This action needs your second factor. Then go on where you left off."</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next />
                <CodeField error />
                <button class="button" type="submit" disabled=move || action.pending().get()>"Confirm"</button>
            </ActionForm>
            <p class="muted"><A href=back>"Cancel"</A></p>
        </section>
    }
}
