//! The error a server function hands back to the page.
//!
//! Every variant carries a fixed, user-facing message and nothing else (the
//! rate-limit refusals add a number of seconds, shown at most as
//! [`MAX_WAIT_SHOWN`]): the value travels to the browser (as JSON, or base64
//! in the URL of a plain form post) and is shown next to the form, so it must
//! never hold internal detail, and a crafted URL must not be able to put
//! arbitrary text on our pages.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::auth::LoginReason;
use crate::auth::password_rules::PasswordError;
use crate::auth::username::UsernameError;

/// What went wrong with a login, registration or session request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Unknown user or wrong password; deliberately one message for both.
    #[error("Incorrect username or password.")]
    InvalidCredentials,
    /// The username breaks a rule of [`crate::auth::username`].
    #[error("{0}")]
    Username(UsernameError),
    /// The password breaks a rule of [`crate::auth::password_rules`].
    #[error("{0}")]
    Password(PasswordError),
    /// Registration with a name that exists already (case-insensitively).
    #[error("That username is already taken.")]
    UsernameTaken,
    /// The request needs a logged-in user and has none.
    #[error("Please log in.")]
    NotLoggedIn,
    /// The current password given to change it was wrong.
    #[error("The current password is incorrect.")]
    WrongCurrentPassword,
    /// The session's refresh token expired, or its absolute lifetime passed.
    #[error("Your session has expired, please log in again.")]
    SessionExpired,
    /// The session was ended elsewhere (log out everywhere, password change).
    #[error("Your session was ended, please log in again.")]
    SessionEnded,
    /// The session was revoked because a spent refresh token came back.
    #[error("Your session was ended for security reasons, please log in again.")]
    SessionRevoked,
    /// No such session of this user (already ended, or someone else's).
    #[error("That session no longer exists.")]
    NoSuchSession,
    /// Too many password checks are queued; the client may retry shortly.
    #[error("The server is busy, please try again in a moment.")]
    Busy,
    /// Too many failed logins for this username or from this address: the
    /// wrong-password message, plus when to try again. Locked names get it
    /// whether or not they exist.
    #[error("Incorrect username or password. Too many attempts: try again in {}.", seconds(.retry_after_secs))]
    TooManyAttempts {
        /// Seconds until the next attempt is considered.
        retry_after_secs: u32,
    },
    /// Too many wrong current passwords given to change the password.
    #[error("The current password is incorrect. Too many attempts: try again in {}.", seconds(.retry_after_secs))]
    TooManyPasswordAttempts {
        /// Seconds until the next attempt is considered.
        retry_after_secs: u32,
    },
    /// Too many registrations from this address.
    #[error("Too many new accounts from your network, please try again in {}.", seconds(.retry_after_secs))]
    TooManyRegistrations {
        /// Seconds until the next registration is accepted.
        retry_after_secs: u32,
    },
    /// The request itself could not be read (missing or malformed fields).
    #[error("The form could not be read, please try again.")]
    BadRequest,
    /// A fault on our side; the detail is in the server log only.
    #[error("Something went wrong on our side, please try again.")]
    Internal,
}

impl AppError {
    /// The HTTP status this error is answered with, in one place for every route.
    pub fn status(self) -> u16 {
        match self {
            Self::Username(_) | Self::Password(_) | Self::BadRequest => 400,
            Self::InvalidCredentials
            | Self::NotLoggedIn
            | Self::SessionExpired
            | Self::SessionEnded
            | Self::SessionRevoked
            | Self::WrongCurrentPassword => 401,
            Self::NoSuchSession => 404,
            Self::UsernameTaken => 409,
            Self::TooManyAttempts { .. }
            | Self::TooManyPasswordAttempts { .. }
            | Self::TooManyRegistrations { .. } => 429,
            Self::Busy => 503,
            Self::Internal => 500,
        }
    }
}

impl AppError {
    /// For a rate-limit refusal, the seconds to wait (`Retry-After`).
    pub fn retry_after_secs(self) -> Option<u32> {
        match self {
            Self::TooManyAttempts { retry_after_secs }
            | Self::TooManyPasswordAttempts { retry_after_secs }
            | Self::TooManyRegistrations { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        }
    }

    /// The error for a request without a session, by why it has none.
    pub fn from_login_reason(reason: LoginReason) -> Self {
        match reason {
            LoginReason::Expired => Self::SessionExpired,
            LoginReason::Ended | LoginReason::LoggedOut => Self::SessionEnded,
            LoginReason::Security => Self::SessionRevoked,
            LoginReason::Required => Self::NotLoggedIn,
        }
    }

    /// Which login-page message fits, if this error means "no session".
    pub fn login_reason(self) -> Option<LoginReason> {
        match self {
            Self::NotLoggedIn => Some(LoginReason::Required),
            Self::SessionExpired => Some(LoginReason::Expired),
            Self::SessionEnded => Some(LoginReason::Ended),
            Self::SessionRevoked => Some(LoginReason::Security),
            _ => None,
        }
    }
}

/// The longest wait a message names: no lock lasts longer (the server
/// refuses limits whose lock would), so a larger number in a crafted URL
/// shows as this.
pub const MAX_WAIT_SHOWN: u32 = 15 * 60;

/// "1 second", "42 seconds".
fn seconds(n: &u32) -> String {
    match (*n).min(MAX_WAIT_SHOWN) {
        1 => "1 second".to_owned(),
        n => format!("{n} seconds"),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::server_fn_error_status;

#[cfg(feature = "ssr")]
mod ssr {
    use axum::body::{Body, to_bytes};
    use axum::extract::Request;
    use axum::http::header::RETRY_AFTER;
    use axum::http::{HeaderValue, StatusCode};
    use axum::middleware::Next;
    use axum::response::Response;
    use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

    use super::AppError;

    /// Our error bodies are a few bytes of JSON; anything larger is not ours.
    const MAX_ERROR_BODY: usize = 16 * 1024;

    /// Axum middleware: leptos answers every server-function error with 500;
    /// this gives each [`AppError`] its real status from [`AppError::status`],
    /// the only place statuses are chosen. Plain form posts are redirects
    /// (leptos carries the error in the URL) and pass through untouched.
    pub async fn server_fn_error_status(req: Request, next: Next) -> Response {
        let response = next.run(req).await;
        if response.status() != StatusCode::INTERNAL_SERVER_ERROR
            || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
        {
            return response;
        }

        let (mut parts, body) = response.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
            return Response::from_parts(parts, Body::empty());
        };
        if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
            parts.status = StatusCode::from_u16(error.status()).unwrap_or(parts.status);
            if let Some(secs) = error.retry_after_secs() {
                parts.headers.insert(RETRY_AFTER, HeaderValue::from(secs));
            }
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn a_lock_says_the_wrong_password_message_and_the_wait() {
        let one = AppError::TooManyAttempts {
            retry_after_secs: 1,
        };
        let many = AppError::TooManyAttempts {
            retry_after_secs: 42,
        };
        assert_eq!(
            one.to_string(),
            "Incorrect username or password. Too many attempts: try again in 1 second."
        );
        assert!(
            many.to_string()
                .starts_with(&AppError::InvalidCredentials.to_string())
        );
        assert!(many.to_string().ends_with("try again in 42 seconds."));
        assert_eq!((many.status(), many.retry_after_secs()), (429, Some(42)));
        assert_eq!(AppError::InvalidCredentials.retry_after_secs(), None);
        let crafted = AppError::TooManyRegistrations {
            retry_after_secs: u32::MAX,
        };
        assert!(crafted.to_string().ends_with("try again in 900 seconds."));
    }
}
