//! `/admin/system`: how the stack under this instance looks from a request (the database's
//! version, the role it runs requests as, its clock), fetched by a server function while the
//! page renders, and again through a form that also works before the wasm has loaded (it then
//! reloads the page). Admins only: anyone else gets the layout's 403 and nothing here.
use leptos::prelude::*;
use leptos_meta::Title;

use super::{ForAdmins, load_error};
use crate::api::status::{CheckSystem, check_system};
use crate::domain::status::DatabaseStatus;
use crate::error::AppError;

#[component]
pub fn AdminSystemPage() -> impl IntoView {
    // Made here, not in the card: `ForAdmins` may build its children more than once on the
    // server, and each build would fetch again.
    let recheck = ServerAction::<CheckSystem>::new();
    // Blocking: the answer is part of the HTML, so the page is complete without the wasm.
    let initial = Resource::new_blocking(|| (), |_| check_system());
    view! {
        <Title text="System · Admin" />
        <ForAdmins>
            <header class="page-header">
                <h1>"System"</h1>
                <p class="muted">"What this instance sees of the services it depends on."</p>
            </header>
            <StackStatus recheck initial />
        </ForAdmins>
    }
}

#[component]
fn StackStatus(
    recheck: ServerAction<CheckSystem>,
    initial: Resource<Result<DatabaseStatus, AppError>>,
) -> impl IntoView {
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
        Err(e) => load_error(e),
    }
}
