//! Settings, read once at startup from the command line, the environment and
//! `.env` (loaded by `main`). Every setting names its variable and default;
//! `.env.example` lists them all.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Secrets shorter than this (in bytes) are refused in production.
pub const MIN_SECRET_BYTES: usize = 32;

/// Words that mark a copied example value rather than a real secret.
const PLACEHOLDERS: &[&str] = &[
    "supersecret",
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "placeholder",
    "your-secret",
    "your_secret",
    "yoursecret",
    "secretkey",
    "secret_key",
    "secret-key",
];

/// Where the server runs; production makes the secret and cookie checks strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Local development: a random secret is generated when none is set.
    Development,
    /// Anything reachable by others: a strong `SECRET_KEY` is required.
    Production,
}

/// A string that must never be printed: its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself; call only where it is used as key material.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Every setting of the server. `Debug` never shows the secret.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "authbridge",
    version,
    about = "Login and token authority",
    args_override_self = true
)]
pub struct Settings {
    /// `development` or `production`. Defaults to `development`.
    #[arg(long, env = "AUTHBRIDGE_ENV", value_enum, default_value_t = Environment::Development)]
    pub env: Environment,

    /// `surrealkv://DIR` (on disk), `mem://` (tests) or `ws://HOST:PORT` (a
    /// SurrealDB server). Defaults to `surrealkv://data/authbridge?sync=every`:
    /// fsync on every commit, so an acknowledged registration survives a crash.
    #[arg(
        long,
        env = "AUTHBRIDGE_DATABASE_URL",
        default_value = "surrealkv://data/authbridge?sync=every"
    )]
    pub database_url: String,

    /// HMAC key for HS256 tokens, shared with peer services. Required (>= 32
    /// bytes, not a placeholder) in production; random per start in development.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,

    /// Access-token lifetime, also the cookie's `Max-Age`. Defaults to `15m`.
    #[arg(long, env = "AUTHBRIDGE_ACCESS_TTL", default_value = "15m", value_parser = humantime::parse_duration)]
    pub access_ttl: Duration,

    /// Clock skew tolerated when checking `exp`. Defaults to `5s`.
    #[arg(long, env = "AUTHBRIDGE_JWT_LEEWAY", default_value = "5s", value_parser = humantime::parse_duration)]
    pub jwt_leeway: Duration,

    /// `iss` claim written and required. Defaults to `authbridge`.
    #[arg(long, env = "AUTHBRIDGE_JWT_ISSUER", default_value = "authbridge")]
    pub jwt_issuer: String,

    /// `aud` claim written and required. Defaults to `authbridge`.
    #[arg(long, env = "AUTHBRIDGE_JWT_AUDIENCE", default_value = "authbridge")]
    pub jwt_audience: String,

    /// Private keys (PKCS#8 PEM files, Ed25519 or P-256), oldest first, comma
    /// separated: tokens are signed with the last and verify with any, and
    /// the public keys are served at `/.well-known/jwks.json`. Unset: HS256
    /// with `SECRET_KEY`.
    #[arg(long, env = "AUTHBRIDGE_JWT_KEYS", value_delimiter = ',')]
    pub jwt_keys: Vec<std::path::PathBuf>,

    /// Keys to publish in the key set ahead of signing with them (the next
    /// rotation), comma separated: they verify but sign nothing yet.
    #[arg(long, env = "AUTHBRIDGE_JWT_NEXT_KEYS", value_delimiter = ',')]
    pub jwt_next_keys: Vec<std::path::PathBuf>,

    /// Origins of peer services (`http://host:port`, comma separated) that
    /// may send users to our login page with `?next=` pointing back to them.
    /// Any other absolute `next` is refused (no open redirect).
    #[arg(long, env = "AUTHBRIDGE_REDIRECT_ORIGINS", value_delimiter = ',')]
    pub redirect_origins: Vec<String>,

    /// Refresh-token lifetime: how long a session survives without use.
    /// Defaults to `14d`.
    #[arg(long, env = "AUTHBRIDGE_REFRESH_TTL", default_value = "14d", value_parser = humantime::parse_duration)]
    pub refresh_ttl: Duration,

    /// Absolute session lifetime from login, however often it is refreshed.
    /// Defaults to `30d`.
    #[arg(long, env = "AUTHBRIDGE_SESSION_MAX_AGE", default_value = "30d", value_parser = humantime::parse_duration)]
    pub session_max_age: Duration,

    /// How long a just-rotated refresh token may be presented again (two tabs
    /// refreshing at once) and get the same successor. Defaults to `10s`.
    #[arg(long, env = "AUTHBRIDGE_REFRESH_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub refresh_grace: Duration,

    /// How often expired sessions are purged from the store. Defaults to `10m`.
    #[arg(long, env = "AUTHBRIDGE_PURGE_INTERVAL", default_value = "10m", value_parser = humantime::parse_duration)]
    pub purge_interval: Duration,

    /// Password hashes computed at once (each takes 19 MiB). Defaults to the
    /// number of CPU cores.
    #[arg(long, env = "AUTHBRIDGE_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,

    /// Longest a login waits for a hashing slot before "busy". Defaults to `10s`.
    #[arg(long, env = "AUTHBRIDGE_HASH_QUEUE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub hash_queue_timeout: Duration,

    /// CSRF origins, rate limits, cookie security, size limits, proxy.
    #[command(flatten)]
    pub security: crate::security::SecuritySettings,

    /// A command instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands besides serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Prints a new signing key or secret in the format its setting takes.
    Keygen {
        /// `eddsa` or `es256` (a PEM file for AUTHBRIDGE_JWT_KEYS), or
        /// `hs256` (a value for SECRET_KEY).
        #[arg(value_enum)]
        kind: crate::auth::keys::KeyKind,
        /// Write to this new file (owner-only permissions) instead of stdout.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Adds N users named PREFIX0..PREFIXn-1 to the store at
    /// AUTHBRIDGE_DATABASE_URL, for load tests: batched inserts, all with one
    /// password hashed with cheap TEST-ONLY parameters. Never on a real store.
    Seed {
        /// How many users.
        #[arg(long)]
        users: usize,
        /// Name prefix.
        #[arg(long, default_value = "load_")]
        prefix: String,
        /// The password all of them get.
        #[arg(long, default_value = "load-test-password")]
        password: String,
    },
}

/// A setting that makes the server refuse to start.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Production without `SECRET_KEY`.
    #[error("SECRET_KEY must be set when AUTHBRIDGE_ENV=production")]
    MissingSecret,
    /// A secret shorter than [`MIN_SECRET_BYTES`].
    #[error("SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production (got {0})")]
    ShortSecret(usize),
    /// A secret copied from an example.
    #[error("SECRET_KEY looks like a placeholder; generate one with `openssl rand -base64 48`")]
    PlaceholderSecret,
    /// A lifetime of zero.
    #[error("AUTHBRIDGE_ACCESS_TTL must be at least one second")]
    ZeroTtl,
    /// A session setting that cannot work.
    #[error(
        "AUTHBRIDGE_REFRESH_TTL and AUTHBRIDGE_SESSION_MAX_AGE must be at least one second, and AUTHBRIDGE_PURGE_INTERVAL too"
    )]
    ZeroSessionLifetime,
}

/// How the signing secret was obtained, for the startup log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    /// From `SECRET_KEY`.
    Configured,
    /// Generated at startup (development only): tokens die with the process.
    Generated,
}

impl Settings {
    /// Returns the signing secret, enforcing the production rules.
    pub fn signing_secret(&self) -> Result<(Secret, SecretSource), ConfigError> {
        if self.access_ttl < Duration::from_secs(1) {
            return Err(ConfigError::ZeroTtl);
        }
        let second = Duration::from_secs(1);
        if self.refresh_ttl < second
            || self.session_max_age < second
            || self.purge_interval < second
        {
            return Err(ConfigError::ZeroSessionLifetime);
        }
        match (&self.secret_key, self.env) {
            (Some(secret), Environment::Production) => {
                check_secret(secret)?;
                Ok((secret.clone(), SecretSource::Configured))
            }
            (Some(secret), Environment::Development) => {
                Ok((secret.clone(), SecretSource::Configured))
            }
            (None, Environment::Production) => Err(ConfigError::MissingSecret),
            (None, Environment::Development) => Ok((random_secret(), SecretSource::Generated)),
        }
    }

    /// Whether cookies get the `Secure` attribute: `AUTHBRIDGE_COOKIE_SECURE`,
    /// else always in production and in development only when the server
    /// listens beyond loopback, so that `http://127.0.0.1` works while developing.
    pub fn cookie_secure(&self, addr: SocketAddr) -> bool {
        self.security.cookie_secure(self.env, addr)
    }

    /// How many password hashes may run at once.
    pub fn hash_permits(&self) -> usize {
        self.hash_concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1)
    }
}

/// Refuses short secrets and known placeholders.
pub fn check_secret(secret: &Secret) -> Result<(), ConfigError> {
    let value = secret.expose();
    let lowered = value.to_ascii_lowercase();
    if PLACEHOLDERS.iter().any(|p| lowered.contains(p)) {
        return Err(ConfigError::PlaceholderSecret);
    }
    if value.len() < MIN_SECRET_BYTES {
        return Err(ConfigError::ShortSecret(value.len()));
    }
    Ok(())
}

fn random_secret() -> Secret {
    use base64::Engine;
    use rand::RngCore;

    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["authbridge"];
        argv.extend_from_slice(args);
        Settings::try_parse_from(argv).unwrap()
    }

    #[test]
    fn defaults_are_development_on_disk_with_15_minute_tokens() {
        let s = Settings::try_parse_from(["authbridge", "--env", "development"]).unwrap();
        assert_eq!(s.access_ttl, Duration::from_secs(15 * 60));
        assert_eq!(s.jwt_leeway, Duration::from_secs(5));
        assert_eq!(s.refresh_ttl, Duration::from_secs(14 * 86_400));
        assert_eq!(s.session_max_age, Duration::from_secs(30 * 86_400));
        assert!(s.database_url.starts_with("surrealkv://data/"));
    }

    #[test]
    fn durations_are_written_like_2s_15m_14d() {
        assert_eq!(
            settings(&["--access-ttl", "2s"]).access_ttl,
            Duration::from_secs(2)
        );
        assert_eq!(
            settings(&["--access-ttl", "14d"]).access_ttl,
            Duration::from_secs(14 * 86_400)
        );
        assert!(Settings::try_parse_from(["authbridge", "--access-ttl", "soon"]).is_err());
    }

    #[test]
    fn a_later_flag_overrides_an_earlier_one() {
        let s = settings(&["--access-ttl", "1s", "--access-ttl", "2s"]);
        assert_eq!(s.access_ttl, Duration::from_secs(2));
    }

    #[test]
    fn production_refuses_missing_short_and_placeholder_secrets() {
        let prod = |secret: Option<&str>| {
            let mut args = vec!["--env", "production"];
            if let Some(s) = secret {
                args.extend(["--secret-key", s]);
            }
            settings(&args).signing_secret().map(|(_, source)| source)
        };
        assert_eq!(prod(None), Err(ConfigError::MissingSecret));
        assert_eq!(prod(Some("short")), Err(ConfigError::ShortSecret(5)));
        assert_eq!(
            prod(Some("supersecret")),
            Err(ConfigError::PlaceholderSecret)
        );
        assert_eq!(
            prod(Some("changeme-changeme-changeme-changeme")),
            Err(ConfigError::PlaceholderSecret)
        );
        assert_eq!(
            prod(Some("k3J9vQ2mX8pL5nR7tW1yZ4bC6dF0gH2jK")),
            Ok(SecretSource::Configured)
        );
    }

    #[test]
    fn development_generates_a_random_secret_when_unset() {
        let (a, source) = settings(&["--env", "development"])
            .signing_secret()
            .unwrap();
        let (b, _) = settings(&["--env", "development"])
            .signing_secret()
            .unwrap();
        assert_eq!(source, SecretSource::Generated);
        assert!(a.expose().len() >= MIN_SECRET_BYTES);
        assert_ne!(a, b);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let s = settings(&["--secret-key", "do-not-print-this-value-anywhere-123"]);
        let shown = format!("{s:?}");
        assert!(!shown.contains("do-not-print"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn cookies_are_secure_except_on_loopback_in_development() {
        let dev = settings(&["--env", "development"]);
        let prod = settings(&["--env", "production"]);
        let local: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert!(!dev.cookie_secure(local));
        assert!(dev.cookie_secure(public));
        assert!(prod.cookie_secure(local));
    }
}
