//! The styled 503: what a page shows in place of its primary content while a dependency it
//! needs (Postgres, for anything not in the cache) is away. The rest of the page still renders.
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Unavailable() -> impl IntoView {
    // On the server, make the response a real 503 that says when to come back. The server
    // function that failed has usually set both already; a page must not rely on it.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
        response.insert_header(
            http::header::RETRY_AFTER,
            crate::error::UNAVAILABLE_RETRY_AFTER_SECS.into(),
        );
    }
    view! {
        <Title text="Temporarily unavailable" />
        <section class="notice" data-testid="unavailable">
            <p class="notice__code">"503"</p>
            <h2>"Temporarily unavailable"</h2>
            <p>"This part of Palisade cannot be reached right now. Please try again in a moment."</p>
        </section>
    }
}
