//! The binary's `grant-admin`, `seed-dev` and `api-keys` commands, run as an operator would:
//! the built `palisade` executable, configured through the environment only.
use std::process::Output;

use app::ssr::{auth::Actor, db::begin_as};
use tokio::process::Command;

use crate::support::{Browser, PeopleApp, audit_of, db_role, redis_url};

/// Runs `palisade ARGS` against this test's database and Redis, in development, from a
/// directory without a `.env`.
async fn palisade(w: &PeopleApp, args: &[&str], production: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command
        .args(args)
        .env_clear()
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", w.app.db.authenticator_url())
        .env("DATABASE_OWNER_URL", w.app.db.owner_url())
        .env("REDIS_URL", redis_url())
        .env("USER", "operator");
    if production {
        command
            .env("PALISADE_ENV", "production")
            .env("PALISADE_PUBLIC_URL", "https://palisade.test")
            .env("PALISADE_SECRET", uuid::Uuid::new_v4().simple().to_string())
            .env("SMTP_URL", "smtp://127.0.0.1:1025")
            .env("PALISADE_MAIL_FROM", "Palisade <no-reply@palisade.test>");
    } else {
        command.env("PALISADE_ENV", "development");
    }
    command.output().await.expect("the palisade binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn grant_admin_promotes_an_account_by_email_and_signs_it_out() {
    let w = PeopleApp::new().await;
    let user = w.user("operator-pick").await;
    assert_eq!(user.browser.role().await, "authenticated");

    let out = palisade(&w, &["grant-admin", &user.email.to_uppercase()], false).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("is now an admin"), "{stdout}");
    assert!(stdout.contains("Signed out their 1 session(s)"), "{stdout}");

    assert_eq!(db_role(&w, user.id).await, "admin");
    assert_eq!(user.browser.role().await, "anon", "the old session is over");
    w.sign_in_directly(&user.browser, user.id).await;
    assert_eq!(user.browser.get("/admin").await.status, 200);
    let entry = audit_of(&w.app, user.id)
        .await
        .into_iter()
        .find(|e| e.action == "admin.role_granted_cli")
        .expect("the grant is in the audit log");
    assert_eq!(entry.actor_id, None);
    assert_eq!(entry.details["via"], "grant-admin");
    assert_eq!(entry.details["os_user"], "operator");

    // Again: nothing to do, still success.
    let out = palisade(&w, &["grant-admin", &user.email], false).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("already an admin"));
    assert_eq!(
        w.live_sessions(user.id).await,
        1,
        "no sign-out when nothing changed"
    );
}

#[tokio::test]
async fn grant_admin_says_so_when_no_account_has_the_email_and_checks_its_arguments() {
    let w = PeopleApp::new().await;
    let out = palisade(&w, &["grant-admin", "nobody@flows.test"], false).await;
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no account has the email nobody@flows.test"),
        "{stderr}"
    );

    let out = palisade(&w, &["grant-admin"], false).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: palisade"));
    let out = palisade(&w, &["make-coffee"], false).await;
    assert_eq!(out.status.code(), Some(2));
    let out = palisade(&w, &["help"], false).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("grant-admin EMAIL"));
}

#[tokio::test]
async fn seed_dev_makes_a_demo_admin_and_demo_posts_once_and_refuses_production() {
    let w = PeopleApp::new().await;
    let out = palisade(&w, &["seed-dev"], false).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("PALISADE_ENV=development only"), "{stdout}");
    assert!(stdout.contains("admin@palisade.local"), "{stdout}");
    assert!(stdout.contains("(created)"), "{stdout}");
    assert!(stdout.contains("3 demo post(s) added"), "{stdout}");

    let again = palisade(&w, &["seed-dev"], false).await;
    let stdout = text(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("(already there)") && !stdout.contains("(created)"));
    assert!(stdout.contains("0 demo post(s) added"), "{stdout}");

    // The demo admin signs in with the printed password, through the real flow.
    let (email, password) = server::cli::DEV_ADMIN;
    let browser = Browser::open(&w.app);
    browser
        .sign_in(email, password)
        .await
        .assert_redirects_to("/account");
    assert_eq!(browser.role().await, "admin");
    // Two demo posts are public, the draft is not.
    let mut anon = begin_as(&w.app.pool, &Actor::Anon).await.unwrap();
    let public: i64 = sqlx::query_scalar("select count(*) from public.posts")
        .fetch_one(&mut *anon)
        .await
        .unwrap();
    assert_eq!(public, 2);

    let refused = palisade(&w, &["seed-dev"], true).await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("runs only with PALISADE_ENV=development"));
}

#[tokio::test]
async fn seed_dev_refuses_a_development_server_that_is_not_on_loopback() {
    let w = PeopleApp::new().await;
    for url in ["http://palisade.example.com", "https://localhost:3000"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
        let out = command
            .arg("seed-dev")
            .env_clear()
            .current_dir(std::env::temp_dir())
            .env("PALISADE_ENV", "development")
            .env("PALISADE_PUBLIC_URL", url)
            .env("DATABASE_URL", w.app.db.authenticator_url())
            .env("DATABASE_OWNER_URL", w.app.db.owner_url())
            .env("REDIS_URL", redis_url())
            .output()
            .await
            .expect("the palisade binary runs");
        let stderr = text(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{url}: {}", text(&out.stdout));
        assert!(stderr.contains("PALISADE_PUBLIC_URL"), "{url}: {stderr}");
    }
    let mut anon = begin_as(&w.app.pool, &Actor::Anon).await.unwrap();
    let posts: i64 = sqlx::query_scalar("select count(*) from public.posts")
        .fetch_one(&mut *anon)
        .await
        .unwrap();
    assert_eq!(posts, 0, "nothing was seeded");
}

#[tokio::test]
async fn api_keys_prints_the_keys_of_the_configured_secret_and_refuses_a_made_up_one() {
    let w = PeopleApp::new().await;
    // Development without PALISADE_SECRET makes one up per process: its keys would not last.
    let refused = palisade(&w, &["api-keys"], false).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(text(&refused.stderr).contains("PALISADE_SECRET"));

    let secret = "an-operators-secret-that-is-long-enough-0000";
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .arg("api-keys")
        .env_clear()
        .current_dir(std::env::temp_dir())
        .env("PALISADE_ENV", "development")
        .env("PALISADE_SECRET", secret)
        .env("DATABASE_URL", w.app.db.authenticator_url())
        .env("REDIS_URL", redis_url())
        .output()
        .await
        .expect("the palisade binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let keys = app::ssr::auth::api_keys::ApiKeys::derive(secret);
    assert_eq!(
        text(&out.stdout),
        format!(
            "publishable: {}\nsecret:      {}\n",
            keys.publishable(),
            keys.secret()
        )
    );
}

#[tokio::test]
async fn keys_rotate_moves_every_signing_key_generation_one_step() {
    let w = PeopleApp::new().await;
    let out = palisade(&w, &["keys", "rotate"], false).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Generation 2 signs"),
        "{}",
        text(&out.stdout)
    );
    let again = palisade(&w, &["keys", "rotate"], false).await;
    assert!(text(&again.stdout).contains("Generation 3 signs"));

    let mut tx = app::ssr::db::begin_service(&w.app.pool, app::ssr::db::ServiceRole::Auth)
        .await
        .unwrap();
    let states: Vec<(i32, String)> =
        sqlx::query_as("select generation, state from auth.signing_keys order by generation")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    let states: Vec<(i32, &str)> = states.iter().map(|(g, s)| (*g, s.as_str())).collect();
    // Generation 1 was demoted moments ago: its tokens may still be live, so it stays.
    assert_eq!(
        states,
        [
            (1, "previous"),
            (2, "previous"),
            (3, "current"),
            (4, "next")
        ]
    );
}
