//! Security headers on every response.
//!
//! - `Content-Security-Policy`: scripts only from our origin or inline with
//!   this response's nonce (Leptos' hydration script and its resource
//!   data), WebAssembly compilation allowed (`'wasm-unsafe-eval'`, not
//!   `'unsafe-eval'`), styles, images and fetches from our origin only, no
//!   plugins, no `<base>`, forms only to us, and `frame-ancestors 'none'`
//!   (no other site may frame our pages: clickjacking). No `unsafe-inline`.
//! - `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`.
//! - `X-Content-Type-Options: nosniff`.
//! - `Referrer-Policy: same-origin`: our URLs (with their `next=`) are never
//!   sent to other sites, while our own form posts keep their `Referer`.
//! - `Strict-Transport-Security` when the public origins are https
//!   (RFC 6797: browsers ignore it over plain http anyway).
//!
//! The nonce is made here, per request, and handed to Leptos through the
//! request's extensions ([`provide_request_nonce`]), so the header and the
//! `nonce` attributes of the page agree.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, with_context};
use tower_http::set_header::SetResponseHeaderLayer;

use super::SecurityPolicy;

/// The HSTS value: one year (the value preload lists expect), this host only.
pub const HSTS: &str = "max-age=31536000";

/// Which headers this deployment sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderPolicy {
    /// Send `Strict-Transport-Security` (the public origins are https).
    pub hsts: bool,
    /// Extra `connect-src` sources: the live-reload socket of
    /// `cargo leptos watch`, in development only.
    pub extra_connect: Vec<String>,
}

impl HeaderPolicy {
    /// The `Content-Security-Policy` value for a response with `nonce`.
    pub fn csp(&self, nonce: &str) -> String {
        let mut connect = String::from("'self'");
        for source in &self.extra_connect {
            connect.push(' ');
            connect.push_str(source);
        }
        format!(
            "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             connect-src {connect}; style-src 'self'; img-src 'self'; font-src 'self'; \
             manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'; object-src 'none'"
        )
    }
}

/// Axum middleware: makes this request's nonce and sets the
/// `Content-Security-Policy` that allows it.
pub async fn content_security_policy(
    State(policy): State<Arc<SecurityPolicy>>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = Nonce::new();
    req.extensions_mut().insert(nonce.clone());
    let mut response = next.run(req).await;
    if let Ok(csp) = HeaderValue::from_str(&policy.headers.csp(&nonce)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// Adds the fixed headers of this module (tower-http layers) and the
/// `Content-Security-Policy` to every response of `router`.
pub fn with_security_headers<S>(router: Router<S>, policy: &Arc<SecurityPolicy>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let hsts = policy.headers.hsts.then(|| HeaderValue::from_static(HSTS));
    router
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(policy),
            content_security_policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &Response| hsts.clone(),
        ))
}

/// Leptos context hook: provides the nonce [`security_headers`] made for
/// this request, in place of the one Leptos made itself, so the inline
/// scripts carry the nonce the header allows.
pub fn provide_request_nonce() {
    let nonce = with_context::<axum::http::request::Parts, _>(|parts| {
        parts.extensions.get::<Nonce>().cloned()
    })
    .flatten();
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_our_scripts_and_wasm_and_nothing_inline_without_the_nonce() {
        let csp = HeaderPolicy {
            hsts: false,
            extra_connect: Vec::new(),
        }
        .csp("abc123");
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.starts_with("default-src 'none';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(!csp.contains("'unsafe-eval'"));
        assert!(!csp.contains('*'));
    }

    #[test]
    fn the_reload_socket_is_added_to_connect_src_only() {
        let csp = HeaderPolicy {
            hsts: false,
            extra_connect: vec!["ws://127.0.0.1:3001".into()],
        }
        .csp("n");
        assert!(csp.contains("connect-src 'self' ws://127.0.0.1:3001;"));
        assert!(csp.contains("script-src 'self' 'nonce-n'"));
    }
}
