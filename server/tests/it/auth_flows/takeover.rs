//! Account takeover must not survive recovery (issue 9, item 1). Someone holding the owner's
//! session and password asks to move the account to a mailbox they control; a reset link is
//! also out. Whatever the owner (or an admin) then does to take the account back — reset or
//! change the password, sign out everywhere (browser or API), a ban, a role change — voids
//! both links: even the owner, signed in, finds them dead.
use reqwest::Method;
use serde_json::json;

use crate::support::{
    Browser, PASSWORD, PeopleApp, Person, mail, new_email, new_password, user_id,
};

const DEAD_LINK: &str = "This link has expired or has already been used. Ask for a new one.";

/// The links an attacker counts on, outstanding when the owner recovers.
struct Links {
    /// The email-change confirmation, sent to the attacker's mailbox.
    change: String,
    mailbox: String,
    /// A password-reset link for the owner's address.
    reset: String,
}

/// `browser`, signed in to an account whose password is [`PASSWORD`], asks to move it to
/// `mailbox`; returns the token of the link sent there.
async fn email_change_link(w: &PeopleApp, browser: &Browser, mailbox: &str) -> String {
    browser
        .call(
            "/api/account/email",
            &[("new_email", mailbox), ("password", PASSWORD)],
        )
        .await
        .assert_redirects_to("/account?saved=email");
    mail::latest(&w.app.pool, mailbox, "change_email_confirm")
        .await
        .token()
}

/// The attacker, on a stolen session of `owner`, asks to move the account to their mailbox;
/// a reset link for the owner is out as well.
async fn outstanding_links(w: &PeopleApp, owner: &Person) -> Links {
    let attacker = Browser::open(&w.app);
    w.sign_in_directly(&attacker, owner.id).await;
    let mailbox = new_email("attacker");
    let change = email_change_link(w, &attacker, &mailbox).await;
    Browser::open(&w.app)
        .call("/api/auth/forgot", &[("email", &owner.email)])
        .await
        .assert_redirects_to("/forgot?sent=1");
    let reset = mail::latest(&w.app.pool, &owner.email, "reset_password")
        .await
        .token();
    Links {
        change,
        mailbox,
        reset,
    }
}

/// Even the owner, signed in (so the confirm page's own rule is met), finds the email-change
/// link dead, and the account keeps its address.
async fn assert_change_link_dead(w: &PeopleApp, owner: &Person, links: &Links) {
    let checker = Browser::open(&w.app);
    w.sign_in_directly(&checker, owner.id).await;
    let answer = checker
        .call("/api/account/confirm_email", &[("token", &links.change)])
        .await;
    let (field, message) = answer.field_error();
    assert_eq!((field.as_str(), message.as_str()), ("token", DEAD_LINK));
    assert_eq!(user_id(&w.app, &links.mailbox).await, None);
    assert_eq!(user_id(&w.app, &owner.email).await, Some(owner.id));
}

async fn assert_reset_link_dead(w: &PeopleApp, links: &Links) {
    let answer = Browser::open(&w.app)
        .call(
            "/api/auth/reset",
            &[("token", &links.reset), ("password", &new_password())],
        )
        .await;
    let (field, message) = answer.field_error();
    assert_eq!((field.as_str(), message.as_str()), ("token", DEAD_LINK));
}

/// Both outstanding links are dead: the email change and the password reset.
async fn assert_links_dead(w: &PeopleApp, owner: &Person, links: &Links) {
    assert_change_link_dead(w, owner, links).await;
    assert_reset_link_dead(w, links).await;
}

#[tokio::test]
async fn a_password_reset_voids_a_pending_email_change() {
    let w = PeopleApp::new().await;
    let owner = w.user("reset-owner").await;
    let links = outstanding_links(&w, &owner).await;

    Browser::open(&w.app)
        .call(
            "/api/auth/reset",
            &[("token", &links.reset), ("password", &new_password())],
        )
        .await
        .assert_redirects_to("/signin?reset=1");

    assert_change_link_dead(&w, &owner, &links).await;
}

#[tokio::test]
async fn a_password_change_voids_pending_email_changes_and_reset_links() {
    let w = PeopleApp::new().await;
    let owner = w.user("change-owner").await;
    let links = outstanding_links(&w, &owner).await;

    owner.change_password().await;

    assert_links_dead(&w, &owner, &links).await;
}

#[tokio::test]
async fn signing_out_everywhere_voids_pending_email_changes_and_reset_links() {
    let w = PeopleApp::new().await;
    let owner = w.user("signout-owner").await;
    let links = outstanding_links(&w, &owner).await;

    owner
        .call("/api/account/revoke", &[("which", "others")])
        .await
        .assert_redirects_to("/account?saved=sessions");

    assert_links_dead(&w, &owner, &links).await;
}

#[tokio::test]
async fn a_global_api_sign_out_voids_pending_email_changes_and_reset_links() {
    let w = PeopleApp::new().await;
    let owner = w.user("api-owner").await;
    let links = outstanding_links(&w, &owner).await;

    let granted = owner
        .browser
        .token_grant(
            "password",
            json!({ "email": owner.email, "password": PASSWORD }),
        )
        .await;
    let access = granted.json::<serde_json::Value>()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let out = owner
        .browser
        .send(
            owner
                .browser
                .request(Method::POST, "/auth/v1/logout?scope=global")
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(out.status, 204, "{out:?}");

    assert_links_dead(&w, &owner, &links).await;
}

#[tokio::test]
async fn a_ban_voids_pending_email_changes_and_reset_links() {
    let w = PeopleApp::new().await;
    let admin = w.admin("ban-judge").await;
    let owner = w.user("ban-owner").await;
    let links = outstanding_links(&w, &owner).await;
    let id = owner.id.to_string();

    admin.ban(&id, "1d").await;
    admin.unban(&id).await;

    assert_links_dead(&w, &owner, &links).await;
}

#[tokio::test]
async fn a_role_change_voids_pending_email_changes_and_reset_links() {
    let w = PeopleApp::new().await;
    let admin = w.admin("role-judge").await;
    let owner = w.user("role-owner").await;
    let links = outstanding_links(&w, &owner).await;
    let id = owner.id.to_string();

    admin.set_role(&id, "admin").await;

    assert_links_dead(&w, &owner, &links).await;
}

#[tokio::test]
async fn confirming_an_email_change_needs_the_owner_signed_in() {
    let w = PeopleApp::new().await;
    let owner = w.user("confirm-owner").await;
    let other = w.user("confirm-other").await;
    let moved = new_email("confirm-moved");
    let token = email_change_link(&w, &owner.browser, &moved).await;
    let confirm = async |browser: &Browser| {
        browser
            .call("/api/account/confirm_email", &[("token", &token)])
            .await
    };

    // The link alone is not enough: whoever reads the new mailbox is not yet the owner.
    let signed_out = Browser::open(&w.app);
    let refused = confirm(&signed_out).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    let (field, _) = confirm(&other.browser).await.field_error();
    assert_eq!(field, "token", "another account's session");
    assert_eq!(user_id(&w.app, &moved).await, None);

    // Neither refusal spent it: the owner, signed in, confirms.
    confirm(&owner.browser)
        .await
        .assert_redirects_to("/account?saved=email-confirmed");
    assert_eq!(user_id(&w.app, &moved).await, Some(owner.id));
}

#[tokio::test]
async fn the_confirm_page_sends_a_signed_out_visitor_through_sign_in_and_back_to_the_link() {
    let w = PeopleApp::new().await;
    let owner = w.user("page-owner").await;
    let path = "/confirm-email?token=abc-123";

    // Rendered on the server: a plain link, no wasm needed.
    let visitor = Browser::open(&w.app);
    let page = visitor.get(path).await;
    assert_eq!(page.status, 200, "{page:?}");
    let sign_in = "/signin?next=%2Fconfirm-email%3Ftoken%3Dabc-123";
    assert!(
        page.body.contains(&format!(r#"href="{sign_in}""#)),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(r#"name="token""#),
        "no confirm form signed out"
    );

    let signed_in = visitor
        .call(
            "/api/auth/sign_in",
            &[
                ("email", owner.email.as_str()),
                ("password", PASSWORD),
                ("next", "/confirm-email?token=abc-123"),
            ],
        )
        .await;
    signed_in.assert_redirects_to(path);
    let page = visitor.get(path).await;
    assert!(page.body.contains(r#"name="token""#), "{}", page.body);
    assert!(page.body.contains(r#"value="abc-123""#), "{}", page.body);
}
