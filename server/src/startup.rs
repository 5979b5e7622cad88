//! Builds the application: pools, migrations, the router and its layers. `Application::build`
//! binds the listener (port 0 in tests) so callers know the port before serving.
use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use anyhow::Context;
use app::{
    app::{App, shell},
    ssr::state::AppState,
};
use axum::{
    Router,
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware,
    routing::get,
};
use fred::prelude::{Builder, ClientLike, Config as RedisConfig, ReconnectPolicy};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

use crate::{
    config::Settings,
    middleware::{
        body_limit, cache_policy, load_shed, page_cache, request_span, same_origin,
        security_headers, sessions,
    },
    routes::health,
    state::ServerState,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `/metrics`, on a listener of its own (see `Settings::metrics_listen`).
    metrics: Option<(TcpListener, Router)>,
    state: AppState,
    shutdown_grace: Duration,
}

impl Application {
    /// Connects to Postgres and Redis, applies migrations, and binds the listener.
    pub async fn build(settings: Settings, leptos_options: LeptosOptions) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        // Install the recorder before the first request is counted.
        crate::metrics::handle();
        if settings.database.migrate_on_start {
            migrate(&settings).await?;
        }
        let database = &settings.database;
        let pool_for = |url: &str| -> anyhow::Result<sqlx::PgPool> {
            Ok(PgPoolOptions::new()
                .max_connections(database.max_connections)
                .acquire_timeout(database.acquire_timeout)
                .connect_lazy_with(database.pooler.apply(connect_options(url)?)))
        };
        let mut db = app::ssr::db::Db::new(
            pool_for(database.url.expose_secret())?,
            database.circuit_probe_interval,
        );
        if let Some(url) = &database.replica_url {
            let replica = app::ssr::db::Db::new_replica(
                pool_for(url.expose_secret()).context("DATABASE_REPLICA_URL is not a valid URL")?,
                database.circuit_probe_interval,
            );
            db = db.with_replica(app::ssr::db::replica::Replica::start(
                replica,
                database.replica_max_lag,
            ));
        }
        let redis = connect_redis(&settings).await?;

        let addr = settings.listen.unwrap_or(leptos_options.site_addr);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("failed to bind {addr}"))?;

        let state = AppState {
            leptos_options,
            posts_cache: app::ssr::cache::PostCache::new(
                &db,
                &redis,
                app::ssr::cache::PageCache::new(settings.http.page_cache_ttl),
            )
            .with_write_positions(&db),
            db,
            redis,
            auth: Arc::new(settings.auth_settings()),
            passwords: app::ssr::auth::password::Hasher::new(
                settings.auth_settings().hashing_concurrency,
            ),
            jwt: Arc::new(app::ssr::auth::jwt::JwtKeys::new(
                settings.secret.expose_secret(),
                &settings.public_url,
                settings.sessions.access_token_ttl,
            )),
            api_keys: Arc::new(app::ssr::auth::api_keys::ApiKeys::derive(
                settings.secret.expose_secret(),
            )),
            mfa: Arc::new(app::ssr::auth::mfa::MfaKeys::derive(
                settings.secret.expose_secret(),
            )),
        };
        // Tokens are signed with the generation the database names (see `signing_keys`).
        app::ssr::auth::key_store::load(&state.db, &state.jwt)
            .await
            .map_err(|e| anyhow::anyhow!("could not load the token signing keys: {e}"))?;
        let metrics = match settings.metrics_listen {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await.with_context(|| {
                    format!("failed to bind {addr} for metrics (PALISADE_METRICS_LISTEN)")
                })?;
                Some((listener, crate::metrics::router(state.clone())))
            }
            None => None,
        };
        let router = router(state.clone(), &settings);
        Ok(Self {
            listener,
            router,
            metrics,
            state,
            shutdown_grace: settings.http.shutdown_grace,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        let (listener, _) = self.metrics.as_ref()?;
        Some(
            listener
                .local_addr()
                .expect("a bound listener has an address"),
        )
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish for at most the
    /// configured grace period.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Scrapes are idempotent reads: the metrics server simply ends with the app's.
        let metrics = self.metrics.map(|(listener, router)| {
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "metrics server failed");
                }
            })
        });
        let _metrics = metrics.map(AbortOnDrop);
        let _keys = AbortOnDrop(tokio::spawn(reload_signing_keys(self.state.clone())));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let serve = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(());
        });
        let mut server = tokio::spawn(async move { serve.await });
        tokio::select! {
            result = &mut server => return Ok(result??),
            _ = stop_rx => tracing::info!("shutting down: draining in-flight requests"),
        }
        match tokio::time::timeout(self.shutdown_grace, &mut server).await {
            Ok(result) => {
                result??;
                tracing::info!("all requests finished");
            }
            Err(_) => {
                server.abort();
                tracing::warn!(grace = ?self.shutdown_grace, "grace period over: dropping requests");
            }
        }
        // Bounded: a connection held by an aborted request must not hold up the exit.
        let close = async {
            self.state.redis.quit().await.ok();
            self.state.db.close().await;
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
        Ok(())
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Applies pending migrations as the owner (also used by `palisade seed-dev`).
/// Picks up key rotations made by any instance (or `palisade keys rotate`).
async fn reload_signing_keys(state: AppState) {
    use app::ssr::auth::key_store;
    let mut every = tokio::time::interval(key_store::RELOAD_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        // Failures were logged where they happened; the keys in hand keep working.
        let _ = key_store::load(&state.db, &state.jwt).await;
    }
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect_with(&connect_options(settings.migration_url())?)
        .await
        .context("failed to connect to Postgres to apply migrations")?;
    MIGRATOR
        .run(&mut conn)
        .await
        .context("failed to apply migrations")?;
    use sqlx::Connection;
    conn.close().await.ok();
    Ok(())
}

fn connect_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a valid URL")?;
    Ok(options.application_name("palisade"))
}

/// The Redis pool, configured as the server uses it (also used by the CLI).
pub async fn connect_redis(settings: &Settings) -> anyhow::Result<fred::clients::Pool> {
    let config = RedisConfig::from_url(settings.redis.url.expose_secret())
        .context("REDIS_URL is not a valid URL")?;
    let timeout = settings.redis.command_timeout;
    let pool = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(2);
            c.internal_command_timeout = timeout;
            c.max_command_attempts = 1;
        })
        .with_performance_config(|p| p.default_command_timeout = timeout)
        // Reconnect forever, backing off to 2 s: a Redis restart heals without a redeploy.
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
        .build_pool(settings.redis.pool_size)
        .context("invalid Redis configuration")?;
    pool.init().await.context("failed to connect to Redis")?;
    Ok(pool)
}

/// The app's routes, generated once per process: they are fixed at compile time, and generating
/// them renders the app with resource loading suppressed by a *process-wide* flag (leptos_server's
/// `SuppressResourceLoad`). A resource first polled by a request while another generation runs
/// stays pending forever (leptos-rs/leptos#4773), so a process that builds a second
/// `Application` (the integration tests build one per test) must not generate again.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// What every page render and server-function call gets in its Leptos context, fresh per
/// request (beside `AppState`, which `leptos_routes_with_context` provides).
fn request_context(options: &LeptosOptions) {
    provide_context(options.clone());
    app::ssr::csp::record_page_nonce();
    provide_context(app::ssr::admin::ViewerMemo::default());
    app::api::provide_checked_redirects();
}

fn router(state: AppState, settings: &Settings) -> Router {
    let options = state.leptos_options.clone();
    let routes = route_list();
    let pkg_dir = format!("{}/{}", options.site_root, options.site_pkg_dir);

    let plain = Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .with_state(ServerState {
            app: state.clone(),
            ready_timeout: settings.http.ready_timeout,
        });

    // File names under /pkg carry a content hash (cargo-leptos `hash-files`), so browsers may
    // keep them forever.
    let assets = Router::new().nest_service(
        &format!("/{}", options.site_pkg_dir),
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ))
            .service(
                ServeDir::new(pkg_dir)
                    .precompressed_br()
                    .precompressed_gzip(),
            ),
    );

    let leptos = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let options = options.clone();
                move || request_context(&options)
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            {
                let options = options.clone();
                move || request_context(&options)
            },
            shell,
        ))
        .with_state(state.clone());
    // Sessions (and so Redis) only where pages and server functions are: probes and static
    // files must not depend on Redis, nor pay a round trip per asset for a cookie they ignore.
    // `/auth/v1` (API clients) shares them: it needs the client's address and the Bearer
    // token's actor, resolved there.
    // Cache-Control is decided outside the session layers (to see a cookie being set) from
    // what inside them learnt about the viewer.
    let leptos = sessions::with_sessions(
        leptos
            .merge(crate::routes::auth_v1::router(
                state.clone(),
                &settings.http.auth_cors_origins,
            ))
            .layer(middleware::from_fn(cache_policy::note_viewer)),
        &state,
        &settings.http.trusted_proxies,
    )
    .layer(middleware::from_fn(cache_policy::cache_policy))
    // A shed request costs no session lookup.
    .layer(middleware::from_fn_with_state(
        load_shed::InFlight::new(settings.http.max_in_flight),
        load_shed::shed,
    ))
    // Outermost: a page served from memory costs no render and is never shed.
    .layer(middleware::from_fn_with_state(
        state.posts_cache.clone(),
        page_cache::page_cache,
    ));

    let request_id = HeaderName::from_static("x-request-id");
    plain
        .merge(assets)
        .merge(leptos)
        .layer(middleware::from_fn(crate::middleware::metrics::track_http))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span::request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    settings.http.request_timeout,
                ))
                .layer(middleware::from_fn_with_state(
                    std::sync::Arc::new(security_headers::Policy {
                        https: settings.is_https(),
                        reload: app::ssr::csp::watch_reload_origin(&options),
                    }),
                    security_headers::security_headers,
                ))
                .layer(middleware::from_fn_with_state(
                    same_origin::Origins {
                        own: same_origin::Origin::of(&settings.public_url),
                        auth_api: settings.http.auth_cors_origins.clone().into(),
                    },
                    same_origin::same_origin_only,
                ))
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn(body_limit::in_error_shape))
                .layer(RequestBodyLimitLayer::new(settings.http.body_limit_bytes)),
        )
}
