//! The HTML shell, the root component and the route table.
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{ParentRoute, Route, Router, Routes},
};

use crate::components::{layout::Layout, raw_text::server_escaped};
use crate::pages::{
    account::{
        AccountPage,
        factors::{RecoveryCodesPage, TotpEnrolPage},
    },
    admin::{
        AdminLayout,
        audit::AdminAuditPage,
        outbox::AdminOutboxPage,
        system::AdminSystemPage,
        users::{AdminUserPage, AdminUsersPage},
    },
    auth::{
        confirm_email::ConfirmEmailPage,
        email_sign_in::EmailSignInPage,
        forgot::ForgotPage,
        reset::ResetPage,
        second_factor::{SecondFactorPage, StepUpPage},
        signin::SignInPage,
        signup::{SignUpDonePage, SignUpPage},
        verify::VerifyPage,
    },
    home::HomePage,
    not_found::NotFound,
    posts::{
        detail::PostPage,
        editor::{EditPostPage, NewPostPage},
        list::PostsPage,
        mine::MyPostsPage,
        moderation::PostModerationPage,
    },
};

/// The document around the app. Rendered on the server only; the browser hydrates `<App/>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options) />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The stylesheet's URL. With `hash-files`, cargo-leptos names it `<name>.<hash>.css` and lists
/// the hash next to the server binary (Leptos does the same for the JS and wasm).
fn stylesheet_href(options: &LeptosOptions) -> String {
    let name = &options.output_name;
    let pkg = &options.site_pkg_dir;
    match css_hash(options) {
        Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
        None => format!("/{pkg}/{name}.css"),
    }
}

#[cfg(feature = "ssr")]
fn css_hash(options: &LeptosOptions) -> Option<String> {
    use std::sync::OnceLock;
    static HASH: OnceLock<Option<String>> = OnceLock::new();
    if !options.hash_files {
        return None;
    }
    HASH.get_or_init(|| {
        let path = std::env::current_exe()
            .ok()?
            .parent()?
            .join(&*options.hash_file);
        let hashes = std::fs::read_to_string(path).ok()?;
        hashes
            .lines()
            .find_map(|line| line.trim().strip_prefix("css:"))
            .map(|hash| hash.trim().to_string())
    })
    .clone()
}

#[cfg(not(feature = "ssr"))]
fn css_hash(_: &LeptosOptions) -> Option<String> {
    None
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();

    view! {
        <Title formatter=document_title />
        // Every route renders complete HTML (SsrMode::Async): forms and data work before the
        // wasm loads, and crawlers see the content. Pages are small; streaming buys little.
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("signup") view=SignUpPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("signup"), StaticSegment("done")) view=SignUpDonePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("signin") view=SignInPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("signin"), StaticSegment("email")) view=EmailSignInPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("signin"), StaticSegment("factor")) view=SecondFactorPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("step-up") view=StepUpPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("verify") view=VerifyPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("forgot") view=ForgotPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("reset") view=ResetPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("confirm-email") view=ConfirmEmailPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("two-factor")) view=TotpEnrolPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("recovery-codes")) view=RecoveryCodesPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("posts") view=PostsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("posts"), StaticSegment("new")) view=NewPostPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("posts"), StaticSegment("mine")) view=MyPostsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("posts"), ParamSegment("slug")) view=PostPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("posts"), ParamSegment("slug"), StaticSegment("edit")) view=EditPostPage ssr=SsrMode::Async />
                    // Admin only: the layout shows a 403 page to anyone else.
                    <ParentRoute path=StaticSegment("admin") view=AdminLayout ssr=SsrMode::Async>
                        <Route path=StaticSegment("") view=AdminUsersPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("users") view=AdminUsersPage ssr=SsrMode::Async />
                        <Route path=(StaticSegment("users"), ParamSegment("id")) view=AdminUserPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("posts") view=PostModerationPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("audit") view=AdminAuditPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("outbox") view=AdminOutboxPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("system") view=AdminSystemPage ssr=SsrMode::Async />
                    </ParentRoute>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Every page's `<title>` (pages give only their own part, often user text such as a post's
/// title). leptos_meta writes the server-side `<title>` into the head *as is*, without the
/// escaping the rest of the view gets, so a title holding `</title><meta http-equiv=refresh …>`
/// would become markup: this formatter is the one place the text is escaped. A page must not
/// set a `formatter` of its own (the last one set wins).
fn document_title(title: String) -> String {
    let full = if title.is_empty() {
        "Palisade".to_string()
    } else {
        format!("{title} · Palisade")
    };
    server_escaped(full)
}

/// Marks `<html data-hydrated>` once the wasm has taken over, so tests (and CSS) can tell a
/// server-rendered page from a live one. Effects never run on the server.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_escaped_for_the_server_rendered_head() {
        assert_eq!(document_title(String::new()), "Palisade");
        assert_eq!(
            document_title(r#"</title><meta http-equiv=refresh content="0;url=x">"#.into()),
            "&lt;/title&gt;&lt;meta http-equiv=refresh content=&quot;0;url=x&quot;&gt; · Palisade"
        );
    }
}
