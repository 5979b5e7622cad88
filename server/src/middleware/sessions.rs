//! The browser-session layers: who the client is (address, user agent), the tower-sessions
//! layer over Redis, and the request's [`Actor`] resolved from the session cookie (or, for
//! API clients, from a Bearer access token).
//!
//! Requests without a session cookie never touch Redis, so anonymous pages keep working while
//! Redis is down; a request with a cookie whose session cannot be loaded gets a 503 page
//! rather than being treated as signed out (which would look like a random sign-out).
use std::{net::SocketAddr, sync::Arc};

use app::{
    domain::assurance::Assurance,
    error::AppError,
    ssr::{
        auth::{
            Actor, Caller,
            api_keys::ApiKeys,
            caller::TrustedProxies,
            jwt::{self, JwtKeys},
            sessions,
        },
        settings::AuthSettings,
        state::AppState,
    },
};
use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use fred::clients::Pool;
use tower_sessions::{Session, SessionManagerLayer, cookie::SameSite};
use tower_sessions_redis_store::RedisStore;

/// What the middleware here needs; cheap to clone.
#[derive(Clone)]
struct SessionContext {
    redis: Pool,
    auth: Arc<AuthSettings>,
    jwt: Arc<JwtKeys>,
    api_keys: Arc<ApiKeys>,
    trusted_proxies: Arc<TrustedProxies>,
}

/// The request's span, captured outside tower-sessions (which runs the inner service in a
/// span of its own), so the user id lands on the span every log line of the request carries.
#[derive(Clone)]
struct RequestSpan(tracing::Span);

/// Puts `Caller`, the session and the `Actor` into every request of `router`.
/// `trusted_proxies`: peers whose `X-Forwarded-For` names the client (see `Caller`).
pub fn with_sessions(router: Router, state: &AppState, trusted_proxies: &TrustedProxies) -> Router {
    let context = SessionContext {
        redis: state.redis.clone(),
        auth: state.auth.clone(),
        jwt: state.jwt.clone(),
        api_keys: state.api_keys.clone(),
        trusted_proxies: Arc::new(trusted_proxies.clone()),
    };
    // The last layer added runs first: client → session → actor → handler.
    router
        .layer(middleware::from_fn_with_state(
            context.clone(),
            resolve_actor,
        ))
        .layer(session_layer(state.redis.clone(), &state.auth))
        .layer(middleware::from_fn_with_state(context, client_meta))
}

/// tower-sessions over Redis: HttpOnly, SameSite=Lax, path `/`, Secure (and the `__Host-`
/// name) when served over https. Sessions are saved only when modified.
pub fn session_layer(
    redis: Pool,
    settings: &AuthSettings,
) -> SessionManagerLayer<RedisStore<Pool>> {
    SessionManagerLayer::new(RedisStore::new(redis))
        .with_name(settings.session_cookie_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(settings.secure_cookies)
        .with_expiry(sessions::default_expiry(settings))
}

async fn client_meta(
    State(context): State<SessionContext>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = Caller::from_request(request.headers(), peer, &context.trusted_proxies);
    let extensions = request.extensions_mut();
    extensions.insert(client);
    extensions.insert(RequestSpan(tracing::Span::current()));
    next.run(request).await
}

async fn resolve_actor(
    State(context): State<SessionContext>,
    mut request: Request,
    next: Next,
) -> Response {
    // API clients: a Bearer access token, checked locally; the session cookie is not looked
    // at. A token that does not verify is refused rather than treated as anonymous, so a
    // client learns at once that it must refresh. An API key in the Bearer slot (supabase-js
    // sends one on every call) is not a user token: such a request is resolved as if it had no
    // Bearer at all.
    let token =
        jwt::bearer(request.headers()).filter(|token| context.api_keys.recognise(token).is_none());
    if let Some(token) = token {
        let Some(claims) = context.jwt.verify(token) else {
            return crate::oauth_error::invalid_token(
                "The access token is invalid or has expired.",
            );
        };
        record_user(&request, claims.sub);
        let extensions = request.extensions_mut();
        extensions.insert(Actor::User {
            id: claims.sub,
            session_id: None,
            token_family: Some(claims.session_id),
        });
        extensions.insert(Assurance::new(claims.amr.clone()));
        extensions.insert(claims);
        let mut response = next.run(request).await;
        // A valid signature is not the last word: `begin_as` refuses a token whose sign-in has
        // ended (sign-out, recovery). Its 401 tells the client, as RFC 6750 asks, to refresh
        // or sign in again, the same as for an expired token.
        if response.status() == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .entry(header::WWW_AUTHENTICATE)
                .or_insert(HeaderValue::from_static(r#"Bearer error="invalid_token""#));
        }
        return response;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        tracing::error!("no session layer in front of the actor middleware");
        request.extensions_mut().insert(Actor::Anon);
        return next.run(request).await;
    };
    let client = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_default();
    let actor = match sessions::resolve(&session, &context.redis, &context.auth, &client).await {
        Ok(Some(resolved)) => {
            record_user(&request, resolved.user_id);
            request.extensions_mut().insert(resolved.assurance);
            // The handle, not the raw id: claims reach Postgres settings and logs, and a
            // session id there would be a bearer credential.
            Actor::User {
                id: resolved.user_id,
                session_id: Some(app::ssr::auth::sessions::handle_of(&resolved.session_id)),
                token_family: None,
            }
        }
        Ok(None) => Actor::Anon,
        Err(_) => return store_unavailable(&request),
    };
    request.extensions_mut().insert(actor);
    let response = next.run(request).await;
    sessions::settle_expiry(&session).await;
    response
}

/// Puts the user id on the request's span, so every log line of the request carries it.
fn record_user(request: &Request, user: uuid::Uuid) {
    let span = request
        .extensions()
        .get::<RequestSpan>()
        .map_or_else(tracing::Span::current, |s| s.0.clone());
    span.record("user_id", tracing::field::display(user));
}

/// Seconds a client should wait before trying again while the session store is down.
const RETRY_AFTER_SECS: &str = "5";

/// The 503 for a request whose session could not be loaded: a page for people, JSON (the
/// server functions' error encoding) for the hydrated app's `/api` calls.
fn store_unavailable(request: &Request) -> Response {
    let wants_html = !request.uri().path().starts_with("/api/")
        || request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    let common = [
        (
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if wants_html {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            common,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                // The page's only style is inline; it has no scripts and no dynamic content.
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                         form-action 'none'; frame-ancestors 'none'",
                    ),
                ),
            ],
            STORE_DOWN_PAGE,
        )
            .into_response()
    } else {
        let body = serde_json::to_string(&AppError::Unavailable).unwrap_or_default();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            common,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    }
}

const STORE_DOWN_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="refresh" content="10">
<title>Back in a moment · Palisade</title>
<style>
:root { --bg: #f7f6f2; --surface: #fff; --text: #1c1f24; --muted: #5d6470; --line: #dcd9d0; --accent: #1f3a5f;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.55; color: var(--text); background: var(--bg); }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --surface: #1c2027; --text: #e8e6e1; --muted: #a0a6b0; --line: #2f343d; --accent: #8fb3e0; } }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1.25rem; box-sizing: border-box; }
main { max-width: 30rem; background: var(--surface); border: 1px solid var(--line); border-radius: 10px; padding: 1.75rem 2rem;
  box-shadow: 0 1px 2px rgb(0 0 0 / 6%), 0 4px 16px rgb(0 0 0 / 4%); }
h1 { font-size: 1.4rem; line-height: 1.2; margin: 0 0 0.6em; }
p { margin: 0 0 1em; color: var(--muted); }
a { color: var(--accent); font-weight: 600; }
</style>
</head>
<body>
<main>
<h1>Back in a moment</h1>
<p>We can't reach our session store right now. Please try again in a moment.</p>
<p>You have not been signed out. This page tries again by itself.</p>
<p><a href="">Try again</a></p>
</main>
</body>
</html>
"#;
