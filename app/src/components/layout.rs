//! The page frame: header with navigation, main column, footer.
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::api::auth::{SignOut, viewer};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <header class="site-header">
            <nav class="nav" aria-label="Main">
                <A href="/" attr:class="nav__brand">"Palisade"</A>
                <ul class="nav__links">
                    <li><A href="/">"Home"</A></li>
                    <li><A href="/posts">"Posts"</A></li>
                </ul>
                <AccountLinks />
            </nav>
        </header>
        <main class="container">{children()}</main>
        <footer class="site-footer">
            <p>"Palisade — the boring, bulletproof monolith."</p>
        </footer>
    }
}

/// Sign in / sign up, or the account link and sign-out (and the admin link, for admins).
/// Re-asked on every navigation, so the header follows a sign-in, sign-out or role change
/// without a reload (signed-in comes from the session, admin from the database).
#[component]
fn AccountLinks() -> impl IntoView {
    let location = use_location();
    let sign_out = ServerAction::<SignOut>::new();
    let state = Resource::new_blocking(
        move || (location.pathname.get(), sign_out.version().get()),
        |_| viewer(),
    );
    view! {
        <div class="nav__account">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let viewer = state.await.unwrap_or_default();
                    if viewer.signed_in {
                        view! {
                            {viewer.admin.then(|| view! { <A href="/admin" attr:data-testid="admin-link">"Admin"</A> })}
                            <A href="/posts/mine">"My posts"</A>
                            <A href="/posts/new" attr:data-testid="write-link">"Write"</A>
                            <A href="/account">"Account"</A>
                            <ActionForm action=sign_out attr:class="inline">
                                <button class="link-button" type="submit" data-testid="sign-out">"Sign out"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <A href="/signin">"Sign in"</A>
                            <A href="/signup" attr:class="button button--small">"Sign up"</A>
                        }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}
