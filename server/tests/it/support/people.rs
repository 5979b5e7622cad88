//! People made directly: a confirmed account with a real password hash, signed in by
//! establishing a session as the sign-in flow does, so most tests spend no argon2 time; each
//! has a [`Browser`] of its own, with its own loopback address and user agent.
use std::sync::Arc;

use app::ssr::{
    auth::{Caller, password::Hasher, sessions},
    db::{ServiceRole, begin_service},
    settings::AuthSettings,
};
use fred::clients::Pool;
use tokio::sync::OnceCell;
use tower_sessions::Session;
use tower_sessions_redis_store::RedisStore;
use uuid::Uuid;

use super::{
    app::{PUBLIC_URL, TestApp, redis_pool, redis_url},
    browser::{Answer, Browser},
    users::new_email,
};

/// Everyone's password here; hashed once per test process.
pub const PASSWORD: &str = "Quiet-harbour-lantern-4417";

async fn password_hash() -> &'static str {
    static HASH: OnceCell<String> = OnceCell::const_new();
    HASH.get_or_init(|| async { Hasher::new(1).hash(PASSWORD).await.expect("hashing works") })
        .await
}

/// A test's app and a Redis pool of its own (for sessions), where people are made directly.
pub struct PeopleApp {
    pub app: TestApp,
    pub redis: Pool,
}

/// Someone with a confirmed account and a browser signed in as them.
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub browser: Browser,
}

impl PeopleApp {
    pub async fn new() -> Self {
        Self {
            app: TestApp::spawn().await,
            redis: redis_pool(&redis_url()).await,
        }
    }

    /// A confirmed account (no session anywhere yet).
    pub async fn account(&self, tag: &str) -> (Uuid, String) {
        let email = new_email(tag);
        let mut tx = begin_service(&self.app.pool, ServiceRole::Auth)
            .await
            .unwrap();
        let id = sqlx::query_scalar(
            "insert into auth.users (email, password_hash, email_confirmed_at) \
             values ($1, $2, now()) returning id",
        )
        .bind(&email)
        .bind(password_hash().await)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (id, email)
    }

    /// Sets a username as its owner would on the account page (here straight as the
    /// `admin` role, which may update any profile).
    pub async fn set_username(&self, user: Uuid, username: &str) {
        let mut tx = self.app.pool.begin().await.unwrap();
        sqlx::query("select set_config('role', 'admin', true)")
            .execute(&mut *tx)
            .await
            .unwrap();
        let done = sqlx::query("update public.profiles set username = $2 where id = $1")
            .bind(user)
            .bind(username)
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
        tx.commit().await.unwrap();
    }

    /// A user signed in on a browser of their own.
    pub async fn user(&self, tag: &str) -> Person {
        let (id, email) = self.account(tag).await;
        let browser = Browser::open(&self.app);
        self.sign_in_directly(&browser, id).await;
        Person { id, email, browser }
    }

    /// An admin (made with the `grant-admin` command's own function) signed in on a browser
    /// of their own.
    pub async fn admin(&self, tag: &str) -> Person {
        let (id, email) = self.account(tag).await;
        let grant = server::cli::grant_admin(&self.app.pool, &email, "test")
            .await
            .expect("grant admin");
        assert_eq!(grant.user_id, id);
        let browser = Browser::open(&self.app);
        self.sign_in_directly(&browser, id).await;
        assert_eq!(browser.role().await, "admin");
        Person { id, email, browser }
    }

    /// Starts a session for `user` exactly as a successful sign-in does (new id, data, index
    /// entry), from the browser's address and user agent, and gives the browser its cookie.
    pub async fn sign_in_directly(&self, browser: &Browser, user: Uuid) -> String {
        let session = Session::new(None, Arc::new(RedisStore::new(self.redis.clone())), None);
        let client = Caller {
            ip: Some(browser.ip),
            user_agent: Some(browser.user_agent.clone()),
        };
        sessions::establish(
            &session,
            &self.redis,
            &AuthSettings::for_public_url(PUBLIC_URL),
            user,
            &client,
            vec![app::domain::assurance::AuthMethod::now("password")],
        )
        .await
        .expect("establish a session");
        let id = session.id().expect("saved").to_string();
        browser.plant_session_id(&id);
        id
    }

    /// How many live sessions `user` has.
    pub async fn live_sessions(&self, user: Uuid) -> usize {
        sessions::list(&self.redis, user, None).await.unwrap().len()
    }
}

/// A request actor for `user`, as a signed-in session makes it.
pub fn actor(user: Uuid) -> app::ssr::auth::Actor {
    app::ssr::auth::Actor::User {
        id: user,
        session_id: Some("test".into()),
        token_family: None,
    }
}

/// The role the database gives a request of `user` right now (no session involved).
pub async fn db_role(world: &PeopleApp, user: Uuid) -> String {
    let mut tx = app::ssr::db::begin_as(&world.app.pool, &actor(user))
        .await
        .unwrap();
    app::ssr::db::admin::current_role(&mut tx).await.unwrap()
}

impl Person {
    /// Calls an admin server function.
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.browser.call(path, form).await
    }

    /// As an admin: gives the user with this id `role`, and checks the admin page says so.
    pub async fn set_role(&self, id: &str, role: &str) {
        self.call("/api/admin/set_role", &[("id", id), ("role", role)])
            .await
            .assert_redirects_to(&format!("/admin/users/{id}?done=role"));
    }

    /// As an admin: bans the user with this id for `duration`, and checks the page says so.
    pub async fn ban(&self, id: &str, duration: &str) {
        self.call("/api/admin/ban", &[("id", id), ("duration", duration)])
            .await
            .assert_redirects_to(&format!("/admin/users/{id}?done=banned"));
    }

    /// As an admin: lifts the ban of the user with this id, and checks the page says so.
    pub async fn unban(&self, id: &str) {
        self.call("/api/admin/unban", &[("id", id)])
            .await
            .assert_redirects_to(&format!("/admin/users/{id}?done=unbanned"));
    }

    /// Changes the password (from [`PASSWORD`]) on the account page, and checks it was saved.
    pub async fn change_password(&self) {
        self.call(
            "/api/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", &super::new_password()),
            ],
        )
        .await
        .assert_redirects_to("/account?saved=password");
    }
}
