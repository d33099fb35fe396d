//! Refresh tokens: opaque random values that renew the short access token.
//!
//! - A token is 32 random bytes (base64url); only its SHA-256 is stored.
//! - A token is spent once: rotating it stores its successor in the same
//!   transaction, and the successor's value is derived from the spent token
//!   with an HMAC under a server key. So every caller that spends the same
//!   token computes the same successor, the database can hold at most one,
//!   and a tab that presents a token a moment after another tab rotated it
//!   (within [`SessionSettings::grace`]) gets that same successor back
//!   without a second rotation.
//! - A spent token presented after the grace window is taken as theft: the
//!   whole session (the family of tokens descending from one login) is
//!   revoked.
//! - No session is refreshed beyond its absolute lifetime from login.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::auth::revocations::Revocations;
use crate::config::Secret;
use crate::db::{ClientInfo, RefreshRecord, RevokeReason, Store, StoreError, millis};

/// Length of a refresh token as it travels (32 bytes in base64url).
pub const TOKEN_LEN: usize = 43;
/// Longest chain of rotations followed inside the grace window.
const MAX_GRACE_STEPS: usize = 16;

/// Session lifetimes, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// Lifetime of each refresh token (idle timeout).
    pub refresh_ttl: Duration,
    /// Absolute lifetime of a session from login.
    pub max_age: Duration,
    /// How long a just-spent token still yields its successor.
    pub grace: Duration,
}

/// A refresh token to hand to the client, with the session it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The token itself (goes into the cookie, nowhere else).
    pub token: String,
    /// Session (family) id, carried in the access token as `sid`.
    pub session: String,
    /// The user.
    pub user_id: String,
    /// The user's name.
    pub username: String,
    /// Seconds until the token expires (the cookie's `Max-Age`).
    pub max_age_secs: u64,
    /// Whether a rotation happened (`false`: a grace-window repeat).
    pub rotated: bool,
}

/// Why a refresh was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Malformed or unknown token.
    #[error("unknown refresh token")]
    Unknown,
    /// Past its own expiry or the session's absolute lifetime.
    #[error("refresh token expired")]
    Expired,
    /// The session was revoked (logout, ended elsewhere, password change).
    #[error("session revoked")]
    Revoked,
    /// A spent token came back after the grace window; the session is revoked now,
    /// or was revoked for that reason before.
    #[error("refresh token reused")]
    Reused,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts, renews and ends sessions. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    key: Hmac<Sha256>,
    settings: SessionSettings,
    revocations: Revocations,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a token, hex: the key it is stored under.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Now, in Unix milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whole seconds until `deadline_ms`, rounded up (a cookie's `Max-Age=0`
/// would delete it at once).
fn secs_until(deadline_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((deadline_ms - now_ms).max(0))
        .unwrap_or(0)
        .div_ceil(1000)
}

impl Sessions {
    /// Sessions over `store`, deriving successors with a key taken from `secret`.
    pub fn new(
        store: Store,
        secret: &Secret,
        settings: SessionSettings,
        revocations: Revocations,
    ) -> Self {
        // A key of its own, so the successor derivation never doubles as a
        // token signature.
        let mut derivation = Sha256::new();
        derivation.update(b"authbridge refresh-token successor key\0");
        derivation.update(secret.expose().as_bytes());
        let key = Hmac::<Sha256>::new_from_slice(&derivation.finalize())
            .expect("HMAC accepts keys of any length");
        Self {
            store,
            key,
            settings,
            revocations,
        }
    }

    /// The lifetimes in force.
    pub fn settings(&self) -> SessionSettings {
        self.settings
    }

    /// The in-memory list of recent revocations.
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    fn successor(&self, token: &str) -> String {
        let mut mac = self.key.clone();
        mac.update(token.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    /// Starts a session for a user who just proved who they are.
    pub async fn start(
        &self,
        user_id: &str,
        username: &str,
        client: &ClientInfo,
    ) -> Result<Grant, StoreError> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = B64.encode(bytes);
        let now = now_millis();
        let session = self
            .store
            .create_session(
                user_id,
                &token_hash(&token),
                now,
                self.settings.refresh_ttl,
                self.settings.max_age,
                client,
            )
            .await?;
        Ok(Grant {
            token,
            session: session.id,
            user_id: user_id.to_owned(),
            username: username.to_owned(),
            max_age_secs: secs_until(session.refresh_expires_at, now),
            rotated: true,
        })
    }

    /// Spends `token` for its successor (or, within the grace window after
    /// another request spent it, returns that successor again).
    pub async fn refresh(&self, token: &str, client: &ClientInfo) -> Result<Grant, RefreshError> {
        self.refresh_at(token, client, now_millis()).await
    }

    /// [`Self::refresh`] at a given time (ms), for tests of the time limits.
    pub async fn refresh_at(
        &self,
        token: &str,
        client: &ClientInfo,
        now: i64,
    ) -> Result<Grant, RefreshError> {
        if !well_formed(token) {
            return Err(RefreshError::Unknown);
        }
        let hash = token_hash(token);
        let mut record = self.live_record(&hash, now).await?;
        if record.used_at.is_none() {
            let child = self.successor(token);
            let child_expires = now
                .saturating_add(millis(self.settings.refresh_ttl))
                .min(record.session_expires_at);
            if self
                .store
                .rotate_refresh(
                    &hash,
                    &token_hash(&child),
                    &record,
                    now,
                    child_expires,
                    client,
                )
                .await?
            {
                return Ok(Grant {
                    token: child,
                    session: record.session,
                    user_id: record.user,
                    username: record.username,
                    max_age_secs: secs_until(child_expires, now),
                    rotated: true,
                });
            }
            // Another request spent it a moment ago: read what it did.
            record = self.live_record(&hash, now).await?;
        }
        let used_at = record.used_at.unwrap_or(now);
        if now.saturating_sub(used_at) > millis(self.settings.grace) {
            return Err(self.revoke_for_reuse(&record, now).await);
        }
        self.head_of(token, now).await
    }

    /// The record of `hash`, refused if unknown, revoked or expired.
    async fn live_record(&self, hash: &str, now: i64) -> Result<RefreshRecord, RefreshError> {
        let record = self
            .store
            .find_refresh(hash)
            .await?
            .ok_or(RefreshError::Unknown)?;
        match record.revoked {
            Some(RevokeReason::Reuse) => return Err(RefreshError::Reused),
            Some(_) => return Err(RefreshError::Revoked),
            None => {}
        }
        if now >= record.expires_at || now >= record.session_expires_at {
            return Err(RefreshError::Expired);
        }
        Ok(record)
    }

    /// Follows the successors of the just-spent `token` to the one not yet
    /// spent, and grants it again without rotating.
    async fn head_of(&self, token: &str, now: i64) -> Result<Grant, RefreshError> {
        let mut current = token.to_owned();
        for _ in 0..MAX_GRACE_STEPS {
            let next = self.successor(&current);
            let record = self.live_record(&token_hash(&next), now).await?;
            if record.used_at.is_none() {
                self.store.touch_session(&record.session, now).await?;
                return Ok(Grant {
                    token: next,
                    session: record.session,
                    user_id: record.user,
                    username: record.username,
                    max_age_secs: secs_until(record.expires_at, now),
                    rotated: false,
                });
            }
            current = next;
        }
        Err(RefreshError::Unknown)
    }

    async fn revoke_for_reuse(&self, record: &RefreshRecord, now: i64) -> RefreshError {
        tracing::warn!(
            user.id = %record.user,
            session = %record.session,
            "a spent refresh token was presented again: session revoked as possibly stolen"
        );
        match self
            .store
            .revoke_session(&record.user, &record.session, now, RevokeReason::Reuse)
            .await
        {
            Ok(_) => {
                self.revocations.revoke([record.session.clone()]);
                RefreshError::Reused
            }
            Err(e) => RefreshError::Store(e),
        }
    }

    /// Ends one session of `user`; `false` if there was no such live session.
    pub async fn end(
        &self,
        user_id: &str,
        session: &str,
        reason: RevokeReason,
    ) -> Result<bool, StoreError> {
        let ended = self
            .store
            .revoke_session(user_id, session, now_millis(), reason)
            .await?;
        // Refused from now on even if the store had it revoked already.
        self.revocations.revoke([session.to_owned()]);
        Ok(ended)
    }

    /// Ends the session a refresh token belongs to; unknown tokens are ignored.
    pub async fn end_by_token(&self, token: &str) -> Result<(), StoreError> {
        if !well_formed(token) {
            return Ok(());
        }
        if let Some(record) = self.store.find_refresh(&token_hash(token)).await? {
            self.end(&record.user, &record.session, RevokeReason::Logout)
                .await?;
        }
        Ok(())
    }

    /// Ends every session of `user` except `keep`; returns how many.
    pub async fn end_all(
        &self,
        user_id: &str,
        keep: Option<&str>,
        reason: RevokeReason,
    ) -> Result<usize, StoreError> {
        let ended = self
            .store
            .revoke_user_sessions(user_id, keep, now_millis(), reason)
            .await?;
        let count = ended.len();
        self.revocations.revoke(ended);
        Ok(count)
    }

    /// Whether the session of an access token's claims was ended recently
    /// (cheap: memory only). Tokens without a session are not covered.
    pub fn token_revoked(&self, claims: &crate::auth::jwt::Claims) -> bool {
        claims
            .sid
            .as_deref()
            .is_some_and(|sid| self.revocations.is_revoked(sid))
    }

    /// Whether `session` may still be used, asked of the store (for actions
    /// that change the account, which must not trust a token alone).
    pub async fn is_live(&self, session: &str) -> Result<bool, StoreError> {
        if self.revocations.is_revoked(session) {
            return Ok(false);
        }
        self.store.session_is_live(session, now_millis()).await
    }

    /// Loads revocations young enough to matter (after a restart).
    pub async fn load_recent_revocations(&self, window: Duration) -> Result<(), StoreError> {
        let since = now_millis().saturating_sub(millis(window));
        let ids = self.store.revoked_since(since).await?;
        self.revocations.revoke(ids);
        Ok(())
    }
}

/// Deletes expired tokens and sessions every `interval`, at most `batch` of
/// each per pass, until the process ends.
pub async fn purge_forever(store: Store, interval: Duration, batch: usize) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match store.purge_expired(now_millis(), batch).await {
            Ok(purged) if purged.tokens + purged.sessions > 0 => tracing::info!(
                tokens = purged.tokens,
                sessions = purged.sessions,
                "purged expired sessions"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_43_url_safe_characters_are_a_token() {
        assert!(well_formed(&"A".repeat(43)));
        assert!(!well_formed(&"A".repeat(42)));
        assert!(!well_formed(&format!("{}=", "A".repeat(42))));
        assert!(!well_formed(&format!("{}/", "A".repeat(42))));
    }
}
