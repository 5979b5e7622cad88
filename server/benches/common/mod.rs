//! The measuring loop the benchmarks share: `TASKS` concurrent tasks run one operation over
//! and over; after a warm-up, the completions in a fixed window give the rate.
use std::{
    fmt::Debug,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

pub const TASKS: usize = 8;
pub const WARMUP: Duration = Duration::from_secs(1);
pub const MEASURE: Duration = Duration::from_secs(4);

/// Runs `op` from [`TASKS`] tasks for the warm-up and then the measured window; prints and
/// returns operations per second (`unit` names them in the printed line).
pub async fn measure<F, Fut, E>(name: &str, unit: &str, op: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Debug,
{
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (op, count, stop) = (op.clone(), count.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                op().await.expect("benchmark operation");
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(WARMUP).await;
    let start_count = count.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    let done = count.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("benchmark task");
    }
    let rate = done as f64 / elapsed;
    println!("{name:>10}: {rate:>9.0} {unit}/s");
    rate
}
