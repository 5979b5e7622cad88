//! `/admin/audit`: the audit log, newest first, filtered by actor, target, action and time.
//! The filter is a GET form, so every view of the log is a link.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Form},
    hooks::use_query_map,
};

use super::{AuditTable, ForAdmins, load_error, query_string};
use crate::{api::admin::audit_log, domain::audit::AuditAction};

const FILTERS: [&str; 5] = ["actor", "target", "action", "from", "until"];

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &'static str| query.with(|m| m.get(name).unwrap_or_default());
    let key = move || (FILTERS.map(param), query.with(|m| m.get("after")));
    let page = Resource::new_blocking(key, |([actor, target, action, from, until], after)| {
        audit_log(actor, target, action, from, until, after)
    });
    view! {
        <Title text="Audit log · Admin" />
        <ForAdmins>
            <header class="page-header">
                <h1>"Audit log"</h1>
                <p class="muted">"Every sign-in, account change and admin action, newest first. Times are UTC."</p>
            </header>
            <Form method="GET" action="/admin/audit" attr:class="admin-filter">
                <label>"Actor" <input name="actor" value=move || param("actor") placeholder="email, username or id" /></label>
                <label>"Target" <input name="target" value=move || param("target") placeholder="email, username or id" /></label>
                <label>"Action" <input name="action" value=move || param("action") list="audit-actions" placeholder="e.g. admin.user_banned" /></label>
                <label>"From" <input name="from" type="datetime-local" value=move || param("from") /></label>
                <label>"Until" <input name="until" type="datetime-local" value=move || param("until") /></label>
                <datalist id="audit-actions">
                    {AuditAction::ALL.iter().map(|a| view! { <option value=a.as_str()></option> }).collect_view()}
                </datalist>
                <div class="row">
                    <button class="button" type="submit">"Filter"</button>
                    <A href="/admin/audit" attr:class="button button--secondary">"Clear"</A>
                </div>
            </Form>
        </ForAdmins>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let filters =
                    FILTERS.map(|f| (f, query.with_untracked(|m| m.get(f).unwrap_or_default())));
                let first = query.with_untracked(|m| m.get("after").is_none());
                match page.await {
                    Ok(page) => {
                        let with = |after: Option<&str>| {
                            let mut pairs: Vec<(&str, &str)> =
                                filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
                            pairs.extend(after.map(|a| ("after", a)));
                            format!("/admin/audit{}", query_string(&pairs))
                        };
                        let older = page.next.as_deref().map(|n| with(Some(n)));
                        let newest = with(None);
                        view! {
                            <AuditTable entries=page.entries />
                            <nav class="pager" aria-label="Pages">
                                {(!first).then(|| view! { <A href=newest>"← Newest"</A> })}
                                {older.map(|href| view! { <A href=href attr:rel="next">"Older →"</A> })}
                            </nav>
                        }
                        .into_any()
                    }
                    Err(e) => load_error(e),
                }
            })}
        </Transition>
    }
}
