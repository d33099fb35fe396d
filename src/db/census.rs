//! A summary of everything the store holds, so that a test can show an
//! attack changed nothing: record counts, and a digest of every user's id,
//! name and password hash (the hashes themselves never leave the store).

use sha2::{Digest, Sha256};
use surrealdb::types::SurrealValue;

use super::{CountRow, Store, StoreError};

/// What the store holds. Equal censuses before and after a request mean the
/// request created, deleted, revoked, spent and changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// Users.
    pub users: usize,
    /// Sessions, live or not.
    pub sessions: usize,
    /// Revoked sessions.
    pub revoked_sessions: usize,
    /// Refresh tokens.
    pub refresh_tokens: usize,
    /// Spent refresh tokens.
    pub spent_refresh_tokens: usize,
    /// SHA-256 over every user's id, name and password hash, hex.
    pub users_digest: String,
}

#[derive(Debug, SurrealValue)]
struct UserLine {
    id: String,
    username: String,
    password_hash: String,
}

const COUNTS: &str = "
SELECT count() AS n FROM user GROUP ALL;
SELECT count() AS n FROM session GROUP ALL;
SELECT count() AS n FROM session WHERE revoked_at != NONE GROUP ALL;
SELECT count() AS n FROM refresh_token GROUP ALL;
SELECT count() AS n FROM refresh_token WHERE used_at != NONE GROUP ALL;
SELECT record::id(id) AS id, username, password_hash FROM user ORDER BY id;
";

impl Store {
    /// Counts and digests everything; meant for tests and diagnostics.
    pub async fn census(&self) -> Result<Census, StoreError> {
        let mut response = self.db.query(COUNTS).await?;
        let mut counts = [0usize; 5];
        for (i, count) in counts.iter_mut().enumerate() {
            let rows: Vec<CountRow> = response.take(i)?;
            *count = rows
                .first()
                .map_or(0, |c| usize::try_from(c.n).unwrap_or(0));
        }
        let users: Vec<UserLine> = response.take(5)?;
        let mut digest = Sha256::new();
        for user in &users {
            for field in [&user.id, &user.username, &user.password_hash] {
                digest.update(field.as_bytes());
                digest.update([0]);
            }
        }
        let [
            users_n,
            sessions,
            revoked_sessions,
            refresh_tokens,
            spent_refresh_tokens,
        ] = counts;
        Ok(Census {
            users: users_n,
            sessions,
            revoked_sessions,
            refresh_tokens,
            spent_refresh_tokens,
            users_digest: digest
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        })
    }
}
