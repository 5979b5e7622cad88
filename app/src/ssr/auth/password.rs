//! Password hashing: argon2id with OWASP parameters (m = 19 MiB, t = 2, p = 1), computed on
//! the blocking pool behind a semaphore, so a burst of sign-ins queues instead of starving
//! page rendering or exhausting memory.
use std::sync::{Arc, LazyLock};

use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;
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
}

pub enum Verdict {
    Wrong,
    Right { needs_rehash: bool },
}

impl Hasher {
    pub fn new(concurrency: usize) -> Self {
        LazyLock::force(&DUMMY_HASH);
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        self.blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verdict, AppError> {
        let password = password.to_owned();
        let known = stored.is_some();
        let stored = stored.map_or_else(|| DUMMY_HASH.clone(), str::to_owned);
        self.blocking(move || {
            let parsed = PasswordHash::new(&stored).map_err(|e| e.to_string())?;
            let right = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
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
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Internal)?;
        let span = tracing::info_span!("argon2");
        tokio::task::spawn_blocking(move || span.in_scope(work))
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

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = Hasher::new(2);
        let hash = hasher.hash("correct horse battery staple").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(matches!(
            hasher
                .verify("correct horse battery staple", Some(&hash))
                .await
                .unwrap(),
            Verdict::Right {
                needs_rehash: false
            }
        ));
        assert!(matches!(
            hasher.verify("wrong", Some(&hash)).await.unwrap(),
            Verdict::Wrong
        ));
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
}
