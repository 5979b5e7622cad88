//! Where sign-in sends the browser: forms posted before the wasm loads are answered with
//! redirects, and a hostile or odd `next` never leads off the site or to an error.
use crate::support::{Browser, PUBLIC_URL, TestApp, verified_user};

#[tokio::test]
async fn a_form_posted_before_the_wasm_loads_is_answered_with_redirects() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "nojs").await;
    let referer = format!("{PUBLIC_URL}/signin?next=%2Fposts%2Fnew");
    let post = |password: &str| {
        browser
            .post("/api/auth/sign_in")
            .header("Origin", PUBLIC_URL)
            .header("Accept", "text/html,application/xhtml+xml")
            .header("Referer", &referer)
            .form(&[
                ("email", user.email.as_str()),
                ("password", password),
                ("next", "/posts/new"),
            ])
    };

    // A failure goes back to the form, the error in the URL for the page to show.
    let refused = browser.send(post("Not-The-Password-42")).await;
    assert_eq!(refused.status, 302, "{refused:?}");
    let back: reqwest::Url = refused.location().unwrap().parse().unwrap();
    assert_eq!(back.path(), "/signin");
    let query: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    assert!(
        query.contains(&("next".into(), "/posts/new".into())),
        "{back}"
    );
    assert!(
        query.contains(&("__path".into(), "/api/auth/sign_in".into())),
        "{back}"
    );
    assert!(query.iter().any(|(k, v)| k == "__err" && !v.is_empty()));
    assert!(browser.session_id().is_none());

    // Success goes where `next` says, signed in. An off-site `next` is not followed.
    let signed_in = browser.send(post(&user.password)).await;
    assert_eq!(signed_in.status, 302, "{signed_in:?}");
    assert_eq!(signed_in.location(), Some("/posts/new"));
    assert_eq!(browser.role().await, "authenticated");
    let offsite = browser
        .call(
            "/api/auth/sign_in",
            &[
                ("email", &user.email),
                ("password", &user.password),
                ("next", "//evil.example/phish"),
            ],
        )
        .await;
    offsite.assert_redirects_to("/account");
}

/// Targets a browser would follow off-site, or that cannot even be a header value.
const HOSTILE_NEXT: &[&str] = &[
    "/\t/evil.example/",
    "/%09/evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "https://evil.example/",
    "/%2F/evil.example/",
    "/\n/evil.example/",
    "/\r\nSet-Cookie: planted=1",
    "/\0",
    "/ /evil.example/",
];

#[tokio::test]
async fn a_hostile_next_after_a_correct_password_redirects_to_the_account_page() {
    let app = TestApp::spawn().await;
    let user = verified_user(&app, &Browser::open(&app), "next").await;
    for next in HOSTILE_NEXT {
        let form = [
            ("email", user.email.as_str()),
            ("password", user.password.as_str()),
            ("next", next),
        ];
        // As the hydrated page calls it, and as a form posted before the wasm loads.
        let hydrated = Browser::open(&app);
        hydrated
            .call("/api/auth/sign_in", &form)
            .await
            .assert_redirects_to("/account");
        let plain = Browser::open(&app);
        let answer = plain
            .send(
                plain
                    .post("/api/auth/sign_in")
                    .header("Origin", PUBLIC_URL)
                    .header("Accept", "text/html")
                    .form(&form),
            )
            .await;
        assert_eq!(answer.status, 302, "{next:?}: {answer:?}");
        assert_eq!(answer.location(), Some("/account"), "{next:?}");
        assert!(answer.header("planted").is_none());
        assert_eq!(plain.role().await, "authenticated", "{next:?}");
    }
}

#[tokio::test]
async fn the_sign_in_form_never_carries_a_hostile_next() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let kept = browser.get("/signin?next=%2Fposts%2Fnew").await;
    assert!(
        kept.body.contains(r#"name="next" value="/posts/new""#),
        "{}",
        kept.body
    );
    for next in ["/%09/evil.example/", "//evil.example/", "/%0A/x"] {
        let encoded: String = url_encode(next);
        let page = browser.get(&format!("/signin?next={encoded}")).await;
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("evil.example"),
            "{next:?}: {}",
            page.body
        );
        assert!(page.body.contains(r#"name="next" value="""#), "{next:?}");
    }
}

fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_page_redirect_with_an_odd_slug_still_answers() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let fine = browser.get("/posts/a-post/edit").await;
    assert_eq!(fine.status, 302, "{fine:?}");
    assert_eq!(fine.location(), Some("/signin?next=/posts/a-post/edit"));
    for slug in ["%0A", "%0D%0Aplanted:%201", "%00", "%09%2F"] {
        let answer = browser.get(&format!("/posts/{slug}/edit")).await;
        assert_eq!(answer.status, 302, "{slug}: {answer:?}");
        assert_eq!(answer.location(), Some("/signin"), "{slug}");
    }
}
