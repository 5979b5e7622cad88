//! Form pieces shared by the auth and account pages: errors next to their fields (from the
//! action, or from the redirect of a plain form post before the wasm loaded), notices, and a
//! password field that rates the password as you type.
use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_query_map;
use server_fn::{ServerFn, error::ServerFnUrlError};

use crate::{
    api::auth::password_strength,
    domain::{PasswordStrength, password::length_refusal},
    error::AppError,
};

/// How long typing must pause before the meter asks the server.
const METER_DEBOUNCE: Duration = Duration::from_millis(250);

/// The error a server function put into the redirect after a plain form post.
fn url_error(path: &str) -> Option<AppError> {
    let query = use_query_map().get_untracked();
    match (query.get("__path"), query.get("__err")) {
        (Some(p), Some(err)) if p == path => Some(ServerFnUrlError::<AppError>::decode_err(&err)),
        _ => None,
    }
}

/// The latest error of `action`, wherever it came from.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let from_url = url_error(S::PATH);
    Signal::derive(move || match action.value().get() {
        Some(Err(e)) => Some(e),
        Some(Ok(())) => None,
        None => from_url.clone(),
    })
}

/// The message for `field`, shown under its input.
#[component]
pub fn FieldError(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.for_field(field)).map(|message| {
            view! { <p class="field-error" role="alert" data-field=field>{message}</p> }
        })
    }
}

/// Errors that belong to no field of this form (rate limits, outages, sign-in refusals).
#[component]
pub fn FormError(
    error: Signal<Option<AppError>>,
    /// The fields this form shows errors next to.
    #[prop(optional)]
    fields: &'static [&'static str],
) -> impl IntoView {
    // A sensitive action asked for a fresh second factor: offer the step-up page, which comes
    // back here, where the form can be sent again.
    let here = leptos_router::hooks::use_location().pathname;
    move || {
        error.get().and_then(|e| match &e {
            AppError::Invalid { field: Some(f), .. } if fields.contains(&f.as_str()) => None,
            AppError::StepUpRequired => {
                let href = format!(
                    "/step-up?next={}",
                    crate::domain::redirect::encode_query_value(&here.get_untracked())
                );
                Some(
                    view! {
                        <p class="form-error" role="alert">
                            {e.to_string()} " "
                            <a href=href data-testid="step-up">"Confirm with your second factor"</a>
                        </p>
                    }
                    .into_any(),
                )
            }
            _ => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
        })
    }
}

/// A one-line confirmation shown when the page's URL carries `key=value`.
#[component]
pub fn Notice(key: &'static str, value: &'static str, children: Children) -> impl IntoView {
    let query = use_query_map();
    let shown = move || query.with(|q| q.get(key).as_deref() == Some(value));
    let content = children();
    view! {
        <div class="notice-ok" role="status" class:hidden=move || !shown()>
            {content}
        </div>
    }
}

/// A new-password input with a live strength meter (after hydration). Length is judged at once
/// in the browser; the rest of the verdict comes from the server (zxcvbn stays there), asked
/// once typing pauses, and an answer for anything but the latest input is dropped.
#[component]
pub fn NewPassword(
    name: &'static str,
    label: &'static str,
    /// Words the password must not lean on (the email, say).
    #[prop(into, optional)]
    context: Signal<String>,
) -> impl IntoView {
    let value = RwSignal::new(String::new());
    let rating = RwSignal::new(None::<PasswordStrength>);
    // Bumped on every input: a server answer counts only if nothing was typed since its question.
    let latest = StoredValue::new(0_u64);
    // The timer and the server's answer may outlive the form (a submit navigates away): both
    // use the `try_` accessors, which do nothing once the component is gone.
    let mut ask_server = debounce(METER_DEBOUNCE, move |(ticket, password, context)| {
        if latest.try_get_value() != Some(ticket) {
            return; // shortened below 8 characters, emptied, or left, since
        }
        spawn_local(async move {
            let context = (!String::is_empty(&context)).then_some(context);
            let answer = password_strength(password, context).await;
            if latest.try_get_value() == Some(ticket) {
                // On an error (a rate limit, the network) the form still works: the server
                // gives its reason next to the field when the form arrives.
                rating.try_set(answer.ok());
            }
        });
    });
    Effect::new(move |_| {
        let password = value.get();
        let context = context.get();
        let ticket = latest.get_value().wrapping_add(1);
        latest.set_value(ticket);
        if password.is_empty() {
            rating.set(None);
        } else if let Some(refusal) = length_refusal(&password) {
            rating.set(Some(refusal));
        } else {
            ask_server((ticket, password, context));
        }
    });
    view! {
        <label for=name>{label}</label>
        <input
            id=name
            name=name
            type="password"
            autocomplete="new-password"
            required
            minlength="8"
            maxlength="256"
            on:input=move |ev| value.set(event_target_value(&ev))
        />
        <div class="strength" aria-live="polite" data-testid=format!("{name}-strength")>
            {move || rating.get().map(|r| {
                let level = format!("strength__bar strength__bar--{}", r.score);
                view! {
                    <div class=level></div>
                    <p class:error=!r.acceptable class:ok=r.acceptable>{r.message}</p>
                }
            })}
        </div>
    }
}
