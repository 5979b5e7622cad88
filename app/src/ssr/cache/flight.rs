//! Single flight: concurrent misses of one cache entry in this process share one load.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;

use crate::error::AppError;

/// A finished load is shared with readers that missed under the same generation (their miss
/// raced its write to Redis, or that write failed) for this long...
const SAME_GENERATION_REUSE: Duration = Duration::from_secs(10);
/// ...and with readers that could not reach Redis at all for this long: while Redis is down,
/// Postgres gets at most about one read per entry per second from this process.
const UNKNOWN_GENERATION_REUSE: Duration = Duration::from_secs(1);
/// Above this many flights in the map, finished ones are swept out.
const MAX_FLIGHTS: usize = 1024;

/// One load, shared by everybody who missed the same entry meanwhile. Holds the JSON (or
/// `None` for "nothing there", which is not stored in Redis).
pub(super) struct Flight {
    /// The generation the loader saw, or `None` when Redis could not be asked.
    pub(super) generation: Option<String>,
    pub(super) result: OnceCell<Result<Option<Arc<str>>, AppError>>,
    pub(super) finished: OnceLock<Instant>,
}

impl Flight {
    /// Whether a reader that saw `generation` (`None`: Redis did not answer) may take this
    /// flight's result instead of loading. While it is in progress, unless it is for another
    /// generation (it may predate a write this reader has seen). Once finished, for a short
    /// while: readers of the same generation, or readers that do not know the generation.
    fn serves(&self, generation: Option<&str>, now: Instant) -> bool {
        let reuse_for = match (self.generation.as_deref(), generation) {
            (Some(mine), Some(theirs)) if mine != theirs => return false,
            (Some(_), Some(_)) => SAME_GENERATION_REUSE,
            (_, None) => UNKNOWN_GENERATION_REUSE,
            (None, Some(_)) => Duration::ZERO,
        };
        match self.finished.get() {
            None => true,
            Some(at) => {
                matches!(self.result.get(), Some(Ok(_))) && now.duration_since(*at) < reuse_for
            }
        }
    }
}

/// The flights in progress (or just finished), by entry.
#[derive(Default)]
pub(super) struct Flights(Mutex<HashMap<String, Arc<Flight>>>);

impl Flights {
    /// The flight a reader that saw `generation` joins for `key`: the one in progress (or
    /// just finished) if it serves this reader, else a new one.
    pub(super) fn join(&self, key: &str, generation: Option<&str>) -> Arc<Flight> {
        let now = Instant::now();
        let mut flights = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flight) = flights.get(key)
            && flight.serves(generation, now)
        {
            return flight.clone();
        }
        if flights.len() >= MAX_FLIGHTS {
            flights.retain(|_, f| {
                f.finished
                    .get()
                    .is_none_or(|at| now.duration_since(*at) < SAME_GENERATION_REUSE)
            });
        }
        let flight = Arc::new(Flight {
            generation: generation.map(str::to_owned),
            result: OnceCell::new(),
            finished: OnceLock::new(),
        });
        flights.insert(key.to_string(), flight.clone());
        flight
    }
}
