//! The rendered-page cache: an anonymous reader's public page is rendered once and then served
//! from memory, each time with a fresh CSP nonce; every write shows on the next read; nobody
//! who sends a cookie or a credential, and no draft, ever goes through it.
use crate::support::{Answer, Reader, ReadersApp};

/// The CSP nonce of a page, after checking its body's scripts carry it.
fn nonce(page: &Answer) -> String {
    let csp = page.header("content-security-policy").unwrap_or_default();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a page's CSP carries a nonce: {page:?}"))
        .to_owned();
    assert!(
        page.body.contains(&format!("nonce=\"{nonce}\"")),
        "the body's scripts carry the CSP's nonce"
    );
    nonce
}

#[tokio::test]
async fn an_anonymous_public_page_is_rendered_once_then_served_from_memory_with_a_fresh_nonce() {
    let world = ReadersApp::new().await;
    let slug = world
        .write(&world.author, "Kept words", "Body.", true)
        .await;
    let pages = world.cache().pages();
    let anon = Reader::anon();
    for path in ["/".to_string(), "/posts".into(), format!("/posts/{slug}")] {
        let (hits, misses) = (pages.hits(), pages.misses());
        let first = world.page(&anon, &path).await;
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(pages.misses(), misses + 1, "{path}: rendered");
        let second = world.page(&anon, &path).await;
        assert_eq!(pages.hits(), hits + 1, "{path}: served from memory");
        assert!(second.body.contains("Kept words"), "{path}");
        let (a, b) = (nonce(&first), nonce(&second));
        assert_ne!(a, b, "{path}: every serve has its own nonce");
        assert_eq!(first.body.replace(&a, "N"), second.body.replace(&b, "N"));
        assert_eq!(
            first.header("cache-control"),
            second.header("cache-control"),
            "{path}: the same policy for shared caches"
        );
    }
}

#[tokio::test]
async fn a_publish_an_edit_and_an_unpublish_show_on_the_next_anonymous_read() {
    let world = ReadersApp::new().await;
    let anon = Reader::anon();
    let author = &world.author;
    let slug = world.write(author, "First words", "Body.", true).await;
    let id = world.id_of(author, &slug).await;
    let post = format!("/posts/{slug}");
    let read = async |path: &str| {
        // Twice: the second is the cached copy, if there is one.
        world.page(&anon, path).await;
        world.page(&anon, path).await
    };
    assert!(read("/posts").await.body.contains("First words"));
    assert!(read(&post).await.body.contains("First words"));

    let other = world.write(author, "Second words", "Body.", true).await;
    assert!(
        read("/posts").await.body.contains("Second words"),
        "publish"
    );

    world
        .call(
            author,
            "/api/posts/update",
            &[("id", &id), ("title", "Edited words"), ("body", "Body.")],
        )
        .await
        .redirect();
    assert!(read(&post).await.body.contains("Edited words"), "edit");
    assert!(read("/").await.body.contains("Edited words"), "edit, home");

    let other_id = world.id_of(author, &other).await;
    world
        .call(author, "/api/posts/unpublish", &[("id", &other_id)])
        .await
        .redirect();
    assert!(
        !read("/posts").await.body.contains("Second words"),
        "unpublish"
    );
    assert_eq!(read(&format!("/posts/{other}")).await.status, 404);
}

#[tokio::test]
async fn signed_in_readers_and_drafts_never_go_through_it() {
    let world = ReadersApp::new().await;
    let author = &world.author;
    let anon = Reader::anon();
    world.write(author, "Public words", "Body.", true).await;
    let draft = world.write(author, "Draft words", "Body.", false).await;
    let pages = world.cache().pages();

    // Anonymous readers warm the list; the author still gets their own render.
    world.page(&anon, "/posts").await;
    world.page(&anon, "/posts").await;
    let hits = pages.hits();
    let mine = world.page(author, "/posts").await;
    assert_eq!(pages.hits(), hits, "a request with a cookie is rendered");
    assert!(mine.body.contains("Sign out"), "the author's own page");
    assert_eq!(mine.header("cache-control"), Some("private, no-store"));

    // The author's draft is rendered for them, and never kept for anyone.
    let path = format!("/posts/{draft}");
    for _ in 0..2 {
        let own = world.page(author, &path).await;
        assert!(own.body.contains("Draft words"));
        let seen = world.page(&anon, &path).await;
        assert_eq!(seen.status, 404);
        assert!(!seen.body.contains("Draft words"));
    }
}
