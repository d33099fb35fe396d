//! Size limits, checked before anything reads the request.
//!
//! - the body: `AUTHBRIDGE_MAX_BODY_BYTES` (2 MiB) on every route, by
//!   tower-http's `RequestBodyLimitLayer` (413);
//! - all header lines together: `AUTHBRIDGE_MAX_HEADER_BYTES` (16 KiB), and
//!   the `Cookie` headers together: `AUTHBRIDGE_MAX_COOKIE_BYTES` (8 KiB),
//!   answered 431 (RFC 6585); our own cookies need well under 1 KiB;
//! - the URI: [`MAX_URI_BYTES`] (414);
//! - an access token longer than [`MAX_ACCESS_TOKEN_BYTES`] is refused
//!   before it is parsed; usernames and passwords are length-checked before
//!   any hashing (see `auth::username` and `auth::password_rules`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::SecurityPolicy;

/// Default body limit: big enough that an oversized form field reaches
/// validation and gets a clear message.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Default limit on all header lines of a request together.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default limit on the `Cookie` headers of a request together.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 8 * 1024;
/// Smallest value any of the three limits may be set to.
pub const MIN_LIMIT_BYTES: usize = 1024;
/// Longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Longest access token we parse. Ours are about 400 bytes.
pub const MAX_ACCESS_TOKEN_BYTES: usize = 4096;

/// The configured size limits, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Request body.
    pub max_body_bytes: usize,
    /// All header names and values together.
    pub max_header_bytes: usize,
    /// All `Cookie` header values together.
    pub max_cookie_bytes: usize,
}

/// Why a request is too big, if it is.
pub fn oversized(req: &Request, limits: &InputLimits) -> Option<StatusCode> {
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri > MAX_URI_BYTES {
        return Some(StatusCode::URI_TOO_LONG);
    }
    let headers = req.headers();
    let all: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let cookies: usize = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|value| value.len())
        .sum();
    (all > limits.max_header_bytes || cookies > limits.max_cookie_bytes)
        .then_some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
}

/// Axum middleware: answers 414 or 431 to a request over the limits.
pub async fn header_limits(
    State(policy): State<Arc<SecurityPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    match oversized(&req, &policy.limits) {
        Some(status) => {
            tracing::info!(status = status.as_u16(), "refused an oversized request");
            (status, "Request too large.").into_response()
        }
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    const LIMITS: InputLimits = InputLimits {
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
    };

    fn request(cookie: usize, other: usize, path: usize) -> Request {
        let path = format!("/{}", "p".repeat(path));
        Request::get(path)
            .header(header::COOKIE, format!("a={}", "c".repeat(cookie)))
            .header("x-other", "o".repeat(other))
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn ordinary_requests_pass() {
        assert_eq!(oversized(&request(800, 500, 20), &LIMITS), None);
    }

    #[test]
    fn big_cookies_headers_and_uris_are_refused() {
        let too_large = Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(oversized(&request(9 * 1024, 0, 1), &LIMITS), too_large);
        assert_eq!(oversized(&request(10, 17 * 1024, 1), &LIMITS), too_large);
        assert_eq!(
            oversized(&request(10, 10, 9 * 1024), &LIMITS),
            Some(StatusCode::URI_TOO_LONG)
        );
    }
}
