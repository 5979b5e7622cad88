//! Which responses a shared cache (CDN, proxy) may keep: anonymous public pages, with an
//! explicit policy; never anything rendered for a signed-in user, a draft, an error, a form
//! with per-visitor state, or a response that sets a cookie.
use crate::support::{Answer, Browser, Reader, ReadersApp};

const PRIVATE: &str = "private, no-store";

#[track_caller]
fn assert_private(what: &str, answer: &Answer) {
    assert_eq!(
        answer.header("cache-control"),
        Some(PRIVATE),
        "{what}: {answer:?}"
    );
}

#[track_caller]
fn assert_public(what: &str, answer: &Answer) {
    assert_eq!(answer.status, 200, "{what}: {answer:?}");
    let policy = answer.header("cache-control").unwrap_or_default();
    assert!(
        policy.starts_with("public, max-age=0, s-maxage="),
        "{what}: {policy:?}"
    );
    assert!(
        policy.contains("stale-while-revalidate="),
        "{what}: {policy:?}"
    );
    let vary: Vec<String> = answer
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_lowercase())
        .collect();
    let vary = vary.join(", ");
    assert!(vary.contains("cookie"), "{what}: vary {vary:?}");
    assert!(answer.header("set-cookie").is_none(), "{what}");
}

#[tokio::test]
async fn pages_for_a_signed_in_user_are_private_and_never_stored() {
    let world = ReadersApp::new().await;
    let author = &world.author;
    let published = world.write(author, "Public words", "Body.", true).await;
    for path in [
        "/account".to_string(),
        "/posts/mine".into(),
        "/posts/new".into(),
        "/".into(),
        "/posts".into(),
        format!("/posts/{published}"),
    ] {
        let page = world.page(author, &path).await;
        assert_eq!(page.status, 200, "{path}: {page:?}");
        assert_private(&path, &page);
    }
    let admin = world.page(&world.admin, "/admin/users").await;
    assert_private("/admin/users", &admin);
    // Server functions answer for one user too.
    let mine = world.call(author, "/api/posts/mine", &[]).await;
    assert_private("/api/posts/mine", &mine);
}

#[tokio::test]
async fn a_draft_seen_by_its_author_is_private_and_hidden_from_everyone_else() {
    let world = ReadersApp::new().await;
    let draft = world.write(&world.author, "Not yet", "Body.", false).await;
    let path = format!("/posts/{draft}");
    let own = world.page(&world.author, &path).await;
    assert_eq!(own.status, 200);
    assert_private("own draft", &own);
    let anon = world.page(&Reader::anon(), &path).await;
    assert_eq!(anon.status, 404);
    assert_eq!(anon.header("cache-control"), Some("no-store"), "{anon:?}");
}

#[tokio::test]
async fn anonymous_public_pages_carry_a_shared_cache_policy() {
    let world = ReadersApp::new().await;
    let published = world
        .write(&world.author, "Public words", "Body.", true)
        .await;
    let anon = Reader::anon();
    for path in [
        "/".to_string(),
        "/posts".into(),
        format!("/posts/{published}"),
    ] {
        let page = world.page(&anon, &path).await;
        assert_public(&path, &page);
    }
    // Static assets keep their own, longer policy (when the build has produced them).
    let asset = world.page(&anon, "/pkg/palisade.css").await;
    if asset.status == 200 {
        assert_eq!(
            asset.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
    }
}

#[tokio::test]
async fn forms_errors_and_cookie_setting_answers_are_never_shared() {
    let world = ReadersApp::new().await;
    let anon = Reader::anon();
    for path in [
        "/signin",
        "/signup",
        "/forgot",
        "/posts/no-such-post",
        "/no-such-page",
    ] {
        let page = world.page(&anon, path).await;
        let policy = page.header("cache-control").unwrap_or_default();
        assert!(policy.contains("no-store"), "{path}: {page:?}");
        assert!(!policy.contains("public"), "{path}: {policy}");
    }
    // Signing in sets the session cookie: that answer is private whatever else it is.
    let browser = Browser::open(&world.app);
    let user = crate::support::verified_user(&world.app, &browser, "cache").await;
    let signed_in = browser.sign_in(&user.email, &user.password).await;
    assert!(signed_in.header("set-cookie").is_some(), "{signed_in:?}");
    assert_private("sign-in answer", &signed_in);
    // A request that carries the session cookie is that user's, on every page.
    let home = browser.get("/").await;
    assert_private("/ with a session", &home);
}
