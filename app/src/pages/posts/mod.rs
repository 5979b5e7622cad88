//! The posts pages: the public list and post page, authoring (new, edit, "My posts"), and the
//! admins' moderation list. Pieces more than one page shows live here.
pub mod detail;
pub mod editor;
pub mod list;
pub mod mine;
pub mod moderation;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::{domain::PostStatus, error::AppError};

/// The `?page=N` of a paged list (from 1); anything else is page 1.
fn page_number() -> impl Fn() -> u32 + Copy + Send + Sync + 'static {
    let query = leptos_router::hooks::use_query_map();
    move || {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(1)
        })
    }
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

/// "by Ada · 3 May 2026", or a draft badge when there is no publication date.
#[component]
fn Byline(author: String, published_at: Option<DateTime<Utc>>) -> impl IntoView {
    view! {
        <p class="byline muted">
            "by " <span data-testid="author">{author}</span>
            {match published_at {
                Some(t) => view! { " · " <time datetime=t.to_rfc3339()>{date(t)}</time> }.into_any(),
                None => view! { <span class="badge badge--draft">"Draft"</span> }.into_any(),
            }}
        </p>
    }
}

#[component]
fn StatusBadge(status: PostStatus) -> impl IntoView {
    match status {
        PostStatus::Published => view! { <span class="badge">"Published"</span> },
        PostStatus::Draft => view! { <span class="badge badge--draft">"Draft"</span> },
    }
}

/// A part that could not load. Postgres away (and nothing in the cache) makes it the styled
/// 503 page: these parts are their pages' primary content.
fn error_view(e: AppError) -> AnyView {
    if e == AppError::Unavailable {
        return view! { <super::unavailable::Unavailable /> }.into_any();
    }
    view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
}
