//! The styled 404 page, also used as the router's fallback.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    // On the server, make the response a real 404, not a 200 with an apology in it.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text="Page not found" />
        <section class="notice">
            <p class="notice__code">"404"</p>
            <h1>"This page does not exist"</h1>
            <p>"The link may be broken, or the page may have been removed."</p>
            <A href="/" attr:class="button">"Back to the home page"</A>
        </section>
    }
}
