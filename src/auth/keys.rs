//! The keys tokens are signed with, chosen by configuration.
//!
//! - **HS256** with `SECRET_KEY` (no `AUTHBRIDGE_JWT_KEYS`): the shared-secret
//!   mode; every peer that verifies also holds the secret, so every peer can
//!   mint tokens.
//! - **EdDSA (Ed25519) or ES256 (P-256)** with private keys in PKCS#8 PEM
//!   files (`AUTHBRIDGE_JWT_KEYS=old.pem,new.pem`): the public halves are
//!   served as a JWKS and peers need no secret. Each key's `kid` is its RFC
//!   7638 thumbprint. New tokens are signed with the last key listed; tokens
//!   signed with the others verify until they expire, so a key is rotated by
//!   appending a new file, and its predecessor removed one access-token
//!   lifetime later.
//!
//! A token's `kid` only ever selects among these configured keys, by exact
//! match; it is never a path, URL or database key.

use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::config::Secret;

/// Longest `kid` we look up; ours are 43 characters.
pub const MAX_KID_LEN: usize = 64;

/// One key: what signs with it and what verifies it.
pub struct SigningKey {
    /// `kid` header value; `None` for the shared secret.
    pub kid: Option<String>,
    /// The only algorithm this key is used with.
    pub alg: Algorithm,
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    /// The public key as a JWK (asymmetric keys only).
    pub public: Option<Jwk>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Why the configured keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read.
    #[error("cannot read the key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Upcoming keys without current ones.
    #[error("AUTHBRIDGE_JWT_NEXT_KEYS needs AUTHBRIDGE_JWT_KEYS (the key that signs until then)")]
    NextWithoutCurrent,
    /// A key file holds no Ed25519 or P-256 private key in PKCS#8 PEM.
    #[error(
        "{0} is not an Ed25519 or P-256 private key in PKCS#8 PEM (generate one with `authbridge keygen eddsa`)"
    )]
    Unsupported(PathBuf),
    /// The same key listed twice.
    #[error("the key in {0} is listed twice")]
    Duplicate(PathBuf),
    /// The secret could not become a key.
    #[error("signing secret: {0}")]
    Secret(jsonwebtoken::errors::Error),
}

/// The configured keys, oldest first. One of them signs (the last of
/// `AUTHBRIDGE_JWT_KEYS`); keys listed after it (`AUTHBRIDGE_JWT_NEXT_KEYS`)
/// are published and verify, but sign nothing yet.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<SigningKey>,
    signing: usize,
}

impl KeySet {
    /// The shared-secret mode: HS256 with `secret`.
    pub fn shared_secret(secret: &Secret) -> Result<Self, KeyError> {
        let bytes = secret.expose().as_bytes();
        Ok(Self {
            keys: vec![SigningKey {
                kid: None,
                alg: Algorithm::HS256,
                encoding: EncodingKey::from_secret(bytes).map_err(KeyError::Secret)?,
                decoding: DecodingKey::from_secret(bytes).map_err(KeyError::Secret)?,
                public: None,
            }],
            signing: 0,
        })
    }

    /// A set of already loaded keys, oldest first (at least one); the last signs.
    pub fn from_keys(keys: Vec<SigningKey>) -> Option<Self> {
        let signing = keys.len().checked_sub(1)?;
        Some(Self { keys, signing })
    }

    /// Asymmetric keys from PEM files: `current` oldest first (the last one
    /// signs), then `upcoming`, published ahead of signing with them so that
    /// peers caching our key set know them before the first token does.
    pub fn from_files(current: &[PathBuf], upcoming: &[PathBuf]) -> Result<Self, KeyError> {
        let Some(signing) = current.len().checked_sub(1) else {
            return Err(KeyError::NextWithoutCurrent);
        };
        let mut keys: Vec<SigningKey> = Vec::with_capacity(current.len() + upcoming.len());
        for path in current.iter().chain(upcoming) {
            let pem = std::fs::read(path).map_err(|source| KeyError::Read {
                path: path.clone(),
                source,
            })?;
            let key = Self::from_pem(&pem).ok_or_else(|| KeyError::Unsupported(path.clone()))?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(KeyError::Duplicate(path.clone()));
            }
            keys.push(key);
        }
        Ok(Self { keys, signing })
    }

    /// An Ed25519 or P-256 private key from PKCS#8 PEM.
    pub fn from_pem(pem: &[u8]) -> Option<SigningKey> {
        let candidates = [
            (Algorithm::EdDSA, EncodingKey::from_ed_pem(pem)),
            (Algorithm::ES256, EncodingKey::from_ec_pem(pem)),
        ];
        candidates.into_iter().find_map(|(alg, encoding)| {
            let encoding = encoding.ok()?;
            let mut public = Jwk::from_encoding_key(&encoding, alg).ok()?;
            let kid = public.thumbprint(ThumbprintHash::SHA256).ok()?;
            public.common.key_id = Some(kid.clone());
            public.common.public_key_use = Some(PublicKeyUse::Signature);
            let decoding = DecodingKey::from_jwk(&public).ok()?;
            Some(SigningKey {
                kid: Some(kid),
                alg,
                encoding,
                decoding,
                public: Some(public),
            })
        })
    }

    /// The key new tokens are signed with.
    pub fn signing(&self) -> &SigningKey {
        &self.keys[self.signing]
    }

    /// The key a token's header names: `kid` must match one of ours exactly
    /// (or be absent, for the shared secret) and `alg` must be that key's.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&SigningKey> {
        self.position(kid, alg).and_then(|i| self.keys.get(i))
    }

    /// Where [`Self::find`]'s key is in [`Self::keys`].
    pub fn position(&self, kid: Option<&str>, alg: Algorithm) -> Option<usize> {
        if kid.is_some_and(|k| k.len() > MAX_KID_LEN) {
            return None;
        }
        self.keys
            .iter()
            .position(|key| key.kid.as_deref() == kid && key.alg == alg)
    }

    /// The key at `index` of [`Self::keys`].
    pub fn get(&self, index: usize) -> Option<&SigningKey> {
        self.keys.get(index)
    }

    /// Every configured key, oldest first.
    pub fn keys(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys.iter()
    }

    /// Whether tokens are signed with a shared secret.
    pub fn is_shared_secret(&self) -> bool {
        self.signing().public.is_none()
    }

    /// The public keys, for `/.well-known/jwks.json` (empty for HS256).
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(|k| k.public.clone()).collect(),
        }
    }

    /// The algorithms in use, for the discovery document.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let mut algs: Vec<Algorithm> = Vec::new();
        for key in &self.keys {
            if !algs.contains(&key.alg) {
                algs.push(key.alg);
            }
        }
        algs
    }
}

/// What `authbridge keygen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyKind {
    /// An Ed25519 private key (PKCS#8 PEM), for `AUTHBRIDGE_JWT_KEYS`.
    Eddsa,
    /// A P-256 private key (PKCS#8 PEM), for `AUTHBRIDGE_JWT_KEYS`.
    Es256,
    /// A random 48-byte secret (base64), for `SECRET_KEY`.
    Hs256,
}

/// A new key or secret of `kind`, in the format its setting takes.
pub fn generate(kind: KeyKind) -> String {
    use base64::Engine;
    use rand::RngCore;

    let mut bytes = [0u8; 32];
    match kind {
        KeyKind::Hs256 => {
            let mut secret = [0u8; 48];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            format!(
                "{}\n",
                base64::engine::general_purpose::STANDARD.encode(secret)
            )
        }
        KeyKind::Eddsa => {
            use ed25519_dalek::pkcs8::{EncodePrivateKey, KeypairBytes};
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            // PKCS#8 v1 (no public key inside), as `openssl genpkey` writes it.
            let key = KeypairBytes {
                secret_key: bytes,
                public_key: None,
            };
            key.to_pkcs8_pem(Default::default())
                .expect("an Ed25519 key encodes as PKCS#8")
                .to_string()
        }
        KeyKind::Es256 => {
            use p256::pkcs8::EncodePrivateKey;
            // A random 32-byte string is a valid scalar with overwhelming
            // probability; draw again in the rare case it is not.
            loop {
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
                    break key
                        .to_pkcs8_pem(Default::default())
                        .expect("a P-256 key encodes as PKCS#8")
                        .to_string();
                }
            }
        }
    }
}

/// Writes `contents` to `path`, readable by the owner only.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upcoming_keys_are_published_and_verify_but_do_not_sign() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, generate(KeyKind::Eddsa)).unwrap();
            path
        };
        let (current, next) = (write("current.pem"), write("next.pem"));
        let set = KeySet::from_files(std::slice::from_ref(&current), std::slice::from_ref(&next))
            .unwrap();
        let next_kid = KeySet::from_pem(&std::fs::read(&next).unwrap())
            .unwrap()
            .kid;
        let current_kid = KeySet::from_pem(&std::fs::read(&current).unwrap())
            .unwrap()
            .kid;
        assert_eq!(set.signing().kid, current_kid);
        assert_eq!(set.jwks().keys.len(), 2);
        assert!(set.find(next_kid.as_deref(), Algorithm::EdDSA).is_some());
        assert!(matches!(
            KeySet::from_files(&[], &[next]),
            Err(KeyError::NextWithoutCurrent)
        ));
    }

    #[test]
    fn generated_keys_load_with_their_algorithm_and_a_thumbprint_kid() {
        for (kind, alg) in [
            (KeyKind::Eddsa, Algorithm::EdDSA),
            (KeyKind::Es256, Algorithm::ES256),
        ] {
            let pem = generate(kind);
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
            let key = KeySet::from_pem(pem.as_bytes()).expect("loads");
            assert_eq!(key.alg, alg);
            assert_eq!(key.kid.as_deref().map(str::len), Some(43));
            let public = serde_json::to_value(key.public.unwrap()).unwrap();
            assert!(public.get("d").is_none(), "no private part: {public}");
        }
        assert_ne!(generate(KeyKind::Eddsa), generate(KeyKind::Eddsa));
    }

    #[test]
    fn the_secret_mode_publishes_no_key() {
        let set = KeySet::shared_secret(&Secret::new("x".repeat(40))).unwrap();
        assert!(set.is_shared_secret());
        assert!(set.jwks().keys.is_empty());
    }

    #[test]
    fn lookups_need_our_exact_kid_and_its_algorithm() {
        let key = KeySet::from_pem(generate(KeyKind::Eddsa).as_bytes()).unwrap();
        let kid = key.kid.clone().unwrap();
        let set = KeySet::from_keys(vec![key]).unwrap();
        assert!(set.find(Some(&kid), Algorithm::EdDSA).is_some());
        assert!(set.find(Some(&kid), Algorithm::ES256).is_none());
        assert!(set.find(Some(&kid), Algorithm::HS256).is_none());
        assert!(set.find(None, Algorithm::EdDSA).is_none());
        for bad in [
            "../../etc/passwd",
            "https://evil.example/jwks.json",
            "' OR 1=1 --",
            &kid.to_uppercase(),
            &format!("{kid}x"),
        ] {
            assert!(set.find(Some(bad), Algorithm::EdDSA).is_none(), "{bad}");
        }
    }

    #[test]
    fn files_that_are_not_keys_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-a-key.pem");
        std::fs::write(&path, "hello").unwrap();
        let error = KeySet::from_files(&[path], &[]).unwrap_err();
        assert!(error.to_string().contains("not-a-key.pem"), "{error}");
    }
}
