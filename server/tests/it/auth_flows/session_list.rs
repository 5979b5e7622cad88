//! The account page's list of sessions, and signing them out one, the others, or all.
use app::{domain::session::SessionInfo, error::AppError};

use crate::support::{Answer, Browser, TestApp, signed_in_user};

async fn sessions(browser: &Browser) -> Vec<SessionInfo> {
    browser.call("/api/account/sessions", &[]).await.json()
}

async fn revoke(browser: &Browser, which: &str) -> Answer {
    browser
        .call("/api/account/revoke", &[("which", which)])
        .await
}

/// The entry `browser` made, told apart by its address and user agent.
fn entry_of<'a>(list: &'a [SessionInfo], browser: &Browser) -> &'a SessionInfo {
    let ip = browser.ip.to_string();
    let mut found = list.iter().filter(|s| s.ip.as_deref() == Some(ip.as_str()));
    let entry = found
        .next()
        .unwrap_or_else(|| panic!("no session from {ip}: {list:?}"));
    assert!(found.next().is_none(), "one session from {ip}: {list:?}");
    assert_eq!(
        entry.user_agent.as_deref(),
        Some(browser.user_agent.as_str())
    );
    entry
}

#[tokio::test]
async fn the_list_marks_the_current_session_and_revoking_signs_that_browser_out() {
    let app = TestApp::spawn().await;
    let (user, laptop) = signed_in_user(&app, "devices").await;
    let (phone, tablet) = (Browser::open(&app), Browser::open(&app));
    phone.signed_in_as(&user).await;
    tablet.signed_in_as(&user).await;

    let listed = sessions(&laptop).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed[0].current, "the current session comes first");
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    assert!(entry_of(&listed, &laptop).current);
    let phone_handle = entry_of(&listed, &phone).id.clone();
    let laptop_handle = entry_of(&listed, &laptop).id.clone();
    assert_ne!(
        Some(&laptop_handle),
        laptop.session_id().as_ref(),
        "the page never sees a live session id"
    );
    assert!(entry_of(&sessions(&phone).await, &phone).current);

    // One session.
    revoke(&laptop, &phone_handle)
        .await
        .assert_redirects_to("/account?saved=sessions");
    assert_eq!(phone.role().await, "anon");
    assert_eq!(laptop.role().await, "authenticated");
    assert_eq!(tablet.role().await, "authenticated");
    assert_eq!(
        revoke(&laptop, &phone_handle).await.error(),
        AppError::NotFound
    );
    // Someone else cannot sign this user out, even knowing a handle.
    let (_, stranger) = signed_in_user(&app, "stranger").await;
    assert_eq!(
        revoke(&stranger, &laptop_handle).await.error(),
        AppError::NotFound
    );
    assert_eq!(laptop.role().await, "authenticated");

    // Every other session, API clients' sign-ins included.
    let api_client = tablet.api_refresh_token(&user.email, &user.password).await;
    revoke(&laptop, "others")
        .await
        .assert_redirects_to("/account?saved=sessions");
    assert_eq!(tablet.role().await, "anon");
    assert!(!tablet.refresh_works(&api_client).await);
    assert_eq!(laptop.role().await, "authenticated");
    let listed = sessions(&laptop).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].current);

    // Every session, this one too.
    revoke(&laptop, "all")
        .await
        .assert_redirects_to("/signin?signed_out=1");
    assert_eq!(laptop.role().await, "anon");
    assert!(laptop.session_id().is_none());
    assert_eq!(
        laptop.call("/api/account/sessions", &[]).await.error(),
        AppError::Unauthorized
    );
    assert_eq!(revoke(&laptop, "all").await.error(), AppError::Unauthorized);
}
