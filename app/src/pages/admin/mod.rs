//! `/admin`: the operators' area. The layout asks the server whether the database runs this
//! request as an admin and shows either the area (sub-navigation and the page) or a 403 page.
//! That is for people; the guard is on the server: every admin server function refuses
//! non-admins, and the database refuses their queries.
pub mod audit;
pub mod factors;
pub mod outbox;
pub mod system;
pub mod users;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Outlet, Redirect},
    hooks::use_location,
};

use crate::{
    api::auth::viewer,
    domain::{admin::AuditEntry, session::Viewer},
    error::AppError,
    pages::{not_found::NotFound, unavailable::Unavailable},
};

#[component]
pub fn AdminLayout() -> impl IntoView {
    let viewer = Resource::new_blocking(|| (), |_| viewer());
    provide_context(AdminViewer(viewer));
    // `/admin` shows the user list: mark "Users" as the current section there too.
    let location = use_location();
    let on_index = move || matches!(location.pathname.get().as_str(), "/admin" | "/admin/");
    // The page (`Outlet`) stays out of the `Suspense`: a `Suspense` renders its children more
    // than once on the server (to find their resources, then for real), and each time the
    // page would be built anew and fetch its data again. Pages show their own parts through
    // `ForAdmins`, and show nothing for a refused load: the 403 here says it all.
    view! {
        <div class="admin">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let viewer = viewer.await.unwrap_or_default();
                    if viewer.admin && viewer.admin_needs_second_factor {
                        view! { <Redirect path="/account?need=second-factor" /> }.into_any()
                    } else if viewer.admin {
                        view! {
                            <nav class="admin-nav" aria-label="Admin">
                                <A href="/admin/users" attr:class=move || on_index().then_some("current")>"Users"</A>
                                <A href="/admin/posts">"Posts"</A>
                                <A href="/admin/audit">"Audit log"</A>
                                <A href="/admin/outbox">"Outbox"</A>
                                <A href="/admin/system">"System"</A>
                            </nav>
                        }
                        .into_any()
                    } else {
                        view! { <Forbidden signed_in=viewer.signed_in /> }.into_any()
                    }
                })}
            </Suspense>
            <Outlet />
        </div>
    }
}

/// The admin layout's answer to "is this an admin?", for the pages under it.
#[derive(Clone, Copy)]
struct AdminViewer(Resource<Result<Viewer, AppError>>);

/// A page's own static parts (heading, search form): shown to admins only, since everyone else
/// gets the layout's 403. Holds no data; the page's data comes from its server function,
/// which the server and the database refuse to non-admins.
#[component]
pub fn ForAdmins(children: ChildrenFn) -> impl IntoView {
    let Some(AdminViewer(viewer)) = use_context::<AdminViewer>() else {
        return ().into_any();
    };
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let admin = viewer.await.is_ok_and(|v| v.admin && !v.admin_needs_second_factor);
                    admin.then(|| children())
                })
            }}
        </Suspense>
    }
    .into_any()
}

/// The styled 403 page.
#[component]
pub fn Forbidden(
    /// Offer "back home" rather than "sign in".
    #[prop(optional)]
    signed_in: bool,
) -> impl IntoView {
    // On the server, make the response a real 403.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text="Admins only" />
        <section class="notice" data-testid="forbidden">
            <p class="notice__code">"403"</p>
            <h1>"Admins only"</h1>
            <p>"This part of Palisade is for administrators. If you need access, ask an admin to give your account the admin role."</p>
            {if signed_in {
                view! { <A href="/" attr:class="button">"Back to the home page"</A> }.into_any()
            } else {
                view! { <A href="/signin?next=/admin" attr:class="button">"Sign in"</A> }.into_any()
            }}
        </section>
    }
}

/// What a page shows when its data could not be loaded. A refusal normally shows nothing, as
/// the layout already answers with the 403 page; but if the layout still takes the viewer for
/// an admin (the role was taken away since the area was opened), the page says it.
pub fn load_error(error: AppError) -> AnyView {
    match error {
        AppError::Forbidden | AppError::Unauthorized => {
            let layout_says_admin = use_context::<AdminViewer>()
                .and_then(|AdminViewer(viewer)| viewer.get_untracked())
                .and_then(Result::ok)
                .is_some_and(|viewer| viewer.admin);
            if layout_says_admin {
                view! { <Forbidden signed_in=true /> }.into_any()
            } else {
                ().into_any()
            }
        }
        AppError::NotFound => view! { <NotFound /> }.into_any(),
        AppError::Unavailable => view! { <Unavailable /> }.into_any(),
        e => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
    }
}

/// A time as the admin pages show it: UTC (each page says so), to the minute.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub fn maybe_when(t: Option<DateTime<Utc>>, none: &'static str) -> String {
    t.map_or_else(|| none.to_string(), when)
}

/// `?a=1&b=2` from the pairs whose value is not empty (or "" when none is).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link to a user's admin page, by name when the account still exists.
fn user_link(id: Option<uuid::Uuid>, name: Option<String>) -> AnyView {
    match (id, name) {
        (Some(id), Some(name)) => {
            view! { <A href=format!("/admin/users/{id}")>{name}</A> }.into_any()
        }
        (Some(id), None) => {
            let short = id.to_string()[..8].to_string();
            view! { <span class="muted" title=id.to_string()>{short} " (deleted)"</span> }
                .into_any()
        }
        (None, _) => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// An entry's details for people: `from: user · to: admin` (the JSON when it is not a flat
/// object).
fn details_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        _ => json.to_string(),
    }
}

/// Audit entries as a table (the audit log page and a user's recent activity).
#[component]
pub fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="muted">"No entries."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="admin-table" data-testid="audit-entries">
                <thead>
                    <tr>
                        <th>"Time (UTC)"</th>
                        <th>"Action"</th>
                        <th>"Actor"</th>
                        <th>"Target"</th>
                        <th>"From"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| {
                            let action = e.action.clone();
                            let details = details_text(&e.details);
                            let ua = e.user_agent.unwrap_or_default();
                            view! {
                                <tr data-action=action>
                                    <td class="nowrap">{when(e.at)}</td>
                                    <td>
                                        <code>{e.action}</code>
                                        {(!details.is_empty()).then(|| view! { <div class="details">{details}</div> })}
                                    </td>
                                    <td>{user_link(e.actor_id, e.actor_name)}</td>
                                    <td>{user_link(e.target_id, e.target_name)}</td>
                                    <td class="from" title=ua>
                                        {e.ip.unwrap_or_else(|| "—".into())}
                                        <div class="details">{e.device}</div>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::{details_text, query_string};

    #[test]
    fn details_read_as_key_value_pairs() {
        assert_eq!(details_text(r#"{"sessions":2}"#), "sessions: 2");
        assert_eq!(details_text(r#"{"to":"admin"}"#), "to: admin");
        assert_eq!(details_text("{}"), "");
        assert_eq!(details_text("[1]"), "[1]");
    }

    #[test]
    fn query_strings_skip_empty_values_and_escape_the_rest() {
        assert_eq!(query_string(&[("q", ""), ("after", "")]), "");
        assert_eq!(
            query_string(&[("q", "a b&c@d"), ("after", "1_x")]),
            "?q=a%20b%26c%40d&after=1_x"
        );
    }
}
