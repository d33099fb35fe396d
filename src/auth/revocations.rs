//! Sessions revoked recently, held in memory so the guard can refuse their
//! still-unexpired access tokens without a database read per request.
//!
//! An access token outlives the revocation of its session by at most its own
//! lifetime (plus leeway); entries older than that are dropped, so the map
//! holds only the revocations of the last access-token lifetime. It is filled
//! from the store at startup, so a restart does not forget them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Recently revoked session ids; cheap to clone.
#[derive(Clone, Debug)]
pub struct Revocations {
    inner: Arc<Mutex<HashMap<String, Instant>>>,
    keep_for: Duration,
}

impl Revocations {
    /// Keeps each revocation for `keep_for` (the access-token lifetime plus leeway).
    pub fn new(keep_for: Duration) -> Self {
        Self {
            inner: Arc::default(),
            keep_for,
        }
    }

    /// Records that these sessions were revoked now.
    pub fn revoke<I: IntoIterator<Item = String>>(&self, sessions: I) {
        let now = Instant::now();
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, at| now.duration_since(*at) < self.keep_for);
        for id in sessions {
            map.insert(id, now);
        }
    }

    /// Whether `session` was revoked within the last access-token lifetime.
    pub fn is_revoked(&self, session: &str) -> bool {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(session)
            .is_some_and(|at| at.elapsed() < self.keep_for)
    }

    /// Number of revocations held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_sessions_are_refused_then_forgotten_after_the_token_lifetime() {
        let revocations = Revocations::new(Duration::from_millis(50));
        revocations.revoke(["a".to_owned()]);
        assert!(revocations.is_revoked("a"));
        assert!(!revocations.is_revoked("b"));

        std::thread::sleep(Duration::from_millis(60));
        assert!(!revocations.is_revoked("a"));
        revocations.revoke(["b".to_owned()]);
        assert_eq!(revocations.len(), 1, "old entries are dropped on insert");
    }
}
