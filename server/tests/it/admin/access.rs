//! Who gets into the admin area: the page answers 403 to anyone but an admin, every admin
//! server function answers 403, and the database itself refuses a non-admin's admin queries.
use app::{
    error::AppError,
    ssr::{
        auth::Actor,
        db::{DbError, admin as queries, begin_as},
    },
};
use uuid::Uuid;

use crate::support::{Browser, PeopleApp, actor};

const PAGES: [&str; 6] = [
    "/admin",
    "/admin/users",
    "/admin/audit",
    "/admin/outbox",
    "/admin/posts",
    "/admin/users/00000000-0000-0000-0000-000000000000",
];

#[tokio::test]
async fn non_admins_get_a_styled_403_page_for_every_admin_page() {
    let w = PeopleApp::new().await;
    let user = w.user("plain").await;
    let anon = Browser::open(&w.app);
    for page in PAGES {
        for (who, browser) in [("anon", &anon), ("user", &user.browser)] {
            let answer = browser.get(page).await;
            assert_eq!(answer.status, 403, "{who} {page}: {answer:?}");
            assert!(
                answer.body.contains("Admins only") && answer.body.contains(r#"class="notice""#),
                "{who} {page}: not the 403 page: {}",
                answer.body
            );
            assert!(
                !answer.body.contains(&user.email),
                "{who} {page}: leaked data"
            );
            // One 403 notice, and none of the page's own parts (heading, search, filters).
            assert_eq!(
                answer.body.matches(r#"data-testid="forbidden""#).count(),
                1,
                "{who} {page}"
            );
            for part in ["page-header", "admin-search", "admin-filter", "admin-nav"] {
                assert!(!answer.body.contains(part), "{who} {page}: shows {part}");
            }
        }
    }
    // The anonymous visitor is offered a way in, the signed-in user a way home.
    assert!(
        anon.get("/admin")
            .await
            .body
            .contains("/signin?next=/admin")
    );
}

#[tokio::test]
async fn admins_get_the_admin_pages() {
    let w = PeopleApp::new().await;
    let admin = w.admin("boss").await;
    let user = w.user("listed").await;
    for (page, heading) in [
        ("/admin", "<h1>Users</h1>"),
        ("/admin/users", "<h1>Users</h1>"),
        ("/admin/audit", "<h1>Audit log</h1>"),
        ("/admin/outbox", "<h1>Outbox</h1>"),
        ("/admin/posts", "<h1>Posts</h1>"),
    ] {
        let answer = admin.browser.get(page).await;
        assert_eq!(answer.status, 200, "{page}: {answer:?}");
        assert!(answer.body.contains(r#"aria-label="Admin""#), "{page}");
        assert!(answer.body.contains(heading), "{page}: {}", answer.body);
        assert!(!answer.body.contains("Admins only"), "{page}");
    }
    let list = admin.browser.get("/admin/users").await.body;
    assert!(list.contains(&user.email), "{list}");
    let detail = admin
        .browser
        .get(&format!("/admin/users/{}", user.id))
        .await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains(&user.email));
    // An unknown user is a 404, not a 403.
    let missing = admin
        .browser
        .get(&format!("/admin/users/{}", Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, 404);
}

/// Every admin server function, with arguments that would work for an admin.
fn admin_calls(target: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let id = || ("id", target.to_string());
    vec![
        ("/api/admin/users", vec![("q", String::new())]),
        ("/api/admin/user", vec![id()]),
        ("/api/admin/set_role", vec![id(), ("role", "admin".into())]),
        ("/api/admin/ban", vec![id(), ("duration", "1d".into())]),
        ("/api/admin/unban", vec![id()]),
        ("/api/admin/sign_out", vec![id()]),
        ("/api/admin/resend", vec![id()]),
        ("/api/admin/audit", vec![]),
        ("/api/admin/outbox", vec![("view", "dead".into())]),
        ("/api/admin/outbox_retry", vec![("id", "1".into())]),
    ]
}

#[tokio::test]
async fn admin_server_functions_answer_403_to_non_admins_and_change_nothing() {
    let w = PeopleApp::new().await;
    let user = w.user("caller").await;
    let victim = w.user("victim").await;
    let anon = Browser::open(&w.app);
    for (path, form) in admin_calls(&victim.id.to_string()) {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (who, browser) in [("anon", &anon), ("user", &user.browser)] {
            let answer = browser.call(path, &form).await;
            assert_eq!(answer.status, 403, "{who} {path}: {answer:?}");
            assert_eq!(answer.error(), AppError::Forbidden, "{who} {path}");
        }
    }
    // The victim is still a signed-in, unbanned user, and the caller did not promote themself.
    assert_eq!(victim.browser.role().await, "authenticated");
    assert_eq!(user.browser.role().await, "authenticated");
    assert_eq!(w.live_sessions(victim.id).await, 1);
}

#[tokio::test]
async fn the_database_refuses_admin_queries_for_a_normal_user() {
    let w = PeopleApp::new().await;
    let user = w.user("sneaky").await;
    let victim = w.user("target").await;
    let me = actor(user.id);

    // Each query runs in a request transaction of its own, as the app's would, skipping the
    // app's check: only Postgres stands in the way.
    async fn denied<T: std::fmt::Debug>(what: &str, result: Result<T, DbError>) {
        match result {
            Err(DbError::Denied(_)) => {}
            other => panic!("{what}: expected permission denied, got {other:?}"),
        }
    }
    let pool = &w.app.pool;
    let tx = async || begin_as(pool, &me).await.unwrap();
    assert_eq!(
        queries::current_role(&mut tx().await).await.unwrap(),
        "authenticated"
    );
    denied(
        "list users",
        queries::list_users(&mut tx().await, &Default::default(), None, 10).await,
    )
    .await;
    denied(
        "find user",
        queries::find_user(&mut tx().await, victim.id).await,
    )
    .await;
    denied(
        "set role",
        queries::set_role(&mut tx().await, user.id, app::domain::admin::Role::Admin).await,
    )
    .await;
    denied("ban", queries::ban(&mut tx().await, victim.id, 3600).await).await;
    denied("unban", queries::unban(&mut tx().await, victim.id).await).await;
    denied(
        "audit log",
        queries::audit_entries(&mut tx().await, &Default::default(), None, 10).await,
    )
    .await;
    denied(
        "outbox",
        queries::outbox_items(&mut tx().await, Default::default(), None, 10).await,
    )
    .await;
    denied(
        "outbox retry",
        queries::retry_dead(&mut tx().await, 1).await,
    )
    .await;
    // Writing to the audit log as an admin would (actor = self) is refused too.
    let mut t = tx().await;
    let forged = app::ssr::db::audit::record(
        &mut t,
        &app::ssr::db::audit::Entry {
            actor_id: Some(user.id),
            target_id: Some(victim.id),
            action: app::domain::audit::AuditAction::UserBanned,
            ip: None,
            user_agent: None,
            details: serde_json::json!({}),
        },
    )
    .await;
    denied("audit insert", forged).await;
    // And an anonymous transaction gets nowhere either.
    let mut anon = begin_as(pool, &Actor::Anon).await.unwrap();
    denied(
        "anon list users",
        queries::list_users(&mut anon, &Default::default(), None, 10).await,
    )
    .await;
}

#[tokio::test]
async fn an_admin_who_is_demoted_loses_the_admin_area_on_the_next_request() {
    let w = PeopleApp::new().await;
    let root = w.admin("root").await;
    let other = w.admin("other").await;
    assert_eq!(other.browser.get("/admin").await.status, 200);
    assert!(
        other
            .browser
            .get("/")
            .await
            .body
            .contains(r#"data-testid="admin-link""#)
    );

    root.call(
        "/api/admin/set_role",
        &[("id", &other.id.to_string()), ("role", "user")],
    )
    .await
    .assert_redirects_to(&format!("/admin/users/{}?done=role", other.id));

    // Signed out everywhere by the role change; and even a session that had survived (made
    // here after the fact) runs as a plain user: the database reads the role every request.
    assert_eq!(w.live_sessions(other.id).await, 0);
    assert_eq!(other.browser.get("/admin").await.status, 403);
    w.sign_in_directly(&other.browser, other.id).await;
    assert_eq!(other.browser.role().await, "authenticated");
    assert_eq!(other.browser.get("/admin").await.status, 403);
    let call = other.call("/api/admin/users", &[]).await;
    assert_eq!(call.error(), AppError::Forbidden);
    assert!(
        !other
            .browser
            .get("/")
            .await
            .body
            .contains(r#"data-testid="admin-link""#)
    );
}

#[tokio::test]
async fn the_admin_link_is_shown_to_admins_only() {
    let w = PeopleApp::new().await;
    let admin = w.admin("linked").await;
    let user = w.user("unlinked").await;
    let anon = Browser::open(&w.app);
    let link = r#"href="/admin""#;
    assert!(admin.browser.get("/").await.body.contains(link));
    assert!(!user.browser.get("/").await.body.contains(link));
    assert!(!anon.get("/").await.body.contains(link));
    let viewer = async |b: &Browser| {
        b.call("/api/auth/viewer", &[])
            .await
            .json::<serde_json::Value>()
    };
    assert_eq!(
        viewer(&admin.browser).await,
        serde_json::json!({"signed_in": true, "admin": true})
    );
    assert_eq!(
        viewer(&user.browser).await,
        serde_json::json!({"signed_in": true, "admin": false})
    );
    assert_eq!(
        viewer(&anon).await,
        serde_json::json!({"signed_in": false, "admin": false})
    );
}
