//! Row Level Security, tested against the real roles: the policy matrix, the catalog check,
//! and the guarantees `begin_as` rests on (no access without it, role from the profile on
//! every request, nothing left behind on a pooled connection).
mod fixture;
mod matrix;

use app::ssr::db::begin_as;
use sqlx::{
    Connection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use self::{
    fixture::{Fixture, ban, commit_all, make_first_admin, set_role, sign_up, user},
    matrix::{Actors, describe_error},
};
use crate::support::TestApp;

const CATALOG_CHECK: &str = include_str!("rls/catalog.sql");

/// The cluster's superuser: scripts/lib/services.sh initdb's it as `postgres` with trust auth.
fn superuser_options(app: &TestApp) -> PgConnectOptions {
    match std::env::var("DATABASE_SUPERUSER_URL") {
        Ok(url) => url
            .parse::<PgConnectOptions>()
            .expect("DATABASE_SUPERUSER_URL"),
        Err(_) => app.db.owner.clone().username("postgres"),
    }
    .database(&app.db.name)
}

async fn single_connection_pool(options: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap_or_else(|e| panic!("connect as {}: {e}", options.get_username()))
}

#[test]
fn the_policy_matrix_names_every_table_verb_and_request_actor() {
    let missing = matrix::uncovered(&matrix::cases());
    assert!(
        missing.is_empty(),
        "cases.txt has no case for:\n  {}",
        missing.join("\n  ")
    );
}

#[tokio::test]
async fn the_policy_matrix_holds_for_every_table_and_actor() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::build(&app.pool).await;
    let actors = Actors {
        app: app.pool.clone(),
        owner: single_connection_pool(app.db.owner.clone()).await,
        // Only for the audit log's append-only trigger, which must stop even a superuser.
        superuser: single_connection_pool(superuser_options(&app)).await,
        fixture,
    };

    let cases = matrix::cases();
    let mut mismatches = Vec::new();
    for case in &cases {
        let got = actors.run(case).await;
        if got != case.expected {
            mismatches.push(format!(
                "{case}\n    expected: {}\n    got:      {got}",
                case.expected
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases did not hold:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
    println!("{} policy cases held", cases.len());
}

async fn catalog_problems(conn: &mut sqlx::PgConnection) -> Vec<(String, String)> {
    sqlx::query_as(CATALOG_CHECK)
        .fetch_all(conn)
        .await
        .expect("catalog check runs")
}

#[tokio::test]
async fn every_table_has_forced_rls_and_policies_wrap_auth_helpers_in_a_subselect() {
    let app = TestApp::spawn().await;
    let mut owner = app.owner_conn().await;
    let problems = catalog_problems(&mut owner).await;
    assert!(problems.is_empty(), "catalog check: {problems:#?}");
}

/// The negative control: without it, a catalog check that silently matched nothing would pass.
#[tokio::test]
async fn the_catalog_check_reports_a_table_without_rls_and_a_bare_auth_uid() {
    let app = TestApp::spawn().await;
    let mut owner = app.owner_conn().await;
    let mut tx = owner.begin().await.unwrap();
    for sql in [
        "create table public.unprotected (id int)",
        "create table public.leaky (author_id uuid)",
        "alter table public.leaky enable row level security, force row level security",
        "create policy leaky_own on public.leaky using (author_id = auth.uid())",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
    }

    let problems = catalog_problems(&mut tx).await;
    tx.rollback().await.unwrap();

    let expected = [
        (
            "policy calls auth helper without (select ...)",
            "public.leaky leaky_own",
        ),
        (
            "table without ENABLE + FORCE row level security",
            "public.unprotected",
        ),
    ]
    .map(|(p, o)| (p.to_owned(), o.to_owned()));
    assert_eq!(problems, expected);
}

#[tokio::test]
async fn a_query_outside_begin_as_is_refused() {
    let app = TestApp::spawn().await;
    sign_up(&app.pool, "alice@example.com").await;
    for sql in [
        "select * from public.profiles",
        "select * from public.posts",
        "select * from public.outbox",
        "select * from auth.users",
        "select * from auth.one_time_tokens",
        "insert into public.posts (author_id, slug, title, body) \
         values ((select id from auth.users limit 1), 'sneaky', 't', 'b')",
    ] {
        // Straight on the app's pool: the login role `authenticator`, never switched. In a
        // bare transaction, as every statement of the app runs (behind PgBouncer a prepared
        // statement outside one may be parsed and bound on two server connections).
        let mut tx = app.pool.begin().await.unwrap();
        let error = sqlx::query(sql).execute(&mut *tx).await.expect_err(sql);
        let code = error.as_database_error().and_then(|db| db.code());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {error}");
    }
}

/// What one request by `actor` gets: its Postgres role, the drafts it can see, the user list.
async fn one_request(pool: &PgPool, actor: &app::ssr::auth::Actor) -> [String; 3] {
    let mut tx = begin_as(pool, actor).await.unwrap();
    let role: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let drafts: i64 = sqlx::query_scalar("select count(*) from posts where status = 'draft'")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    // Last: a refusal aborts the transaction.
    let users = match sqlx::query_scalar::<_, i64>("select count(*) from auth.users")
        .fetch_one(&mut *tx)
        .await
    {
        Ok(n) => format!("users: {n}"),
        Err(e) => describe_error(&e),
    };
    tx.rollback().await.unwrap();
    [role, format!("drafts: {drafts}"), users]
}

/// root (the first admin), carol (promoted by root), and dave, who has a draft.
async fn root_carol_and_a_draft_by_dave(pool: &PgPool) -> (uuid::Uuid, uuid::Uuid) {
    let root = sign_up(pool, "root@example.com").await;
    make_first_admin(pool, root).await;
    let carol = sign_up(pool, "carol@example.com").await;
    let dave = sign_up(pool, "dave@example.com").await;
    commit_all(
        begin_as(pool, &user(dave)).await.unwrap(),
        &["insert into posts (author_id, slug, title, body) \
           values ((select auth.uid()), 'dave-draft', 'D draft', 'x')"],
    )
    .await;
    set_role(pool, root, carol, "admin").await;
    (root, carol)
}

#[tokio::test]
async fn a_demoted_admin_loses_admin_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let (root, carol) = root_carol_and_a_draft_by_dave(&app.pool).await;
    // The session's actor is never touched: the database reads the profile on every request.
    let carols_session = user(carol);
    assert_eq!(
        one_request(&app.pool, &carols_session).await,
        ["admin", "drafts: 1", "users: 3"]
    );

    set_role(&app.pool, root, carol, "user").await;

    assert_eq!(
        one_request(&app.pool, &carols_session).await,
        ["authenticated", "drafts: 0", "permission denied"]
    );
}

#[tokio::test]
async fn a_banned_admin_becomes_anonymous_on_the_next_request() {
    let app = TestApp::spawn().await;
    let (root, carol) = root_carol_and_a_draft_by_dave(&app.pool).await;
    let carols_session = user(carol);
    assert_eq!(
        one_request(&app.pool, &carols_session).await,
        ["admin", "drafts: 1", "users: 3"]
    );

    ban(&app.pool, root, carol).await;

    assert_eq!(
        one_request(&app.pool, &carols_session).await,
        ["anon", "drafts: 0", "permission denied"]
    );
}

/// Backend pid, current_user, the `role` setting, the claims and the statement timeout of
/// whatever connection the pool hands out.
async fn connection_state(pool: &PgPool) -> (i32, String, String, String, String) {
    sqlx::query_as(
        "select pg_backend_pid(), current_user::text, current_setting('role'), \
                coalesce(current_setting('request.jwt.claims', true), ''), \
                current_setting('statement_timeout')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn set_config_is_transaction_scoped() {
    let app = TestApp::spawn().await;
    let alice = sign_up(&app.pool, "alice@example.com").await;
    // One connection, so each request below certainly reuses the one before it, as any
    // connection of a busy pool (or behind PgBouncer in transaction mode) eventually does.
    // Straight to Postgres, also when the app goes through PgBouncer (scripts/stack
    // test-rust): this is about what a Postgres session keeps. No statement cache: the app's
    // transactions may begin with DEALLOCATE ALL (`db::pooler`).
    let direct: sqlx::postgres::PgConnectOptions = app.db.authenticator_url().parse().unwrap();
    let pool = single_connection_pool(direct.statement_cache_capacity(0)).await;
    let fresh = connection_state(&pool).await;
    assert_eq!(fresh.1, "authenticator");
    assert_eq!(fresh.3, "");

    let mut tx = begin_as(&pool, &user(alice)).await.unwrap();
    let (role, claims): (String, String) =
        sqlx::query_as("select current_user::text, current_setting('request.jwt.claims')")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(role, "authenticated");
    assert!(claims.contains(&alice.to_string()), "{claims}");
    tx.commit().await.unwrap();
    assert_eq!(connection_state(&pool).await, fresh, "after a commit");

    // A request that fails and is merely dropped leaves nothing behind either.
    let mut tx = begin_as(&pool, &user(alice)).await.unwrap();
    sqlx::query("select count(*) from auth.users")
        .execute(&mut *tx)
        .await
        .expect_err("users may not list users");
    drop(tx);
    assert_eq!(
        connection_state(&pool).await,
        fresh,
        "after a dropped failure"
    );
}

/// The app's names for request roles are the database's: each actor's transaction parses to
/// the role `begin_as` should give it, and `db::is_admin` agrees.
#[tokio::test]
async fn request_roles_parse_to_the_role_begin_as_gives_each_actor() {
    use app::{
        domain::role::RequestRole,
        ssr::{auth::Actor, db},
    };
    let app = TestApp::spawn().await;
    let (root, carol) = root_carol_and_a_draft_by_dave(&app.pool).await;
    ban(&app.pool, root, carol).await;
    let alice = sign_up(&app.pool, "alice@example.com").await;
    for (actor, expected) in [
        (Actor::Anon, RequestRole::Anon),
        (user(alice), RequestRole::Authenticated),
        (user(root), RequestRole::Admin),
        (user(carol), RequestRole::Anon),
    ] {
        let mut tx = begin_as(&app.pool, &actor).await.unwrap();
        let role = db::admin::current_role(&mut tx).await.unwrap();
        assert_eq!(RequestRole::parse(&role), Some(expected), "{actor:?}");
        let admin = db::is_admin(&mut tx).await.unwrap();
        assert_eq!(admin, expected == RequestRole::Admin, "{actor:?}");
        tx.rollback().await.unwrap();
    }
}
