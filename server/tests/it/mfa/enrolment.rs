//! Enrolling a TOTP factor: QR code and secret, confirmation by a first valid code, names,
//! recovery codes shown once, and the secret encrypted at rest.
use app::{
    domain::factor::SecondFactors,
    ssr::{
        auth::mfa::MfaKeys,
        db::{ServiceRole, begin_service},
    },
};

use super::*;
use crate::support::{SECRET, signed_in_user};

async fn factors(browser: &Browser) -> SecondFactors {
    browser.call("/api/account/factors", &[]).await.json()
}

#[tokio::test]
async fn an_enrolment_counts_only_once_a_valid_code_confirms_it() {
    let app = TestApp::spawn().await;
    let (_user, browser) = signed_in_user(&app, "enrol").await;

    let enrolment = start_enrolment(&browser, "Phone").await;
    assert!(enrolment.qr_svg.starts_with("<?xml") || enrolment.qr_svg.contains("<svg"));
    assert!(enrolment.uri.starts_with("otpauth://totp/Palisade:"));
    assert!(
        enrolment
            .uri
            .contains(&format!("secret={}", enrolment.secret))
    );
    assert_eq!(factors(&browser).await, SecondFactors::default(), "not yet");

    let secret = decode_secret(&enrolment.secret).unwrap();
    let factor = enrolment.factor_id.to_string();
    for wrong in [
        wrong_code(&secret),
        code(&secret, 2),
        code(&secret, -2),
        "12345".into(),
    ] {
        let answer = browser
            .call(
                "/api/account/factors/confirm",
                &[("factor", &factor), ("code", &wrong)],
            )
            .await;
        assert_eq!(answer.field_error().0, "code", "{wrong}");
    }
    assert_eq!(factors(&browser).await, SecondFactors::default());

    browser
        .call(
            "/api/account/factors/confirm",
            &[("factor", &factor), ("code", &code(&secret, 0))],
        )
        .await
        .assert_redirects_to("/account/recovery-codes");
    let codes: Vec<String> = browser
        .call("/api/account/recovery_codes/take", &[])
        .await
        .json();
    assert_eq!(codes.len(), 10);
    let again: Vec<String> = browser
        .call("/api/account/recovery_codes/take", &[])
        .await
        .json();
    assert!(again.is_empty(), "recovery codes are shown once");

    let listed = factors(&browser).await;
    assert_eq!(listed.factors.len(), 1);
    assert_eq!(listed.factors[0].friendly_name, "Phone");
    assert_eq!(listed.recovery_codes_left, 10);
}

#[tokio::test]
async fn further_factors_need_their_own_names_and_get_no_new_recovery_codes() {
    let app = TestApp::spawn().await;
    let (_user, browser) = signed_in_user(&app, "names").await;
    let first = enrol(&browser, "Phone").await;
    assert_eq!(first.recovery_codes.len(), 10);

    let taken = browser
        .call(
            "/api/account/factors/enrol",
            &[("friendly_name", " Phone ")],
        )
        .await;
    assert_eq!(taken.field_error().0, "friendly_name");
    let blank = browser
        .call("/api/account/factors/enrol", &[("friendly_name", "  ")])
        .await;
    assert_eq!(blank.field_error().0, "friendly_name");

    let second = start_enrolment(&browser, "Tablet").await;
    let secret = decode_secret(&second.secret).unwrap();
    browser
        .call(
            "/api/account/factors/confirm",
            &[
                ("factor", &second.factor_id.to_string()),
                ("code", &code(&secret, 0)),
            ],
        )
        .await
        .assert_redirects_to("/account?saved=factor");
    let listed = factors(&browser).await;
    let names: Vec<&str> = listed
        .factors
        .iter()
        .map(|f| f.friendly_name.as_str())
        .collect();
    assert_eq!(names, ["Phone", "Tablet"]);
    assert_eq!(listed.recovery_codes_left, 10, "the first set still stands");
}

#[tokio::test]
async fn the_totp_secret_is_stored_encrypted_not_in_clear_nor_hashed() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "at-rest").await;
    let enrolled = enrol(&browser, "Phone").await;

    let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select secret from auth.mfa_factors where id = $1")
        .bind(enrolled.factor)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let base32 = app::ssr::auth::mfa::totp::encode_secret(&enrolled.secret);
    assert!(
        !stored
            .windows(enrolled.secret.len())
            .any(|w| w == enrolled.secret)
    );
    assert!(!stored.windows(base32.len()).any(|w| w == base32.as_bytes()));
    // An AEAD, not a hash: the server's key opens it, for this row only; another key does not.
    let keys = MfaKeys::derive(SECRET);
    assert_eq!(
        keys.open_totp(enrolled.factor, user.id, &stored).as_deref(),
        Some(enrolled.secret.as_slice())
    );
    assert_eq!(keys.open_totp(uuid::Uuid::new_v4(), user.id, &stored), None);
    let other = MfaKeys::derive("some-other-server-secret-that-is-long-enough");
    assert_eq!(other.open_totp(enrolled.factor, user.id, &stored), None);
}

#[tokio::test]
async fn nobody_else_can_see_or_confirm_an_enrolment() {
    let app = TestApp::spawn().await;
    let (_owner, owner) = signed_in_user(&app, "owner").await;
    let (_other, other) = signed_in_user(&app, "other").await;
    let enrolment = start_enrolment(&owner, "Phone").await;
    let id = enrolment.factor_id.to_string();

    let peek = other
        .call("/api/account/factors/enrolment", &[("factor", &id)])
        .await;
    assert_eq!(peek.error(), app::error::AppError::NotFound);
    let secret = decode_secret(&enrolment.secret).unwrap();
    let confirm = other
        .call(
            "/api/account/factors/confirm",
            &[("factor", &id), ("code", &code(&secret, 0))],
        )
        .await;
    assert_eq!(confirm.field_error().0, "code");
    let anon = Browser::open(&app);
    let answer = anon.call("/api/account/factors", &[]).await;
    assert_eq!(answer.error(), app::error::AppError::Unauthorized);
}
