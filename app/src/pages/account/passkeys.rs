//! The account page's passkeys: the list (created, last used), rename and delete as plain
//! forms, and "Add a passkey", which `/passkeys.js` runs (WebAuthn needs the browser).
use leptos::prelude::*;

use crate::{
    api::passkeys::{DeletePasskey, RenamePasskey, list_passkeys},
    components::forms::{FormError, action_error},
    domain::passkey::{PasskeyInfo, PasskeyName},
};

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub fn Passkeys() -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let delete = ServerAction::<DeletePasskey>::new();
    let rename_error = action_error(rename);
    let delete_error = action_error(delete);
    let list = Resource::new_blocking(
        move || (rename.version().get(), delete.version().get()),
        |_| list_passkeys(),
    );
    view! {
        <section class="card" aria-labelledby="passkeys-h">
            <h2 id="passkeys-h">"Passkeys"</h2>
            <p class="muted">
                "Sign in with your fingerprint, face or device PIN instead of your password. "
                "The passkey stays on your device or in your password manager; we keep only its public key."
            </p>
            <FormError error=rename_error />
            <FormError error=delete_error />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(keys) if keys.is_empty() => view! {
                            <p class="muted" data-testid="no-passkeys">"You have no passkeys yet."</p>
                        }.into_any(),
                        Ok(keys) => view! {
                            <ul class="passkeys" data-testid="passkeys">
                                {keys.into_iter().map(|k| view! { <PasskeyRow passkey=k rename delete /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <form class="form" data-passkey-only data-passkey-register>
                <label for="passkey-name">"Name of the new passkey"</label>
                <input id="passkey-name" name="name" maxlength=PasskeyName::MAX_CHARS.to_string()
                    placeholder="e.g. Laptop, Phone" autocomplete="off" />
                <p class="form-error" role="alert" data-passkey-error hidden></p>
                <button class="button" type="submit">"Add a passkey"</button>
            </form>
            <p class="muted" data-passkey-fallback>
                "Adding a passkey needs a browser that supports passkeys, with JavaScript on."
            </p>
            <script type="module" src="/passkeys.js"></script>
        </section>
    }
}

#[component]
fn PasskeyRow(
    passkey: PasskeyInfo,
    rename: ServerAction<RenamePasskey>,
    delete: ServerAction<DeletePasskey>,
) -> impl IntoView {
    let id = passkey.id.to_string();
    let input_id = format!("passkey-name-{id}");
    let (rename_id, delete_id) = (id.clone(), id);
    let name = passkey.name.clone();
    let rename_label = format!("New name for {name}");
    let delete_label = format!("Delete {name}");
    let last_used = passkey.last_used_at.map_or_else(
        || "never used".to_string(),
        |t| format!("last used {}", when(t)),
    );
    view! {
        <li class="passkey" data-testid="passkey">
            <div>
                <strong>{passkey.name.clone()}</strong>
                <p class="muted">"added " {when(passkey.created_at)} " · " {last_used}</p>
            </div>
            <div class="row">
                <ActionForm action=rename attr:class="row">
                    <input type="hidden" name="id" value=rename_id.clone() />
                    <label class="visually-hidden" for=input_id.clone()>{rename_label.clone()}</label>
                    <input id=input_id.clone() name="name" value=name.clone()
                        maxlength=PasskeyName::MAX_CHARS.to_string() required />
                    <button class="button button--secondary" type="submit">"Rename"</button>
                </ActionForm>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=delete_id.clone() />
                    <button class="button button--secondary" type="submit">{delete_label.clone()}</button>
                </ActionForm>
            </div>
        </li>
    }
}
