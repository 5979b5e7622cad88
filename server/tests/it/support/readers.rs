//! Readers of posts: anonymous, or signed in by a session made the way sign-in makes one (no
//! argon2, no email), each carrying only their cookie.
use std::{sync::Arc, time::Duration};

use app::ssr::{
    auth::{Actor, Caller, sessions},
    cache::PostCache,
    db::{ServiceRole, begin_service},
    settings::AuthSettings,
};
use fred::clients::Pool;
use tower_sessions::Session;
use tower_sessions_redis_store::RedisStore;
use uuid::Uuid;

use super::{
    app::{Overrides, PUBLIC_URL, TestApp, redis_pool, redis_url},
    browser::Answer,
};

/// A reader: anonymous, or a signed-in user (a session made the way sign-in makes one).
#[derive(Clone, Debug)]
pub struct Reader {
    pub id: Option<Uuid>,
    pub username: String,
    cookie: Option<String>,
}

impl Reader {
    pub fn anon() -> Self {
        Self {
            id: None,
            username: "anon".into(),
            cookie: None,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id.expect("a signed-in reader")
    }

    /// Who the database sees when this reader's requests run (`begin_as`).
    pub fn actor(&self) -> Actor {
        match self.id {
            Some(id) => Actor::User {
                id,
                session_id: None,
                token_family: None,
            },
            None => Actor::Anon,
        }
    }
}

/// A test's app with three signed-in readers made directly (an author, another user and an
/// admin), who call it by cookie from one client without a jar.
pub struct ReadersApp {
    pub app: TestApp,
    pub redis: Pool,
    pub author: Reader,
    pub other: Reader,
    pub admin: Reader,
    http: reqwest::Client,
}

impl ReadersApp {
    pub async fn new() -> Self {
        Self::with(Overrides::default()).await
    }

    pub async fn with(overrides: Overrides) -> Self {
        let app = TestApp::spawn_with(overrides).await;
        let redis = redis_pool(&redis_url()).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let mut world = Self {
            author: Reader::anon(),
            other: Reader::anon(),
            admin: Reader::anon(),
            app,
            redis,
            http,
        };
        world.author = world.user("author").await;
        world.other = world.user("other").await;
        world.admin = world.user("admin").await;
        world.make_admin(world.admin.id()).await;
        world
    }

    /// A confirmed user with a signed-in session.
    pub async fn user(&self, tag: &str) -> Reader {
        let username = format!("{tag}{}", &Uuid::new_v4().simple().to_string()[..8]);
        let mut tx = begin_service(&self.app.pool, ServiceRole::Auth)
            .await
            .unwrap();
        let id: Uuid = sqlx::query_scalar(
            "insert into auth.users (email, password_hash, email_confirmed_at) \
             values ($1, 'x', now()) returning id",
        )
        .bind(format!("{username}@example.com"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let settings = AuthSettings::for_public_url(PUBLIC_URL);
        let session = Session::new(None, Arc::new(RedisStore::new(self.redis.clone())), None);
        sessions::establish(
            &session,
            &self.redis,
            &settings,
            id,
            &Caller::default(),
            vec![app::domain::assurance::AuthMethod::now("password")],
        )
        .await
        .expect("a session");
        let cookie = format!(
            "{}={}",
            settings.session_cookie_name(),
            session.id().expect("a saved session")
        );
        Reader {
            id: Some(id),
            username,
            cookie: Some(cookie),
        }
    }

    /// Bootstraps an admin the documented way: `authenticator` switching straight to `admin`.
    pub async fn make_admin(&self, id: Uuid) {
        let mut tx = self.app.pool.begin().await.unwrap();
        sqlx::query("select set_config('role', 'admin', true)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("update public.profiles set role = 'admin' where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    pub fn cache(&self) -> &PostCache {
        &self.app.posts_cache
    }

    async fn send(&self, who: &Reader, request: reqwest::RequestBuilder) -> Answer {
        let request = match &who.cookie {
            Some(cookie) => request.header("Cookie", cookie),
            None => request,
        };
        let response = request.send().await.expect("the server answers");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.expect("a body"),
        }
    }

    /// Calls a server function as the hydrated page does.
    pub async fn call(&self, who: &Reader, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self
            .http
            .post(self.app.url(path))
            .header("Origin", PUBLIC_URL)
            .form(form);
        self.send(who, request).await
    }

    /// Posts a form the way a browser does before the wasm has loaded: the server function
    /// answers with a redirect (back to `from` with the error, on failure). The `Location`
    /// comes back as a local path.
    pub async fn send_form(
        &self,
        who: &Reader,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
    ) -> Answer {
        let request = self
            .http
            .post(self.app.url(path))
            .header("Origin", PUBLIC_URL)
            .header("Accept", "text/html")
            .header("Referer", format!("{PUBLIC_URL}{from}"))
            .form(form);
        let mut answer = self.send(who, request).await;
        // The redirect back to the form is absolute; keep its path and query.
        let relative = answer
            .location()
            .and_then(|to| reqwest::Url::parse(to).ok())
            .map(|url| format!("{}?{}", url.path(), url.query().unwrap_or_default()));
        if let Some(to) = relative {
            answer
                .headers
                .insert("location", to.parse().expect("a header value"));
        }
        answer
    }

    /// Loads a page as a browser does.
    pub async fn page(&self, who: &Reader, path: &str) -> Answer {
        let request = self
            .http
            .get(self.app.url(path))
            .header("Accept", "text/html");
        self.send(who, request).await
    }

    /// Creates a post through the server function; returns its slug.
    pub async fn write(&self, who: &Reader, title: &str, body: &str, publish: bool) -> String {
        let intent = if publish { "publish" } else { "draft" };
        let answer = self
            .call(
                who,
                "/api/posts/create",
                &[("title", title), ("body", body), ("intent", intent)],
            )
            .await;
        let to = answer.redirect();
        let slug = to
            .strip_prefix("/posts/")
            .and_then(|rest| rest.split('?').next())
            .unwrap_or_else(|| panic!("redirected to {to}"));
        slug.to_string()
    }

    /// The post's id, as its author's edit form carries it.
    pub async fn id_of(&self, who: &Reader, slug: &str) -> String {
        let post: serde_json::Value = self
            .call(who, "/api/posts/editable", &[("slug", slug)])
            .await
            .json();
        post["id"].as_str().unwrap().to_string()
    }
}
