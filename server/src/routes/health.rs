//! `/health` says the process is up; `/ready` says it can serve (Postgres and Redis answer in
//! time, and Postgres's circuit is closed), and how the read replica is, if any ("ok",
//! "degraded": public reads go to the primary, still ready; "off": none configured). (`/metrics` is on a listener of its own: `crate::metrics`.)
use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use fred::interfaces::ClientLike;
use serde_json::json;

use app::ssr::db::replica::ReplicaState;

use crate::state::ServerState;

pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn ready(State(state): State<ServerState>) -> impl IntoResponse {
    let limit = state.ready_timeout;
    // While the circuit is open its probe is asking Postgres already; requests get 503.
    let circuit_open = state.app.db.breaker().is_open();
    let db = async {
        if circuit_open {
            return Ok(Err(app::ssr::db::DbError::CircuitOpen));
        }
        tokio::time::timeout(limit, app::ssr::db::status::ping(&state.app.db)).await
    };
    let redis = tokio::time::timeout(limit, state.app.redis.ping::<String>(None));
    let (db, redis) = tokio::join!(db, redis);
    let db_ok = matches!(db, Ok(Ok(_)));
    let redis_ok = matches!(redis, Ok(Ok(_)));
    let status = if db_ok && redis_ok {
        StatusCode::OK
    } else {
        tracing::warn!(
            postgres = db_ok,
            redis = redis_ok,
            circuit_open,
            "not ready"
        );
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok| if ok { "ok" } else { "unavailable" };
    // The replica never makes the instance unready: public reads fall back to the primary.
    let replica = state
        .app
        .db
        .replica()
        .map_or(ReplicaState::Off, |r| r.state());
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "postgres": word(db_ok),
            "postgres_circuit": if circuit_open { "open" } else { "closed" },
            "redis": word(redis_ok),
            "replica": replica.as_str(),
        })),
    )
}
