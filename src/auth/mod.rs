//! Authentication: rules shared by browser and server, and (with `ssr`) the
//! server-only pieces — tokens, password hashing, cookies and the request guard.

pub mod next_path;
pub mod password_rules;
pub mod username;

#[cfg(feature = "ssr")]
pub mod cookie;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod jwt;
#[cfg(feature = "ssr")]
pub mod keys;
#[cfg(feature = "ssr")]
pub mod login;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod refresh;
#[cfg(feature = "ssr")]
pub mod revocations;

use serde::{Deserialize, Serialize};

/// What the pages may know about the logged-in user. Holds no token or hash,
/// so it is safe to serialize into hydration data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUser {
    /// Stable user id (the JWT `sub`).
    pub id: String,
    /// Username as the user registered it.
    pub name: String,
}

/// The logged-in user and how long the current access token lasts, for the
/// pages (the client refreshes shortly before `expires_in_secs` runs out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Who is logged in.
    pub user: PublicUser,
    /// Seconds until the access token expires.
    pub expires_in_secs: u64,
}

/// Why the login page is shown; chooses the flash message, carried as `?reason=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginReason {
    /// A protected page was asked for without a session.
    Required,
    /// The session's access token ran out.
    Expired,
    /// The user pressed "Log out".
    LoggedOut,
    /// The session was ended elsewhere: "log out everywhere", ended from the
    /// sessions list, or a password change on another device.
    Ended,
    /// A spent refresh token came back: the session was revoked as stolen.
    Security,
}

impl LoginReason {
    /// The value used in the `reason` query parameter.
    pub fn as_query(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Expired => "expired",
            Self::LoggedOut => "logged_out",
            Self::Ended => "ended",
            Self::Security => "security",
        }
    }

    /// Reads the `reason` query parameter; unknown values show no message.
    pub fn from_query(value: &str) -> Option<Self> {
        match value {
            "required" => Some(Self::Required),
            "expired" => Some(Self::Expired),
            "logged_out" => Some(Self::LoggedOut),
            "ended" => Some(Self::Ended),
            "security" => Some(Self::Security),
            _ => None,
        }
    }

    /// The flash message shown above the login form.
    pub fn message(self) -> &'static str {
        match self {
            Self::Required => "Please log in.",
            Self::Expired => "Your session has expired, please log in again.",
            Self::LoggedOut => "You have been logged out.",
            Self::Ended => "Your session was ended, please log in again.",
            Self::Security => "Your session was ended for security reasons, please log in again.",
        }
    }

    /// Whether this message means the browser no longer has a session, so
    /// the other tabs should leave their pages too.
    pub fn ends_session(self) -> bool {
        matches!(self, Self::LoggedOut | Self::Ended | Self::Security)
    }
}

/// Builds `/login?next=...&reason=...`, percent-encoding `next`; without a
/// `next` (after logout) the login leads home.
pub fn login_url(next: Option<&str>, reason: LoginReason) -> String {
    let mut url = String::from("/login?");
    if let Some(next) = next {
        url.push_str("next=");
        for b in next.bytes() {
            push_query_byte(&mut url, b);
        }
        url.push('&');
    }
    url.push_str("reason=");
    url.push_str(reason.as_query());
    url
}

/// Appends `b`, percent-encoded unless it is unreserved (RFC 3986 §2.3) or `/`.
fn push_query_byte(url: &mut String, b: u8) {
    if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
        url.push(char::from(b));
    } else {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        url.push('%');
        url.push(char::from(HEX[usize::from(b >> 4)]));
        url.push(char::from(HEX[usize::from(b & 0x0F)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_url_encodes_next_and_names_reason() {
        assert_eq!(
            login_url(Some("/"), LoginReason::Required),
            "/login?next=/&reason=required"
        );
        assert_eq!(
            login_url(None, LoginReason::LoggedOut),
            "/login?reason=logged_out"
        );
        assert_eq!(
            login_url(Some("/a b?c=d&e"), LoginReason::Expired),
            "/login?next=/a%20b%3Fc%3Dd%26e&reason=expired"
        );
    }

    #[test]
    fn reason_round_trips_through_query() {
        for r in [
            LoginReason::Required,
            LoginReason::Expired,
            LoginReason::LoggedOut,
            LoginReason::Ended,
            LoginReason::Security,
        ] {
            assert_eq!(LoginReason::from_query(r.as_query()), Some(r));
        }
        assert_eq!(LoginReason::from_query("<script>"), None);
    }
}
