//! `/admin/outbox`: emails waiting for the worker, and dead ones (parked after too many
//! failed attempts), which an admin can put back in the queue. Payloads are never shown:
//! they hold live links, and admin cannot read them.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{ForAdmins, load_error, maybe_when, query_string, when};
use crate::{
    api::admin::{RetryOutbox, outbox},
    components::forms::{FormError, Notice, action_error},
    domain::admin::{OutboxItem, OutboxPage, OutboxView},
};

#[component]
pub fn AdminOutboxPage() -> impl IntoView {
    let query = use_query_map();
    let view_name = move || query.with(|m| m.get("view").unwrap_or_default());
    let after = move || query.with(|m| m.get("after"));
    let retry = ServerAction::<RetryOutbox>::new();
    let retry_error = action_error(retry);
    let page = Resource::new_blocking(
        move || (view_name(), after(), retry.version().get()),
        |(view, after, _)| outbox(view, after),
    );
    view! {
        <Title text="Outbox · Admin" />
        <ForAdmins>
            <header class="page-header">
                <h1>"Outbox"</h1>
                <p class="muted">"Emails are queued here in the same transaction as the change that needs them, and delivered by the worker. Times are UTC."</p>
            </header>
        </ForAdmins>
        <Notice key="done" value="retried">"Queued again: the worker picks it up now."</Notice>
        <FormError error=retry_error />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <OutboxList page retry first=after().is_none() /> }.into_any(),
                    Err(e) => load_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn OutboxList(page: OutboxPage, retry: ServerAction<RetryOutbox>, first: bool) -> impl IntoView {
    let view = page.view;
    let tab = move |v: OutboxView| if v == view { "tab tab--current" } else { "tab" };
    let older = page.next.as_deref().map(|n| {
        format!(
            "/admin/outbox{}",
            query_string(&[("view", view.as_str()), ("after", n)])
        )
    });
    let newest = format!("/admin/outbox{}", query_string(&[("view", view.as_str())]));
    let dead = view == OutboxView::Dead;
    let empty = page.items.is_empty();
    view! {
        <nav class="tabs" aria-label="Outbox">
            <A href="/admin/outbox?view=pending" attr:class=tab(OutboxView::Pending)>
                "Pending (" {page.pending} ")"
            </A>
            <A href="/admin/outbox?view=dead" attr:class=tab(OutboxView::Dead)>
                "Dead (" {page.dead} ")"
            </A>
        </nav>
        {empty.then(|| view! {
            <p class="muted">{if dead { "No dead messages." } else { "Nothing waiting: the queue is empty." }}</p>
        })}
        <div class="table-wrap" class:hidden=empty>
            <table class="admin-table" data-testid="outbox">
                <thead>
                    <tr>
                        <th>"#"</th>
                        <th>"Kind"</th>
                        <th>"Recipient"</th>
                        <th>"Attempts"</th>
                        <th>{if dead { "Died" } else { "Next attempt" }}</th>
                        <th>"Last error"</th>
                        <th>"Queued"</th>
                        {dead.then(|| view! { <th><span class="visually-hidden">"Retry"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|item| view! { <OutboxRow item retry dead /> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(!first).then(|| view! { <A href=newest>"← First"</A> })}
            {older.map(|href| view! { <A href=href attr:rel="next">"More →"</A> })}
        </nav>
    }
}

#[component]
fn OutboxRow(item: OutboxItem, retry: ServerAction<RetryOutbox>, dead: bool) -> impl IntoView {
    let when_column = if dead {
        maybe_when(item.dead_at, "")
    } else {
        when(item.next_attempt_at)
    };
    let error = item.last_error.unwrap_or_default();
    let error_title = error.clone();
    view! {
        <tr data-id=item.id>
            <td>{item.id}</td>
            <td><code>{item.kind}</code></td>
            <td>{item.recipient}</td>
            <td>{item.attempts}</td>
            <td class="nowrap">{when_column}</td>
            <td class="truncate" title=error_title>{error}</td>
            <td class="nowrap">{when(item.created_at)}</td>
            {dead.then(|| view! {
                <td>
                    <ActionForm action=retry attr:class="inline">
                        <input type="hidden" name="id" value=item.id />
                        <button class="button button--small" type="submit">"Retry"</button>
                    </ActionForm>
                </td>
            })}
        </tr>
    }
}
