//! The audit trail: one account's whole life, every step in `auth.audit_log` with who did it,
//! from which address and browser.
use serde_json::json;

use crate::support::{
    Browser, TestApp, as_auth_service, audit_of, mail, new_email, new_password, user_id,
};

#[tokio::test]
async fn every_auth_event_is_in_the_audit_log_with_the_address_and_browser() {
    let app = TestApp::spawn().await;
    let b = Browser::open(&app);
    let (email, password) = (new_email("audited"), new_password());
    let call = async |path: &str, form: &[(&str, &str)]| {
        let answer = b.call(path, form).await;
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
    };

    b.sign_up(&email, &password).await;
    b.sign_up(&email, &new_password()).await;
    let id = user_id(&app, &email).await.unwrap();
    call("/api/auth/resend", &[("email", &email)]).await;
    let token = mail::latest(&app.pool, &email, "verify_email")
        .await
        .token();
    call("/api/auth/verify", &[("token", &token)]).await;
    assert_eq!(b.sign_in(&email, "Not-The-Password-42").await.status, 400);
    call(
        "/api/auth/sign_in",
        &[("email", &email), ("password", &password)],
    )
    .await;
    let second = new_password();
    call(
        "/api/account/password",
        &[("current_password", &password), ("new_password", &second)],
    )
    .await;
    let moved = new_email("audited-moved");
    call(
        "/api/account/email",
        &[("new_email", &moved), ("password", &second)],
    )
    .await;
    let token = mail::latest(&app.pool, &moved, "change_email_confirm")
        .await
        .token();
    call("/api/account/confirm_email", &[("token", &token)]).await;
    call("/api/account/revoke", &[("which", "others")]).await;
    call("/api/auth/sign_out", &[]).await;
    call("/api/auth/forgot", &[("email", &moved)]).await;
    let token = mail::latest(&app.pool, &moved, "reset_password")
        .await
        .token();
    let third = new_password();
    call(
        "/api/auth/reset",
        &[("token", &token), ("password", &third)],
    )
    .await;
    let ban = "update auth.users set banned_until = now() + interval '1 day' where id = $1";
    as_auth_service(&app, ban, id).await;
    assert_eq!(b.sign_in(&moved, &third).await.status, 400);
    as_auth_service(
        &app,
        "update auth.users set banned_until = null where id = $1",
        id,
    )
    .await;
    call(
        "/api/auth/sign_in",
        &[("email", &moved), ("password", &third)],
    )
    .await;
    call("/api/account/delete", &[("password", &third)]).await;

    let entries = audit_of(&app, id).await;
    let got: Vec<(&str, bool)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor_id == Some(id)))
        .collect();
    // `true`: the user acted (signed in, or holding a link); `false`: anyone could have.
    assert_eq!(
        got,
        [
            ("user.signed_up", true),
            ("user.sign_up_attempt_existing", false),
            ("user.verification_resent", false),
            ("user.email_verified", true),
            ("user.sign_in_failed", false),
            ("user.signed_in", true),
            ("user.password_changed", true),
            ("user.email_change_requested", true),
            ("user.email_changed", true),
            ("user.sessions_revoked", true),
            ("user.signed_out", true),
            ("user.reset_requested", false),
            ("user.password_reset", true),
            ("user.sign_in_refused_banned", false),
            ("user.signed_in", true),
            ("user.deleted", true),
        ]
    );
    let ip = b.ip.to_string();
    for entry in &entries {
        assert_eq!(entry.target_id, Some(id), "{entry:?}");
        assert_eq!(entry.ip.as_deref(), Some(ip.as_str()), "{entry:?}");
        assert_eq!(
            entry.user_agent.as_deref(),
            Some(b.user_agent.as_str()),
            "{entry:?}"
        );
    }
    assert_eq!(entries[3].details, json!({ "via": "link" }));
    assert_eq!(entries[9].details, json!({ "which": "others" }));
    assert_eq!(
        user_id(&app, &moved).await,
        None,
        "the account is gone, its trail is not"
    );
}
