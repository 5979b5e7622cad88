//! Sign-up and email verification: by link (through MailDev), by code, resending, expiry.
use crate::support::{
    Browser, PUBLIC_URL, TestApp, User, is_confirmed,
    mail::{self, Worker},
    new_email, new_password, user_id,
};

const DEAD_LINK: &str = "This link has expired or has already been used. Ask for a new one.";
const WRONG_CODE: &str = "That code is not right, or it has expired.";

async fn count_accounts(app: &TestApp, email: &str) -> i64 {
    let mut tx = app::ssr::db::begin_service(&app.pool, app::ssr::db::ServiceRole::Auth)
        .await
        .unwrap();
    let n = sqlx::query_scalar("select count(*) from auth.users where lower(email) = lower($1)")
        .bind(email)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn sign_up_answers_alike_for_a_free_and_a_taken_address_and_only_the_owner_hears_of_it() {
    let app = TestApp::spawn().await;
    let _worker = Worker::start(&app.pool);
    let owner = Browser::open(&app);
    let (email, password) = (new_email("owner"), new_password());
    owner
        .sign_up(&email, &password)
        .await
        .assert_redirects_to("/signup/done");

    // The real path: the worker delivers the email, its link confirms the address.
    let welcome = mail::wait_for(&email, "Confirm your email address").await;
    let link = welcome.link("/verify");
    assert!(welcome.html.contains(&format!(r#"href="{link}""#)));
    let token = link.split_once("?token=").unwrap().1;
    owner
        .call("/api/auth/verify", &[("token", token)])
        .await
        .assert_redirects_to("/signin?verified=1");

    // Someone tries the taken address (shouted), and a free one, with their own passwords.
    let stranger = Browser::open(&app);
    let stranger_password = new_password();
    let taken = stranger
        .sign_up(&email.to_uppercase(), &stranger_password)
        .await;
    let free_email = new_email("newcomer");
    let free = stranger.sign_up(&free_email, &new_password()).await;
    taken.assert_redirects_to("/signup/done");
    assert_eq!(taken.observable(), free.observable(), "{taken:?}\n{free:?}");

    let notice = mail::wait_for(&email, "Someone tried to sign up with your email address").await;
    assert!(
        notice.text.contains(&format!("{PUBLIC_URL}/forgot")),
        "{notice:?}"
    );
    mail::wait_for(&free_email, "Confirm your email address").await;
    assert_eq!(
        mail::kinds(&app.pool, &email).await,
        ["verify_email", "signup_attempt"],
        "the owner gets a notice, not a second verification"
    );
    assert_eq!(count_accounts(&app, &email).await, 1);
    assert_eq!(count_accounts(&app, &free_email).await, 1);

    // The account is untouched: the stranger's password does not open it, the owner's does.
    let (field, message) = stranger
        .sign_in(&email, &stranger_password)
        .await
        .field_error();
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("password", super::INCORRECT)
    );
    let id = user_id(&app, &email).await.unwrap();
    owner
        .signed_in_as(&User {
            id,
            email,
            password,
        })
        .await;
}

#[tokio::test]
async fn an_unverified_user_cannot_sign_in_until_a_link_confirms_the_address() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("unverified"), new_password());
    browser
        .sign_up(&email, &password)
        .await
        .assert_redirects_to("/signup/done");

    let (field, message) = browser.sign_in(&email, &password).await.field_error();
    assert_eq!(field, "unconfirmed");
    assert!(
        message.starts_with("Confirm your email address first"),
        "{message}"
    );
    assert!(browser.session_id().is_none(), "no session was started");

    // Resending answers the same for an unknown address, and mails only the real one.
    let first = mail::latest(&app.pool, &email, "verify_email").await;
    let resent = browser.call("/api/auth/resend", &[("email", &email)]).await;
    resent.assert_redirects_to("/verify?resent=1");
    let nobody = new_email("nobody");
    let unknown = browser
        .call("/api/auth/resend", &[("email", &nobody)])
        .await;
    assert_eq!(resent.observable(), unknown.observable());
    assert!(mail::queued(&app.pool, &nobody).await.is_empty());
    assert_eq!(
        mail::kinds(&app.pool, &email).await,
        ["verify_email", "verify_email"]
    );
    let second = mail::latest(&app.pool, &email, "verify_email").await;

    // Only the newest link works, once.
    let verify = async |token: &str| browser.call("/api/auth/verify", &[("token", token)]).await;
    let (field, message) = verify(&first.token()).await.field_error();
    assert_eq!((field.as_str(), message.as_str()), ("token", DEAD_LINK));
    verify(&second.token())
        .await
        .assert_redirects_to("/signin?verified=1");
    let (field, message) = verify(&second.token()).await.field_error();
    assert_eq!((field.as_str(), message.as_str()), ("token", DEAD_LINK));

    let id = user_id(&app, &email).await.unwrap();
    assert!(is_confirmed(&app, id).await);
    browser
        .signed_in_as(&User {
            id,
            email: email.clone(),
            password,
        })
        .await;
    // A confirmed account gets no more verification emails.
    browser
        .call("/api/auth/resend", &[("email", &email)])
        .await
        .assert_redirects_to("/verify?resent=1");
    assert_eq!(mail::queued(&app.pool, &email).await.len(), 2);
}

#[tokio::test]
async fn an_expired_verification_link_is_refused() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("expired"), new_password());
    browser.sign_up(&email, &password).await;
    let queued = mail::latest(&app.pool, &email, "verify_email").await;
    let id = user_id(&app, &email).await.unwrap();
    let expired = crate::support::as_auth_service(
        &app,
        "update auth.one_time_tokens set expires_at = now() - interval '1 minute' \
         where user_id = $1",
        id,
    )
    .await;
    assert_eq!(expired, 1);

    let (field, message) = browser
        .call("/api/auth/verify", &[("token", &queued.token())])
        .await
        .field_error();
    assert_eq!((field.as_str(), message.as_str()), ("token", DEAD_LINK));
    let (field, _) = browser
        .call(
            "/api/auth/verify_code",
            &[("email", &email), ("code", &queued.code())],
        )
        .await
        .field_error();
    assert_eq!(field, "code", "the code of an expired email is dead too");
    assert!(!is_confirmed(&app, id).await);
    let (field, _) = browser.sign_in(&email, &password).await.field_error();
    assert_eq!(field, "unconfirmed");
}

#[tokio::test]
async fn the_six_digit_code_confirms_the_address_instead_of_the_link() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("code"), new_password());
    browser.sign_up(&email, &password).await;
    let queued = mail::latest(&app.pool, &email, "verify_email").await;
    let code = queued.code();
    assert!(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()));

    // Typed with the address in another case and stray spaces, as people do.
    let spaced = format!(" {code} ");
    browser
        .call(
            "/api/auth/verify_code",
            &[("email", &email.to_uppercase()), ("code", &spaced)],
        )
        .await
        .assert_redirects_to("/signin?verified=1");
    let id = user_id(&app, &email).await.unwrap();
    assert!(is_confirmed(&app, id).await);
    let verified = crate::support::audit_of(&app, id).await.pop().unwrap();
    assert_eq!(verified.action, "user.email_verified");
    assert_eq!(verified.details, serde_json::json!({ "via": "code" }));

    // The code spent the email's token: neither it nor the link works again.
    let (field, message) = browser
        .call(
            "/api/auth/verify_code",
            &[("email", &email), ("code", &code)],
        )
        .await
        .field_error();
    assert_eq!((field.as_str(), message.as_str()), ("code", WRONG_CODE));
    let (field, _) = browser
        .call("/api/auth/verify", &[("token", &queued.token())])
        .await
        .field_error();
    assert_eq!(field, "token");
    browser
        .signed_in_as(&User {
            id,
            email,
            password,
        })
        .await;
}

#[tokio::test]
async fn wrong_codes_are_limited_and_then_even_the_right_code_fails() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("guesser"), new_password());
    browser.sign_up(&email, &password).await;
    let right = mail::latest(&app.pool, &email, "verify_email").await.code();
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    let enter = async |code: &str| {
        browser
            .call(
                "/api/auth/verify_code",
                &[("email", &email), ("code", code)],
            )
            .await
    };

    // Five wrong codes end the code (AuthSettings::code_attempts); the link is another matter.
    for _ in 0..5 {
        let (field, message) = enter(&wrong).await.field_error();
        assert_eq!((field.as_str(), message.as_str()), ("code", WRONG_CODE));
    }
    let (field, message) = enter(&right).await.field_error();
    assert_eq!((field.as_str(), message.as_str()), ("code", WRONG_CODE));
    let id = user_id(&app, &email).await.unwrap();
    assert!(!is_confirmed(&app, id).await);

    // Entries are also counted per address in Redis: ten per 15 minutes, then 429.
    let (_, message) = enter("12ab56").await.field_error();
    assert_eq!(message, "Enter the 6 digits from the email.");
    for _ in 0..3 {
        enter(&wrong).await.field_error();
    }
    let limited = enter(&right).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");

    // A new email brings a new code, which works.
    browser
        .call("/api/auth/resend", &[("email", &email)])
        .await
        .assert_redirects_to("/verify?resent=1");
    let fresh = mail::latest(&app.pool, &email, "verify_email").await;
    browser
        .call("/api/auth/verify", &[("token", &fresh.token())])
        .await
        .assert_redirects_to("/signin?verified=1");
    assert!(is_confirmed(&app, id).await);
}

#[tokio::test]
async fn opening_an_email_link_spends_nothing_until_its_form_is_posted() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("scanned"), new_password());
    browser.sign_up(&email, &password).await;
    browser
        .call("/api/auth/forgot", &[("email", &email)])
        .await
        .assert_redirects_to("/forgot?sent=1");
    let verify = mail::latest(&app.pool, &email, "verify_email")
        .await
        .token();
    let reset = mail::latest(&app.pool, &email, "reset_password")
        .await
        .token();

    // Mail scanners and link previews fetch links: the pages only offer a button.
    for (path, token) in [("/verify", &verify), ("/reset", &reset)] {
        for _ in 0..2 {
            let page = browser.get(&format!("{path}?token={token}")).await;
            assert_eq!(page.status, 200, "{path}: {page:?}");
            assert!(
                page.body.contains(token.as_str()),
                "{path}: the form carries the token"
            );
        }
    }
    let id = user_id(&app, &email).await.unwrap();
    assert!(!is_confirmed(&app, id).await);

    browser
        .call("/api/auth/verify", &[("token", &verify)])
        .await
        .assert_redirects_to("/signin?verified=1");
    let new = new_password();
    browser
        .call("/api/auth/reset", &[("token", &reset), ("password", &new)])
        .await
        .assert_redirects_to("/signin?reset=1");
    browser
        .signed_in_as(&User {
            id,
            email,
            password: new,
        })
        .await;
}

#[tokio::test]
async fn wrong_codes_from_someone_else_do_not_burn_the_owners_verification_link() {
    let app = TestApp::spawn().await;
    let owner = Browser::open(&app);
    let (email, password) = (new_email("guarded"), new_password());
    owner.sign_up(&email, &password).await;
    let sent = mail::latest(&app.pool, &email, "verify_email").await;
    let wrong = format!(
        "{:06}",
        (sent.code().parse::<u32>().unwrap() + 1) % 1_000_000
    );

    // Anyone may type the owner's address and guess; the guesses run out the code...
    let attacker = Browser::open(&app);
    for _ in 0..5 {
        let (field, message) = attacker
            .call(
                "/api/auth/verify_code",
                &[("email", &email), ("code", &wrong)],
            )
            .await
            .field_error();
        assert_eq!((field.as_str(), message.as_str()), ("code", WRONG_CODE));
    }

    // ...but the link in the owner's mailbox still works.
    owner
        .call("/api/auth/verify", &[("token", &sent.token())])
        .await
        .assert_redirects_to("/signin?verified=1");
    let id = user_id(&app, &email).await.unwrap();
    assert!(is_confirmed(&app, id).await);
}

#[tokio::test]
async fn one_address_guessing_codes_across_many_accounts_is_limited() {
    let app = TestApp::spawn().await;
    let guesser = Browser::open(&app);
    let guess = async |email: &str| {
        guesser
            .call(
                "/api/auth/verify_code",
                &[("email", email), ("code", "123456")],
            )
            .await
    };

    // Each address is new, so no per-account count ever fills; the address's count does.
    for _ in 0..20 {
        let (field, _) = guess(&new_email("sprayed")).await.field_error();
        assert_eq!(field, "code");
    }
    let limited = guess(&new_email("sprayed")).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    assert!(limited.header("retry-after").is_some());

    // Someone else, elsewhere, is not held up.
    let (field, _) = Browser::open(&app)
        .call(
            "/api/auth/verify_code",
            &[("email", &new_email("elsewhere")), ("code", "123456")],
        )
        .await
        .field_error();
    assert_eq!(field, "code");
}
