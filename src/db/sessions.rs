//! Sessions ("families" of refresh tokens) and the refresh tokens themselves.
//!
//! A `session` row is one login on one device: it holds the user, when the
//! login happened (for the absolute lifetime), when it was last used and from
//! where, and whether it was revoked. A `refresh_token` row is keyed by the
//! SHA-256 of the token (the token itself is never stored) and links to its
//! session, its parent and, once spent, its child.
//!
//! Times are Unix milliseconds, so callers (and tests) pass "now" in.

use std::time::Duration;

use surrealdb::types::SurrealValue;

use super::{CONFLICT_RETRIES, Store, StoreError, is_conflict, retrying};

/// Tables and indexes of this module, applied with the rest of the schema.
pub(super) const SCHEMA: &str = "
DEFINE TABLE IF NOT EXISTS session SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON session TYPE string;
DEFINE FIELD IF NOT EXISTS created_at ON session TYPE int;
DEFINE FIELD IF NOT EXISTS expires_at ON session TYPE int;
DEFINE FIELD IF NOT EXISTS refresh_expires_at ON session TYPE int;
DEFINE FIELD IF NOT EXISTS last_used_at ON session TYPE int;
DEFINE FIELD IF NOT EXISTS user_agent ON session TYPE string;
DEFINE FIELD IF NOT EXISTS ip ON session TYPE string;
DEFINE FIELD IF NOT EXISTS revoked_at ON session TYPE option<int>;
DEFINE FIELD IF NOT EXISTS revoke_reason ON session TYPE option<string>;
DEFINE INDEX IF NOT EXISTS session_user ON session FIELDS user;
DEFINE INDEX IF NOT EXISTS session_refresh_expires ON session FIELDS refresh_expires_at;
DEFINE INDEX IF NOT EXISTS session_revoked ON session FIELDS revoked_at;

DEFINE TABLE IF NOT EXISTS refresh_token SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS session ON refresh_token TYPE string;
DEFINE FIELD IF NOT EXISTS user ON refresh_token TYPE string;
DEFINE FIELD IF NOT EXISTS parent ON refresh_token TYPE option<string>;
DEFINE FIELD IF NOT EXISTS child ON refresh_token TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON refresh_token TYPE int;
DEFINE FIELD IF NOT EXISTS expires_at ON refresh_token TYPE int;
DEFINE FIELD IF NOT EXISTS used_at ON refresh_token TYPE option<int>;
DEFINE FIELD IF NOT EXISTS user_agent ON refresh_token TYPE string;
DEFINE FIELD IF NOT EXISTS ip ON refresh_token TYPE string;
DEFINE INDEX IF NOT EXISTS refresh_token_expires ON refresh_token FIELDS expires_at;
";

/// Raised inside the rotation transaction when the token was spent meanwhile.
const ALREADY_SPENT: &str = "authbridge: refresh token already spent";

/// Where a request came from, as the sessions list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The `User-Agent` header, shortened.
    pub user_agent: String,
    /// The peer address.
    pub ip: String,
}

/// Why a session was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// The user logged out on that device.
    Logout,
    /// The user ended it from the sessions list, or logged out everywhere.
    Ended,
    /// The user changed the password.
    PasswordChanged,
    /// A spent refresh token was presented again: taken as theft.
    Reuse,
}

impl RevokeReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Ended => "ended",
            Self::PasswordChanged => "password_changed",
            Self::Reuse => "reuse",
        }
    }

    fn parse(value: &str) -> Self {
        match value {
            "logout" => Self::Logout,
            "password_changed" => Self::PasswordChanged,
            "reuse" => Self::Reuse,
            _ => Self::Ended,
        }
    }
}

/// A refresh token as stored, with what its session says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// The session (family) it belongs to.
    pub session: String,
    /// The user it was issued to.
    pub user: String,
    /// That user's name, for the new access token.
    pub username: String,
    /// Hash of the token that replaced it, once spent.
    pub child: Option<String>,
    /// When it stops being accepted (ms).
    pub expires_at: i64,
    /// When it was spent (ms).
    pub used_at: Option<i64>,
    /// When the session began (ms).
    pub session_created_at: i64,
    /// The session's absolute end (ms).
    pub session_expires_at: i64,
    /// Set when the session was revoked.
    pub revoked: Option<RevokeReason>,
}

#[derive(Debug, SurrealValue)]
struct RefreshRow {
    session: String,
    user: String,
    username: Option<String>,
    child: Option<String>,
    expires_at: i64,
    used_at: Option<i64>,
    session_created_at: Option<i64>,
    session_expires_at: Option<i64>,
    revoked_at: Option<i64>,
    revoke_reason: Option<String>,
}

/// One active session, as the sessions list shows it.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct SessionRow {
    /// Session (family) id.
    pub id: String,
    /// When the user logged in (ms).
    pub created_at: i64,
    /// When it was last refreshed (ms).
    pub last_used_at: i64,
    /// Browser or client of the last use.
    pub user_agent: String,
    /// Address of the last use.
    pub ip: String,
}

/// A freshly started session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Session (family) id.
    pub id: String,
    /// Expiry of its first refresh token (ms).
    pub refresh_expires_at: i64,
}

/// How many rows one purge pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired refresh tokens.
    pub tokens: usize,
    /// Sessions whose every token has expired.
    pub sessions: usize,
}

#[derive(Debug, SurrealValue)]
struct CountRow {
    n: i64,
}

/// Milliseconds in `d`, saturating.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Starts a session for `user` whose first refresh token hashes to `token_hash`.
    /// The token lives `refresh_ttl`, the session at most `max_age`.
    pub async fn create_session(
        &self,
        user: &str,
        token_hash: &str,
        now: i64,
        refresh_ttl: Duration,
        max_age: Duration,
        client: &ClientInfo,
    ) -> Result<NewSession, StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now.saturating_add(millis(max_age));
        let refresh_expires_at = now.saturating_add(millis(refresh_ttl)).min(expires_at);
        self.db
            .query(
                "BEGIN TRANSACTION;
                 CREATE type::record('session', $id) SET user = $user, created_at = $now,
                     expires_at = $expires, refresh_expires_at = $refresh_expires,
                     last_used_at = $now, user_agent = $ua, ip = $ip;
                 CREATE type::record('refresh_token', $hash) SET session = $id, user = $user,
                     created_at = $now, expires_at = $refresh_expires, user_agent = $ua, ip = $ip;
                 COMMIT TRANSACTION;",
            )
            .bind(("id", id.clone()))
            .bind(("user", user.to_owned()))
            .bind(("now", now))
            .bind(("expires", expires_at))
            .bind(("refresh_expires", refresh_expires_at))
            .bind(("hash", token_hash.to_owned()))
            .bind(("ua", client.user_agent.clone()))
            .bind(("ip", client.ip.clone()))
            .await?
            .check()?;
        Ok(NewSession {
            id,
            refresh_expires_at,
        })
    }

    /// The refresh token whose hash is `token_hash`, with its session's state.
    pub async fn find_refresh(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let mut response = self
            .db
            .query(
                "SELECT session, user, child, expires_at, used_at,
                     type::record('user', user).username AS username,
                     type::record('session', session).created_at AS session_created_at,
                     type::record('session', session).expires_at AS session_expires_at,
                     type::record('session', session).revoked_at AS revoked_at,
                     type::record('session', session).revoke_reason AS revoke_reason
                 FROM ONLY type::record('refresh_token', $hash)",
            )
            .bind(("hash", token_hash.to_owned()))
            .await?;
        let row: Option<RefreshRow> = response.take(0)?;
        Ok(row.map(|row| RefreshRecord {
            session: row.session,
            user: row.user,
            username: row.username.unwrap_or_default(),
            child: row.child,
            expires_at: row.expires_at,
            used_at: row.used_at,
            session_created_at: row.session_created_at.unwrap_or(0),
            session_expires_at: row.session_expires_at.unwrap_or(0),
            revoked: match (row.revoked_at, row.revoke_reason) {
                (None, _) => None,
                (Some(_), reason) => Some(RevokeReason::parse(reason.as_deref().unwrap_or(""))),
            },
        }))
    }

    /// Spends the token `token_hash` and stores its successor `child_hash`, in
    /// one transaction. `Ok(false)` if it had been spent already or its
    /// session was revoked meanwhile: only one caller ever succeeds for a
    /// given token, and never in a revoked session.
    #[allow(clippy::too_many_arguments)]
    pub async fn rotate_refresh(
        &self,
        token_hash: &str,
        child_hash: &str,
        record: &RefreshRecord,
        now: i64,
        child_expires_at: i64,
        client: &ClientInfo,
    ) -> Result<bool, StoreError> {
        let mut attempt = 0;
        loop {
            let result = self
                .db
                .query(
                    "BEGIN TRANSACTION;
                     LET $spent = UPDATE type::record('refresh_token', $hash)
                         SET used_at = $now, child = $child
                         WHERE used_at = NONE
                             AND type::record('session', $family).revoked_at = NONE
                         RETURN AFTER;
                     IF array::len($spent) = 0 { THROW $already_spent };
                     CREATE type::record('refresh_token', $child) SET session = $family,
                         user = $user, parent = $hash, created_at = $now,
                         expires_at = $child_expires, user_agent = $ua, ip = $ip;
                     UPDATE type::record('session', $family) SET last_used_at = $now,
                         refresh_expires_at = $child_expires, user_agent = $ua, ip = $ip;
                     COMMIT TRANSACTION;",
                )
                .bind(("hash", token_hash.to_owned()))
                .bind(("child", child_hash.to_owned()))
                .bind(("family", record.session.clone()))
                .bind(("user", record.user.clone()))
                .bind(("now", now))
                .bind(("child_expires", child_expires_at))
                .bind(("ua", client.user_agent.clone()))
                .bind(("ip", client.ip.clone()))
                .bind(("already_spent", ALREADY_SPENT))
                .await;
            // Every statement of a failed transaction reports an error; the
            // cause is in one of them, not necessarily the first.
            let errors: Vec<surrealdb::Error> = match result {
                Ok(mut response) => response.take_errors().into_values().collect(),
                Err(e) => vec![e],
            };
            if errors.is_empty() {
                return Ok(true);
            }
            let any = |test: fn(&surrealdb::Error) -> bool| errors.iter().any(test);
            if any(|e| e.message().contains(ALREADY_SPENT)) {
                return Ok(false);
            }
            // The child's id is derived from the parent, so a second
            // creation of it means the parent was spent meanwhile.
            if any(super::is_unique_violation) {
                return Ok(false);
            }
            if any(is_conflict) && attempt < CONFLICT_RETRIES {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(2 * attempt as u64)).await;
                continue;
            }
            return Err(errors.into_iter().next().expect("not empty").into());
        }
    }

    /// Notes a use of the session that did not rotate (grace window).
    pub async fn touch_session(&self, session: &str, now: i64) -> Result<(), StoreError> {
        retrying(|| async {
            self.db
                .query("UPDATE type::record('session', $id) SET last_used_at = $now")
                .bind(("id", session.to_owned()))
                .bind(("now", now))
                .await?
                .check()
        })
        .await?;
        Ok(())
    }

    /// Revokes one session; `false` if it did not exist, was not `user`'s, or
    /// was revoked already.
    pub async fn revoke_session(
        &self,
        user: &str,
        session: &str,
        now: i64,
        reason: RevokeReason,
    ) -> Result<bool, StoreError> {
        let ids: Vec<String> = retrying(|| async {
            self.db
                .query(
                    "UPDATE type::record('session', $id) SET revoked_at = $now, revoke_reason = $reason
                     WHERE user = $user AND revoked_at = NONE RETURN VALUE record::id(id)",
                )
                .bind(("id", session.to_owned()))
                .bind(("user", user.to_owned()))
                .bind(("now", now))
                .bind(("reason", reason.as_str()))
                .await?
                .take(0)
        })
        .await?;
        Ok(!ids.is_empty())
    }

    /// Revokes every live session of `user` except `keep`; returns the ids revoked.
    pub async fn revoke_user_sessions(
        &self,
        user: &str,
        keep: Option<&str>,
        now: i64,
        reason: RevokeReason,
    ) -> Result<Vec<String>, StoreError> {
        retrying(|| async {
            self.db
                .query(
                    "UPDATE session SET revoked_at = $now, revoke_reason = $reason
                     WHERE user = $user AND revoked_at = NONE AND record::id(id) != $keep
                     RETURN VALUE record::id(id)",
                )
                .bind(("user", user.to_owned()))
                .bind(("keep", keep.unwrap_or("").to_owned()))
                .bind(("now", now))
                .bind(("reason", reason.as_str()))
                .await?
                .take(0)
        })
        .await
    }

    /// Whether `session` exists, is not revoked and has not reached either end.
    pub async fn session_is_live(&self, session: &str, now: i64) -> Result<bool, StoreError> {
        let mut response = self
            .db
            .query(
                "SELECT count() AS n FROM ONLY type::record('session', $id)
                 WHERE revoked_at = NONE AND expires_at > $now AND refresh_expires_at > $now",
            )
            .bind(("id", session.to_owned()))
            .bind(("now", now))
            .await?;
        let row: Option<CountRow> = response.take(0)?;
        Ok(row.is_some_and(|r| r.n > 0))
    }

    /// The user's sessions that can still be refreshed, most recently used first.
    pub async fn live_sessions(&self, user: &str, now: i64) -> Result<Vec<SessionRow>, StoreError> {
        let mut response = self
            .db
            .query(
                "SELECT record::id(id) AS id, created_at, last_used_at, user_agent, ip
                 FROM session
                 WHERE user = $user AND revoked_at = NONE AND expires_at > $now
                     AND refresh_expires_at > $now
                 ORDER BY last_used_at DESC",
            )
            .bind(("user", user.to_owned()))
            .bind(("now", now))
            .await?;
        Ok(response.take(0)?)
    }

    /// Number of refresh tokens stored for `session` (tests use it to prove
    /// that concurrent refreshes store one successor).
    pub async fn count_session_tokens(&self, session: &str) -> Result<usize, StoreError> {
        let mut response = self
            .db
            .query("SELECT count() AS n FROM refresh_token WHERE session = $id GROUP ALL")
            .bind(("id", session.to_owned()))
            .await?;
        let counts: Vec<CountRow> = response.take(0)?;
        Ok(counts
            .first()
            .map_or(0, |c| usize::try_from(c.n).unwrap_or(0)))
    }

    /// Sessions revoked since `since` (ms): their access tokens may still be
    /// unexpired, so the server keeps refusing them after a restart.
    pub async fn revoked_since(&self, since: i64) -> Result<Vec<String>, StoreError> {
        let mut response = self
            .db
            .query("SELECT VALUE record::id(id) FROM session WHERE revoked_at > $since")
            .bind(("since", since))
            .await?;
        Ok(response.take(0)?)
    }

    /// Deletes at most `limit` expired refresh tokens and at most `limit`
    /// sessions whose tokens have all expired.
    pub async fn purge_expired(&self, now: i64, limit: usize) -> Result<Purged, StoreError> {
        let mut response = self
            .db
            .query(
                "LET $tokens = SELECT VALUE id FROM refresh_token WHERE expires_at <= $now LIMIT $limit;
                 DELETE $tokens;
                 LET $sessions = SELECT VALUE id FROM session WHERE refresh_expires_at <= $now LIMIT $limit;
                 DELETE $sessions;
                 RETURN [array::len($tokens), array::len($sessions)];",
            )
            .bind(("now", now))
            .bind(("limit", i64::try_from(limit).unwrap_or(i64::MAX)))
            .await?;
        let last = response.num_statements() - 1;
        let counts: Vec<i64> = response.take(last)?;
        let count = |i: usize| {
            counts
                .get(i)
                .map_or(0, |n| usize::try_from(*n).unwrap_or(0))
        };
        Ok(Purged {
            tokens: count(0),
            sessions: count(1),
        })
    }
}
