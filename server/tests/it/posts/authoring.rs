//! Writing posts: slugs, bad input, XSS, 404s, and who may change what — refused by the
//! server with the right status, and by the database when the server is bypassed.
use app::{
    domain::{PostBody, PostStatus, PostTitle, Slug},
    error::AppError,
    ssr::{
        auth::Actor,
        db::{self, DbError, posts},
    },
};
use serde_json::Value;
use uuid::Uuid;

use crate::support::{Reader, ReadersApp};

fn actor(who: &Reader) -> Actor {
    match who.id {
        Some(id) => Actor::User {
            id,
            session_id: None,
            token_family: None,
        },
        None => Actor::Anon,
    }
}

async fn mine(world: &ReadersApp, who: &Reader) -> Vec<Value> {
    let page: Value = world.call(who, "/api/posts/mine", &[]).await.json();
    page["rows"].as_array().expect("a page of rows").clone()
}

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

#[tokio::test]
async fn only_the_author_changes_a_post_and_anonymous_visitors_write_nothing() {
    let world = ReadersApp::new().await;
    let author = &world.author;
    let other = &world.other;
    let public = world
        .write(author, "Mine to change", "Original.", true)
        .await;
    let draft = world
        .write(author, "My private draft", "Private.", false)
        .await;
    let public_id = world.id_of(author, &public).await;
    let draft_id = world.id_of(author, &draft).await;

    // Through the server: a visible post that is not yours is 403, an invisible one 404.
    for (id, expected) in [
        (&public_id, AppError::Forbidden),
        (&draft_id, AppError::NotFound),
    ] {
        let edit = world
            .call(
                other,
                "/api/posts/update",
                &[("id", id), ("title", "Hijacked"), ("body", "Hijacked")],
            )
            .await;
        assert_eq!(edit.error(), expected);
        for path in [
            "/api/posts/publish",
            "/api/posts/unpublish",
            "/api/posts/delete",
        ] {
            assert_eq!(
                world.call(other, path, &[("id", id)]).await.error(),
                expected
            );
        }
    }
    assert_eq!(
        world
            .call(other, "/api/posts/editable", &[("slug", &public)])
            .await
            .error(),
        AppError::Forbidden
    );
    let page = world.page(other, &format!("/posts/{public}/edit")).await;
    assert!(page.body.contains("This is not your post"));

    // Anonymous visitors cannot create, and their edits are 401.
    let anon = Reader::anon();
    let create = world
        .call(
            &anon,
            "/api/posts/create",
            &[("title", "Anonymous"), ("body", "x"), ("intent", "publish")],
        )
        .await;
    assert_eq!(create.error(), AppError::Unauthorized);
    let edit = world
        .call(
            &anon,
            "/api/posts/update",
            &[("id", &public_id), ("title", "x"), ("body", "x")],
        )
        .await;
    assert_eq!(edit.error(), AppError::Unauthorized);
    let page = world.page(&anon, "/posts/new").await;
    assert_eq!(page.location(), Some("/signin?next=/posts/new"));

    // The database refuses the same writes when the server's checks are skipped.
    let public_id: Uuid = public_id.parse().unwrap();
    let draft_id: Uuid = draft_id.parse().unwrap();
    let title = PostTitle::parse("Hijacked").unwrap();
    let body = PostBody::parse("Hijacked").unwrap();
    let mut tx = db::begin_as(&world.app.pool, &actor(other)).await.unwrap();
    for id in [public_id, draft_id] {
        assert!(
            posts::update_content(&mut tx, id, &title, &body)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            posts::set_status(&mut tx, id, PostStatus::Draft)
                .await
                .unwrap()
                .is_none()
        );
        assert!(posts::delete(&mut tx, id).await.unwrap().is_none());
    }
    tx.commit().await.unwrap();
    let mut tx = db::begin_as(&world.app.pool, &Actor::Anon).await.unwrap();
    let forged = posts::NewPost {
        author_id: author.id(),
        title: &title,
        body: &body,
        status: PostStatus::Published,
    };
    let refused = posts::insert(&mut tx, &forged, &Slug::parse("forged").unwrap()).await;
    assert!(matches!(refused, Err(DbError::Denied(_))), "{refused:?}");
    drop(tx);
    // Nor can a user create a post in someone else's name.
    let mut tx = db::begin_as(&world.app.pool, &actor(other)).await.unwrap();
    let refused = posts::insert(&mut tx, &forged, &Slug::parse("forged").unwrap()).await;
    assert!(matches!(refused, Err(DbError::Denied(_))), "{refused:?}");
    drop(tx);

    // Nothing changed.
    let rows = mine(&world, author).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["title"] != "Hijacked"));
    let view: Value = world
        .call(&anon, "/api/posts/get", &[("slug", &public)])
        .await
        .json();
    assert_eq!(view["post"]["title"], "Mine to change");
}

#[tokio::test]
async fn admins_moderate_any_post_and_everyone_else_is_refused() {
    let world = ReadersApp::new().await;
    let author = &world.author;
    let admin = &world.admin;
    let public = world.write(author, "Reported post", "Bad.", true).await;
    let draft = world
        .write(author, "Draft under review", "Hmm.", false)
        .await;
    let own = world
        .write(&world.other, "The other's post", "Fine.", true)
        .await;
    let public_id = world.id_of(author, &public).await;
    let draft_id = world.id_of(author, &draft).await;
    let own_id = world.id_of(&world.other, &own).await;

    // Not an admin: 403 from the server, even for their own post; 401 when signed out.
    for who in [&world.other, author] {
        let list = world.call(who, "/api/admin/posts/list", &[]).await;
        assert_eq!(list.error(), AppError::Forbidden);
        for path in ["/api/admin/posts/unpublish", "/api/admin/posts/delete"] {
            for id in [&public_id, &own_id] {
                assert_eq!(
                    world.call(who, path, &[("id", id)]).await.error(),
                    AppError::Forbidden,
                    "{path}"
                );
            }
        }
        let page = world.page(who, "/admin/posts").await;
        assert_eq!(page.status, 403);
        assert!(page.body.contains("403"));
    }
    let anon = world
        .call(
            &Reader::anon(),
            "/api/admin/posts/unpublish",
            &[("id", &public_id)],
        )
        .await;
    assert_eq!(anon.error(), AppError::Unauthorized);
    // And the database: another user's unpublish touches no row.
    let mut tx = db::begin_as(&world.app.pool, &actor(&world.other))
        .await
        .unwrap();
    let id: Uuid = public_id.parse().unwrap();
    assert!(
        posts::set_status(&mut tx, id, PostStatus::Draft)
            .await
            .unwrap()
            .is_none()
    );
    assert!(posts::delete(&mut tx, id).await.unwrap().is_none());
    assert!(!db::is_admin(&mut tx).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        world
            .call(&Reader::anon(), "/api/posts/get", &[("slug", &public)])
            .await
            .status,
        200
    );

    // The admin sees every post, drafts included.
    let list: Value = world.call(admin, "/api/admin/posts/list", &[]).await.json();
    let slugs: Vec<&str> = list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    for slug in [&public, &draft, &own] {
        assert!(slugs.contains(&slug.as_str()), "{slug} in {slugs:?}");
    }
    let page = world.page(admin, "/admin/posts").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Draft under review"));

    // Unpublish and delete anybody's post, recorded in the audit log.
    let done = world
        .call(admin, "/api/admin/posts/unpublish", &[("id", &public_id)])
        .await;
    assert_eq!(done.redirect(), "/admin/posts?saved=unpublished");
    assert_eq!(
        world
            .call(&Reader::anon(), "/api/posts/get", &[("slug", &public)])
            .await
            .status,
        404
    );
    let done = world
        .call(admin, "/api/admin/posts/delete", &[("id", &draft_id)])
        .await;
    assert_eq!(done.redirect(), "/admin/posts?saved=deleted");
    let rows = mine(&world, author).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "draft");
    let missing = world
        .call(admin, "/api/admin/posts/delete", &[("id", &draft_id)])
        .await;
    assert_eq!(missing.error(), AppError::NotFound);

    let mut tx = db::begin_as(&world.app.pool, &actor(admin)).await.unwrap();
    let audit: Vec<(String, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "select action, actor_id, target_id from auth.audit_log \
         where action like 'post.%' order by at",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        audit,
        [
            ("post.unpublished".to_string(), admin.id, author.id),
            ("post.deleted".to_string(), admin.id, author.id),
        ]
    );
}
