//! The client's address, for rate limits, the sessions list and the logs.
//!
//! By default it is the peer of the TCP connection. Behind a reverse proxy
//! every request comes from the proxy, so `AUTHBRIDGE_TRUSTED_PROXY_HEADER`
//! (for example `X-Forwarded-For` or `X-Real-IP`) names the header the proxy
//! writes; the address is then the *last* entry of that header, the one our
//! proxy appended (entries before it were written by the client and prove
//! nothing). Enable it only when the server cannot be reached except
//! through that proxy: anyone who reaches it directly could name any address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;

use super::SecurityPolicy;

/// The client address of a request, in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Where the client address comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ClientIpSource {
    /// The TCP peer (no proxy in front).
    #[default]
    Peer,
    /// The last address in this header, written by our trusted proxy.
    ProxyHeader(HeaderName),
}

impl ClientIpSource {
    /// The client address of a request from `peer` with `headers`. Falls
    /// back to the peer when the proxy header is missing or unreadable.
    pub fn resolve(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        match self {
            Self::Peer => peer,
            Self::ProxyHeader(name) => headers
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.rsplit(',').next())
                .and_then(parse_address)
                .or(peer),
        }
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1` or `[2001:db8::1]:4711`.
pub fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Axum middleware: records the [`ClientIp`] of the request.
pub async fn client_ip_layer(
    State(policy): State<Arc<SecurityPolicy>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(ip) = policy.client_ip.resolve(req.headers(), peer) {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// The client address recorded for a request, if any.
pub fn of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions.get::<ClientIp>().map(|ip| ip.0)
}

/// [`of`], or the unspecified address when none was recorded (one shared
/// bucket for the rate limits rather than none).
pub fn of_or_unspecified(extensions: &axum::http::Extensions) -> IpAddr {
    of(extensions).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn proxy() -> ClientIpSource {
        ClientIpSource::ProxyHeader(HeaderName::from_static("x-forwarded-for"))
    }

    const PEER: &str = "10.0.0.1";

    fn peer() -> Option<IpAddr> {
        PEER.parse().ok()
    }

    #[test]
    fn without_a_trusted_proxy_the_header_is_ignored() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(ClientIpSource::Peer.resolve(&headers, peer()), peer());
    }

    #[test]
    fn behind_the_proxy_the_last_entry_counts() {
        let headers = forwarded(&["198.51.100.1, 203.0.113.9"]);
        assert_eq!(
            proxy().resolve(&headers, peer()),
            "203.0.113.9".parse().ok()
        );
        let two_lines = forwarded(&["198.51.100.1", "[2001:db8::7]:4711"]);
        assert_eq!(
            proxy().resolve(&two_lines, peer()),
            "2001:db8::7".parse().ok()
        );
    }

    #[test]
    fn a_missing_or_garbled_header_falls_back_to_the_peer() {
        assert_eq!(proxy().resolve(&HeaderMap::new(), peer()), peer());
        assert_eq!(
            proxy().resolve(&forwarded(&["1.2.3.4, junk"]), peer()),
            peer()
        );
    }

    proptest! {
        #[test]
        fn any_header_value_resolves_without_panic(value in "[ -~]{0,80}") {
            if let Ok(v) = HeaderValue::from_str(&value) {
                let mut map = HeaderMap::new();
                map.insert("x-forwarded-for", v);
                let ip = proxy().resolve(&map, peer());
                prop_assert!(ip.is_some());
            }
        }
    }
}
