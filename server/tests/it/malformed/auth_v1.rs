//! Every `/auth/v1` endpoint (token, user, logout, signup, recover, resend), called with
//! requests it cannot read.
use reqwest::{Method, header::HeaderValue};

use super::{Framing, OVERSIZE, Seen, assert_no_failures, changes, oversize, snapshot};
use crate::support::{Browser, TestApp, verified_user};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// Bodies no grant can be read from, or that lack what every grant needs.
fn token_bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let nested = format!("{{\"email\":{}1{}}}", "[".repeat(5_000), "]".repeat(5_000));
    vec![
        ("empty JSON body", JSON, vec![]),
        ("empty form body", FORM, vec![]),
        ("empty body, no content type", "", vec![]),
        ("an empty object", JSON, b"{}".to_vec()),
        ("null", JSON, b"null".to_vec()),
        ("an array", JSON, b"[1,2]".to_vec()),
        ("a string", JSON, b"\"password\"".to_vec()),
        ("truncated JSON", JSON, b"{\"email\":\"a@b.test\",".to_vec()),
        (
            "numbers for strings",
            JSON,
            br#"{"email":5,"password":[1]}"#.to_vec(),
        ),
        (
            "an object for a string",
            JSON,
            br#"{"refresh_token":{"a":1}}"#.to_vec(),
        ),
        (
            "a huge number",
            JSON,
            br#"{"email":"a@b.test","password":1e400}"#.to_vec(),
        ),
        (
            "a 30-digit number",
            JSON,
            br#"{"refresh_token":123456789012345678901234567890}"#.to_vec(),
        ),
        (
            "a negative number",
            JSON,
            br#"{"refresh_token":-1}"#.to_vec(),
        ),
        ("deeply nested JSON", JSON, nested.into_bytes()),
        (
            "invalid UTF-8 in JSON",
            JSON,
            b"{\"email\":\"\xff\",\"password\":\"x\"}".to_vec(),
        ),
        (
            "invalid UTF-8 in a form",
            FORM,
            b"username=\xff\xfe&password=\xc3\x28".to_vec(),
        ),
        (
            "a map in a form",
            FORM,
            b"username[a]=1&password[b]=2".to_vec(),
        ),
        (
            "JSON as text/plain",
            "text/plain",
            br#"{"email":"a@b.test","password":"x"}"#.to_vec(),
        ),
        (
            "JSON as XML",
            "application/xml",
            br#"{"email":"a@b.test","password":"x"}"#.to_vec(),
        ),
        (
            "email missing, an unknown field",
            JSON,
            br#"{"password":"x","zzz":1}"#.to_vec(),
        ),
        (
            "password missing, an unknown field",
            JSON,
            br#"{"email":"a@b.test","zzz":1}"#.to_vec(),
        ),
        (
            "form, email missing",
            FORM,
            b"password=x&grant_type=password".to_vec(),
        ),
    ]
}

/// Query strings, and whether the server can read them (an unreadable one is answered 400
/// before the body is looked at, whatever its size).
const TOKEN_QUERIES: &[(&str, bool)] = &[
    ("?grant_type=password", true),
    ("?grant_type=refresh_token", true),
    ("", true),
    ("?grant_type=password&grant_type=refresh_token", false),
    ("?grant_type=%FF", true),
    ("?grant_type[a]=password", true),
];

/// Malformed `Authorization` headers for the endpoints that need a token.
fn bad_credentials() -> Vec<(&'static str, HeaderValue)> {
    vec![
        ("Bearer without a token", HeaderValue::from_static("Bearer")),
        ("a garbage token", HeaderValue::from_static("Bearer abc")),
        (
            "three garbage parts",
            HeaderValue::from_static("Bearer a.b.c"),
        ),
        ("Basic", HeaderValue::from_static("Basic Zm9vOmJhcg==")),
        (
            "invalid UTF-8",
            HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        ),
        (
            "a huge token",
            HeaderValue::from_str(&format!("Bearer {}", "A".repeat(6_000))).unwrap(),
        ),
    ]
}

const LOGOUT_QUERIES: &[&str] = &[
    "?scope=bogus",
    "?scope=local&scope=global",
    "?scope=%FF",
    "?scope=99999999999999999999",
];

/// A 4xx with `{"error", "error_description"}`; 413 for a body over the limit.
fn judge(seen: &Seen) -> Result<(), String> {
    let text = seen.text();
    if !(400..500).contains(&seen.status) {
        return Err(format!("answered {}: {text:.200}", seen.status));
    }
    let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} with a body that is not JSON ({e}): {text:.200}",
            seen.status
        )
    })?;
    if !(body["error"].is_string() && body["error_description"].is_string()) {
        return Err(format!(
            "{} with a body not in the error shape: {text:.200}",
            seen.status
        ));
    }
    if seen.case.contains("over the limit") && seen.status != 413 {
        return Err(format!("{} instead of 413: {text:.200}", seen.status));
    }
    Ok(())
}

async fn send(browser: &Browser, request: reqwest::RequestBuilder, case: String) -> Seen {
    let answer = browser.send(request).await;
    Seen {
        case,
        status: answer.status,
        content_type: answer.header("content-type").unwrap_or_default().to_owned(),
        body: answer.body.into_bytes(),
    }
}

/// Every malformed request, from `browser`, with `bearer` (a valid access token) if given.
async fn fuzz(app: &TestApp, browser: &Browser, bearer: Option<&str>) -> Vec<Seen> {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let with_auth = |mut request: reqwest::RequestBuilder| {
        if let Some(auth) = &auth {
            request = request.header("Authorization", auth);
        }
        request
    };
    let mut seen = Vec::new();
    for (query, readable) in TOKEN_QUERIES {
        let path = format!("/auth/v1/token{query}");
        for (case, content_type, body) in token_bodies() {
            let mut request = with_auth(browser.post(&path)).body(body);
            if !content_type.is_empty() {
                request = request.header("Content-Type", content_type);
            }
            seen.push(send(browser, request, format!("{path} [{case}]")).await);
        }
        let oversize_types = if *readable { &[JSON, FORM][..] } else { &[] };
        for content_type in oversize_types {
            for framing in [Framing::Chunked, Framing::Declared] {
                let headers: Vec<(&str, &str)> =
                    auth.iter().map(|a| ("Authorization", a.as_str())).collect();
                let (status, content_type, body) =
                    oversize(app, framing, &path, content_type, &headers, OVERSIZE).await;
                seen.push(Seen {
                    case: format!("{path} [{}]", framing.case()),
                    status,
                    content_type,
                    body,
                });
            }
        }
    }
    // The account endpoints read JSON only; a body naming a real address would be a real
    // request (a reset mail queued), so the one such case is left out.
    for path in ["/auth/v1/signup", "/auth/v1/recover", "/auth/v1/resend"] {
        let bodies = token_bodies()
            .into_iter()
            .filter(|(case, ..)| !case.starts_with("password missing"));
        for (case, content_type, body) in bodies {
            let mut request = with_auth(browser.post(path)).body(body);
            if !content_type.is_empty() {
                request = request.header("Content-Type", content_type);
            }
            seen.push(send(browser, request, format!("{path} [{case}]")).await);
        }
        for framing in [Framing::Chunked, Framing::Declared] {
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("Authorization", a.as_str())).collect();
            let (status, content_type, body) =
                oversize(app, framing, path, JSON, &headers, OVERSIZE).await;
            seen.push(Seen {
                case: format!("{path} [{}]", framing.case()),
                status,
                content_type,
                body,
            });
        }
    }
    for (case, value) in bad_credentials() {
        for (method, path) in [
            (Method::GET, "/auth/v1/user"),
            (Method::POST, "/auth/v1/logout"),
        ] {
            let request = browser
                .request(method, path)
                .header("Authorization", value.clone());
            seen.push(send(browser, request, format!("{path} [{case}]")).await);
        }
    }
    for query in LOGOUT_QUERIES {
        let path = format!("/auth/v1/logout{query}");
        let request = with_auth(browser.post(&path));
        seen.push(send(browser, request, path).await);
    }
    seen
}

#[tokio::test]
async fn malformed_auth_api_requests_get_a_4xx_oauth_error_and_change_nothing() {
    let app = TestApp::spawn().await;
    let member = Browser::open(&app);
    let user = verified_user(&app, &member, "fuzz-api").await;
    let body = serde_json::json!({ "email": user.email, "password": user.password });
    let granted: serde_json::Value = member.token_grant("password", body).await.json();
    let access_token = granted["access_token"].as_str().unwrap().to_owned();
    let before = snapshot(&app).await;

    let mut seen = fuzz(&app, &Browser::open(&app), None).await;
    seen.extend(fuzz(&app, &member, Some(&access_token)).await);

    let mut failures: Vec<String> = seen
        .iter()
        .filter_map(|s| judge(s).err().map(|why| format!("{}: {why}", s.case)))
        .collect();
    failures.extend(changes(&before, &snapshot(&app).await));
    let still_valid = member
        .send(
            member
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth(&access_token),
        )
        .await;
    assert_eq!(
        still_valid.status, 200,
        "no malformed logout signed the member out"
    );
    assert_no_failures("/auth/v1 requests", seen.len(), &failures);
}
