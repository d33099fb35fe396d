//! Access tokens: JWTs signed with the configured keys (see [`crate::auth::keys`]):
//! HS256 with `SECRET_KEY`, or EdDSA / ES256 with `kid`.
//!
//! Verification reads the header only to pick one of our configured keys (by
//! exact `kid` and that key's algorithm), then checks the signature with that
//! key and its algorithm (jsonwebtoken's `crypto::verify`), so `alg: none`,
//! an algorithm we do not use, or HS256 signed with a public key are refused.
//! A header with `crit` or `b64` (RFC 7515 §4.1.11, RFC 7797) is refused: we
//! implement no extension. Only after the signature holds are the claims
//! read, once, into [`Claims`]: `exp`, `iat`, `sub`, `iss` and `aud` are
//! required (RFC 7519 §4.1), `iss`/`aud` must equal our configuration, and
//! `exp`, `nbf` and `iat` are checked with the configured leeway (default 5
//! s, see `AUTHBRIDGE_JWT_LEEWAY`): times must be integers, `nbf` and `iat`
//! not in the future, and `exp` no further ahead than a token issued now
//! would have it, so a token that claims to live for centuries is refused.
//!
//! The claim checks are ours rather than `jsonwebtoken::decode`'s because
//! that function reads the header twice and the claims twice (once into a
//! generic form for its checks): about half of a request's token check
//! (docs/PERFORMANCE.md). The rules are the ones it applied, in its order
//! (`exp` before `iss`/`aud`), and `tests/attack_tokens.rs` tries each.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::auth::PublicUser;
use crate::auth::keys::KeySet;

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
    /// token that has it must have it as an integer in the past (`null` is
    /// refused, not read as absent).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_number"
    )]
    pub nbf: Option<u64>,
    /// Issuer; must equal the configured issuer.
    pub iss: String,
    /// Audience; must equal the configured audience.
    pub aud: String,
    /// Unique token id (random UUID); optional in tokens peers mint.
    #[serde(default)]
    pub jti: String,
    /// The session (refresh-token family) this token belongs to: revoking
    /// the session makes the server refuse the token too. Tokens a peer
    /// minted with the shared secret have none, and belong to no session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
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
    keys: KeySet,
    /// Clock skew tolerated, in seconds.
    leeway: u64,
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
    /// The signing and verification keys.
    pub keys: KeySet,
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
    /// Keys and the rules tokens are checked against.
    pub fn new(settings: JwtSettings<'_>) -> Self {
        Self {
            keys: settings.keys,
            leeway: settings.leeway.as_secs(),
            issuer: settings.issuer.to_owned(),
            audience: settings.audience.to_owned(),
            ttl: settings.ttl,
        }
    }

    /// The public keys (empty in the shared-secret mode).
    pub fn jwks(&self) -> JwkSet {
        self.keys.jwks()
    }

    /// The configured keys.
    pub fn key_set(&self) -> &KeySet {
        &self.keys
    }

    /// The `iss` we write and require.
    pub fn issuer(&self) -> &str {
        &self.issuer
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
            sid: Some(session.to_owned()),
        };
        let key = self.keys.signing();
        let mut header = Header::new(key.alg);
        header.kid = key.kid.clone();
        jsonwebtoken::encode(&header, &claims, &key.encoding)
    }

    /// Checks signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        // `header.payload`, the signed text.
        let message = &token[..header.len() + 1 + payload.len()];
        let header_json = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenError::Invalid)?;
        let header: TokenHeader<'_> = json_object(&header_json)?;
        if header.crit.0 || header.b64.0 {
            return Err(TokenError::Invalid);
        }
        let key = self
            .keys
            .position(header.kid.as_deref(), header.alg)
            .and_then(|index| self.keys.get(index))
            .ok_or(TokenError::Invalid)?;
        let signed =
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key.decoding, key.alg);
        if !matches!(signed, Ok(true)) {
            return Err(TokenError::Invalid);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let claims: Claims = json_object(&payload)?;
        self.check_claims(&claims)?;
        Ok(claims)
    }

    /// The claim rules, on claims whose signature holds. `exp` is checked
    /// first, so an expired token reads as expired whatever else is wrong.
    fn check_claims(&self, claims: &Claims) -> Result<(), TokenError> {
        let now = unix_now();
        if claims.exp.saturating_add(self.leeway) < now {
            return Err(TokenError::Expired);
        }
        let latest = now.saturating_add(self.leeway);
        let in_time = claims.nbf.is_none_or(|nbf| nbf <= latest)
            && claims.iat <= latest
            && claims.exp <= latest.saturating_add(self.ttl.as_secs());
        if in_time && claims.iss == self.issuer && claims.aud == self.audience {
            Ok(())
        } else {
            Err(TokenError::Invalid)
        }
    }
}

/// Reads a header or claims set, which must be a JSON object (serde would
/// also fill a struct from an array, by position) in UTF-8 throughout
/// (serde skips the members we do not read without looking at their bytes).
fn json_object<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, TokenError> {
    if json.trim_ascii_start().first() != Some(&b'{') || std::str::from_utf8(json).is_err() {
        return Err(TokenError::Invalid);
    }
    serde_json::from_slice(json).map_err(|_| TokenError::Invalid)
}

/// An optional claim that, when there, must be a number: `null` is an error.
fn present_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(d).map(Some)
}

/// Whether a header member is there at all, whatever its value (`null`
/// included).
#[derive(Default)]
struct Member(bool);

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Self(true))
    }
}

/// What verification reads of a token's header. Other members are ignored,
/// as RFC 7515 allows; `crit` and `b64` are read only to refuse them.
#[derive(Deserialize)]
struct TokenHeader<'a> {
    alg: Algorithm,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Member,
    #[serde(default)]
    b64: Member,
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

    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};

    use super::*;
    use crate::auth::keys::{KeyKind, SigningKey, generate};
    use crate::config::Secret;

    const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

    fn keys_with(secret: &str, issuer: &str, audience: &str, ttl_secs: u64) -> JwtKeys {
        JwtKeys::new(JwtSettings {
            keys: KeySet::shared_secret(&Secret::new(secret.to_owned())).unwrap(),
            issuer,
            audience,
            ttl: Duration::from_secs(ttl_secs),
            leeway: Duration::from_secs(2),
        })
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
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).unwrap()
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
        assert_eq!(claims.sid.as_deref(), Some("s1"));
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

    /// A token under our secret with this header (as JSON) and good claims.
    fn with_header(header: &serde_json::Value) -> String {
        let claims = claims_json(60, "authbridge", "authbridge");
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{input}.{signature}")
    }

    #[test]
    fn headers_asking_for_extensions_are_refused() {
        let keys = keys();
        let plain = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        assert!(
            keys.verify(&with_header(&plain)).is_ok(),
            "the control passes"
        );
        for header in [
            serde_json::json!({"alg": "HS256", "crit": ["exp"]}),
            serde_json::json!({"alg": "HS256", "crit": ["b64"], "b64": true}),
            serde_json::json!({"alg": "HS256", "b64": false}),
            serde_json::json!({"alg": "hs256"}),
            serde_json::json!({"typ": "JWT"}),
            serde_json::json!(["HS256"]),
        ] {
            assert_eq!(
                keys.verify(&with_header(&header)),
                Err(TokenError::Invalid),
                "{header}"
            );
        }
        // serde_json's `json!` drops a repeated key; written out, it is refused.
        let repeated = r#"{"alg":"HS256","alg":"none"}"#;
        let token = with_header(&plain);
        let forged = format!(
            "{}{}",
            B64.encode(repeated),
            &token[token.find('.').unwrap()..]
        );
        assert_eq!(keys.verify(&forged), Err(TokenError::Invalid));
    }

    /// Found by an attack run on the first version of this verifier: each of
    /// these was signed with our key and accepted, and jsonwebtoken refused it.
    #[test]
    fn null_or_non_utf8_members_are_refused() {
        let keys = keys();
        let mut claims = claims_json(60, "authbridge", "authbridge");
        claims["nbf"] = serde_json::Value::Null;
        assert_eq!(
            keys.verify(&sign(&claims)),
            Err(TokenError::Invalid),
            "nbf: null"
        );
        for header in [
            serde_json::json!({"alg": "HS256", "b64": null}),
            serde_json::json!({"alg": "HS256", "crit": null}),
        ] {
            assert_eq!(
                keys.verify(&with_header(&header)),
                Err(TokenError::Invalid),
                "{header}"
            );
        }
        // A header member we do not read, holding a byte that is not UTF-8.
        let mut header = br#"{"alg":"HS256","zz":""#.to_vec();
        header.extend_from_slice(b"\xff\"}");
        let claims = claims_json(60, "authbridge", "authbridge").to_string();
        let input = format!("{}.{}", B64.encode(&header), B64.encode(claims));
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap();
        assert_eq!(
            keys.verify(&format!("{input}.{signature}")),
            Err(TokenError::Invalid)
        );
        // The control: a valid nbf in the past passes.
        let mut claims = claims_json(60, "authbridge", "authbridge");
        claims["nbf"] = claims["iat"].clone();
        assert!(keys.verify(&sign(&claims)).is_ok());
    }

    #[test]
    fn claims_must_be_an_object() {
        let now = unix_now();
        let in_order = serde_json::json!([
            "u1",
            "Alice",
            now,
            now + 60,
            null,
            "authbridge",
            "authbridge",
            "j1",
            "s1"
        ]);
        assert_eq!(keys().verify(&sign(&in_order)), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_with_more_or_fewer_segments_is_refused() {
        let keys = keys();
        let token = keys.issue(&alice(), "s1").unwrap();
        assert!(keys.verify(&token).is_ok());
        let (message, signature) = token.rsplit_once('.').unwrap();
        for bad in [
            format!("{token}."),
            format!("{token}.{signature}"),
            format!(".{token}"),
            message.to_owned(),
            format!("{message}..{signature}"),
        ] {
            assert_eq!(keys.verify(&bad), Err(TokenError::Invalid), "{bad}");
        }
    }

    #[test]
    fn expiry_is_reported_before_other_claim_errors() {
        // A session that ran out reads as "expired", even when the token
        // was minted by a peer with another audience.
        let token = sign(&claims_json(-60, "authbridge", "someone-else"));
        assert_eq!(keys().verify(&token), Err(TokenError::Expired));
        // An expired token under another key is never "expired": the
        // signature is checked first.
        let other = EncodingKey::from_secret(b"another-secret-also-at-least-32-bytes!!").unwrap();
        let claims = claims_json(-60, "authbridge", "authbridge");
        let forged = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &other).unwrap();
        assert_eq!(keys().verify(&forged), Err(TokenError::Invalid));
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

    fn new_key(kind: KeyKind) -> SigningKey {
        KeySet::from_pem(generate(kind).as_bytes()).unwrap()
    }

    fn keys_of(keys: Vec<SigningKey>) -> JwtKeys {
        JwtKeys::new(JwtSettings {
            keys: KeySet::from_keys(keys).unwrap(),
            issuer: "authbridge",
            audience: "authbridge",
            ttl: Duration::from_secs(60),
            leeway: Duration::from_secs(2),
        })
    }

    /// Signs claims with `key` but an arbitrary header `alg`/`kid`.
    fn sign_as(key: &SigningKey, alg: Algorithm, kid: Option<&str>) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        let claims = claims_json(60, "authbridge", "authbridge");
        jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap()
    }

    #[test]
    fn eddsa_and_es256_tokens_carry_the_kid_and_verify_with_the_published_key() {
        for kind in [KeyKind::Eddsa, KeyKind::Es256] {
            let keys = keys_of(vec![new_key(kind)]);
            let token = keys.issue(&alice(), "s1").unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            let jwks = keys.jwks();
            assert_eq!(jwks.keys.len(), 1);
            let published = &jwks.keys[0];
            assert_eq!(header.kid, published.common.key_id);
            // What a peer does with our JWKS: build the key from the JWK alone.
            let mut validation = Validation::new(header.alg);
            validation.set_audience(&["authbridge"]);
            let peer_key = DecodingKey::from_jwk(published).unwrap();
            let claims = jsonwebtoken::decode::<Claims>(&token, &peer_key, &validation).unwrap();
            assert_eq!(claims.claims.sub, "u1");
            assert!(keys.verify(&token).is_ok());
        }
    }

    #[test]
    fn after_rotation_old_tokens_verify_and_new_ones_carry_the_new_kid() {
        let old_pem = generate(KeyKind::Eddsa);
        let new_pem = generate(KeyKind::Eddsa);
        let load = |pem: &str| KeySet::from_pem(pem.as_bytes()).unwrap();
        let before = keys_of(vec![load(&old_pem)]);
        let old_token = before.issue(&alice(), "s1").unwrap();

        let after = keys_of(vec![load(&old_pem), load(&new_pem)]);
        assert!(after.verify(&old_token).is_ok(), "old token still verifies");
        let new_token = after.issue(&alice(), "s1").unwrap();
        let new_kid = jsonwebtoken::decode_header(&new_token).unwrap().kid;
        assert_eq!(new_kid, load(&new_pem).kid);
        assert_ne!(new_kid, load(&old_pem).kid);
        assert_eq!(after.jwks().keys.len(), 2);
        // Once the old key is removed, its tokens are refused.
        let later = keys_of(vec![load(&new_pem)]);
        assert_eq!(later.verify(&old_token), Err(TokenError::Invalid));
    }

    #[test]
    fn unknown_or_crafted_kids_and_unconfigured_algorithms_are_refused() {
        let key = new_key(KeyKind::Eddsa);
        let kid = key.kid.clone().unwrap();
        let attacker = new_key(KeyKind::Eddsa);
        let keys = keys_of(vec![key]);
        let key = keys.key_set().signing();
        for bad_kid in [
            "../../../../dev/null",
            "https://attacker.example/jwks.json",
            "file:///etc/passwd",
            "user:x; DELETE user;",
            "",
        ] {
            let token = sign_as(key, Algorithm::EdDSA, Some(bad_kid));
            assert_eq!(keys.verify(&token), Err(TokenError::Invalid), "{bad_kid}");
        }
        // No kid at all, or the attacker's own key under our kid.
        assert_eq!(
            keys.verify(&sign_as(key, Algorithm::EdDSA, None)),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            keys.verify(&sign_as(&attacker, Algorithm::EdDSA, Some(&kid))),
            Err(TokenError::Invalid)
        );
        // HS256 with our secret is not accepted once keys are configured...
        let hs = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        let claims = claims_json(60, "authbridge", "authbridge");
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &hs).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Invalid));
        // ...nor HS256 keyed with our public key (key confusion).
        let public = serde_json::to_value(&keys.jwks().keys[0]).unwrap();
        let x = public["x"].as_str().unwrap();
        let confused = EncodingKey::from_secret(x.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&header, &claims, &confused).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Invalid));
    }
}
