//! User storage in SurrealDB, embedded (`surrealkv://`, `mem://`) or remote
//! (`ws://`), chosen by one URL.
//!
//! Usernames are unique through a UNIQUE index on the case-folded name, so the
//! database, not a read-then-write in our code, decides races between
//! concurrent registrations.

use std::sync::Arc;
use std::time::Duration;

use surrealdb::Surreal;
use surrealdb::engine::any::Any;
use surrealdb::types::SurrealValue;

use crate::auth::password::PasswordHash;
use crate::auth::username::Username;

mod census;
mod sessions;

pub use census::Census;
pub use sessions::{
    ClientInfo, NewSession, Purged, RefreshRecord, RevokeReason, SessionRow, millis,
};

/// Longest we wait for the store to open before giving up with an error.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a registration is retried after a transaction conflict.
const CONFLICT_RETRIES: usize = 20;

const NAMESPACE: &str = "authbridge";
const DATABASE: &str = "main";

/// Applied at every start; `IF NOT EXISTS` makes it idempotent.
const SCHEMA: &str = "
DEFINE TABLE IF NOT EXISTS user SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS username ON user TYPE string;
DEFINE FIELD IF NOT EXISTS username_key ON user TYPE string;
DEFINE FIELD IF NOT EXISTS password_hash ON user TYPE string;
DEFINE FIELD IF NOT EXISTS created_at ON user TYPE datetime;
DEFINE INDEX IF NOT EXISTS user_username_key ON user FIELDS username_key UNIQUE;
";

/// A storage failure, with the cases callers act on split out.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another user already has this (case-folded) name.
    #[error("username already taken")]
    UsernameTaken,
    /// The on-disk store is held by another process.
    #[error(
        "the database at {0} is already in use by another process; stop it or choose another AUTHBRIDGE_DATABASE_URL"
    )]
    Locked(String),
    /// Opening the store did not finish in time.
    #[error("timed out after {0:?} opening the database at {1}")]
    OpenTimeout(Duration, String),
    /// Any other database error.
    #[error("database error: {0}")]
    Db(#[from] surrealdb::Error),
}

/// A stored user, as login needs it.
#[derive(Debug, Clone, SurrealValue)]
struct UserRow {
    id: String,
    username: String,
    password_hash: String,
}

/// A user read from the store.
#[derive(Debug, Clone)]
pub struct StoredUser {
    /// Stable id (the record key).
    pub id: String,
    /// Username as registered.
    pub username: String,
    /// The user's password hash.
    pub password_hash: PasswordHash,
}

impl From<UserRow> for StoredUser {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            username: row.username,
            password_hash: PasswordHash::from_phc(row.password_hash),
        }
    }
}

/// How long the embedded engine gets to stop after the last handle is dropped.
pub const ENGINE_SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Handle to the user store; cheap to clone.
///
/// The client sits behind an `Arc`: cloning a `Surreal` handle itself opens a
/// new SurrealDB session (state copied on the engine's one session task),
/// and this handle is cloned with the application state on every request.
/// Measured: ~10 KB of memory per request that the engine task could not
/// release as fast as requests made it, and a serial step on every request.
/// All queries run in the one session `open` set up (namespace, database);
/// none sets session variables or opens SDK-side transactions.
#[derive(Clone)]
pub struct Store {
    db: Arc<Surreal<Any>>,
}

impl Store {
    /// Opens (or creates) the store at `url` and applies the schema.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let shown = redact_url(url);
        let connect = async {
            let db = surrealdb::engine::any::connect(url).await?;
            db.use_ns(NAMESPACE).use_db(DATABASE).await?;
            db.query(SCHEMA).await?.check()?;
            db.query(sessions::SCHEMA).await?.check()?;
            Ok::<_, surrealdb::Error>(db)
        };
        match tokio::time::timeout(OPEN_TIMEOUT, connect).await {
            Err(_) => Err(StoreError::OpenTimeout(OPEN_TIMEOUT, shown)),
            Ok(Err(e)) if e.message().contains("already locked") => Err(StoreError::Locked(shown)),
            Ok(Err(e)) => Err(StoreError::Db(e)),
            Ok(Ok(db)) => Ok(Self { db: Arc::new(db) }),
        }
    }

    /// Drops this handle; when it was the last one, waits for the embedded
    /// engine to stop, which it does in a background task that offers
    /// nothing to await (cut short, it logs its tasks as cancelled).
    pub async fn close(self) {
        let last = Arc::strong_count(&self.db) == 1;
        drop(self);
        if last {
            tokio::time::sleep(ENGINE_SHUTDOWN_GRACE).await;
        }
    }

    /// Whether the store answers a trivial query.
    pub async fn is_healthy(&self) -> bool {
        self.db
            .query("RETURN 1")
            .await
            .is_ok_and(|r| r.check().is_ok())
    }

    /// Creates a user; [`StoreError::UsernameTaken`] if the name exists in any case.
    pub async fn create_user(
        &self,
        name: &Username,
        hash: &PasswordHash,
    ) -> Result<StoredUser, StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut attempt = 0;
        loop {
            match self.try_create(&id, name, hash).await {
                Err(StoreError::Db(e)) if is_conflict(&e) && attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(5 * attempt as u64)).await;
                }
                Err(StoreError::Db(e)) if is_unique_violation(&e) => {
                    return Err(StoreError::UsernameTaken);
                }
                other => return other,
            }
        }
    }

    async fn try_create(
        &self,
        id: &str,
        name: &Username,
        hash: &PasswordHash,
    ) -> Result<StoredUser, StoreError> {
        let mut response = self
            .db
            .query(
                "CREATE type::record('user', $id) SET username = $username, \
                 username_key = $key, password_hash = $hash, created_at = time::now() \
                 RETURN record::id(id) AS id, username, password_hash",
            )
            .bind(("id", id.to_owned()))
            .bind(("username", name.as_str().to_owned()))
            .bind(("key", name.key().to_owned()))
            .bind(("hash", hash.as_phc().to_owned()))
            .await?;
        let rows: Vec<UserRow> = response.take(0)?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| surrealdb::Error::internal("CREATE returned no record".to_owned()))?;
        Ok(row.into())
    }

    /// Finds a user by name, case-insensitively.
    pub async fn find_user(&self, name: &Username) -> Result<Option<StoredUser>, StoreError> {
        let mut response = self
            .db
            .query(
                "SELECT record::id(id) AS id, username, password_hash FROM user \
                 WHERE username_key = $key LIMIT 1",
            )
            .bind(("key", name.key().to_owned()))
            .await?;
        let rows: Vec<UserRow> = response.take(0)?;
        Ok(rows.into_iter().next().map(StoredUser::from))
    }

    /// Finds a user by id.
    pub async fn find_user_by_id(&self, id: &str) -> Result<Option<StoredUser>, StoreError> {
        let mut response = self
            .db
            .query(
                "SELECT record::id(id) AS id, username, password_hash \
                 FROM ONLY type::record('user', $id)",
            )
            .bind(("id", id.to_owned()))
            .await?;
        let row: Option<UserRow> = response.take(0)?;
        Ok(row.map(StoredUser::from))
    }

    /// Replaces a user's password hash (after a rehash with new parameters).
    pub async fn set_password_hash(&self, id: &str, hash: &PasswordHash) -> Result<(), StoreError> {
        retrying(|| async {
            self.db
                .query("UPDATE type::record('user', $id) SET password_hash = $hash")
                .bind(("id", id.to_owned()))
                .bind(("hash", hash.as_phc().to_owned()))
                .await?
                .check()
        })
        .await?;
        Ok(())
    }

    /// Number of users whose case-folded name is `key` (tests use it to prove
    /// uniqueness under concurrency).
    pub async fn count_users_named(&self, name: &Username) -> Result<usize, StoreError> {
        let mut response = self
            .db
            .query("SELECT count() AS n FROM user WHERE username_key = $key GROUP ALL")
            .bind(("key", name.key().to_owned()))
            .await?;
        let counts: Vec<CountRow> = response.take(0)?;
        Ok(counts.first().map_or(0, |c| c.n as usize))
    }
}

/// A user row as seeding writes it.
#[derive(Debug, SurrealValue)]
struct SeedRow {
    id: String,
    username: String,
    username_key: String,
    password_hash: String,
    created_at: surrealdb::types::Datetime,
}

impl Store {
    /// Inserts `names` in one statement, all with the password hash `hash`;
    /// names that exist already are skipped. For load tests and benchmarks
    /// (see `authbridge seed`), not for real accounts.
    pub async fn insert_users(
        &self,
        names: &[Username],
        hash: &PasswordHash,
    ) -> Result<(), StoreError> {
        let now = surrealdb::types::Datetime::now();
        let rows: Vec<SeedRow> = names
            .iter()
            .map(|name| SeedRow {
                id: uuid::Uuid::new_v4().simple().to_string(),
                username: name.as_str().to_owned(),
                username_key: name.key().to_owned(),
                password_hash: hash.as_phc().to_owned(),
                created_at: now,
            })
            .collect();
        self.db
            .query("INSERT IGNORE INTO user $rows RETURN NONE")
            .bind(("rows", rows))
            .await?
            .check()?;
        Ok(())
    }

    /// Number of users in the store.
    pub async fn count_users(&self) -> Result<usize, StoreError> {
        let mut response = self
            .db
            .query("SELECT count() AS n FROM user GROUP ALL")
            .await?;
        let counts: Vec<CountRow> = response.take(0)?;
        Ok(counts
            .first()
            .map_or(0, |c| usize::try_from(c.n).unwrap_or(0)))
    }
}

#[derive(Debug, SurrealValue)]
struct CountRow {
    n: i64,
}

fn is_unique_violation(e: &surrealdb::Error) -> bool {
    e.is_already_exists() || e.message().contains("already contains")
}

/// Runs `op` again (a few milliseconds later) while it fails with a
/// transaction conflict, up to [`CONFLICT_RETRIES`] times.
async fn retrying<T, F, Fut>(mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, surrealdb::Error>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e) if is_conflict(&e) && attempt < CONFLICT_RETRIES => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(2 * attempt as u64)).await;
            }
            other => return other.map_err(StoreError::from),
        }
    }
}

/// Whether `e` is a transaction conflict, worth retrying. In a transaction of
/// several statements the error reported may be that of a statement that was
/// cancelled because another one conflicted ("failed transaction").
fn is_conflict(e: &surrealdb::Error) -> bool {
    let message = e.message();
    message.contains("conflict")
        || message.contains("can be retried")
        || message.contains("failed transaction")
}

/// The URL without any `user:password@` part, for messages and logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://[redacted]@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn urls_lose_their_credentials_in_messages() {
        assert_eq!(
            redact_url("ws://root:pw@db:8000"),
            "ws://[redacted]@db:8000"
        );
        assert_eq!(
            redact_url("surrealkv://data/x?sync=every"),
            "surrealkv://data/x?sync=every"
        );
    }
}
