//! Every action on an account, with what it does to the target's sessions, sign-in and role,
//! and the audit entry it leaves. Finding users is in `user_search`.
use app::{
    domain::admin::UserDetail,
    error::AppError,
    ssr::db::{ServiceRole, begin_service},
};
use uuid::Uuid;

use crate::support::{Browser, PASSWORD, PeopleApp, Person, audit_of, db_role, mail};

async fn detail(admin: &Person, id: Uuid) -> UserDetail {
    admin
        .call("/api/admin/user", &[("id", &id.to_string())])
        .await
        .json()
}

/// `path` refuses a bad value of `field` for the user `id`, and a good one for the admin's own
/// account, next to the field; the admin stays an admin. `(field, bad, good)`.
async fn refuses_a_bad_value_and_oneself(
    admin: &Person,
    path: &str,
    id: &str,
    (field, bad, good): (&str, &str, &str),
) {
    let refused = admin.call(path, &[("id", id), (field, bad)]).await;
    assert_eq!(refused.field_error().0, field);
    let own = admin
        .call(path, &[("id", &admin.id.to_string()), (field, good)])
        .await;
    assert_eq!(own.field_error().0, field);
    assert_eq!(admin.browser.role().await, "admin");
}

#[tokio::test]
async fn a_role_change_applies_on_the_targets_next_request_and_ends_their_sessions() {
    let w = PeopleApp::new().await;
    let admin = w.admin("promoter").await;
    let user = w.user("rising").await;
    let id = user.id.to_string();
    assert_eq!(user.browser.role().await, "authenticated");
    assert_eq!(user.browser.get("/admin").await.status, 403);

    admin.set_role(&id, "admin").await;
    // The database gives their very next request the new role...
    assert_eq!(db_role(&w, user.id).await, "admin");
    // ...but not on a session from before the grant: that one is over.
    assert_eq!(user.browser.role().await, "anon");
    assert_eq!(w.live_sessions(user.id).await, 0);
    w.sign_in_directly(&user.browser, user.id).await;
    assert_eq!(user.browser.role().await, "admin");
    assert_eq!(user.browser.get("/admin").await.status, 200);
    assert_eq!(detail(&admin, user.id).await.user.role, "admin");

    // Giving the role it already has changes nothing: no entry, sessions kept.
    admin.set_role(&id, "admin").await;
    assert_eq!(w.live_sessions(user.id).await, 1);

    admin.set_role(&id, "user").await;
    assert_eq!(db_role(&w, user.id).await, "authenticated");
    assert_eq!(user.browser.role().await, "anon");

    let changes: Vec<_> = audit_of(&w.app, user.id)
        .await
        .into_iter()
        .filter(|e| e.action == "admin.role_changed")
        .map(|e| e.details)
        .collect();
    assert_eq!(
        changes,
        vec![
            serde_json::json!({"from": "user", "to": "admin"}),
            serde_json::json!({"from": "admin", "to": "user"}),
        ]
    );

    // Bad input, and one's own role, are refused.
    refuses_a_bad_value_and_oneself(&admin, "/api/admin/set_role", &id, ("role", "root", "user"))
        .await;
    let nobody = admin
        .call(
            "/api/admin/set_role",
            &[("id", &Uuid::new_v4().to_string()), ("role", "admin")],
        )
        .await;
    assert_eq!(nobody.error(), AppError::NotFound);
}

#[tokio::test]
async fn a_ban_signs_the_user_out_everywhere_and_sign_in_says_the_account_is_suspended() {
    let w = PeopleApp::new().await;
    let admin = w.admin("judge").await;
    let user = w.user("troll").await;
    let phone = Browser::open(&w.app);
    w.sign_in_directly(&phone, user.id).await;
    assert_eq!(w.live_sessions(user.id).await, 2);
    let id = user.id.to_string();
    // And an API client signed in (see auth_flows::api).
    let refresh = phone.api_refresh_token(&user.email, PASSWORD).await;

    admin.ban(&id, "1d").await;

    assert_eq!(w.live_sessions(user.id).await, 0);
    assert_eq!(user.browser.role().await, "anon");
    assert_eq!(phone.role().await, "anon");
    // A session that somehow survived would get nowhere either: the database says anon.
    assert_eq!(db_role(&w, user.id).await, "anon");

    let elsewhere = Browser::open(&w.app);
    let refused = elsewhere.sign_in(&user.email, PASSWORD).await;
    let (field, message) = refused.field_error();
    assert_eq!(field, "email");
    assert!(message.contains("suspended"), "{message}");
    assert_eq!(elsewhere.session_id(), None);

    let shown = detail(&admin, user.id).await.user;
    assert!(shown.banned);
    let left = shown.banned_until.unwrap() - chrono::Utc::now();
    assert!(left > chrono::Duration::hours(23) && left <= chrono::Duration::hours(24));

    let actions: Vec<String> = audit_of(&w.app, user.id)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.ends_with(&[
            "admin.user_banned".to_string(),
            "user.sign_in_refused_banned".to_string()
        ]),
        "{actions:?}"
    );

    // Unbanned, they sign in again (the real flow, password and all).
    admin.unban(&id).await;
    assert!(!detail(&admin, user.id).await.user.banned);
    elsewhere
        .sign_in(&user.email, PASSWORD)
        .await
        .assert_redirects_to("/account");
    assert_eq!(elsewhere.role().await, "authenticated");
    // The ban ended the API client's sign-in for good: unbanning does not revive it.
    assert!(!phone.refresh_works(&refresh).await);
}

#[tokio::test]
async fn bans_last_as_long_as_chosen_and_an_admin_cannot_ban_themself() {
    let w = PeopleApp::new().await;
    let admin = w.admin("warden").await;
    let (user, _) = w.account("lifer").await;
    let id = user.to_string();
    admin.ban(&id, "permanent").await;
    let until = detail(&admin, user).await.user.banned_until.unwrap();
    assert!(until - chrono::Utc::now() > chrono::Duration::days(99 * 365));

    admin.ban(&id, "1h").await;
    let until = detail(&admin, user).await.user.banned_until.unwrap();
    assert!(until - chrono::Utc::now() <= chrono::Duration::hours(1));

    refuses_a_bad_value_and_oneself(&admin, "/api/admin/ban", &id, ("duration", "forever", "1d"))
        .await;
}

#[tokio::test]
async fn signing_a_user_out_everywhere_ends_all_their_sessions() {
    let w = PeopleApp::new().await;
    let admin = w.admin("bouncer").await;
    let user = w.user("roamer").await;
    let laptop = Browser::open(&w.app);
    w.sign_in_directly(&laptop, user.id).await;
    let api_client = laptop.api_refresh_token(&user.email, PASSWORD).await;

    admin
        .call("/api/admin/sign_out", &[("id", &user.id.to_string())])
        .await
        .assert_redirects_to(&format!("/admin/users/{}?done=signed-out", user.id));
    assert_eq!(w.live_sessions(user.id).await, 0);
    assert!(
        !laptop.refresh_works(&api_client).await,
        "API sign-ins end too"
    );
    assert_eq!(user.browser.role().await, "anon");
    assert_eq!(laptop.role().await, "anon");
    // Signing out is not a ban: they may sign in again at once.
    w.sign_in_directly(&laptop, user.id).await;
    assert_eq!(laptop.role().await, "authenticated");
    let entry = audit_of(&w.app, user.id)
        .await
        .into_iter()
        .find(|e| e.action == "admin.sessions_revoked")
        .expect("an entry");
    assert_eq!(entry.details, serde_json::json!({"sessions": 2}));
}

#[tokio::test]
async fn an_admin_can_resend_the_verification_email_of_an_unconfirmed_account() {
    let w = PeopleApp::new().await;
    let admin = w.admin("helper").await;
    let (confirmed, _) = w.account("sure").await;
    let email = crate::support::new_email("unsure");
    let mut tx = begin_service(&w.app.pool, ServiceRole::Auth).await.unwrap();
    let unconfirmed: Uuid = sqlx::query_scalar(
        "insert into auth.users (email, password_hash) values ($1, 'x') returning id",
    )
    .bind(&email)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(mail::kinds(&w.app.pool, &email).await.is_empty());

    let id = unconfirmed.to_string();
    admin
        .call("/api/admin/resend", &[("id", &id)])
        .await
        .assert_redirects_to(&format!("/admin/users/{id}?done=resent"));
    assert_eq!(mail::kinds(&w.app.pool, &email).await, vec!["verify_email"]);
    // The link in it works like the one from sign-up.
    let token = mail::latest(&w.app.pool, &email, "verify_email")
        .await
        .token();
    Browser::open(&w.app)
        .call("/api/auth/verify", &[("token", &token)])
        .await
        .assert_redirects_to("/signin?verified=1");

    let again = admin.call("/api/admin/resend", &[("id", &id)]).await;
    assert_eq!(again.field_error().0, "resend");
    let confirmed = admin
        .call("/api/admin/resend", &[("id", &confirmed.to_string())])
        .await;
    assert_eq!(confirmed.field_error().0, "resend");
}

#[tokio::test]
async fn every_admin_action_is_audited_with_actor_target_ip_and_user_agent() {
    let w = PeopleApp::new().await;
    let admin = w.admin("recorder").await;
    let user = w.user("subject").await;
    let (unconfirmed, _) = {
        let email = crate::support::new_email("pending");
        let mut tx = begin_service(&w.app.pool, ServiceRole::Auth).await.unwrap();
        let id: Uuid = sqlx::query_scalar(
            "insert into auth.users (email, password_hash) values ($1, 'x') returning id",
        )
        .bind(&email)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (id, email)
    };
    let id = user.id.to_string();
    let steps: [(&str, Vec<(&str, &str)>); 5] = [
        ("/api/admin/set_role", vec![("id", &id), ("role", "admin")]),
        ("/api/admin/set_role", vec![("id", &id), ("role", "user")]),
        ("/api/admin/ban", vec![("id", &id), ("duration", "7d")]),
        ("/api/admin/unban", vec![("id", &id)]),
        ("/api/admin/sign_out", vec![("id", &id)]),
    ];
    for (path, form) in &steps {
        let answer = admin.call(path, form).await;
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
    }
    admin
        .call("/api/admin/resend", &[("id", &unconfirmed.to_string())])
        .await
        .assert_redirects_to(&format!("/admin/users/{unconfirmed}?done=resent"));

    let mut entries: Vec<_> = audit_of(&w.app, user.id)
        .await
        .into_iter()
        .filter(|e| e.action.starts_with("admin."))
        .collect();
    entries.extend(
        audit_of(&w.app, unconfirmed)
            .await
            .into_iter()
            .filter(|e| e.action.starts_with("admin.")),
    );
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "admin.role_changed",
            "admin.role_changed",
            "admin.user_banned",
            "admin.user_unbanned",
            "admin.sessions_revoked",
            "admin.verification_resent",
        ]
    );
    for e in &entries {
        assert_eq!(e.actor_id, Some(admin.id), "{e:?}");
        assert!(
            e.target_id == Some(user.id) || e.target_id == Some(unconfirmed),
            "{e:?}"
        );
        assert_eq!(e.ip, Some(admin.browser.ip.to_string()), "{e:?}");
        assert_eq!(
            e.user_agent.as_deref(),
            Some(admin.browser.user_agent.as_str()),
            "{e:?}"
        );
    }
}
