//! What a post's author, an admin and a curious user can learn or do beyond their own posts:
//! the authors' endpoints act on the caller's own posts only (moderation is audited and goes
//! through its own path), "My posts" comes in bounded pages, and a new post's slug says
//! nothing about other users' drafts.
use app::{error::AppError, ssr::db};
use serde_json::Value;

use crate::support::{Reader, ReadersApp};

/// Title, status and whether it still exists, as the author sees the post.
async fn state(world: &ReadersApp, slug: &str) -> Option<(String, String)> {
    let answer = world
        .call(&world.author, "/api/posts/editable", &[("slug", slug)])
        .await;
    if answer.status == 404 {
        return None;
    }
    let post: Value = answer.json();
    Some((
        post["title"].as_str().unwrap().to_owned(),
        post["status"].as_str().unwrap().to_owned(),
    ))
}

#[tokio::test]
async fn admins_cannot_change_other_users_posts_through_the_authors_endpoints() {
    let world = ReadersApp::new().await;
    let (author, admin) = (&world.author, &world.admin);
    let public = world.write(author, "Public words", "Mine.", true).await;
    let draft = world.write(author, "Draft words", "Mine too.", false).await;
    let public_id = world.id_of(author, &public).await;
    let draft_id = world.id_of(author, &draft).await;

    for id in [&public_id, &draft_id] {
        let edit = world
            .call(
                admin,
                "/api/posts/update",
                &[("id", id), ("title", "Edited by an admin"), ("body", "x")],
            )
            .await;
        assert_eq!(edit.error(), AppError::Forbidden, "{edit:?}");
        for path in [
            "/api/posts/publish",
            "/api/posts/unpublish",
            "/api/posts/delete",
        ] {
            let answer = world.call(admin, path, &[("id", id)]).await;
            assert_eq!(answer.error(), AppError::Forbidden, "{path}: {answer:?}");
        }
    }
    assert_eq!(
        state(&world, &public).await,
        Some(("Public words".into(), "published".into()))
    );
    assert_eq!(
        state(&world, &draft).await,
        Some(("Draft words".into(), "draft".into()))
    );
    // Nothing happened, so there is nothing to audit.
    let mut tx = db::begin_as(&world.app.pool, &admin.actor()).await.unwrap();
    let entries: i64 =
        sqlx::query_scalar("select count(*) from auth.audit_log where action like 'post.%'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(entries, 0);

    // An admin still writes their own posts through the same endpoints.
    let own = world
        .write(admin, "An admin's own post", "Hello.", false)
        .await;
    let own_id = world.id_of(admin, &own).await;
    let edit = world
        .call(
            admin,
            "/api/posts/update",
            &[
                ("id", &own_id),
                ("title", "Edited"),
                ("body", "Hello again."),
            ],
        )
        .await;
    assert_eq!(edit.redirect(), format!("/posts/{own}?saved=edited"));
    let publish = world
        .call(admin, "/api/posts/publish", &[("id", &own_id)])
        .await;
    assert_eq!(publish.redirect(), format!("/posts/{own}?saved=published"));
}

#[tokio::test]
async fn my_posts_come_in_bounded_pages_without_their_bodies() {
    let world = ReadersApp::new().await;
    let author = &world.author;
    let body = "A body that is long and private. ".repeat(100);
    let mut written = Vec::new();
    for i in 0..25 {
        written.push(
            world
                .write(author, &format!("Post {i}"), &body, i % 2 == 0)
                .await,
        );
    }

    let page = async |n: &str| -> Value {
        let answer = world.call(author, "/api/posts/mine", &[("page", n)]).await;
        assert!(!answer.body.contains("long and private"), "bodies listed");
        answer.json()
    };
    let first = page("1").await;
    let rows = first["rows"].as_array().expect("a page of rows");
    assert_eq!(rows.len(), 20);
    assert_eq!(first["has_next"], true);
    // Newest change first.
    assert_eq!(rows[0]["slug"], written[24].as_str());
    let second = page("2").await;
    assert_eq!(second["rows"].as_array().unwrap().len(), 5);
    assert_eq!(second["has_next"], false);
    let mut seen: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|p| p["rows"].as_array().unwrap().iter())
        .map(|r| r["slug"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    written.sort();
    assert_eq!(seen, written, "every post once");
    assert!(page("3").await["rows"].as_array().unwrap().is_empty());
    // No page number (an API client's bare call) is the first page.
    let bare: Value = world.call(author, "/api/posts/mine", &[]).await.json();
    assert_eq!(bare["rows"].as_array().unwrap().len(), 20);

    // The page shows one page of rows and a way to the next.
    let html = world.page(author, "/posts/mine").await;
    assert_eq!(html.status, 200);
    assert_eq!(html.body.matches("<tr data-slug=").count(), 20);
    assert!(html.body.contains("/posts/mine?page=2"), "{}", html.body);
    let html = world.page(author, "/posts/mine?page=2").await;
    assert_eq!(html.body.matches("<tr data-slug=").count(), 5);
}

/// `base-` and 8 hex digits.
fn suffixed(slug: &str, base: &str) -> bool {
    slug.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|tag| tag.len() == 8 && tag.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn a_new_posts_slug_is_alike_whether_its_title_is_free_published_or_someone_elses_draft() {
    let world = ReadersApp::new().await;
    let (author, other) = (&world.author, &world.other);
    world.write(other, "Taken in public", "Hi.", true).await;
    world.write(other, "Taken in private", "Hush.", false).await;
    // A draft from before slugs were suffixed holds its title's bare slug.
    let mut tx = db::begin_as(&world.app.pool, &other.actor()).await.unwrap();
    sqlx::query(
        "insert into public.posts (author_id, slug, title, body) \
         values ((select auth.uid()), 'an-old-draft', 'An old draft', 'Hush.')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut slugs = Vec::new();
    for (title, base) in [
        ("Nobody's title", "nobody-s-title"),
        ("Taken in public", "taken-in-public"),
        ("Taken in private", "taken-in-private"),
        ("An old draft", "an-old-draft"),
    ] {
        let slug = world.write(author, title, "Mine.", false).await;
        assert!(suffixed(&slug, base), "{title}: {slug}");
        slugs.push(slug);
    }
    // The same title twice: two posts, each with a suffix of its own.
    let again = world.write(author, "Nobody's title", "Again.", true).await;
    assert!(suffixed(&again, "nobody-s-title") && again != slugs[0]);
    // Still their own, and readable by their author.
    for slug in &slugs {
        let page = world.page(author, &format!("/posts/{slug}")).await;
        assert_eq!(page.status, 200, "{slug}");
    }
    assert_eq!(
        world
            .page(&Reader::anon(), &format!("/posts/{again}"))
            .await
            .status,
        200
    );
}
