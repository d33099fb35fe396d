//! The cookies we set, built with the `cookie` crate's typed builder.
//!
//! - the access cookie holds the JWT: `HttpOnly` (page scripts cannot read it),
//!   `SameSite=Lax`, `Path=/`, `Secure` unless developing on loopback, and a
//!   `Max-Age` equal to the token lifetime;
//! - the "had a session" marker holds no secret, only `1`. The browser drops the
//!   access cookie when it expires, so without the marker an expired session
//!   would look like a visitor who never logged in; with it the login page can
//!   say "your session has expired". It lives for [`MARKER_MAX_AGE`] and is
//!   cleared on logout.

use std::time::Duration;

use axum_extra::extract::cookie::{Cookie, SameSite};

/// Name of the cookie that carries the access token.
pub const ACCESS_COOKIE: &str = "authbridge_access";
/// Name of the cookie that marks a browser that had a session.
pub const MARKER_COOKIE: &str = "authbridge_had_session";
/// Lifetime of the marker cookie.
pub const MARKER_MAX_AGE: Duration = Duration::from_secs(30 * 86_400);

/// Builds the `Set-Cookie` values for our cookies, with one `Secure` policy.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// Whether to add the `Secure` attribute.
    pub secure: bool,
}

impl CookiePolicy {
    /// The access cookie for a freshly issued token.
    pub fn access(self, token: String, ttl: Duration) -> Cookie<'static> {
        self.base(ACCESS_COOKIE, token, ttl)
    }

    /// The marker cookie that outlives the access cookie.
    pub fn marker(self) -> Cookie<'static> {
        self.base(MARKER_COOKIE, "1".to_owned(), MARKER_MAX_AGE)
    }

    /// A cookie that deletes `name` (empty value, `Max-Age=0`).
    pub fn removal(self, name: &'static str) -> Cookie<'static> {
        self.base(name, String::new(), Duration::ZERO)
    }

    fn base(self, name: &'static str, value: String, max_age: Duration) -> Cookie<'static> {
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .max_age(time::Duration::seconds(seconds))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_cookie_is_http_only_lax_root_with_token_max_age() {
        let header = CookiePolicy { secure: true }
            .access("tok".into(), Duration::from_secs(900))
            .to_string();
        for part in [
            "authbridge_access=tok",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
            "Max-Age=900",
        ] {
            assert!(header.contains(part), "{part} missing in {header}");
        }
    }

    #[test]
    fn insecure_policy_omits_secure_only() {
        let header = CookiePolicy { secure: false }
            .access("t".into(), Duration::from_secs(5))
            .to_string();
        assert!(!header.contains("Secure"));
        assert!(header.contains("HttpOnly"));
    }

    #[test]
    fn removal_expires_the_cookie_now() {
        let header = CookiePolicy { secure: false }
            .removal(ACCESS_COOKIE)
            .to_string();
        assert!(header.starts_with("authbridge_access=;"), "{header}");
        assert!(header.contains("Max-Age=0"));
    }
}
