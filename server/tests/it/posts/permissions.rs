//! Who may change which post: the author alone, admins through moderation, and nobody through
//! the database when the server is bypassed.
use crate::support::{Reader, ReadersApp};
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

use super::mine;

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
    let mut tx = db::begin_as(&world.app.pool, &other.actor()).await.unwrap();
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
    let mut tx = db::begin_as(&world.app.pool, &other.actor()).await.unwrap();
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
    let mut tx = db::begin_as(&world.app.pool, &world.other.actor())
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

    let mut tx = db::begin_as(&world.app.pool, &admin.actor()).await.unwrap();
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
