//! `/confirm-email?token=…`: confirm a new email address (the link sent to it). Only the
//! account's owner, signed in, may confirm (see `flows::account::confirm_email_change`); a
//! signed-out visitor is offered sign-in that comes back here. Both are plain links and forms,
//! rendered on the server, so the page works before the wasm loads.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{account::ConfirmEmailChange, auth::signed_in},
    components::forms::{FormError, action_error},
};

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let action = ServerAction::<ConfirmEmailChange>::new();
    let error = action_error(action);
    let token = use_query_map()
        .with_untracked(|q| q.get("token"))
        .unwrap_or_default();
    let sign_in = format!(
        "/signin?next={}",
        query_escape(&format!("/confirm-email?token={}", query_escape(&token)))
    );
    let viewer = Resource::new_blocking(|| (), |_| signed_in());
    view! {
        <Title text="Confirm your new email" />
        <section class="auth-card">
            <h1>"Confirm your new email"</h1>
            <Suspense fallback=|| ()>
                {move || {
                    let (token, sign_in) = (token.clone(), sign_in.clone());
                    Suspend::new(async move {
                        if viewer.await.unwrap_or(false) {
                            view! {
                                <p>"Use this address for your account from now on?"</p>
                                <ActionForm action=action attr:class="form">
                                    <input type="hidden" name="token" value=token />
                                    <FormError error />
                                    <button class="button" type="submit" data-testid="confirm">"Confirm the new address"</button>
                                </ActionForm>
                            }
                            .into_any()
                        } else {
                            view! {
                                <p>"To confirm, sign in to the account whose address is changing (with its current address). You come back here afterwards."</p>
                                <a class="button" href=sign_in data-testid="sign-in-to-confirm">"Sign in to confirm"</a>
                            }
                            .into_any()
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// Percent-encodes everything but unreserved characters, for one query parameter's value.
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::query_escape;

    #[test]
    fn a_query_value_keeps_only_unreserved_characters() {
        assert_eq!(query_escape("aZ9-_.~"), "aZ9-_.~");
        assert_eq!(
            query_escape("/confirm-email?token=a&b"),
            "%2Fconfirm-email%3Ftoken%3Da%26b"
        );
        assert_eq!(query_escape("é<"), "%C3%A9%3C");
    }
}
