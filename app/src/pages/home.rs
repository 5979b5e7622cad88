//! The home page: what Palisade is, and the latest posts (served from the cache when it has
//! them, so the page stays up while Postgres is away).
use leptos::prelude::*;
use leptos_meta::Title;

use crate::pages::posts::list::LatestPosts;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Palisade"</h1>
            <p class="hero__lead">
                "A self-hosted Rust foundation for web products: one fast binary with server-rendered
                 Leptos pages, Postgres with Row Level Security, and Redis-backed sessions."
            </p>
        </section>
        <LatestPosts />
    }
}
