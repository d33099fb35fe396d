//! Cross-site request forgery: the browser attaches our cookies to requests
//! that other sites start, so every state-changing request must show that
//! one of our own pages sent it.
//!
//! The rule, for every method but `GET`, `HEAD`, `OPTIONS` and `TRACE`
//! (which change nothing here):
//!
//! 1. A request without any cookie that authenticates with an
//!    `Authorization` header, or goes to `/api/`, is exempt: it carries no
//!    ambient credential, and a page on another site cannot add an
//!    `Authorization` header without a CORS preflight we never grant.
//! 2. `Sec-Fetch-Site` (Fetch Metadata, sent by every current browser) must
//!    be `same-origin` when present. `same-site` is refused too: a sibling
//!    subdomain is not us.
//! 3. `Origin`, when present, must be one of the public origins
//!    (`AUTHBRIDGE_PUBLIC_URL`), compared as scheme, host and port
//!    (RFC 6454). `Origin: null` (sandboxed frames, `data:` pages, some
//!    redirects) is never ours. This also holds when `Sec-Fetch-Site`
//!    said `same-origin`, so a DNS-rebound name is refused.
//! 4. With neither header, `Referer` must name a page on a public origin.
//! 5. A request that shows none of the three is refused: no browser that
//!    could be forged into sending it omits them all.
//!
//! Cookie-less requests are checked too: that is what stops login CSRF (a
//! page that logs the visitor into the attacker's account) and drive-by
//! registrations. No token is needed on top: every browser that sends our
//! `SameSite` cookies also sends `Sec-Fetch-Site` or `Origin` on a POST,
//! and a request without either is refused rather than trusted.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

use super::SecurityPolicy;

/// `Sec-Fetch-Site`, which the `http` crate has no constant for.
pub const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Path prefix of the JSON API, whose cookie-less calls are exempt.
pub const API_PREFIX: &str = "/api/";

/// What the user sees when a request is refused.
pub const REFUSED_MESSAGE: &str = "Refused: this request did not come from this site's own pages. \
     Go back to the page, reload it and try again.";

/// The origins our pages are served from, as `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigins(Vec<Url>);

/// Why a public URL setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not an absolute http(s) URL.
    #[error("AUTHBRIDGE_PUBLIC_URL: {0:?} is not an http:// or https:// URL")]
    NotHttp(String),
    /// Has a path, query, fragment or credentials: an origin is only scheme, host and port.
    #[error(
        "AUTHBRIDGE_PUBLIC_URL: {0:?} must be an origin only (scheme, host, port), without path or query"
    )]
    NotAnOrigin(String),
}

impl PublicOrigins {
    /// Parses the configured origins (`https://auth.example.com`).
    pub fn parse(values: &[String]) -> Result<Self, OriginError> {
        values
            .iter()
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
            .map(|value| {
                let url = Url::parse(value).map_err(|_| OriginError::NotHttp(value.to_owned()))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(OriginError::NotHttp(value.to_owned()));
                }
                let bare = url.path() == "/"
                    && url.query().is_none()
                    && url.fragment().is_none()
                    && url.username().is_empty()
                    && url.password().is_none();
                if !bare {
                    return Err(OriginError::NotAnOrigin(value.to_owned()));
                }
                Ok(url)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The development default: the listen address, and `localhost` as well
    /// when that is a loopback or wildcard address.
    pub fn for_listen_address(addr: SocketAddr) -> Self {
        let port = addr.port();
        let mut values = Vec::new();
        if addr.ip().is_unspecified() || addr.ip().is_loopback() {
            values.push(format!("http://127.0.0.1:{port}"));
            values.push(format!("http://localhost:{port}"));
            if addr.is_ipv6() {
                values.push(format!("http://[::1]:{port}"));
            }
        } else {
            values.push(format!("http://{addr}"));
        }
        // These are well-formed by construction.
        Self::parse(&values).unwrap_or(Self(Vec::new()))
    }

    /// The first origin, serialized (`https://auth.example.com`).
    pub fn primary(&self) -> Option<String> {
        self.0.first().map(|url| url.origin().ascii_serialization())
    }

    /// Whether no origin is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every origin is https.
    pub fn all_https(&self) -> bool {
        !self.0.is_empty() && self.0.iter().all(|url| url.scheme() == "https")
    }

    /// The origins' hosts, for the development reload socket.
    pub fn hosts(&self) -> impl Iterator<Item = String> + '_ {
        self.0
            .iter()
            .filter_map(|url| url.host_str().map(str::to_owned))
    }

    /// Whether `url` (an `Origin` value or a `Referer`) lies on one of the
    /// origins. `null` and anything unparsable never does.
    pub fn contains(&self, url: &str) -> bool {
        let Ok(candidate) = Url::parse(url) else {
            return false;
        };
        let origin = candidate.origin();
        origin.is_tuple() && self.0.iter().any(|ours| ours.origin() == origin)
    }
}

impl std::fmt::Display for PublicOrigins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<String> = self
            .0
            .iter()
            .map(|u| u.origin().ascii_serialization())
            .collect();
        f.write_str(&shown.join(", "))
    }
}

/// The outcome of [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A method that changes nothing.
    Safe,
    /// A cookie-less API or bearer-token call.
    Exempt,
    /// Shown to come from one of our pages.
    SameOrigin,
    /// Refused, and by which rule.
    Refused(Refusal),
}

/// Which rule refused a request (logged, never shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Sec-Fetch-Site` was not `same-origin`.
    FetchSite,
    /// `Origin` was not ours (or `null`).
    Origin,
    /// `Referer` was not ours.
    Referer,
    /// None of the three headers came.
    NoProvenance,
}

/// Applies the rule of this module to a request.
pub fn judge(method: &Method, path: &str, headers: &HeaderMap, origins: &PublicOrigins) -> Verdict {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Verdict::Safe;
    }
    let text = |name: &HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    let cookieless = !headers.contains_key(header::COOKIE);
    if cookieless && (headers.contains_key(header::AUTHORIZATION) || path.starts_with(API_PREFIX)) {
        return Verdict::Exempt;
    }

    let fetch_site = text(&SEC_FETCH_SITE);
    if fetch_site.is_some_and(|site| !site.eq_ignore_ascii_case("same-origin")) {
        return Verdict::Refused(Refusal::FetchSite);
    }
    if let Some(origin) = text(&header::ORIGIN) {
        return if origins.contains(origin) {
            Verdict::SameOrigin
        } else {
            Verdict::Refused(Refusal::Origin)
        };
    }
    if fetch_site.is_some() {
        return Verdict::SameOrigin;
    }
    match text(&header::REFERER) {
        Some(referer) if origins.contains(referer) => Verdict::SameOrigin,
        Some(_) => Verdict::Refused(Refusal::Referer),
        None => Verdict::Refused(Refusal::NoProvenance),
    }
}

/// Axum middleware: refuses with 403 what [`judge`] refuses, before the
/// session is looked at or renewed.
pub async fn csrf_layer(
    State(policy): State<std::sync::Arc<SecurityPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    match judge(
        req.method(),
        req.uri().path(),
        req.headers(),
        &policy.origins,
    ) {
        Verdict::Refused(rule) => {
            tracing::warn!(rule = ?rule, "refused a request that did not come from our pages");
            (StatusCode::FORBIDDEN, REFUSED_MESSAGE).into_response()
        }
        Verdict::Safe | Verdict::Exempt | Verdict::SameOrigin => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn origins() -> PublicOrigins {
        PublicOrigins::for_listen_address("127.0.0.1:3000".parse().unwrap())
    }

    fn post(path: &str, headers: &[(&str, &str)]) -> Verdict {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        judge(&Method::POST, path, &map, &origins())
    }

    #[test]
    fn reads_change_nothing_and_pass() {
        let verdict = judge(&Method::GET, "/auth/logout", &HeaderMap::new(), &origins());
        assert_eq!(verdict, Verdict::Safe);
    }

    #[test]
    fn same_origin_pages_pass_by_any_of_the_three_headers() {
        assert_eq!(
            post("/auth/logout", &[("sec-fetch-site", "same-origin")]),
            Verdict::SameOrigin
        );
        assert_eq!(
            post("/auth/logout", &[("origin", "http://localhost:3000")]),
            Verdict::SameOrigin
        );
        assert_eq!(
            post(
                "/auth/logout",
                &[("referer", "http://127.0.0.1:3000/account?x=1")]
            ),
            Verdict::SameOrigin
        );
    }

    #[test]
    fn other_sites_ports_schemes_and_null_are_refused() {
        for headers in [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("sec-fetch-site", "none")],
            vec![("origin", "null")],
            vec![("origin", "http://127.0.0.1:3001")],
            vec![("origin", "https://127.0.0.1:3000")],
            vec![("origin", "http://evil.example")],
            vec![
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://rebound.example:3000"),
            ],
            vec![("referer", "http://127.0.0.1:4000/login")],
            vec![("referer", "not a url")],
            vec![],
        ] {
            assert!(
                matches!(post("/auth/logout", &headers), Verdict::Refused(_)),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn cookieless_bearer_and_api_calls_are_exempt_but_not_with_a_cookie() {
        assert_eq!(
            post("/api/me", &[("authorization", "Bearer x.y.z")]),
            Verdict::Exempt
        );
        assert_eq!(post("/api/token", &[]), Verdict::Exempt);
        assert_eq!(
            post("/api/logout", &[("cookie", "authbridge_access=t")]),
            Verdict::Refused(Refusal::NoProvenance)
        );
        assert_eq!(
            post(
                "/auth/logout",
                &[("authorization", "Bearer x"), ("cookie", "a=b")]
            ),
            Verdict::Refused(Refusal::NoProvenance)
        );
        // Login and registration need no cookie, and are still checked.
        assert_eq!(
            post("/auth/login", &[]),
            Verdict::Refused(Refusal::NoProvenance)
        );
    }

    #[test]
    fn public_urls_must_be_bare_http_origins() {
        let ok =
            PublicOrigins::parse(&["https://auth.example.com".into(), " http://a:8080/ ".into()])
                .unwrap();
        assert!(ok.contains("https://auth.example.com"));
        assert!(ok.contains("http://a:8080"));
        assert!(!ok.all_https());
        for bad in [
            "auth.example.com",
            "ftp://x",
            "https://x/path",
            "https://u:p@x",
            "https://x/?q",
        ] {
            assert!(PublicOrigins::parse(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_provenance_headers_never_panic(
            site in "\\PC{0,40}",
            origin in "\\PC{0,80}",
            referer in "\\PC{0,120}",
        ) {
            let mut map = HeaderMap::new();
            for (name, value) in [("sec-fetch-site", &site), ("origin", &origin), ("referer", &referer)] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    map.insert(HeaderName::from_static(name), value);
                }
            }
            let verdict = judge(&Method::POST, "/auth/logout", &map, &origins());
            if verdict == Verdict::SameOrigin && !map.contains_key(SEC_FETCH_SITE) {
                let named = map.get("origin").or(map.get("referer")).unwrap().to_str().unwrap();
                let lowered = named.to_ascii_lowercase();
                prop_assert!(
                    lowered.contains("127.0.0.1:3000") || lowered.contains("localhost:3000"),
                    "{named:?} passed"
                );
            }
        }
    }
}
