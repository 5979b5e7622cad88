//! Writing posts: slugs, bad input refused next to the field, XSS rendered inert, 404s, and
//! drafts listed for their author only. Who may change which post is in `permissions`.
use app::{domain::Slug, error::AppError};
use serde_json::Value;

use crate::support::{Reader, ReadersApp};

use super::mine;

/// `base-` and 8 hex digits.
fn suffixed(slug: &str, base: &str) -> bool {
    slug.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|tag| tag.len() == 8 && tag.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn slugs_come_from_titles_with_a_random_suffix_of_their_own() {
    let world = ReadersApp::new().await;
    let first = world
        .write(&world.author, "Hello, World!", "one", true)
        .await;
    let second = world
        .write(&world.author, "Hello world", "two", false)
        .await;
    let third = world
        .write(&world.other, "HELLO WORLD", "three", false)
        .await;
    for slug in [&first, &second, &third] {
        assert!(suffixed(slug, "hello-world"), "{slug}");
    }
    assert!(first != second && second != third && first != third);
    let odd = world.write(&world.author, "日本語 ✓", "five", false).await;
    assert!(suffixed(&odd, "post"), "{odd}");
    let long = world
        .write(&world.author, &"Long title ".repeat(18), "six", false)
        .await;
    assert!(long.len() <= 128 && Slug::parse(&long).is_ok(), "{long}");
}

#[tokio::test]
async fn empty_or_oversized_titles_and_bodies_are_refused_next_to_the_field() {
    let world = ReadersApp::new().await;
    let author = &world.author;
    let long_title = "t".repeat(201);
    let long_body = "b".repeat(100_001);
    let cases = [
        ("", "A body", "title"),
        ("   ", "A body", "title"),
        (long_title.as_str(), "A body", "title"),
        ("A title", "", "body"),
        ("A title", " \n ", "body"),
        ("A title", long_body.as_str(), "body"),
    ];
    for (title, body, field) in cases {
        for intent in ["draft", "publish"] {
            let answer = world
                .call(
                    author,
                    "/api/posts/create",
                    &[("title", title), ("body", body), ("intent", intent)],
                )
                .await;
            match answer.error() {
                AppError::Invalid {
                    field: Some(f),
                    message,
                    ..
                } => {
                    assert_eq!(f, field, "{title:.20} / {body:.20}");
                    assert!(!message.is_empty());
                }
                other => panic!("expected a field error, got {other:?}"),
            }
        }
    }
    assert!(mine(&world, author).await.is_empty(), "nothing saved");

    // The same refusal for an edit, which leaves the post as it was.
    let slug = world.write(author, "Kept", "Kept body", true).await;
    let id = world.id_of(author, &slug).await;
    for (title, body, field) in cases {
        let answer = world
            .call(
                author,
                "/api/posts/update",
                &[("id", &id), ("title", title), ("body", body)],
            )
            .await;
        assert!(answer.error().for_field(field).is_some(), "{field}");
    }
    let view: Value = world
        .call(&Reader::anon(), "/api/posts/get", &[("slug", &slug)])
        .await
        .json();
    assert_eq!(view["post"]["title"], "Kept");

    // A plain form post (no wasm yet) goes back to the form, which shows the message next to
    // the title field.
    let form_post = world
        .send_form(
            author,
            "/api/posts/create",
            "/posts/new",
            &[("title", ""), ("body", "x"), ("intent", "draft")],
        )
        .await;
    let back = form_post
        .location()
        .expect("redirected back to the form")
        .to_owned();
    assert!(back.starts_with("/posts/new?"), "{back}");
    let page = world.page(author, &back).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"data-field="title""#) && page.body.contains("Give the post a title."),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn scripts_handlers_and_javascript_links_render_inert() {
    let world = ReadersApp::new().await;
    let body = r#"Hello **reader**.

<script>alert('xss-script')</script>

<img src="x" onerror="alert('xss-img')">

<a href="javascript:alert('xss-link')">click</a> and [also](javascript:alert('xss-md'))

<svg onload="alert('xss-svg')"></svg>

<p onclick="alert('xss-p')" style="color:red">styled</p>

<iframe src="https://evil.example/"></iframe>
"#;
    let slug = world
        .write(&world.author, "A post with a payload", body, true)
        .await;
    let page = world.page(&Reader::anon(), &format!("/posts/{slug}")).await;
    assert_eq!(page.status, 200);
    let html = page.body;
    assert!(html.contains("<strong>reader</strong>"), "{html}");
    for needle in [
        "xss-script",
        "xss-img",
        "xss-link",
        "xss-md",
        "xss-svg",
        "xss-p",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "evil.example",
        "color:red",
    ] {
        assert!(!html.contains(needle), "{needle} survived in {html}");
    }
    // The preview is sanitized the same way.
    let preview: String = world
        .call(&world.author, "/api/posts/preview", &[("body", body)])
        .await
        .json();
    assert!(preview.contains("<strong>reader</strong>"));
    assert!(
        !preview.contains("xss-") && !preview.contains("javascript:"),
        "{preview}"
    );
}

#[tokio::test]
async fn an_unknown_post_is_a_styled_404() {
    let world = ReadersApp::new().await;
    for path in [
        "/posts/no-such-post",
        "/posts/Not_A_Slug!",
        "/posts/no-such-post/edit",
    ] {
        let who = if path.ends_with("edit") {
            &world.author
        } else {
            &world.other
        };
        let page = world.page(who, path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("This page does not exist"), "{path}");
    }
    let answer = world
        .call(
            &Reader::anon(),
            "/api/posts/get",
            &[("slug", "no-such-post")],
        )
        .await;
    assert_eq!(answer.error(), AppError::NotFound);
}

#[tokio::test]
async fn drafts_are_listed_for_their_author_only() {
    let world = ReadersApp::new().await;
    let draft = world
        .write(&world.author, "Work in progress", "wip", false)
        .await;
    let mine_list = mine(&world, &world.author).await;
    assert_eq!(mine_list.len(), 1);
    assert_eq!(mine_list[0]["slug"], draft.as_str());
    assert_eq!(mine_list[0]["status"], "draft");
    assert!(mine(&world, &world.other).await.is_empty());
    assert!(
        mine(&world, &world.admin).await.is_empty(),
        "only their own"
    );

    let anon = world.call(&Reader::anon(), "/api/posts/mine", &[]).await;
    assert_eq!(anon.error(), AppError::Unauthorized);
    let page = world.page(&Reader::anon(), "/posts/mine").await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), Some("/signin?next=/posts/mine"));
    let page = world.page(&world.author, "/posts/mine").await;
    assert!(page.body.contains("Work in progress"));
    let page = world.page(&world.author, &format!("/posts/{draft}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-testid="draft-notice""#));
}
