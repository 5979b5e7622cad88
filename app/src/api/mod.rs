//! Server functions only. Each is thin: resolve the request context, call `crate::ssr`, map the
//! error to [`crate::error::AppError`].
pub mod account;
pub mod admin;
pub mod auth;
pub mod factors;
pub mod passkeys;
pub mod posts;
pub mod status;

/// The one way a server function redirects: to `target` if it is a path on this site (see
/// [`crate::domain::redirect`]), else to `fallback`. `leptos_axum::redirect` itself panics
/// on a target that is not a valid header value, so nothing else calls it.
#[cfg(feature = "ssr")]
pub(crate) fn redirect_or(target: Option<&str>, fallback: &str) {
    leptos_axum::redirect(&crate::domain::redirect::local_path_or(target, fallback));
}

/// [`redirect_or`] with a path of ours; the home page if it is somehow not local.
#[cfg(feature = "ssr")]
pub fn redirect(to: &str) {
    redirect_or(Some(to), "/");
}

/// Makes `<Redirect/>`, rendered on the server, go through [`redirect`] too (leptos_axum's
/// own one panics on a path that is not a valid header value). Call it in every request's
/// context, after leptos_axum's.
#[cfg(feature = "ssr")]
pub fn provide_checked_redirects() {
    leptos_router::components::provide_server_redirect(redirect);
}
