//! Attack suite, tokens: every forged, altered or misplaced token is refused
//! through HTTP, as a browser would present it, and changes nothing.
//!
//! Each case starts from a real victim with a live session and builds its
//! token from the victim's real claims (real `sub` and `sid`), so a check
//! that let it through would act as the victim: the page would greet them
//! and "log out everywhere" would end their session. Each refused request
//! must answer the login page or 401 (never 200 or 500) and leave the store
//! exactly as it was.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{Jar, SECRET, TestApp, unique_name};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};

const PASSWORD: &str = "correct horse battery";
const ACCESS: &str = "authbridge_access";
const REFRESH: &str = "authbridge_refresh";

/// A user with a live session, and what the store held before the attack.
struct Victim {
    app: TestApp,
    name: String,
    jar: Jar,
    token: String,
    census: authbridge::db::Census,
}

impl Victim {
    async fn new() -> Self {
        Self::with_args(&[]).await
    }

    /// A victim on a server started with extra settings.
    async fn with_args(args: &[&str]) -> Self {
        let app = TestApp::with_args(args).await;
        let name = unique_name("victim");
        let jar = app.register_jar(&name, PASSWORD).await;
        let token = jar.get(ACCESS).expect("access cookie").to_owned();
        let census = app.census().await;
        Self {
            app,
            name,
            jar,
            token,
            census,
        }
    }

    fn header(&self) -> Value {
        decode_segment(&self.token, 0)
    }

    fn claims(&self) -> Value {
        decode_segment(&self.token, 1)
    }

    /// The victim's claims changed by `edit`, signed HS256 with our own secret.
    fn resigned(&self, edit: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.claims();
        edit(&mut claims);
        sign("HS256", &self.header(), &claims, SECRET.as_bytes())
    }
}

fn decode_segment(token: &str, i: usize) -> Value {
    let segment = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&B64.decode(segment).unwrap()).unwrap()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    B64.encode(bytes)
}

fn mac(alg: &str, key: &[u8], input: &[u8]) -> Vec<u8> {
    match alg {
        "HS384" => {
            let mut m = Hmac::<Sha384>::new_from_slice(key).unwrap();
            m.update(input);
            m.finalize().into_bytes().to_vec()
        }
        "HS512" => {
            let mut m = Hmac::<Sha512>::new_from_slice(key).unwrap();
            m.update(input);
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
            m.update(input);
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// A JWT with `header` (its `alg` set to `alg`) and `claims`, MACed with
/// `mac_alg` under `key`.
fn sign_with(alg: &str, mac_alg: &str, header: &Value, claims: &Value, key: &[u8]) -> String {
    let mut header = header.clone();
    header["alg"] = json!(alg);
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = mac(mac_alg, key, input.as_bytes());
    format!("{input}.{}", b64(signature))
}

fn sign(alg: &str, header: &Value, claims: &Value, key: &[u8]) -> String {
    sign_with(alg, alg, header, claims, key)
}

/// Replaces segment `i` of `token` with `segment`.
fn with_segment(token: &str, i: usize, segment: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[i] = segment;
    parts.join(".")
}

fn access(token: &str) -> String {
    format!("{ACCESS}={token}")
}

/// Asserts that a browser presenting `cookie` is nobody: protected pages
/// send it to the login page, the server functions answer 401, nothing of
/// the victim's shows, the store is unchanged and the victim's own session
/// still works.
async fn assert_refused(v: &Victim, cookie: &str) {
    let page = v.app.get_page("/account", Some(cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{cookie:.120}");
    assert!(
        page.location().starts_with("/login?") || page.location().starts_with("/auth/refresh?"),
        "went to {}",
        page.location()
    );
    assert!(!page.body.contains(&v.name));

    let me = v.app.call("/auth/me", &[], Some(cookie)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
    assert!(!me.body.contains(&v.name));

    let change = [
        ("current_password", PASSWORD),
        ("new_password", "a new password"),
    ];
    let sid = v.claims()["sid"].as_str().unwrap().to_owned();
    for (path, form) in [
        ("/auth/logout_everywhere", &[][..]),
        ("/auth/change_password", &change[..]),
        ("/auth/end_session", &[("id", sid.as_str())][..]),
        ("/auth/sessions", &[][..]),
    ] {
        let reply = v.app.call(path, form, Some(cookie)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            reply.body
        );
    }

    assert_eq!(v.app.census().await, v.census, "the store changed");
    let mut own = v.jar.clone();
    let me = v.app.call_with("/auth/me", &[], &mut own).await;
    assert_eq!(me.status, StatusCode::OK, "the victim lost the session");
}

/// One test per attack: `name => |victim| cookie header`.
macro_rules! refused {
    ($($(#[$doc:meta])* $name:ident => $forge:expr;)*) => {$(
        $(#[$doc])*
        #[tokio::test]
        async fn $name() {
            let v = Victim::new().await;
            let forge: fn(&Victim) -> String = $forge;
            let cookie = forge(&v);
            assert_refused(&v, &cookie).await;
        }
    )*};
}

#[tokio::test]
async fn the_real_token_is_accepted_so_each_refusal_means_something() {
    let v = Victim::new().await;
    let page = v.app.get_page("/account", Some(&access(&v.token))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&v.name));
    let resigned = v.resigned(|_| {});
    let me = v.app.call("/auth/me", &[], Some(&access(&resigned))).await;
    assert_eq!(me.status, StatusCode::OK, "our own signature is accepted");
}

refused! {
    /// `alg: none` and no signature.
    alg_none => |v| {
        let mut header = v.header();
        header["alg"] = json!("none");
        access(&format!("{}.{}.", b64(header.to_string()), b64(v.claims().to_string())))
    };
    /// `alg: None`: a spelling some libraries compare case-insensitively.
    alg_none_capitalised => |v| {
        let mut header = v.header();
        header["alg"] = json!("None");
        access(&format!("{}.{}.", b64(header.to_string()), b64(v.claims().to_string())))
    };
    /// `alg: none` keeping the real signature.
    alg_none_with_the_real_signature => |v| {
        let mut header = v.header();
        header["alg"] = json!("none");
        access(&with_segment(&v.token, 0, &b64(header.to_string())))
    };
    /// HS512 under our own secret: the algorithm is pinned to HS256.
    alg_hs512 => |v| access(&sign("HS512", &v.header(), &v.claims(), SECRET.as_bytes()));
    /// HS384 under our own secret.
    alg_hs384 => |v| access(&sign("HS384", &v.header(), &v.claims(), SECRET.as_bytes()));
    /// An RS256 header over an HMAC made with our secret.
    alg_rs256 => |v| access(&sign_with("RS256", "HS256", &v.header(), &v.claims(), SECRET.as_bytes()));
    /// An EdDSA header over an HMAC made with our secret.
    alg_eddsa => |v| access(&sign_with("EdDSA", "HS256", &v.header(), &v.claims(), SECRET.as_bytes()));
    /// An ES256 header over an HMAC made with our secret.
    alg_es256 => |v| access(&sign_with("ES256", "HS256", &v.header(), &v.claims(), SECRET.as_bytes()));
    /// Key confusion: HS256 with a public key (PEM) as the HMAC secret (with
    /// the key our own JWKS serves: see the test after this list).
    key_confusion_public_key_pem_as_hmac_secret => |v| {
        access(&sign("HS256", &v.header(), &v.claims(), PUBLIC_KEY_PEM.as_bytes()))
    };
    /// Key confusion: HS256 with a JWKS entry (JSON) as the HMAC secret.
    key_confusion_jwk_as_hmac_secret => |v| {
        access(&sign("HS256", &v.header(), &v.claims(), PUBLIC_JWK.as_bytes()))
    };
    /// `header.payload.` with the signature removed.
    signature_stripped => |v| access(&with_segment(&v.token, 2, ""));
    /// `header.payload` without the third segment.
    signature_segment_missing => |v| {
        let (unsigned, _) = v.token.rsplit_once('.').unwrap();
        access(unsigned)
    };
    /// The signature cut short.
    signature_truncated => |v| access(&v.token[..v.token.len() - 6]);
    /// Signed with another secret.
    signature_from_another_secret => |v| {
        access(&sign("HS256", &v.header(), &v.claims(), b"another-secret-of-at-least-32-bytes!!"))
    };
    /// Signed with an empty secret.
    signature_with_an_empty_secret => |v| access(&sign("HS256", &v.header(), &v.claims(), b""));
    /// The claims of one token with the signature of another, valid, token.
    signature_spliced_from_another_token => |v| {
        let other = v.resigned(|c| c["jti"] = json!("another"));
        let signature = other.split('.').nth(2).unwrap();
        let mut claims = v.claims();
        claims["name"] = json!("admin");
        access(&format!("{}.{}.{signature}", v.token.split('.').next().unwrap(), b64(claims.to_string())))
    };
    /// The payload edited after signing (another name and user).
    payload_edited_after_signing => |v| {
        let mut claims = v.claims();
        claims["name"] = json!("admin");
        claims["sub"] = json!("someone-else");
        access(&with_segment(&v.token, 1, &b64(claims.to_string())))
    };
    /// The header edited after signing.
    header_edited_after_signing => |v| {
        let mut header = v.header();
        header["kid"] = json!("other");
        access(&with_segment(&v.token, 0, &b64(header.to_string())))
    };
    /// `exp` as a string.
    exp_as_string => |v| access(&v.resigned(|c| c["exp"] = json!(c["exp"].to_string())));
    /// `exp` as a float.
    exp_as_float => |v| access(&v.resigned(|c| c["exp"] = json!(c["exp"].as_u64().unwrap() as f64 + 0.5)));
    /// `exp` as the largest integer: valid for ever.
    exp_huge => |v| access(&v.resigned(|c| c["exp"] = json!(u64::MAX)));
    /// `exp` beyond 64 bits.
    exp_beyond_64_bits => |v| access(&v.resigned(|c| c["exp"] = json!(1e30)));
    /// `exp` negative.
    exp_negative => |v| access(&v.resigned(|c| c["exp"] = json!(-1)));
    /// No `exp` at all.
    exp_missing => |v| access(&v.resigned(|c| { c.as_object_mut().unwrap().remove("exp"); }));
    /// `nbf` as a string.
    nbf_as_string => |v| access(&v.resigned(|c| c["nbf"] = json!(c["iat"].to_string())));
    /// `nbf` as a float.
    nbf_as_float => |v| access(&v.resigned(|c| c["nbf"] = json!(c["iat"].as_u64().unwrap() as f64 - 0.5)));
    /// `nbf` far in the future.
    nbf_huge => |v| access(&v.resigned(|c| c["nbf"] = json!(u64::MAX)));
    /// `iat` as a string.
    iat_as_string => |v| access(&v.resigned(|c| c["iat"] = json!(c["iat"].to_string())));
    /// `iat` as a float.
    iat_as_float => |v| access(&v.resigned(|c| c["iat"] = json!(c["iat"].as_u64().unwrap() as f64 + 0.5)));
    /// `iat` far in the future.
    iat_huge => |v| access(&v.resigned(|c| c["iat"] = json!(u64::MAX)));
    /// Another issuer.
    iss_wrong => |v| access(&v.resigned(|c| c["iss"] = json!("https://evil.example")));
    /// No issuer.
    iss_missing => |v| access(&v.resigned(|c| { c.as_object_mut().unwrap().remove("iss"); }));
    /// Another audience, as a string.
    aud_wrong_string => |v| access(&v.resigned(|c| c["aud"] = json!("another-service")));
    /// Another audience, as an array.
    aud_wrong_array => |v| access(&v.resigned(|c| c["aud"] = json!(["another-service", "third"])));
    /// An empty audience array.
    aud_empty_array => |v| access(&v.resigned(|c| c["aud"] = json!([])));
    /// No audience.
    aud_missing => |v| access(&v.resigned(|c| { c.as_object_mut().unwrap().remove("aud"); }));
    /// The refresh token in the access cookie.
    refresh_token_as_access => |v| access(v.jar.get(REFRESH).unwrap());
    /// The access token in the refresh cookie (and no access cookie).
    access_token_as_refresh => |v| format!("{REFRESH}={}", v.token);
    /// `kid` walking out of a key directory, signed with an empty key
    /// (what `/dev/null` would hold).
    kid_path_traversal => |v| {
        let mut header = v.header();
        header["kid"] = json!("../../../../../../dev/null");
        access(&sign("HS256", &header, &v.claims(), b""))
    };
    /// `kid` as a URL to the attacker's key, signed with that key.
    kid_url => |v| {
        let mut header = v.header();
        header["kid"] = json!("https://evil.example/key.pem");
        access(&sign("HS256", &header, &v.claims(), b"the attacker's own key"))
    };
    /// `kid` as SQL selecting a known key, signed with that key.
    kid_sql_injection => |v| {
        let mut header = v.header();
        header["kid"] = json!("x' UNION SELECT 'known' --");
        access(&sign("HS256", &header, &v.claims(), b"known"))
    };
    /// `kid` as SurrealQL that would delete users, signed with a guess.
    kid_surrealql_injection => |v| {
        let mut header = v.header();
        header["kid"] = json!("'; DELETE user; DELETE session; --");
        access(&sign("HS256", &header, &v.claims(), b"known"))
    };
    /// `kid` as a SurrealQL record id.
    kid_surrealql_record_id => |v| {
        let mut header = v.header();
        header["kid"] = json!("user:⟨x⟩");
        access(&sign("HS256", &header, &v.claims(), b"known"))
    };
    /// A token just over the length bound, validly signed: refused unread.
    token_over_the_length_bound => |v| {
        access(&v.resigned(|c| c["pad"] = json!("p".repeat(authbridge::security::limits::MAX_ACCESS_TOKEN_BYTES))))
    };
    /// A header segment that is not base64url.
    header_invalid_base64 => |v| access(&with_segment(&v.token, 0, "!!not*base64!!"));
    /// A payload segment that is not base64url.
    payload_invalid_base64 => |v| access(&with_segment(&v.token, 1, "%%%%"));
    /// A signature segment that is not base64url.
    signature_invalid_base64 => |v| access(&with_segment(&v.token, 2, "sig+with/std=chars"));
    /// A header segment that is base64 of no JSON.
    header_invalid_json => |v| access(&with_segment(&v.token, 0, &b64("{\"alg\":\"HS256\",")));
    /// A payload segment that is base64 of no JSON.
    payload_invalid_json => |v| access(&with_segment(&v.token, 1, &b64("{\"sub\": nope")));
    /// A signature segment that is base64 of JSON, not a MAC.
    signature_of_json => |v| access(&with_segment(&v.token, 2, &b64("{\"alg\":\"none\"}")));
    /// JSON that is not an object in header and payload.
    segments_not_objects => |v| access(&format!("{}.{}.{}", b64("[]"), b64("42"), v.token.split('.').nth(2).unwrap()));
    /// Five segments, like an encrypted JWT.
    five_segments => |v| access(&format!("{}.{}.x.y", v.token, b64("z")));
    /// An empty cookie value.
    empty_token => |_| access("");
    /// A forged token next to the real one (the real one first).
    two_access_cookies_real_first => |v| {
        let forged = sign("HS256", &v.header(), &v.claims(), b"another-secret-of-at-least-32-bytes!!");
        format!("{}; {}", access(&v.token), access(&forged))
    };
    /// The real token behind a forged one.
    two_access_cookies_forged_first => |v| {
        let forged = sign("HS256", &v.header(), &v.claims(), b"another-secret-of-at-least-32-bytes!!");
        format!("{}; {}", access(&forged), access(&v.token))
    };
}

/// A 100 KB token does not get past the header size limit.
#[tokio::test]
async fn token_of_100_kb_is_refused_before_parsing() {
    let v = Victim::new().await;
    let huge = v.resigned(|c| c["pad"] = json!("p".repeat(100 * 1024)));

    let page = v.app.get_page("/account", Some(&access(&huge))).await;
    let me = v.app.call("/auth/me", &[], Some(&access(&huge))).await;

    for reply in [&page, &me] {
        assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert!(!reply.body.contains(&v.name));
    }
    assert_eq!(v.app.census().await, v.census);
}

/// The public key an attacker would find published: an Ed25519 key (SPKI PEM).
const PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
-----END PUBLIC KEY-----\n";

/// The same key as a JWKS entry.
const PUBLIC_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE","kid":"k1","alg":"EdDSA","use":"sig"}"#;

/// Key confusion with the key an attacker would really use: the one our
/// `/.well-known/jwks.json` serves, as the JWKS document, as the JWK, as
/// its `x` text and as the raw key bytes, under our `kid`.
#[tokio::test]
async fn key_confusion_with_the_key_our_jwks_serves_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.pem");
    let pem = authbridge::auth::keys::generate(authbridge::auth::keys::KeyKind::Eddsa);
    std::fs::write(&path, pem).unwrap();
    let v = Victim::with_args(&["--jwt-keys", path.to_str().unwrap()]).await;
    assert_eq!(v.header()["alg"], "EdDSA", "the victim's token is EdDSA");

    let jwks = v.app.get_page("/.well-known/jwks.json", None).await.body;
    let set: Value = serde_json::from_str(&jwks).unwrap();
    let jwk = set["keys"][0].to_string();
    let x = set["keys"][0]["x"].as_str().unwrap().to_owned();
    let raw = B64.decode(&x).unwrap();
    for secret in [jwks.as_bytes(), jwk.as_bytes(), x.as_bytes(), &raw[..]] {
        let forged = sign("HS256", &v.header(), &v.claims(), secret);
        assert_refused(&v, &access(&forged)).await;
    }
}
