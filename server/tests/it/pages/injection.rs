//! Hostile titles, display names and bios, on every page they can reach: the document (and
//! above all its `<head>`) never carries them as markup.
use crate::support::{Reader, ReadersApp};

const META_REFRESH: &str =
    r#"</title><meta http-equiv=refresh content="0;url=https://evil.example">"#;
const SCRIPT: &str = r#""><script>alert(1)</script>"#;
const IMG: &str = "<img src=x onerror=alert(1)>";

/// Pieces of the payloads that must never appear as written (any case).
const MARKUP: &[&str] = &[
    META_REFRESH,
    SCRIPT,
    IMG,
    "<meta http-equiv",
    "<script>alert",
    "<img src=x",
    "</title><meta",
];

/// The document's `<head>`, lower-cased.
fn head_of(html: &str) -> String {
    let html = html.to_lowercase();
    let end = html.find("</head>").expect("a </head>");
    html[..end].to_string()
}

#[track_caller]
fn assert_inert(path: &str, html: &str) {
    let lower = html.to_lowercase();
    for needle in MARKUP {
        assert!(
            !lower.contains(&needle.to_lowercase()),
            "{path}: {needle:?} appears as markup in\n{html}"
        );
    }
    let head = head_of(html);
    assert_eq!(head.matches("<title>").count(), 1, "{path}: {head}");
    assert_eq!(head.matches("</title>").count(), 1, "{path}: {head}");
    assert!(!head.contains("<meta http-equiv"), "{path}: {head}");
}

#[tokio::test]
async fn hostile_titles_names_and_bios_never_become_markup_on_any_page() {
    let world = ReadersApp::new().await;
    let author = &world.author;
    world
        .call(
            author,
            "/api/account/profile",
            &[
                ("username", "hostile_author"),
                ("display_name", &format!("{IMG}{SCRIPT}")),
                // A textarea's contents are raw text to the renderer: the bio closes it first.
                ("bio", &format!("</textarea>{META_REFRESH}{SCRIPT}{IMG}")),
            ],
        )
        .await
        .assert_redirects_to("/account?saved=profile");
    let mut published = Vec::new();
    for title in [META_REFRESH, SCRIPT, IMG] {
        let body = format!("Plain *body*. </textarea>{META_REFRESH}");
        published.push(world.write(author, title, &body, true).await);
    }
    let draft = world
        .write(
            author,
            &format!("{META_REFRESH} draft"),
            "Draft body.",
            false,
        )
        .await;

    let anon = Reader::anon();
    let author_id = author.id().to_string();
    let mut visits: Vec<(&Reader, String)> = vec![
        (&anon, "/".into()),
        (&anon, "/posts".into()),
        (author, "/".into()),
        (author, "/posts".into()),
        (author, "/posts/mine".into()),
        (author, "/account".into()),
        (author, format!("/posts/{draft}")),
        (author, format!("/posts/{draft}/edit")),
        (&world.admin, "/admin".into()),
        (&world.admin, "/admin/users".into()),
        (&world.admin, format!("/admin/users/{author_id}")),
        (&world.admin, "/admin/posts".into()),
        (&world.admin, "/admin/audit".into()),
    ];
    for slug in &published {
        visits.push((&anon, format!("/posts/{slug}")));
        visits.push((author, format!("/posts/{slug}")));
        visits.push((author, format!("/posts/{slug}/edit")));
        visits.push((&world.admin, format!("/posts/{slug}")));
    }
    for (who, path) in &visits {
        let page = world.page(who, path).await;
        assert_eq!(page.status, 200, "{path} as {}: {page:?}", who.username);
        assert_inert(path, &page.body);
        // The hostile text did reach the page (escaped), so the check above means something.
        // (The audit log names users by username, which is plain by construction.)
        let shown = page.body.contains("alert(1)") || page.body.contains("evil.example");
        assert!(
            shown || path == "/admin/audit",
            "{path} as {} shows none of it",
            who.username
        );
    }

    // The title is the post's own, escaped, not cut short by the payload.
    let page = world.page(&anon, &format!("/posts/{}", published[0])).await;
    assert!(
        page.body.contains(
            "<title>&lt;/title&gt;&lt;meta http-equiv=refresh \
             content=&quot;0;url=https://evil.example&quot;&gt; · Palisade</title>"
        ),
        "{}",
        head_of(&page.body)
    );
}

#[tokio::test]
async fn hostile_text_in_the_address_is_never_reflected_as_markup() {
    let world = ReadersApp::new().await;
    let query: String = format!("{META_REFRESH}{SCRIPT}{IMG}")
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    for (who, path) in [
        (&world.admin, format!("/admin/users?q={query}")),
        (&Reader::anon(), format!("/signin?next={query}")),
        (&Reader::anon(), format!("/posts?page={query}")),
        (&Reader::anon(), format!("/posts/{query}")),
    ] {
        let page = world.page(who, &path).await;
        assert!(page.status < 500, "{path}: {page:?}");
        assert_inert(&path, &page.body);
    }
}
