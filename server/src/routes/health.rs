//! `/health` says the process is up; `/ready` says it can serve (Postgres and Redis answer in
//! time). (`/metrics` is on a listener of its own: `crate::metrics`.)
use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use fred::interfaces::ClientLike;
use serde_json::json;

use crate::state::ServerState;

pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn ready(State(state): State<ServerState>) -> impl IntoResponse {
    let limit = state.ready_timeout;
    let db = tokio::time::timeout(limit, app::ssr::db::status::ping(&state.app.db));
    let redis = tokio::time::timeout(limit, state.app.redis.ping::<String>(None));
    let (db, redis) = tokio::join!(db, redis);
    let db_ok = matches!(db, Ok(Ok(_)));
    let redis_ok = matches!(redis, Ok(Ok(_)));
    let status = if db_ok && redis_ok {
        StatusCode::OK
    } else {
        tracing::warn!(postgres = db_ok, redis = redis_ok, "not ready");
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok| if ok { "ok" } else { "unavailable" };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "postgres": word(db_ok), "redis": word(redis_ok) })),
    )
}
