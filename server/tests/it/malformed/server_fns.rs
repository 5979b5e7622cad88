//! Every registered server function, called with bodies its arguments cannot be read from.
use std::collections::BTreeSet;

use app::error::AppError;
use leptos::server_fn::axum::server_fn_paths;

use super::{Framing, OVERSIZE, Seen, assert_no_failures, oversize, snapshot};
use crate::support::{Browser, PUBLIC_URL, TestApp, signed_in_user};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A required string.
    Text,
    /// A string that may be left out.
    Optional,
    /// `Option<u32>`, a page number.
    Page,
    Uuid,
    /// `i64`
    Int,
}
use Kind::*;

/// The arguments of every server function. Checked against server_fn's own registry, so a new
/// function cannot be left out of the fuzzing.
const FUNCTIONS: &[(&str, &[(&str, Kind)])] = &[
    ("/api/posts/list", &[("page", Page)]),
    ("/api/posts/get", &[("slug", Text)]),
    ("/api/posts/mine", &[]),
    ("/api/posts/editable", &[("slug", Text)]),
    ("/api/posts/preview", &[("body", Text)]),
    (
        "/api/posts/create",
        &[("title", Text), ("body", Text), ("intent", Optional)],
    ),
    (
        "/api/posts/update",
        &[("id", Text), ("title", Text), ("body", Text)],
    ),
    ("/api/posts/publish", &[("id", Text), ("next", Optional)]),
    ("/api/posts/unpublish", &[("id", Text), ("next", Optional)]),
    ("/api/posts/delete", &[("id", Text)]),
    ("/api/admin/posts/list", &[("page", Page)]),
    ("/api/admin/posts/unpublish", &[("id", Text)]),
    ("/api/admin/posts/delete", &[("id", Text)]),
    ("/api/auth/sign_up", &[("email", Text), ("password", Text)]),
    (
        "/api/auth/sign_in",
        &[("email", Text), ("password", Text), ("next", Optional)],
    ),
    ("/api/auth/sign_out", &[]),
    ("/api/auth/verify", &[("token", Text)]),
    ("/api/auth/verify_code", &[("email", Text), ("code", Text)]),
    ("/api/auth/resend", &[("email", Text)]),
    ("/api/auth/forgot", &[("email", Text)]),
    ("/api/auth/email_sign_in", &[("email", Text)]),
    ("/api/auth/email_sign_in_link", &[("token", Text)]),
    (
        "/api/auth/email_sign_in_code",
        &[("email", Text), ("code", Text)],
    ),
    ("/api/auth/reset", &[("token", Text), ("password", Text)]),
    (
        "/api/auth/password_strength",
        &[("password", Text), ("context", Optional)],
    ),
    ("/api/auth/whoami", &[]),
    ("/api/auth/viewer", &[]),
    ("/api/account/get", &[]),
    (
        "/api/account/profile",
        &[
            ("username", Text),
            ("display_name", Optional),
            ("bio", Optional),
        ],
    ),
    (
        "/api/account/password",
        &[("current_password", Text), ("new_password", Text)],
    ),
    (
        "/api/account/email",
        &[("new_email", Text), ("password", Text)],
    ),
    ("/api/account/confirm_email", &[("token", Text)]),
    ("/api/account/sessions", &[]),
    ("/api/account/revoke", &[("which", Text)]),
    ("/api/account/delete", &[("password", Text)]),
    ("/api/passkeys/list", &[]),
    ("/api/passkeys/register_start", &[]),
    (
        "/api/passkeys/register_finish",
        &[("ceremony", Text), ("name", Optional), ("credential", Text)],
    ),
    ("/api/passkeys/rename", &[("id", Text), ("name", Text)]),
    ("/api/passkeys/delete", &[("id", Text)]),
    ("/api/auth/passkey_start", &[]),
    (
        "/api/auth/passkey_finish",
        &[("ceremony", Text), ("credential", Text), ("next", Optional)],
    ),
    ("/api/check_database", &[]),
    ("/api/admin/system", &[]),
    ("/api/admin/users", &[("q", Optional), ("after", Optional)]),
    ("/api/admin/user", &[("id", Uuid)]),
    ("/api/admin/set_role", &[("id", Uuid), ("role", Text)]),
    ("/api/admin/ban", &[("id", Uuid), ("duration", Text)]),
    ("/api/admin/unban", &[("id", Uuid)]),
    ("/api/admin/sign_out", &[("id", Uuid)]),
    ("/api/admin/resend", &[("id", Uuid)]),
    (
        "/api/admin/audit",
        &[
            ("actor", Optional),
            ("target", Optional),
            ("action", Optional),
            ("from", Optional),
            ("until", Optional),
            ("after", Optional),
        ],
    ),
    (
        "/api/admin/outbox",
        &[("view", Optional), ("after", Optional)],
    ),
    ("/api/admin/outbox_retry", &[("id", Int)]),
    ("/api/admin/reset_factors", &[("id", Uuid)]),
    (
        "/api/auth/second_factor",
        &[("code", Text), ("next", Optional)],
    ),
    ("/api/auth/second_factor_pending", &[]),
    ("/api/auth/step_up", &[("code", Text), ("next", Optional)]),
    ("/api/account/factors", &[]),
    ("/api/account/factors/enrol", &[("friendly_name", Text)]),
    ("/api/account/factors/enrolment", &[("factor", Uuid)]),
    (
        "/api/account/factors/confirm",
        &[("factor", Uuid), ("code", Text)],
    ),
    ("/api/account/factors/remove", &[("factor", Uuid)]),
    ("/api/account/recovery_codes/regenerate", &[]),
    ("/api/account/recovery_codes/take", &[]),
];

/// Values a field of this kind cannot be read from.
fn wrong_values(kind: Kind) -> &'static [&'static str] {
    match kind {
        Text | Optional => &[],
        Page => &[
            "-1",
            "abc",
            "99999999999999999999",
            "4294967296",
            "1.5",
            "1e3",
            "%FF",
        ],
        Uuid => &[
            "abc",
            "-1",
            "99999999999999999999",
            "0000000-0000-0000-0000-00000000000g",
        ],
        Int => &[
            "abc",
            "99999999999999999999",
            "-9223372036854775809",
            "1.5",
            "%FF",
        ],
    }
}

/// A value the field's type accepts.
fn good_value(kind: Kind) -> &'static str {
    match kind {
        Text | Optional => "x",
        Page | Int => "1",
        Uuid => "6f1c7c56-2c61-4a43-9d3c-2a8c2b6d1f00",
    }
}

fn form(fields: &[(String, String)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// `(case, content type, body)`: every body here is one the function's arguments cannot be
/// read from, so no call may reach the function's body.
fn cases(args: &[(&str, Kind)]) -> Vec<(String, &'static str, Vec<u8>)> {
    const FORM: &str = "application/x-www-form-urlencoded";
    let mut cases = vec![
        (
            "invalid UTF-8".to_owned(),
            FORM,
            b"\xff\xfe=\xc3\x28&x=\x80".to_vec(),
        ),
        (
            "invalid UTF-8 as JSON".to_owned(),
            "application/json",
            b"{\"a\":\"\xff\"}".to_vec(),
        ),
    ];
    let good: Vec<(String, String)> = args
        .iter()
        .map(|(name, kind)| (name.to_string(), good_value(*kind).to_owned()))
        .collect();
    let required: Vec<&str> = args
        .iter()
        .filter(|(_, kind)| !matches!(kind, Optional | Page))
        .map(|(name, _)| *name)
        .collect();
    if !required.is_empty() {
        cases.push(("empty body".into(), FORM, vec![]));
        cases.push(("no content type, empty body".into(), "", vec![]));
        let json = serde_json::to_vec(
            &good
                .iter()
                .cloned()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap();
        cases.push((
            "the fields as JSON".into(),
            "application/json",
            json.clone(),
        ));
        cases.push(("the fields as JSON, text/plain".into(), "text/plain", json));
        let nested = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
        cases.push((
            "deeply nested JSON".into(),
            "application/json",
            nested.into_bytes(),
        ));
        for name in &required {
            let mut fields: Vec<_> = good.iter().filter(|(k, _)| k != name).cloned().collect();
            fields.push(("unknown_field".into(), "1".into()));
            cases.push((
                format!("{name} missing, an unknown field"),
                FORM,
                form(&fields),
            ));
        }
    }
    for (name, kind) in args {
        let with = |value: String, key: String| {
            let mut fields: Vec<_> = good.iter().filter(|(k, _)| k != name).cloned().collect();
            fields.push((key, value));
            form(&fields)
        };
        cases.push((
            format!("{name} as a map"),
            FORM,
            with("1".into(), format!("{name}[k]")),
        ));
        let deep = format!("{name}{}", "[a]".repeat(64));
        cases.push((
            format!("{name} nested 64 deep"),
            FORM,
            with("1".into(), deep),
        ));
        for value in wrong_values(*kind) {
            let body = with(value.to_string(), name.to_string());
            cases.push((format!("{name}={value}"), FORM, body));
        }
    }
    cases
}

/// Calls every case of every function from `browser`; returns (calls, failures).
async fn fuzz(app: &TestApp, browser: &Browser, who: &str) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut total = 0;
    for (path, args) in FUNCTIONS {
        let mut seen = Vec::new();
        for (case, content_type, body) in cases(args) {
            let mut request = browser.post(path).header("Origin", PUBLIC_URL).body(body);
            if !content_type.is_empty() {
                request = request.header("Content-Type", content_type);
            }
            let answer = browser.send(request).await;
            let content_type = answer.header("content-type").unwrap_or_default().to_owned();
            seen.push(Seen {
                case,
                status: answer.status,
                content_type,
                body: answer.body.into_bytes(),
            });
        }
        for framing in [Framing::Chunked, Framing::Declared] {
            const FORM: &str = "application/x-www-form-urlencoded";
            let (status, content_type, body) =
                oversize(app, framing, path, FORM, &[], OVERSIZE).await;
            seen.push(Seen {
                case: framing.case().into(),
                status,
                content_type,
                body,
            });
        }
        for seen in seen {
            total += 1;
            if let Err(why) = judge(&seen) {
                failures.push(format!("{who} {path} [{}]: {why}", seen.case));
            }
        }
    }
    (total, failures)
}

/// A 4xx whose body is the wire `AppError` with the status that error carries; a too-large body
/// is 413.
fn judge(seen: &Seen) -> Result<(), String> {
    let text = seen.text();
    if !(400..500).contains(&seen.status) {
        return Err(format!("answered {}: {text:.200}", seen.status));
    }
    let error: AppError = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} with a body that is no AppError ({e}): {text:.200}",
            seen.status
        )
    })?;
    if error.status_code() != seen.status {
        return Err(format!("{} for {error:?}", seen.status));
    }
    if seen.case.contains("over the limit") && seen.status != 413 {
        return Err(format!("{} instead of 413 for {error:?}", seen.status));
    }
    if !seen.content_type.starts_with("application/json") {
        return Err(format!("content type {:?}", seen.content_type));
    }
    Ok(())
}

#[tokio::test]
async fn the_fuzzed_functions_are_every_registered_server_function() {
    let registered: BTreeSet<(String, String)> = server_fn_paths()
        .map(|(path, method)| (path.to_owned(), method.to_string()))
        .collect();
    let fuzzed: BTreeSet<(String, String)> = FUNCTIONS
        .iter()
        .map(|(path, _)| (path.to_string(), "POST".to_owned()))
        .collect();
    assert_eq!(fuzzed, registered);
}

#[tokio::test]
async fn malformed_server_function_calls_get_a_4xx_app_error_and_change_nothing() {
    let app = TestApp::spawn().await;
    let anonymous = Browser::open(&app);
    let (_user, member) = signed_in_user(&app, "fuzz").await;
    let before = snapshot(&app).await;

    let (anon_total, mut failures) = fuzz(&app, &anonymous, "anonymous").await;
    let (member_total, member_failures) = fuzz(&app, &member, "signed-in").await;
    failures.extend(member_failures);

    failures.extend(super::changes(&before, &snapshot(&app).await));
    assert_eq!(
        member.role().await,
        "authenticated",
        "the member is still signed in"
    );
    assert_no_failures(
        "server function calls",
        anon_total + member_total,
        &failures,
    );
}
