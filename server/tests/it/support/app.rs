//! Starting a Palisade per test: a fresh database migrated by the real migrator, the real
//! Redis, and a client that keeps cookies and does not follow redirects.
use std::{net::SocketAddr, time::Duration};

use fred::{
    clients::Pool,
    interfaces::ClientLike as _,
    prelude::{Builder, Config, ReconnectPolicy},
};
use leptos::config::LeptosOptions;
use server::{config::Settings, startup::Application};
use sqlx::{Connection, Executor, PgConnection, postgres::PgConnectOptions};
use tokio::sync::oneshot;

/// Where the services of scripts/test listen; overridable like the app's own settings.
pub fn owner_url() -> String {
    std::env::var("DATABASE_OWNER_URL")
        .unwrap_or_else(|_| "postgres://palisade@127.0.0.1:55432/palisade".into())
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into())
}

/// A database of its own for one test: created by the owner, migrated when the app starts.
pub struct TestDb {
    pub name: String,
    pub owner: PgConnectOptions,
}

impl TestDb {
    pub async fn create() -> Self {
        let owner: PgConnectOptions = owner_url().parse().expect("DATABASE_OWNER_URL");
        let name = format!("palisade_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&owner)
            .await
            .expect("Postgres must be running (scripts/test starts it)");
        conn.execute(sqlx::AssertSqlSafe(format!(r#"create database "{name}""#)))
            .await
            .expect("create test database");
        conn.close().await.ok();
        Self {
            owner: owner.database(&name),
            name,
        }
    }

    /// The URL the app logs in with: same server, the `authenticator` role.
    pub fn authenticator_url(&self) -> String {
        let o = &self.owner;
        format!(
            "postgres://authenticator@{}:{}/{}",
            o.get_host(),
            o.get_port(),
            self.name
        )
    }

    pub fn owner_url(&self) -> String {
        let o = &self.owner;
        format!(
            "postgres://{}@{}:{}/{}",
            o.get_username(),
            o.get_host(),
            o.get_port(),
            self.name
        )
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where this app serves `/metrics` (a listener of its own).
    pub metrics_addr: SocketAddr,
    pub db: TestDb,
    /// The app's own pool (logs in as `authenticator`), for `begin_as` in tests.
    pub pool: sqlx::PgPool,
    /// The circuit breaker in front of the app's pool (its counters are the app's own).
    pub breaker: app::ssr::db::Breaker,
    /// The app's read replica, when the test configured one.
    pub replica: Option<app::ssr::db::replica::Replica>,
    /// The app's posts cache (its counters are the app's own).
    pub posts_cache: app::ssr::cache::PostCache,
    /// The app's token keys (to reload them after a rotation, as its timer would).
    pub jwt: std::sync::Arc<app::ssr::auth::jwt::JwtKeys>,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub struct Overrides {
    /// Reach Postgres at this address instead (a proxy), for the app's pool only.
    pub postgres_addr: Option<SocketAddr>,
    pub redis_url: Option<String>,
    pub shutdown_grace_ms: u64,
    /// More settings, by environment variable name (they win over the harness's own).
    pub env: Vec<(&'static str, String)>,
    /// `DATABASE_REPLICA_URL`: none, the test's own database (a "replica" that is the
    /// primary, so always caught up), or this URL.
    pub replica: Replica,
}

#[derive(Clone, Debug, Default)]
pub enum Replica {
    #[default]
    None,
    ThePrimary,
    At(String),
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            postgres_addr: None,
            redis_url: None,
            shutdown_grace_ms: 5_000,
            env: Vec::new(),
            replica: Replica::None,
        }
    }
}

/// A development server must be served on loopback, so the tests' public URL is one.
pub const PUBLIC_URL: &str = "http://localhost";
/// The tests' signing secret: fixed, so a test can sign a token as the server would.
pub const SECRET: &str = "palisade-integration-tests-only-secret-00000000";

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Overrides::default()).await
    }

    pub async fn spawn_with(overrides: Overrides) -> Self {
        // `PALISADE_TEST_LOG=1` shows the apps' logs (filtered by RUST_LOG) when debugging.
        if std::env::var_os("PALISADE_TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_thread_names(true)
                .with_ansi(false)
                .try_init();
        }
        let db = TestDb::create().await;
        // `PALISADE_TEST_PGBOUNCER=host:port` (scripts/stack test-rust): the app's pools go
        // through that PgBouncer in transaction mode, as in production behind one.
        let pgbouncer = std::env::var("PALISADE_TEST_PGBOUNCER").ok();
        let app_db_url = match (&overrides.postgres_addr, &pgbouncer) {
            (Some(addr), _) => format!("postgres://authenticator@{addr}/{}", db.name),
            (None, Some(addr)) => format!("postgres://authenticator@{addr}/{}", db.name),
            (None, None) => db.authenticator_url(),
        };
        // `PALISADE_TEST_DB_POOLER=none` with it shows what breaks without the app's handling.
        let pooler = match (&pgbouncer, std::env::var("PALISADE_TEST_DB_POOLER")) {
            (_, Ok(mode)) => mode,
            (Some(_), Err(_)) => "transaction".to_string(),
            (None, Err(_)) => "none".to_string(),
        };
        let redis = overrides.redis_url.clone().unwrap_or_else(redis_url);
        let replica_url = match &overrides.replica {
            Replica::None => None,
            Replica::ThePrimary => Some(db.authenticator_url()),
            Replica::At(url) => Some(url.clone()),
        };
        let owner = db.owner_url();
        let grace = overrides.shutdown_grace_ms.to_string();
        let own = |name: &str| match name {
            "PALISADE_ENV" => Some("development".to_string()),
            "PALISADE_SECRET" => Some(SECRET.into()),
            "DATABASE_URL" => Some(app_db_url.clone()),
            "DATABASE_OWNER_URL" => Some(owner.clone()),
            "REDIS_URL" => Some(redis.clone()),
            "PALISADE_LISTEN" => Some("127.0.0.1:0".into()),
            "PALISADE_METRICS_LISTEN" => Some("127.0.0.1:0".into()),
            "PALISADE_PUBLIC_URL" => Some(PUBLIC_URL.into()),
            "PALISADE_SHUTDOWN_GRACE_MS" => Some(grace.clone()),
            "PALISADE_READY_TIMEOUT_MS" => Some("500".into()),
            "PALISADE_REDIS_TIMEOUT_MS" => Some("300".into()),
            "PALISADE_DB_ACQUIRE_TIMEOUT_MS" => Some("5000".into()),
            "PALISADE_DB_POOLER" => Some(pooler.clone()),
            "DATABASE_REPLICA_URL" => replica_url.clone(),
            _ => None,
        };
        let settings =
            Settings::from_lookup(
                |name| match overrides.env.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => Some(value.clone()),
                    None => own(name),
                },
            )
            .expect("test settings are valid");
        let options = LeptosOptions::builder()
            .output_name("palisade")
            .site_root("target/site")
            .build();
        let app = Application::build(settings, options)
            .await
            .expect("the application starts");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr().expect("metrics are served");
        let pool = app.state().db.pool().clone();
        let breaker = app.state().db.breaker().clone();
        let replica = app.state().db.replica().cloned();
        let posts_cache = app.state().posts_cache.clone();
        let jwt = app.state().jwt.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(20))
            .build()
            .expect("http client");
        Self {
            addr,
            metrics_addr,
            db,
            pool,
            breaker,
            replica,
            posts_cache,
            jwt,
            client,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// What Prometheus scrapes from this app (its metrics listener).
    pub async fn metrics(&self) -> String {
        let url = format!("http://{}/metrics", self.metrics_addr);
        let response = self.client.get(url).send().await.expect("GET /metrics");
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics text")
    }

    /// Calls a server function the way a hydrated page does (URL-encoded POST).
    pub async fn server_fn(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Origin", PUBLIC_URL)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Asks the server to stop, as SIGTERM does, and waits for it.
    pub fn stop(&mut self) -> tokio::task::JoinHandle<anyhow::Result<()>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.take().expect("server still running")
    }

    /// A connection as the database owner, for setting up fixtures.
    pub async fn owner_conn(&self) -> PgConnection {
        PgConnection::connect_with(&self.db.owner)
            .await
            .expect("owner connection")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A Redis pool of the test's own, configured like the app's (short timeouts, one attempt).
pub async fn redis_pool(url: &str) -> Pool {
    let config = Config::from_url(url).expect("redis url");
    let pool = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(2);
            c.internal_command_timeout = Duration::from_millis(300);
            c.max_command_attempts = 1;
        })
        .with_performance_config(|p| p.default_command_timeout = Duration::from_millis(300))
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
        .build_pool(1)
        .expect("redis pool");
    pool.init()
        .await
        .expect("Redis must be running (scripts/services start)");
    pool
}
