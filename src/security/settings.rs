//! The settings of the request guards, a part of [`crate::config::Settings`],
//! and the rules that make production refuse to start.

use std::net::SocketAddr;

use axum::http::HeaderName;
use clap::{Args, ValueEnum};

use super::SecurityPolicy;
use super::client_ip::ClientIpSource;
use super::csrf::{OriginError, PublicOrigins};
use super::headers::HeaderPolicy;
use super::limits::{
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_COOKIE_BYTES, DEFAULT_MAX_HEADER_BYTES, InputLimits,
    MIN_LIMIT_BYTES,
};
use super::rate_limit::{Limit, LimitClock, LimitSettings, RateLimits};
use crate::config::Environment;

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enforced.
    On,
    /// Not enforced.
    Off,
}

/// Settings of CSRF checks, rate limits, headers, size limits and proxies.
#[derive(Debug, Clone, Args)]
pub struct SecuritySettings {
    /// Origins the pages are served from, comma-separated
    /// (`https://auth.example.com`); state-changing requests must come from
    /// one of them. Required, and https, in production. Defaults in
    /// development to `http://127.0.0.1:PORT` and `http://localhost:PORT`
    /// of the listen address.
    #[arg(long, env = "AUTHBRIDGE_PUBLIC_URL", value_delimiter = ',')]
    pub public_url: Vec<String>,

    /// Whether cookies are `Secure` (and named with the `__Host-` and
    /// `__Secure-` prefixes). Defaults to yes, except in development on a
    /// loopback address; `false` is refused in production.
    #[arg(long, env = "AUTHBRIDGE_COOKIE_SECURE", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub cookie_secure: Option<bool>,

    /// `on` or `off`: whether the login and registration limits apply.
    /// `off` is for load tests and benchmarks, and refused in production.
    /// Defaults to `on`.
    #[arg(long, env = "AUTHBRIDGE_RATE_LIMIT", value_enum, default_value_t = Switch::On)]
    pub rate_limit: Switch,

    /// Failed logins for one username from one client address, as
    /// `N/PERIOD`: N at once, one more every PERIOD/N. Defaults to `5/5m`.
    #[arg(long, env = "AUTHBRIDGE_LOGIN_LIMIT_USER_IP", default_value = "5/5m")]
    pub login_limit_user_ip: Limit,

    /// Failed logins for one username from all addresses together.
    /// Defaults to `50/1h` (a lock lasts at most 72 s).
    #[arg(long, env = "AUTHBRIDGE_LOGIN_LIMIT_USER", default_value = "50/1h")]
    pub login_limit_user: Limit,

    /// Failed logins from one client address, any usernames. Defaults to `30/10m`.
    #[arg(long, env = "AUTHBRIDGE_LOGIN_LIMIT_IP", default_value = "30/10m")]
    pub login_limit_ip: Limit,

    /// Registrations from one client address. Defaults to `10/1h`.
    #[arg(long, env = "AUTHBRIDGE_REGISTER_LIMIT_IP", default_value = "10/1h")]
    pub register_limit_ip: Limit,

    /// Header carrying the client address, written by a reverse proxy in
    /// front (`X-Forwarded-For`, `X-Real-IP`); its last entry is used.
    /// Unset (the default): the TCP peer address. Set it only when the
    /// server is reachable through that proxy alone.
    #[arg(long, env = "AUTHBRIDGE_TRUSTED_PROXY_HEADER", value_parser = parse_header_name)]
    pub trusted_proxy_header: Option<HeaderName>,

    /// Largest request body, in bytes. Defaults to 2 MiB.
    #[arg(long, env = "AUTHBRIDGE_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Largest total of a request's header lines, in bytes. Defaults to 16 KiB.
    #[arg(long, env = "AUTHBRIDGE_MAX_HEADER_BYTES", default_value_t = DEFAULT_MAX_HEADER_BYTES)]
    pub max_header_bytes: usize,

    /// Largest total of a request's `Cookie` headers, in bytes. Defaults to 8 KiB.
    #[arg(long, env = "AUTHBRIDGE_MAX_COOKIE_BYTES", default_value_t = DEFAULT_MAX_COOKIE_BYTES)]
    pub max_cookie_bytes: usize,
}

/// A security setting that makes the server refuse to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityConfigError {
    /// Production without a public URL.
    #[error(
        "AUTHBRIDGE_PUBLIC_URL must be set when AUTHBRIDGE_ENV=production (like https://auth.example.com)"
    )]
    MissingPublicUrl,
    /// Production with a public URL that is not https.
    #[error("AUTHBRIDGE_PUBLIC_URL must be https:// when AUTHBRIDGE_ENV=production")]
    PublicUrlNotHttps,
    /// A public URL that is no origin.
    #[error(transparent)]
    Origin(#[from] OriginError),
    /// Production with cookies that are not `Secure`.
    #[error("AUTHBRIDGE_COOKIE_SECURE=false is refused when AUTHBRIDGE_ENV=production")]
    InsecureCookies,
    /// Production without rate limits.
    #[error("AUTHBRIDGE_RATE_LIMIT=off is refused when AUTHBRIDGE_ENV=production")]
    RateLimitOff,
    /// A size limit too small for our own requests.
    #[error("{0} must be at least {MIN_LIMIT_BYTES} bytes")]
    LimitTooSmall(&'static str),
}

impl SecuritySettings {
    /// Whether cookies get `Secure`: as configured, else always in
    /// production and in development beyond loopback, so that
    /// `http://127.0.0.1` works while developing.
    pub fn cookie_secure(&self, env: Environment, addr: SocketAddr) -> bool {
        self.cookie_secure
            .unwrap_or(env == Environment::Production || !addr.ip().is_loopback())
    }

    /// Checks the settings and builds the policy for a server listening on
    /// `addr`. `reload_port`: the live-reload socket of `cargo leptos
    /// watch`, when running under it.
    pub fn policy(
        &self,
        env: Environment,
        addr: SocketAddr,
        reload_port: Option<u32>,
    ) -> Result<SecurityPolicy, SecurityConfigError> {
        let production = env == Environment::Production;
        let configured = PublicOrigins::parse(&self.public_url)?;
        let origins = match (configured.is_empty(), production) {
            (true, true) => return Err(SecurityConfigError::MissingPublicUrl),
            (false, true) if !configured.all_https() => {
                return Err(SecurityConfigError::PublicUrlNotHttps);
            }
            (true, false) => PublicOrigins::for_listen_address(addr),
            _ => configured,
        };
        if production && self.cookie_secure == Some(false) {
            return Err(SecurityConfigError::InsecureCookies);
        }
        if production && self.rate_limit == Switch::Off {
            return Err(SecurityConfigError::RateLimitOff);
        }
        let limits = self.input_limits()?;

        let extra_connect = reload_port
            .map(|port| {
                origins
                    .hosts()
                    .flat_map(|host| {
                        [
                            format!("ws://{host}:{port}"),
                            format!("wss://{host}:{port}"),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        let client_ip = self
            .trusted_proxy_header
            .clone()
            .map_or(ClientIpSource::Peer, ClientIpSource::ProxyHeader);
        Ok(SecurityPolicy {
            headers: HeaderPolicy {
                hsts: origins.all_https(),
                extra_connect,
            },
            origins,
            client_ip,
            limits,
        })
    }

    /// The rate limits as configured (none when switched off), on `clock`.
    pub fn rate_limits(&self, clock: &LimitClock) -> RateLimits {
        match self.rate_limit {
            Switch::Off => RateLimits::off(),
            Switch::On => RateLimits::with_clock(
                LimitSettings {
                    login_user_ip: self.login_limit_user_ip,
                    login_user: self.login_limit_user,
                    login_ip: self.login_limit_ip,
                    register_ip: self.register_limit_ip,
                },
                clock,
            ),
        }
    }

    fn input_limits(&self) -> Result<InputLimits, SecurityConfigError> {
        for (name, value) in [
            ("AUTHBRIDGE_MAX_BODY_BYTES", self.max_body_bytes),
            ("AUTHBRIDGE_MAX_HEADER_BYTES", self.max_header_bytes),
            ("AUTHBRIDGE_MAX_COOKIE_BYTES", self.max_cookie_bytes),
        ] {
            if value < MIN_LIMIT_BYTES {
                return Err(SecurityConfigError::LimitTooSmall(name));
            }
        }
        Ok(InputLimits {
            max_body_bytes: self.max_body_bytes,
            max_header_bytes: self.max_header_bytes,
            max_cookie_bytes: self.max_cookie_bytes,
        })
    }
}

fn parse_header_name(value: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(value.trim().as_bytes())
        .map_err(|_| format!("{value:?} is not a header name"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::Settings;

    const SECRET: &str = "k3J9vQ2mX8pL5nR7tW1yZ4bC6dF0gH2jK";

    fn policy(args: &[&str]) -> Result<SecurityPolicy, SecurityConfigError> {
        let mut argv = vec!["authbridge", "--secret-key", SECRET];
        argv.extend_from_slice(args);
        let settings = Settings::try_parse_from(argv).unwrap();
        settings
            .security
            .policy(settings.env, "127.0.0.1:3000".parse().unwrap(), None)
    }

    #[test]
    fn development_defaults_to_the_loopback_origins_of_the_listen_address() {
        let p = policy(&[]).unwrap();
        assert!(p.origins.contains("http://127.0.0.1:3000"));
        assert!(p.origins.contains("http://localhost:3000"));
        assert!(!p.origins.contains("http://127.0.0.1:3001"));
        assert!(!p.headers.hsts);
    }

    #[test]
    fn production_needs_an_https_public_url() {
        let prod = |extra: &[&str]| {
            let mut args = vec!["--env", "production"];
            args.extend_from_slice(extra);
            policy(&args).map(|p| p.headers.hsts)
        };
        assert_eq!(prod(&[]), Err(SecurityConfigError::MissingPublicUrl));
        assert_eq!(
            prod(&["--public-url", "http://auth.example.com"]),
            Err(SecurityConfigError::PublicUrlNotHttps)
        );
        assert_eq!(
            prod(&["--public-url", "https://a.example.com,http://b.example.com"]),
            Err(SecurityConfigError::PublicUrlNotHttps)
        );
        assert_eq!(
            prod(&["--public-url", "https://auth.example.com"]),
            Ok(true)
        );
    }

    #[test]
    fn production_refuses_insecure_cookies_and_switched_off_limits() {
        let url = [
            "--env",
            "production",
            "--public-url",
            "https://a.example.com",
        ];
        let with = |extra: &str, value: &str| {
            let mut args = url.to_vec();
            args.extend([extra, value]);
            policy(&args).err()
        };
        assert_eq!(
            with("--cookie-secure", "false"),
            Some(SecurityConfigError::InsecureCookies)
        );
        assert_eq!(
            with("--rate-limit", "off"),
            Some(SecurityConfigError::RateLimitOff)
        );
        assert!(
            policy(&["--rate-limit", "off"]).is_ok(),
            "fine in development"
        );
    }

    #[test]
    fn the_live_reload_socket_is_allowed_only_under_cargo_leptos_watch() {
        let settings = Settings::try_parse_from(["authbridge"]).unwrap();
        let addr = "127.0.0.1:3000".parse().unwrap();
        let watched = settings
            .security
            .policy(Environment::Development, addr, Some(3001))
            .unwrap();
        assert!(
            watched
                .headers
                .extra_connect
                .contains(&"ws://127.0.0.1:3001".to_owned())
        );
    }

    #[test]
    fn limits_have_documented_defaults() {
        let s = Settings::try_parse_from(["authbridge"]).unwrap().security;
        assert_eq!(s.login_limit_user_ip.to_string(), "5/5m");
        assert_eq!(s.login_limit_user.to_string(), "50/1h");
        assert_eq!(s.login_limit_ip.to_string(), "30/10m");
        assert_eq!(s.register_limit_ip.to_string(), "10/1h");
        assert_eq!(s.max_body_bytes, 2 * 1024 * 1024);
        assert!(policy(&["--max-cookie-bytes", "10"]).is_err());
    }
}
