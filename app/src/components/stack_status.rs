//! Shows what Postgres says: fetched by a server function while the page renders, and again
//! through a form that also works before the wasm has loaded (it then reloads the page).
use leptos::prelude::*;

use crate::api::status::{CheckDatabase, check_database};
use crate::domain::status::DatabaseStatus;
use crate::error::AppError;

#[component]
pub fn StackStatus() -> impl IntoView {
    let recheck = ServerAction::<CheckDatabase>::new();
    // Blocking: the answer is part of the HTML, so the page is complete without the wasm.
    let initial = Resource::new_blocking(|| (), |_| check_database());

    view! {
        <section class="card">
            <h2>"Database"</h2>
            <Transition fallback=|| view! { <p class="muted">"Asking Postgres…"</p> }>
                {move || {
                    // Read outside the Suspend so a new answer re-renders.
                    let latest = recheck.value().get();
                    Suspend::new(async move {
                        status_view(match latest {
                            Some(latest) => latest,
                            None => initial.await,
                        })
                    })
                }}
            </Transition>
            <ActionForm action=recheck>
                <button class="button button--secondary" type="submit" data-testid="db-recheck">
                    {move || if recheck.pending().get() { "Asking…" } else { "Ask again" }}
                </button>
            </ActionForm>
        </section>
    }
}

fn status_view(status: Result<DatabaseStatus, AppError>) -> impl IntoView {
    match status {
        Ok(s) => view! {
            <dl class="facts" data-testid="db-status">
                <dt>"Server"</dt><dd>{s.server_version}</dd>
                <dt>"Connected as"</dt><dd data-testid="db-role">{s.role}</dd>
                <dt>"Database time"</dt><dd data-testid="db-time">{s.database_time}</dd>
            </dl>
        }
        .into_any(),
        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    }
}
