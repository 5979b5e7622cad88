//! The page frame: header with navigation, main column, footer.
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <header class="site-header">
            <nav class="nav" aria-label="Main">
                <A href="/" attr:class="nav__brand">"Palisade"</A>
                <ul class="nav__links">
                    <li><A href="/">"Home"</A></li>
                </ul>
            </nav>
        </header>
        <main class="container">{children()}</main>
        <footer class="site-footer">
            <p>"Palisade — the boring, bulletproof monolith."</p>
        </footer>
    }
}
