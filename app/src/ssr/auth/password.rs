//! Password hashing: argon2id on the blocking pool, with bounded slots and a bounded queue
//! (why: docs/passwords.md).
use std::sync::{
    Arc, LazyLock, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher as _, Version,
    password_hash::{
        self,
        phc::{Output, ParamsString, Salt},
    },
};
use tokio::sync::{Semaphore, TryAcquireError};
use tracing::Instrument;

use crate::error::AppError;

/// Verified instead of a real hash when the account does not exist, so that an unknown email
/// costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"palisade-dummy-password-for-timing")
        .expect("hashing a constant cannot fail")
        .to_string()
});

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    memory: Memory,
    /// Requests waiting for a slot right now.
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

/// Leaves the queue when dropped, whether the wait ended with a slot or was cancelled.
struct InQueue(Arc<AtomicUsize>);

impl Drop for InQueue {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub enum Verdict {
    Wrong,
    Right { needs_rehash: bool },
}

impl Hasher {
    /// `concurrency` hashes at once, and up to eight waiting per slot.
    pub fn new(concurrency: usize) -> Self {
        Self::with_queue(concurrency, concurrency.max(1) * 8)
    }

    /// `concurrency` hashes at once; at most `max_waiting` requests wait for a slot.
    pub fn with_queue(concurrency: usize, max_waiting: usize) -> Self {
        LazyLock::force(&DUMMY_HASH);
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            memory: Memory::default(),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
        }
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        let memory = self.memory.clone();
        self.blocking(move || hash_with(&memory, password.as_bytes()).map_err(|e| e.to_string()))
            .await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verdict, AppError> {
        let password = password.to_owned();
        let known = stored.is_some();
        let stored = stored.map_or_else(|| DUMMY_HASH.clone(), str::to_owned);
        let memory = self.memory.clone();
        self.blocking(move || {
            let parsed = PasswordHash::new(&stored).map_err(|e| e.to_string())?;
            let right = verify_with(&memory, password.as_bytes(), &parsed)?;
            Ok(if right && known {
                Verdict::Right {
                    needs_rehash: !uses_current_parameters(&parsed),
                }
            } else {
                Verdict::Wrong
            })
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return Err(AppError::Internal),
            Err(TryAcquireError::NoPermits) => {
                let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
                let _in_queue = InQueue(self.waiting.clone());
                if ahead >= self.max_waiting {
                    metrics::counter!("password_hash_queue_full_total").increment(1);
                    tracing::warn!(
                        waiting = ahead,
                        "every password-hashing slot is busy and the queue is full"
                    );
                    return Err(AppError::Unavailable);
                }
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| AppError::Internal)?
            }
        };
        let span = tracing::info_span!("argon2");
        // The permit moves into the blocking task: it is released when the hash ends, not
        // when this future is dropped.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .instrument(tracing::Span::current())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            AppError::Internal
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
    }
}

/// Working memory for the current parameters, kept between hashes. At most one buffer per
/// slot is ever taken at once (a buffer is taken inside the blocking task, which holds a
/// slot), so the pool never grows past the number of slots.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Vec<Vec<Block>>>>);

impl Memory {
    /// Runs `f` on `params.block_count()` blocks: a kept buffer for the current parameters, a
    /// fresh one (dropped afterwards) for a hash made with other parameters.
    fn with<T>(&self, params: &Params, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let blocks = params.block_count();
        if blocks != Params::default().block_count() {
            return f(&mut vec![Block::default(); blocks]);
        }
        let kept = self.0.lock().ok().and_then(|mut pool| pool.pop());
        let mut buffer = kept.unwrap_or_else(|| vec![Block::default(); blocks]);
        let result = f(&mut buffer);
        if let Ok(mut pool) = self.0.lock() {
            pool.push(buffer);
        }
        result
    }
}

/// An argon2id hash with the current parameters and a fresh salt, as a PHC string.
fn hash_with(memory: &Memory, password: &[u8]) -> Result<String, password_hash::Error> {
    let argon2 = Argon2::default();
    let salt = password_hash::try_generate_salt().map_err(|_| password_hash::Error::Crypto)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory.with(argon2.params(), |blocks| {
        argon2.hash_password_into_with_memory(password, &salt, &mut out, blocks)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(Salt::new(&salt)?),
        hash: Some(Output::new(&out)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` is the one `hash` was made from, with the hash's own parameters; the
/// outputs are compared in constant time (`Output`'s equality).
fn verify_with(memory: &Memory, password: &[u8], hash: &PasswordHash) -> Result<bool, String> {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return Err("a stored hash without salt or output".into());
    };
    let algorithm = Algorithm::try_from(hash.algorithm.as_str()).map_err(|e| e.to_string())?;
    let version = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
        .map_err(|e| e.to_string())?;
    let params = Params::try_from(hash).map_err(|e| e.to_string())?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    memory
        .with(&params, |blocks| {
            argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks)
        })
        .map_err(|e| e.to_string())?;
    Ok(Output::new(&out).is_ok_and(|computed| computed == *expected))
}

/// A hash made with older (weaker or different) parameters is replaced at the next sign-in.
fn uses_current_parameters(hash: &PasswordHash) -> bool {
    let current = Argon2::default();
    let params = current.params();
    hash.algorithm == argon2::Algorithm::Argon2id.ident()
        && hash.params.get_decimal("m") == Some(params.m_cost())
        && hash.params.get_decimal("t") == Some(params.t_cost())
        && hash.params.get_decimal("p") == Some(params.p_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hash` is right for `password` (and needs no rehash), and wrong for anything else.
    async fn verifies_only(hasher: &Hasher, hash: &str, password: &str) {
        assert!(matches!(
            hasher.verify(password, Some(hash)).await.unwrap(),
            Verdict::Right {
                needs_rehash: false
            }
        ));
        assert!(matches!(
            hasher.verify("wrong", Some(hash)).await.unwrap(),
            Verdict::Wrong
        ));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = Hasher::new(2);
        let hash = hasher.hash("correct horse battery staple").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        verifies_only(&hasher, &hash, "correct horse battery staple").await;
    }

    #[tokio::test]
    async fn an_unknown_account_is_never_right_even_with_the_dummy_password() {
        let hasher = Hasher::new(1);
        let verdict = hasher
            .verify("palisade-dummy-password-for-timing", None)
            .await
            .unwrap();
        assert!(matches!(verdict, Verdict::Wrong));
    }

    #[tokio::test]
    async fn weaker_parameters_ask_for_a_rehash() {
        let weak = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        let verdict = Hasher::new(1).verify("pw", Some(&weak)).await.unwrap();
        assert!(matches!(verdict, Verdict::Right { needs_rehash: true }));
    }

    #[tokio::test]
    async fn a_slot_stays_taken_until_its_hash_ends_even_when_the_caller_gives_up() {
        let hasher = Hasher::new(1);
        let gave_up =
            tokio::time::timeout(std::time::Duration::from_millis(1), hasher.hash("pw")).await;
        assert!(gave_up.is_err(), "argon2 takes longer than a millisecond");
        assert_eq!(
            hasher.permits.available_permits(),
            0,
            "the abandoned hash still runs, so its slot is still taken"
        );
        // It comes back when the hash ends.
        drop(hasher.permits.acquire().await.unwrap());
        assert_eq!(hasher.permits.available_permits(), 1);
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_and_a_cancelled_wait_leaves_it() {
        use std::future::Future as _;
        let hasher = Hasher::with_queue(1, 1);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        // One hash runs, one waits: both are pending after their first poll.
        let mut running = Box::pin(hasher.hash("one"));
        assert!(running.as_mut().poll(&mut cx).is_pending());
        let mut waiting = Box::pin(hasher.hash("two"));
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        // The third is answered on its first poll, without waiting for anything.
        let mut refused = Box::pin(hasher.hash("three"));
        match refused.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(Err(e)) => assert_eq!(e, AppError::Unavailable),
            other => panic!(
                "expected an immediate 503, got {:?}",
                other.map(|r| r.is_ok())
            ),
        }
        assert_eq!(AppError::Unavailable.status_code(), 503);
        assert!(AppError::Unavailable.retry_after_secs().is_some());
        // A waiter that gives up frees its place in the queue.
        drop(waiting);
        let mut again = Box::pin(hasher.hash("four"));
        assert!(again.as_mut().poll(&mut cx).is_pending());
        drop(again);
        assert!(running.await.is_ok());
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_argon2_crates_own() {
        use argon2::PasswordVerifier as _;
        let hasher = Hasher::new(1);
        let ours = hasher.hash("interop password").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interop password", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"interop password")
            .unwrap()
            .to_string();
        verifies_only(&hasher, &theirs, "interop password").await;
    }

    #[tokio::test]
    async fn working_memory_is_kept_one_buffer_per_slot() {
        let hasher = Hasher::new(2);
        let hashes = (0..8).map(|i| {
            let hasher = hasher.clone();
            async move { hasher.hash(&format!("password {i}")).await.unwrap() }
        });
        let hashes = futures_join_all(hashes).await;
        for hash in &hashes {
            assert!(matches!(
                hasher.verify("nope", Some(hash)).await.unwrap(),
                Verdict::Wrong
            ));
        }
        let kept = hasher.memory.0.lock().unwrap().len();
        assert!((1..=2).contains(&kept), "{kept} buffers kept for 2 slots");
    }

    /// Runs the futures concurrently (the test needs no extra crate for it).
    async fn futures_join_all<F: Future<Output = T> + Send + 'static, T: Send + 'static>(
        futures: impl Iterator<Item = F>,
    ) -> Vec<T> {
        let tasks: Vec<_> = futures.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.unwrap());
        }
        out
    }
}
