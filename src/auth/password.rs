//! Password hashing with Argon2id at the OWASP parameters (19 MiB, t=2, p=1),
//! stored as PHC strings so each hash carries its own parameters.
//!
//! Hashing is CPU- and memory-heavy by design, so it runs on `permits`
//! threads of its own behind a semaphore: at most `permits` hashes run at
//! once, the rest wait up to a timeout and then get "busy". Those threads run
//! at a lower OS priority ([`HASH_THREAD_NICE`]): on a busy machine, requests
//! that need no hash go first, and a login storm cannot push their latency
//! up (measured in docs/PERFORMANCE.md); on an idle one hashing gets every
//! core. Each running hash works in one of at most
//! `permits` reusable 19 MiB buffers, so memory stays at permits x 19 MiB: with
//! a fresh allocation per hash, the allocator kept hundreds of MiB after a
//! burst of logins (measured: 100 -> 640 MiB RSS after 300 failed logins).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash as PhcHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Argon2 memory cost in KiB (19 MiB, OWASP's first recommended setting).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Argon2 passes over memory.
pub const ITERATIONS: u32 = 2;
/// Argon2 lanes.
pub const PARALLELISM: u32 = 1;

/// A PHC-format password hash. Deliberately neither `Serialize` nor a
/// revealing `Debug`: it must not reach a response or a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from the store.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for the store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The password matches and the hash uses current parameters.
    Yes,
    /// The password matches; the hash used old parameters and this is its
    /// replacement, to be stored.
    YesRehashed(PasswordHash),
    /// Wrong password (or no such user).
    No,
}

/// Why hashing did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// No hashing slot became free within the queue timeout.
    #[error("password hashing queue is full")]
    Busy,
    /// The stored hash could not be parsed, or hashing itself failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// The nice value of the hashing threads (0 is normal, 19 the lowest).
pub const HASH_THREAD_NICE: i32 = 10;

/// Hashes and verifies passwords off the async runtime, a bounded number at once.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// The threads hashes run on, one per permit.
    threads: Arc<rayon::ThreadPool>,
    /// Work memory for running hashes; never more buffers than permits.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    /// Argon2 computations started, for tests that compare work done.
    runs: Arc<AtomicU64>,
    queue_timeout: Duration,
    /// A hash of a random password, verified against when the user does not
    /// exist, so that "no such user" costs the same as "wrong password".
    dummy: PasswordHash,
}

impl Hasher {
    /// A hasher with OWASP parameters allowing `permits` hashes at once.
    pub fn new(permits: usize, queue_timeout: Duration) -> Result<Self, HashError> {
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(failed)?;
        Self::with_params(params, permits, queue_timeout)
    }

    fn with_params(
        params: Params,
        permits: usize,
        queue_timeout: Duration,
    ) -> Result<Self, HashError> {
        let dummy_password = uuid::Uuid::new_v4().to_string();
        // This buffer is freed, not pooled: an idle server holds no hashing
        // memory; the pool fills as logins arrive.
        let mut blocks = vec![Block::default(); params.block_count()];
        let dummy = hash_blocking(&params, &dummy_password, &mut blocks)?;
        drop(blocks);
        let permits = permits.max(1);
        let buffers = Vec::with_capacity(permits);
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(permits)
            .thread_name(|i| format!("argon2-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            .panic_handler(|_| tracing::error!("a password hash panicked"))
            .build()
            .map_err(failed)?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(permits)),
            threads: Arc::new(threads),
            buffers: Arc::new(Mutex::new(buffers)),
            runs: Arc::new(AtomicU64::new(0)),
            queue_timeout,
            dummy,
        })
    }

    /// How many hash or verify computations this hasher has started.
    pub fn hashes_run(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Hashes a new password with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<PasswordHash, HashError> {
        let params = self.params.clone();
        self.run(move |blocks| hash_blocking(&params, &password, blocks))
            .await
    }

    /// Checks `password` against `stored`, or against the dummy hash when the
    /// user does not exist (`None`), which then always answers [`Verified::No`].
    pub async fn verify(
        &self,
        password: String,
        stored: Option<PasswordHash>,
    ) -> Result<Verified, HashError> {
        let exists = stored.is_some();
        let target = stored.unwrap_or_else(|| self.dummy.clone());
        let params = self.params.clone();
        let outcome = self
            .run(move |blocks| verify_blocking(&params, &password, &target, blocks))
            .await?;
        Ok(if exists { outcome } else { Verified::No })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = tokio::time::timeout(self.queue_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|_| HashError::Busy)?;
        let buffers = Arc::clone(&self.buffers);
        let block_count = self.params.block_count();
        self.runs.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.threads.spawn(move || {
            // Holding a permit guarantees at most `permits` buffers exist.
            let taken = buffers.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut blocks = taken.unwrap_or_else(|| vec![Block::default(); block_count]);
            let result = work(&mut blocks);
            buffers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(blocks);
            drop(permit);
            // The caller may have given up waiting; nothing to do then.
            let _ = answer.send(result);
        });
        // A hash that panicked dropped its sender.
        answered
            .await
            .map_err(|_| failed("the hashing thread stopped"))?
    }
}

/// Gives the calling thread [`HASH_THREAD_NICE`]. On Linux the nice value
/// belongs to a thread, not the whole process; a thread may always lower
/// its own priority. Failing that, hashing runs at normal priority.
fn lower_this_threads_priority() {
    // SAFETY: `gettid` and `setpriority` take plain integers and touch no
    // memory of ours.
    let result = unsafe {
        let tid = libc::gettid() as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, HASH_THREAD_NICE)
    };
    if result != 0 {
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "cannot lower the priority of a password-hashing thread"
        );
    }
}

/// **Test-only parameters** (64 KiB, one pass): a hash that costs almost
/// nothing, for seeding load-test users by the million (`authbridge seed`).
/// Never for real accounts; a login with it succeeds and rehashes with the
/// real parameters, since verification reads each hash's own parameters.
pub const LOAD_TEST_MEMORY_KIB: u32 = 64;

/// Hashes `password` with the test-only [`LOAD_TEST_MEMORY_KIB`] parameters.
pub fn load_test_hash(password: &str) -> Result<PasswordHash, HashError> {
    let params = Params::new(LOAD_TEST_MEMORY_KIB, 1, 1, None).map_err(failed)?;
    let mut blocks = vec![Block::default(); params.block_count()];
    hash_blocking(&params, password, &mut blocks)
}

fn failed(e: impl std::fmt::Display) -> HashError {
    HashError::Failed(e.to_string())
}

/// Argon2id into `blocks`. A stored hash that asks for more memory than the
/// pooled buffer holds gets a buffer of its own, so pooled buffers keep their
/// size and the pool its bound.
fn compute(
    argon2: &Argon2<'_>,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
    blocks: &mut [Block],
) -> Result<(), HashError> {
    let needed = argon2.params().block_count();
    let mut own;
    let memory = if blocks.len() >= needed {
        blocks
    } else {
        own = vec![Block::default(); needed];
        &mut own[..]
    };
    argon2
        .hash_password_into_with_memory(password.as_bytes(), salt, out, memory)
        .map_err(failed)
}

fn hash_blocking(
    params: &Params,
    password: &str,
    blocks: &mut [Block],
) -> Result<PasswordHash, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(failed)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon2, password, salt_bytes, &mut out, blocks)?;
    let phc = PhcHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// Verifies with the stored hash's own algorithm, version and parameters.
fn verify_blocking(
    params: &Params,
    password: &str,
    stored: &PasswordHash,
    blocks: &mut [Block],
) -> Result<Verified, HashError> {
    let parsed = PhcHash::new(&stored.0).map_err(failed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(failed("stored hash lacks salt or output"));
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(failed)?;
    let version = parsed
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .map_err(failed)?;
    let stored_params = Params::try_from(&parsed).map_err(failed)?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(failed)?;

    let argon2 = Argon2::new(algorithm, version, stored_params.clone());
    let mut out = vec![0u8; expected.len()];
    compute(&argon2, password, salt_bytes, &mut out, blocks)?;
    // `Output` compares in constant time.
    if Output::new(&out).map_err(failed)? != expected {
        return Ok(Verified::No);
    }

    let current = algorithm == Algorithm::Argon2id
        && stored_params.m_cost() == params.m_cost()
        && stored_params.t_cost() == params.t_cost()
        && stored_params.p_cost() == params.p_cost();
    if current {
        Ok(Verified::Yes)
    } else {
        hash_blocking(params, password, blocks).map(Verified::YesRehashed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> Hasher {
        Hasher::new(2, Duration::from_secs(30)).unwrap()
    }

    /// `stored` accepts "correct horse" (as a current hash) and nothing else.
    async fn assert_only_correct_horse_verifies(h: &Hasher, stored: PasswordHash) {
        let right = h.verify("correct horse".into(), Some(stored.clone()));
        assert_eq!(right.await.unwrap(), Verified::Yes);
        let wrong = h.verify("wrong horse".into(), Some(stored));
        assert_eq!(wrong.await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn hashes_run_at_a_lower_priority_than_requests() {
        let h = hasher();
        // SAFETY: as in `lower_this_threads_priority`.
        let nice =
            |()| unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let hashing = h.run(move |_| Ok(nice(()))).await.unwrap();
        assert_eq!(hashing, HASH_THREAD_NICE);
        assert!(
            nice(()) < HASH_THREAD_NICE,
            "the runtime's own threads keep their priority"
        );
    }

    #[tokio::test]
    async fn hash_is_argon2id_phc_with_owasp_parameters() {
        let hash = hasher().hash("correct horse".into()).await.unwrap();
        assert!(
            hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_phc()
        );
    }

    #[tokio::test]
    async fn right_password_verifies_wrong_one_does_not() {
        let h = hasher();
        let hash = h.hash("correct horse".into()).await.unwrap();
        assert_only_correct_horse_verifies(&h, hash).await;
    }

    #[tokio::test]
    async fn same_password_gets_different_salts() {
        let h = hasher();
        let a = h.hash("same password".into()).await.unwrap();
        let b = h.hash("same password".into()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn missing_user_is_refused_even_with_the_dummy_password() {
        let h = hasher();
        assert_eq!(
            h.verify("anything at all".into(), None).await.unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn obsolete_parameters_are_rehashed_on_login() {
        let weak = Hasher::with_params(
            Params::new(1024, 1, 1, None).unwrap(),
            1,
            Duration::from_secs(30),
        )
        .unwrap();
        let old = weak.hash("correct horse".into()).await.unwrap();
        match hasher()
            .verify("correct horse".into(), Some(old))
            .await
            .unwrap()
        {
            Verified::YesRehashed(new) => assert!(new.as_phc().contains("m=19456,t=2,p=1")),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn garbage_hash_is_an_error_not_a_panic() {
        let result = hasher()
            .verify(
                "pw".into(),
                Some(PasswordHash::from_phc("not-a-hash".into())),
            )
            .await;
        assert!(matches!(result, Err(HashError::Failed(_))));
    }

    #[tokio::test]
    async fn full_queue_answers_busy_after_the_timeout() {
        let h = Hasher::new(1, Duration::from_millis(50)).unwrap();
        let _held = h.permits.clone().acquire_owned().await.unwrap();
        assert!(matches!(
            h.hash("password1".into()).await,
            Err(HashError::Busy)
        ));
    }

    #[tokio::test]
    async fn work_memory_never_exceeds_one_buffer_per_permit() {
        let h = Hasher::new(2, Duration::from_secs(30)).unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let h = h.clone();
            tasks.spawn(async move { h.verify(format!("guess {i}"), None).await });
        }
        while let Some(result) = tasks.join_next().await {
            assert_eq!(result.unwrap().unwrap(), Verified::No);
        }
        let buffers = h.buffers.lock().unwrap();
        assert!(
            buffers.len() <= 2,
            "{} buffers for 2 permits",
            buffers.len()
        );
        assert!(buffers.iter().all(|b| b.len() == h.params.block_count()));
    }

    #[tokio::test]
    async fn a_hash_needing_more_memory_does_not_grow_the_pool() {
        let strong = Hasher::with_params(
            Params::new(32 * 1024, 1, 1, None).unwrap(),
            1,
            Duration::from_secs(30),
        )
        .unwrap();
        let stored = strong.hash("correct horse".into()).await.unwrap();
        let h = Hasher::new(1, Duration::from_secs(30)).unwrap();

        let outcome = h
            .verify("correct horse".into(), Some(stored))
            .await
            .unwrap();

        assert!(matches!(outcome, Verified::YesRehashed(_)));
        let buffers = h.buffers.lock().unwrap();
        assert!(buffers.iter().all(|b| b.len() == h.params.block_count()));
    }

    #[tokio::test]
    async fn hashes_from_the_stock_argon2_api_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let stock = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert_only_correct_horse_verifies(&hasher(), PasswordHash::from_phc(stock)).await;
    }

    #[test]
    fn debug_hides_the_hash() {
        let shown = format!("{:?}", PasswordHash::from_phc("$argon2id$secret".into()));
        assert!(!shown.contains("argon2id"));
    }
}
