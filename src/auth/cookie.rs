//! The cookies we set, built with the `cookie` crate's typed builder.
//!
//! - the access cookie holds the JWT: `HttpOnly` (page scripts cannot read it),
//!   `SameSite=Lax`, `Path=/`, `Secure` unless developing on loopback, and a
//!   `Max-Age` equal to the token lifetime;
//! - the refresh cookie holds the opaque refresh token: `HttpOnly`, `Secure` as
//!   the access cookie, `SameSite=Strict`, and `Path=/auth`: the prefix of the
//!   refresh route (`/auth/refresh`) and of the server functions, which
//!   refresh inline. Pages, assets and other services under the same host
//!   never receive it;
//! - the "had a session" marker holds no secret, only `1`. The browser drops the
//!   access cookie when it expires, and never sends the refresh cookie to a
//!   page, so the marker is how a page request knows there may be a session
//!   to renew (through `/auth/refresh`) or one that has expired. It outlives
//!   the refresh token by [`MARKER_EXTRA`] and is cleared on logout.
//!
//! When cookies are `Secure` their names carry a prefix the browser
//! enforces (RFC 6265bis §4.1.3): `__Host-` on the access and marker
//! cookies, which a browser accepts only with `Secure`, `Path=/` and no
//! `Domain`, so no sibling subdomain and no plain-http page can plant or
//! overwrite them. The refresh cookie cannot be `__Host-`: it has
//! `Path=/auth` so that pages never receive it, and `__Host-` requires
//! `Path=/`. It gets `__Secure-` instead (set only over https, with
//! `Secure`), and a planted second copy is refused when read (see
//! `security::cookies`). Developing over plain http on loopback, cookies
//! are not `Secure` and keep the plain names, which browsers would refuse
//! with a prefix.

use std::time::Duration;

use axum_extra::extract::cookie::{Cookie, SameSite};

/// Name of the cookie that carries the access token.
pub const ACCESS_COOKIE: &str = "authbridge_access";
/// Name of the cookie that carries the refresh token.
pub const REFRESH_COOKIE: &str = "authbridge_refresh";
/// Name of the cookie that marks a browser that had a session.
pub const MARKER_COOKIE: &str = "authbridge_had_session";
/// How much longer the marker lives than the refresh token: while it is there,
/// a browser whose session ran out hears "your session has expired".
pub const MARKER_EXTRA: Duration = Duration::from_secs(30 * 86_400);
/// The only path the refresh cookie is sent to.
pub const REFRESH_PATH: &str = "/auth";
/// [`ACCESS_COOKIE`]'s name when cookies are `Secure`.
pub const SECURE_ACCESS_COOKIE: &str = "__Host-authbridge_access";
/// [`REFRESH_COOKIE`]'s name when cookies are `Secure`.
pub const SECURE_REFRESH_COOKIE: &str = "__Secure-authbridge_refresh";
/// [`MARKER_COOKIE`]'s name when cookies are `Secure`.
pub const SECURE_MARKER_COOKIE: &str = "__Host-authbridge_had_session";

/// Builds the `Set-Cookie` values for our cookies, with one `Secure` policy.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// Whether to add the `Secure` attribute.
    pub secure: bool,
}

impl CookiePolicy {
    /// The name cookie `name` (one of [`ACCESS_COOKIE`], [`REFRESH_COOKIE`],
    /// [`MARKER_COOKIE`]) has on the wire: prefixed when `Secure`.
    pub fn name(self, name: &'static str) -> &'static str {
        match (self.secure, name) {
            (true, ACCESS_COOKIE) => SECURE_ACCESS_COOKIE,
            (true, REFRESH_COOKIE) => SECURE_REFRESH_COOKIE,
            (true, MARKER_COOKIE) => SECURE_MARKER_COOKIE,
            _ => name,
        }
    }

    /// The access cookie for a freshly issued token.
    pub fn access(self, token: String, ttl: Duration) -> Cookie<'static> {
        self.base(ACCESS_COOKIE, token, ttl)
    }

    /// The refresh cookie, living as long as the token.
    pub fn refresh(self, token: String, ttl: Duration) -> Cookie<'static> {
        let mut cookie = self.base(REFRESH_COOKIE, token, ttl);
        cookie.set_same_site(SameSite::Strict);
        cookie.set_path(REFRESH_PATH);
        cookie
    }

    /// The marker cookie, outliving the refresh token by [`MARKER_EXTRA`].
    pub fn marker(self, refresh_ttl: Duration) -> Cookie<'static> {
        self.base(MARKER_COOKIE, "1".to_owned(), refresh_ttl + MARKER_EXTRA)
    }

    /// A cookie that deletes `name` (empty value, `Max-Age=0`, its own path).
    pub fn removal(self, name: &'static str) -> Cookie<'static> {
        let mut cookie = self.base(name, String::new(), Duration::ZERO);
        if name == REFRESH_COOKIE {
            cookie.set_same_site(SameSite::Strict);
            cookie.set_path(REFRESH_PATH);
        }
        cookie
    }

    /// Removals of all three cookies: the end of a session in this browser.
    pub fn removals(self) -> [Cookie<'static>; 3] {
        [
            self.removal(ACCESS_COOKIE),
            self.removal(REFRESH_COOKIE),
            self.removal(MARKER_COOKIE),
        ]
    }

    fn base(self, name: &'static str, value: String, max_age: Duration) -> Cookie<'static> {
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        Cookie::build((self.name(name), value))
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
    fn refresh_cookie_is_strict_and_only_sent_to_the_auth_routes() {
        let header = CookiePolicy { secure: true }
            .refresh("r".into(), Duration::from_secs(60))
            .to_string();
        for part in [
            "authbridge_refresh=r",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/auth",
            "Secure",
            "Max-Age=60",
        ] {
            assert!(header.contains(part), "{part} missing in {header}");
        }
        let removal = CookiePolicy { secure: true }
            .removal(REFRESH_COOKIE)
            .to_string();
        assert!(removal.contains("Path=/auth"), "{removal}");
    }

    #[test]
    fn secure_cookies_carry_the_host_and_secure_prefixes() {
        let policy = CookiePolicy { secure: true };
        let access = policy
            .access("t".into(), Duration::from_secs(5))
            .to_string();
        let marker = policy.marker(Duration::from_secs(5)).to_string();
        let refresh = policy
            .refresh("r".into(), Duration::from_secs(5))
            .to_string();
        let removal = policy.removal(REFRESH_COOKIE).to_string();
        // `__Host-`: Secure, Path=/ and no Domain, or the browser drops it.
        for host in [&access, &marker] {
            assert!(host.starts_with("__Host-authbridge_"), "{host}");
            assert!(
                host.contains("Path=/;") || host.ends_with("Path=/"),
                "{host}"
            );
            assert!(
                host.contains("Secure") && !host.contains("Domain"),
                "{host}"
            );
        }
        assert!(
            refresh.starts_with("__Secure-authbridge_refresh=r"),
            "{refresh}"
        );
        assert!(refresh.contains("Path=/auth") && refresh.contains("Secure"));
        assert!(
            removal.starts_with("__Secure-authbridge_refresh=;"),
            "{removal}"
        );
        assert_eq!(
            CookiePolicy { secure: false }.name(ACCESS_COOKIE),
            ACCESS_COOKIE
        );
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
