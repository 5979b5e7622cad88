//! The user page's "reset second factors" card.
use leptos::prelude::*;
use uuid::Uuid;

use crate::{
    api::factors::ResetUserFactors,
    components::forms::{FormError, Notice, action_error},
};

#[component]
pub fn ResetFactorsCard(id: Uuid, is_self: bool) -> impl IntoView {
    let action = ServerAction::<ResetUserFactors>::new();
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="factors-h">
            <h2 id="factors-h">"Second factors"</h2>
            <Notice key="done" value="factors-reset">"Second factors and recovery codes removed. They were signed out everywhere and told by email."</Notice>
            <p class="muted">"For a user who lost their authenticator app and their recovery codes: "
                "removes all their second factors and recovery codes, and signs them out everywhere."</p>
            {(!is_self).then(|| view! {
                <ActionForm action=action attr:class="admin-action">
                    <input type="hidden" name="id" value=id.to_string() />
                    <button class="button button--danger" type="submit">"Reset second factors"</button>
                </ActionForm>
            })}
            <FormError error />
        </section>
    }
}
