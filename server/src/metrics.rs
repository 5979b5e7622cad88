//! Prometheus metrics: one process-wide recorder and the `/metrics` router, served on a
//! listener of its own (the middleware that counts requests is `middleware::metrics`).
//!
//! Every label value comes from a fixed set (route templates, known methods, status codes,
//! names in the code), so no client can add series: the recorder never forgets one.
use std::sync::OnceLock;

use app::ssr::state::AppState;
use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The recorder is global (the `metrics` macros write to it); tests start several apps in one
/// process, so it is installed once and shared.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                .expect("latency buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; ours is then unused.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The metrics listener's routes: `/metrics` and nothing else. Not on the app's port: the
/// counters say things about the users (e.g. which emails were sent) that only the operator
/// may see.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(state)
}

async fn render(State(state): State<AppState>) -> impl IntoResponse {
    // The pool's state now, for this instance.
    let pool = &state.db;
    metrics::gauge!("db_pool_connections").set(f64::from(pool.size()));
    metrics::gauge!("db_pool_idle_connections").set(pool.num_idle() as f64);
    let open = pool.breaker().is_open();
    metrics::gauge!("db_circuit_open").set(if open { 1.0 } else { 0.0 });
    let handle = handle();
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
}
