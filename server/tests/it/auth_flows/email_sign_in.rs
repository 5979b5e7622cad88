//! Email sign-in from the browser: `/signin/email` asks for the email, its link shows a confirm
//! button (a GET spends nothing: mail scanners follow links), and the code works in another
//! browser.
use reqwest::Method;

use crate::support::{
    Browser, TestApp, as_auth_service, ban_directly, mail, new_email, verified_user,
};

#[tokio::test]
async fn a_sign_in_link_works_only_when_posted_and_its_code_works_in_another_browser() {
    let app = TestApp::spawn().await;
    let asking = Browser::open(&app);
    let user = verified_user(&app, &asking, "email-signin").await;

    let nobody = asking
        .call(
            "/api/auth/email_sign_in",
            &[("email", &new_email("email-signin-nobody"))],
        )
        .await;
    nobody.assert_redirects_to("/signin/email?sent=1");
    asking
        .call("/api/auth/email_sign_in", &[("email", &user.email)])
        .await
        .assert_redirects_to("/signin/email?sent=1");
    let sent = mail::latest(&app.pool, &user.email, "email_sign_in").await;
    let token = sent.token();

    // What a mail scanner does before the person clicks: nothing is spent, nobody signed in.
    let scanner = Browser::open(&app);
    let path = format!("/signin/email?token={token}");
    for method in [Method::GET, Method::HEAD, Method::GET] {
        let seen = scanner.send(scanner.request(method, &path)).await;
        assert_eq!(seen.status, 200, "{seen:?}");
    }
    assert!(
        scanner
            .get(&path)
            .await
            .body
            .contains("data-testid=\"confirm\"")
    );
    assert_eq!(scanner.role().await, "anon");

    let clicking = Browser::open(&app);
    clicking
        .call("/api/auth/email_sign_in_link", &[("token", &token)])
        .await
        .assert_redirects_to("/account");
    assert_eq!(clicking.role().await, "authenticated");
    let again = Browser::open(&app)
        .call("/api/auth/email_sign_in_link", &[("token", &token)])
        .await;
    assert_eq!(again.status, 400, "{again:?}");

    asking
        .call("/api/auth/email_sign_in", &[("email", &user.email)])
        .await
        .assert_redirects_to("/signin/email?sent=1");
    let code = mail::latest(&app.pool, &user.email, "email_sign_in")
        .await
        .code();
    let elsewhere = Browser::open(&app);
    elsewhere
        .call(
            "/api/auth/email_sign_in_code",
            &[("email", &user.email), ("code", &code)],
        )
        .await
        .assert_redirects_to("/account");
    assert_eq!(elsewhere.role().await, "authenticated");
}

#[tokio::test]
async fn a_banned_user_cannot_sign_in_by_email_and_the_link_stays_unspent() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "email-signin-banned").await;
    browser
        .call("/api/auth/email_sign_in", &[("email", &user.email)])
        .await
        .assert_redirects_to("/signin/email?sent=1");
    let token = mail::latest(&app.pool, &user.email, "email_sign_in")
        .await
        .token();
    ban_directly(&app, user.id).await;
    let refused = browser
        .call("/api/auth/email_sign_in_link", &[("token", &token)])
        .await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(browser.role().await, "anon");
    // The refusal spent nothing: once the ban is lifted, the same link works.
    let unban = "update auth.users set banned_until = null where id = $1";
    assert_eq!(as_auth_service(&app, unban, user.id).await, 1);
    browser
        .call("/api/auth/email_sign_in_link", &[("token", &token)])
        .await
        .assert_redirects_to("/account");
}
