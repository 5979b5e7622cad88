//! Users, posts and the rest, made the way the app makes them: sign-ups as auth_service,
//! writes through `begin_as`, moderation by an admin. Only the first admin is special.
use app::ssr::{
    auth::Actor,
    db::{ServiceRole, Tx, begin_as, begin_service},
};
use sqlx::PgPool;
use uuid::Uuid;

/// A signed-in user's actor, as a session would hold it.
pub fn user(id: Uuid) -> Actor {
    Actor::User {
        id,
        session_id: Some("s1".into()),
        token_family: None,
    }
}

/// Signs up through the auth subsystem's role; the trigger creates the profile with a random
/// handle, which the user then changes to the email's local part (the cases name users so).
pub async fn sign_up(pool: &PgPool, email: &str) -> Uuid {
    let mut tx = begin_service(pool, ServiceRole::Auth).await.unwrap();
    let id = sqlx::query_scalar(
        "insert into auth.users (email, password_hash) values ($1, 'h') returning id",
    )
    .bind(email)
    .fetch_one(&mut *tx)
    .await
    .unwrap_or_else(|e| panic!("sign up {email}: {e}"));
    tx.commit().await.unwrap();
    let name = email.split('@').next().unwrap();
    let mut tx = begin_as(pool, &user(id)).await.unwrap();
    let done =
        sqlx::query("update public.profiles set username = $1 where id = (select auth.uid())")
            .bind(name)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("name {email}: {e}"));
    assert_eq!(done.rows_affected(), 1);
    tx.commit().await.unwrap();
    id
}

/// There is no admin yet to promote anyone, so the first one is made by switching straight to
/// the admin role, as an operator would (authenticator is a member of admin).
pub async fn make_first_admin(pool: &PgPool, id: Uuid) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select set_config('role', 'admin', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let done = sqlx::query("update public.profiles set role = 'admin' where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "the first admin's profile exists");
    tx.commit().await.unwrap();
}

/// `admin` sets `target`'s profile role, through the same path as any admin request.
pub async fn set_role(pool: &PgPool, admin: Uuid, target: Uuid, role: &str) {
    let mut tx = begin_as(pool, &user(admin)).await.unwrap();
    let done = sqlx::query("update public.profiles set role = $1 where id = $2")
        .bind(role)
        .bind(target)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        done.rows_affected(),
        1,
        "{admin} could set the role: is it an admin?"
    );
    tx.commit().await.unwrap();
}

/// `admin` bans `target` for a day.
pub async fn ban(pool: &PgPool, admin: Uuid, target: Uuid) {
    let mut tx = begin_as(pool, &user(admin)).await.unwrap();
    let done =
        sqlx::query("update auth.users set banned_until = now() + interval '1 day' where id = $1")
            .bind(target)
            .execute(&mut *tx)
            .await
            .unwrap();
    assert_eq!(
        done.rows_affected(),
        1,
        "{admin} could ban: is it an admin?"
    );
    tx.commit().await.unwrap();
}

/// Runs `statements` in one committed transaction.
pub async fn commit_all(mut tx: Tx, statements: &[&'static str]) {
    for sql in statements {
        sqlx::query(*sql)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("fixture statement failed: {sql}: {e}"));
    }
    tx.commit().await.unwrap();
}

/// The matrix's world (cases.txt describes it). Mallory is banned, so she is anon again.
pub struct Fixture {
    pub alice: Uuid,
    pub bob: Uuid,
    pub root: Uuid,
    pub mallory: Uuid,
}

impl Fixture {
    pub async fn build(pool: &PgPool) -> Self {
        let alice = sign_up(pool, "alice@example.com").await;
        let bob = sign_up(pool, "bob@example.com").await;
        let root = sign_up(pool, "root@example.com").await;
        let mallory = sign_up(pool, "mallory@example.com").await;
        make_first_admin(pool, root).await;

        let as_user = async |id| begin_as(pool, &user(id)).await.unwrap();
        commit_all(
            as_user(alice).await,
            &[
                "insert into posts (author_id, slug, title, body) values \
                 ((select auth.uid()), 'alice-draft', 'A draft', 'x'), \
                 ((select auth.uid()), 'alice-post-x', 'A post', 'x')",
                "update posts set status = 'published', slug = 'alice-post' where slug = 'alice-post-x'",
            ],
        )
        .await;
        commit_all(
            as_user(bob).await,
            &[
                "insert into posts (author_id, slug, title, body, status) values \
               ((select auth.uid()), 'bob-draft', 'B draft', 'x', 'draft'), \
               ((select auth.uid()), 'bob-post', 'B post', 'x', 'published')",
            ],
        )
        .await;
        commit_all(
            as_user(mallory).await,
            &["insert into posts (author_id, slug, title, body) values \
               ((select auth.uid()), 'mallory-draft', 'M draft', 'x')"],
        )
        .await;
        ban(pool, root, mallory).await;

        commit_all(
            begin_service(pool, ServiceRole::Auth).await.unwrap(),
            &[
                "insert into auth.one_time_tokens (user_id, purpose, token_hash, expires_at) \
                 select id, 'verify_email', sha256(convert_to(email, 'UTF8')), now() + interval '1 hour' \
                 from auth.users where email in ('alice@example.com', 'bob@example.com')",
                "insert into auth.audit_log (actor_id, action) select id, 'user.signed_up' from auth.users",
                r#"insert into public.outbox (kind, recipient, payload, idempotency_key) values
                   ('verify_email', 'alice@example.com', '{"link": "https://example.com/verify?t=secret"}',
                    'verify_email:alice:1')"#,
            ],
        )
        .await;

        Self {
            alice,
            bob,
            root,
            mallory,
        }
    }

    /// The actor a case names, when it is a request actor (anon or a user).
    pub fn request_actor(&self, name: &str) -> Option<Actor> {
        Some(match name {
            "anon" => Actor::Anon,
            "A" => user(self.alice),
            "B" => user(self.bob),
            "admin" => user(self.root),
            "M" => user(self.mallory),
            _ => return None,
        })
    }
}
