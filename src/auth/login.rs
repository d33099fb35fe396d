//! Checking a username and password: shared by the login form and the
//! token endpoint, so both give the same answers, log the same way and cost
//! the same work whether or not the user exists.

use std::net::IpAddr;

use crate::auth::PublicUser;
use crate::auth::password::{HashError, Verified};
use crate::auth::password_rules;
use crate::auth::username::{Username, UsernameError};
use crate::db::StoreError;
use crate::error::AppError;
use crate::security::rate_limit::retry_after_secs;
use crate::server::AppState;

/// The user whose name and password these are, or
/// [`AppError::InvalidCredentials`] (one answer for an unknown name and a
/// wrong password). Upgrades an outdated password hash on the way.
///
/// Failed attempts count against the name and the client address `ip`; while
/// either is locked the answer is [`AppError::TooManyAttempts`] after the
/// same hashing work as a wrong password.
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: String,
    ip: IpAddr,
) -> Result<PublicUser, AppError> {
    let name = match Username::parse(username) {
        Err(UsernameError::Empty) => return Err(AppError::Username(UsernameError::Empty)),
        other => other.ok(),
    };
    if !password_rules::plausible_at_login(&password) {
        return Err(AppError::InvalidCredentials);
    }
    let key = name.as_ref().map(Username::key);
    if let Some(wait) = state.limits.login_locked(key, ip) {
        // The same work as a wrong password, whether or not the user exists.
        state
            .hasher
            .verify(password, None)
            .await
            .map_err(hash_fault)?;
        tracing::warn!("login refused: too many failed attempts");
        return Err(AppError::TooManyAttempts {
            retry_after_secs: retry_after_secs(wait),
        });
    }

    let user = match &name {
        Some(name) => state.store.find_user(name).await.map_err(store_fault)?,
        None => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state
        .hasher
        .verify(password, stored)
        .await
        .map_err(hash_fault)?;

    let known_user = user.as_ref().map(|u| u.username.clone());
    let Some(user) = user.filter(|_| verified != Verified::No) else {
        state.limits.login_failed(key, ip);
        // Only a name that exists is logged: what was typed into the
        // username field may be a password.
        match known_user {
            Some(name) => tracing::warn!(username = %name, "login failed: wrong password"),
            None => tracing::warn!("login failed: unknown username"),
        }
        return Err(AppError::InvalidCredentials);
    };
    if let Verified::YesRehashed(hash) = verified
        && let Err(e) = state.store.set_password_hash(&user.id, &hash).await
    {
        tracing::warn!(error = %e, "could not store the upgraded password hash");
    }
    Ok(PublicUser {
        id: user.id,
        name: user.username,
    })
}

/// A store failure as the client sees it; the detail goes to the log.
pub fn store_fault(e: StoreError) -> AppError {
    tracing::error!(error = %e, "user store failed");
    AppError::Internal
}

/// A hashing failure as the client sees it.
pub fn hash_fault(e: HashError) -> AppError {
    match e {
        HashError::Busy => {
            tracing::warn!("password hashing queue full");
            AppError::Busy
        }
        HashError::Failed(detail) => {
            tracing::error!(error = %detail, "password hashing failed");
            AppError::Internal
        }
    }
}
