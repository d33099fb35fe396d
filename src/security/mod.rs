//! Holding under attack: the request guards that sit in front of every route.
//!
//! - [`csrf`]: a state-changing request must come from our own pages
//!   (`Sec-Fetch-Site`, else `Origin`, else `Referer`, against the public
//!   origins); bearer-token API calls without cookies are exempt.
//! - [`rate_limit`]: token buckets for failed logins (per username and
//!   address, per username, per address) and for registrations per address.
//! - [`headers`]: a Content-Security-Policy with a per-request nonce for the
//!   hydration script, `frame-ancestors 'none'`, `nosniff`, a referrer
//!   policy, and HSTS when the public origin is https.
//! - [`limits`]: body, header, cookie and URI size limits, and the bound on
//!   a token's length before anything parses it.
//! - [`cookies`]: reading one of our cookies, refusing it when it comes twice.
//! - [`client_ip`]: the client address for limits and logs, from a trusted
//!   proxy header only when configured.
//! - [`settings`]: the settings of all of the above and the production checks.

pub mod client_ip;
pub mod cookies;
pub mod csrf;
pub mod headers;
pub mod limits;
pub mod rate_limit;
pub mod settings;

use std::sync::Arc;

use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;

pub use settings::{SecurityConfigError, SecuritySettings};

/// The security configuration the request guards share, built once at startup.
#[derive(Debug, Clone)]
pub struct SecurityPolicy {
    /// Origins our pages are served from.
    pub origins: csrf::PublicOrigins,
    /// Response headers (CSP, HSTS, ...).
    pub headers: headers::HeaderPolicy,
    /// Where the client address comes from.
    pub client_ip: client_ip::ClientIpSource,
    /// Size limits on requests.
    pub limits: limits::InputLimits,
}

/// Puts the request guards of this module around `router`, outermost
/// first: security headers on every response (refusals included), the
/// header and URI size limits, the body limit, then the CSRF check, which
/// so runs before the session is read or renewed.
pub fn guard_requests<S>(router: Router<S>, policy: &Arc<SecurityPolicy>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let router = router
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(policy),
            csrf::csrf_layer,
        ))
        .layer(RequestBodyLimitLayer::new(policy.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(policy),
            limits::header_limits,
        ));
    headers::with_security_headers(router, policy)
}
