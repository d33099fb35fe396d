//! Access tokens: HS256 JWTs signed with `SECRET_KEY`.
//!
//! Validation pins the algorithm to HS256 (so `alg: none` or an RSA/EC header is
//! refused), requires `exp`, `iat`, `sub`, `iss` and `aud` (RFC 7519 §4.1),
//! and checks `iss`/`aud` against our configuration. `exp`, `nbf` and `iat` are
//! checked with the configured leeway (default 5 s, see `AUTHBRIDGE_JWT_LEEWAY`):
//! times must be integers, `nbf` and `iat` not in the future, and `exp` no
//! further ahead than a token issued now would have it, so a token that
//! claims to live for centuries is refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::PublicUser;
use crate::config::Secret;

/// The signing algorithm; the only one [`JwtKeys::verify`] accepts.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// Longest token we try to parse, in bytes; a cookie of ours is far smaller.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Stable user id.
    pub sub: String,
    /// Username at the time of issue.
    pub name: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Not before, seconds since the Unix epoch; we never write it, but a
    /// token that has it must have it as an integer in the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issuer; must equal the configured issuer.
    pub iss: String,
    /// Audience; must equal the configured audience.
    pub aud: String,
    /// Unique token id (random UUID).
    pub jti: String,
    /// The session (refresh-token family) this token belongs to: revoking
    /// the session makes the server refuse the token too.
    pub sid: String,
}

/// Why a token was refused. Callers only need to tell "expired" from "bad".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Signature and claims were fine but `exp` (plus leeway) has passed.
    #[error("token expired")]
    Expired,
    /// Anything else: bad signature, wrong algorithm, wrong iss/aud, garbage.
    #[error("token invalid")]
    Invalid,
}

/// Signing and verification keys with their fixed validation rules.
/// Built once at startup; cheap to share behind an `Arc`.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Settings for [`JwtKeys::new`].
pub struct JwtSettings<'a> {
    /// HMAC secret (at least 32 bytes in production).
    pub secret: &'a Secret,
    /// Value of `iss` we write and require.
    pub issuer: &'a str,
    /// Value of `aud` we write and require.
    pub audience: &'a str,
    /// Lifetime of issued tokens.
    pub ttl: Duration,
    /// Clock skew tolerated on `exp`.
    pub leeway: Duration,
}

impl JwtKeys {
    /// Builds the keys and the validation rules; fails on an unusable (empty) secret.
    pub fn new(settings: JwtSettings<'_>) -> Result<Self, jsonwebtoken::errors::Error> {
        let secret = settings.secret.expose().as_bytes();
        let mut validation = Validation::new(ALGORITHM);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.set_issuer(&[settings.issuer]);
        validation.set_audience(&[settings.audience]);
        validation.leeway = settings.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            issuer: settings.issuer.to_owned(),
            audience: settings.audience.to_owned(),
            ttl: settings.ttl,
        })
    }

    /// Lifetime of the tokens this issues (also the cookie's `Max-Age`).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a new access token for `user`, valid from now for [`Self::ttl`].
    pub fn issue(
        &self,
        user: &PublicUser,
        session: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = unix_now();
        let claims = Claims {
            sub: user.id.clone(),
            name: user.name.clone(),
            iat: now,
            exp: now + self.ttl.as_secs(),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
    }

    /// Checks signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) if self.times_are_plausible(&data.claims) => Ok(data.claims),
            Ok(_) => Err(TokenError::Invalid),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

impl JwtKeys {
    /// `iat` not in the future, `exp` no later than a token issued now.
    fn times_are_plausible(&self, claims: &Claims) -> bool {
        let latest = unix_now().saturating_add(self.validation.leeway);
        claims.iat <= latest && claims.exp <= latest.saturating_add(self.ttl.as_secs())
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    use super::*;

    const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

    fn keys_with(secret: &str, issuer: &str, audience: &str, ttl_secs: u64) -> JwtKeys {
        JwtKeys::new(JwtSettings {
            secret: &Secret::new(secret.to_owned()),
            issuer,
            audience,
            ttl: Duration::from_secs(ttl_secs),
            leeway: Duration::from_secs(2),
        })
        .unwrap()
    }

    fn keys() -> JwtKeys {
        keys_with(SECRET, "authbridge", "authbridge", 60)
    }

    fn alice() -> PublicUser {
        PublicUser {
            id: "u1".into(),
            name: "Alice".into(),
        }
    }

    /// Signs arbitrary claims with our secret, to build tokens `issue` never would.
    fn sign(claims: &serde_json::Value) -> String {
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(ALGORITHM), claims, &key).unwrap()
    }

    fn claims_json(exp_offset: i64, iss: &str, aud: &str) -> serde_json::Value {
        let now = unix_now() as i64;
        serde_json::json!({
            "sub": "u1", "name": "Alice", "iat": now, "exp": now + exp_offset,
            "iss": iss, "aud": aud, "jti": "j1", "sid": "s1"
        })
    }

    #[test]
    fn issued_token_verifies_with_the_rust_crypto_backend() {
        let keys = keys();
        let token = keys.issue(&alice(), "s1").unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.name, "Alice");
        assert_eq!(claims.sid, "s1");
        assert_eq!(claims.exp - claims.iat, 60);
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("authbridge", "authbridge")
        );
        assert!(!claims.jti.is_empty());
    }

    #[test]
    fn each_token_gets_a_fresh_jti() {
        let keys = keys();
        let a = keys.verify(&keys.issue(&alice(), "s1").unwrap()).unwrap();
        let b = keys.verify(&keys.issue(&alice(), "s1").unwrap()).unwrap();
        assert_ne!(a.jti, b.jti);
    }

    #[test]
    fn tampered_payload_is_invalid() {
        let keys = keys();
        let token = keys.issue(&alice(), "s1").unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
        payload["name"] = "Mallory".into();
        parts[1] = B64.encode(serde_json::to_vec(&payload).unwrap());
        assert_eq!(keys.verify(&parts.join(".")), Err(TokenError::Invalid));
    }

    #[test]
    fn other_secret_is_invalid() {
        let other = keys_with(
            "another-secret-also-at-least-32-bytes!!",
            "authbridge",
            "authbridge",
            60,
        );
        let token = other.issue(&alice(), "s1").unwrap();
        assert_eq!(keys().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn exp_in_past_beyond_leeway_is_expired() {
        let token = sign(&claims_json(-10, "authbridge", "authbridge"));
        assert_eq!(keys().verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn exp_in_past_but_in_leeway_ok() {
        let token = sign(&claims_json(-1, "authbridge", "authbridge"));
        assert!(keys().verify(&token).is_ok());
    }

    #[test]
    fn wrong_issuer_or_audience_is_invalid() {
        let keys = keys();
        let wrong_iss = sign(&claims_json(60, "someone-else", "authbridge"));
        let wrong_aud = sign(&claims_json(60, "authbridge", "someone-else"));
        assert_eq!(keys.verify(&wrong_iss), Err(TokenError::Invalid));
        assert_eq!(keys.verify(&wrong_aud), Err(TokenError::Invalid));
    }

    #[test]
    fn missing_exp_is_invalid() {
        let mut claims = claims_json(60, "authbridge", "authbridge");
        claims.as_object_mut().unwrap().remove("exp");
        assert_eq!(keys().verify(&sign(&claims)), Err(TokenError::Invalid));
    }

    #[test]
    fn alg_none_is_invalid() {
        let header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = B64.encode(claims_json(60, "authbridge", "authbridge").to_string());
        assert_eq!(
            keys().verify(&format!("{header}.{payload}.")),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn other_algorithm_with_our_secret_is_invalid() {
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        let claims = claims_json(60, "authbridge", "authbridge");
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &key).unwrap();
        assert_eq!(keys().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn garbage_and_oversized_tokens_are_invalid() {
        let keys = keys();
        for bad in ["", "abc", "a.b.c", "....", "eyJ.eyJ.sig"] {
            assert_eq!(keys.verify(bad), Err(TokenError::Invalid), "{bad:?}");
        }
        assert_eq!(
            keys.verify(&"a".repeat(MAX_TOKEN_LEN + 1)),
            Err(TokenError::Invalid)
        );
    }
}
