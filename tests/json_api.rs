//! The JSON API for other clients: the OAuth 2.0 token endpoint (password and
//! refresh grants), `/api/me` with Bearer tokens, `/api/logout`, and the key
//! set and discovery document that stock JWT libraries read.

mod common;

use authbridge::auth::keys::{KeyKind, generate};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Reply, SECRET, TestApp, form_encode, unique_name};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Reply {
    let body = form_encode(form);
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

async fn get_with_bearer(app: &TestApp, path: &str, token: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// The refresh-token grant for `token`.
async fn refresh_grant(app: &TestApp, token: &str) -> Reply {
    post_form(
        app,
        "/api/token",
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

/// A registered user and the token response of a password grant.
async fn user_with_tokens(app: &TestApp) -> (String, Value) {
    let name = unique_name("api");
    app.register(&name, PASSWORD).await;
    let reply = post_form(
        app,
        "/api/token",
        &[
            ("grant_type", "password"),
            ("username", &name),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (name, json(&reply))
}

#[tokio::test]
async fn the_password_grant_answers_as_rfc_6749_says() {
    let app = TestApp::new().await;
    let (_, body) = user_with_tokens(&app).await;

    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 43);
}

#[tokio::test]
async fn the_form_fastapi_sends_works_without_grant_type_and_with_scope() {
    let app = TestApp::new().await;
    let name = unique_name("fa");
    app.register(&name, PASSWORD).await;
    let reply = post_form(
        &app,
        "/api/token",
        &[("username", &name), ("password", PASSWORD), ("scope", "")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[header::PRAGMA], "no-cache");
}

#[tokio::test]
async fn token_errors_are_rfc_6749_json() {
    let app = TestApp::new().await;
    let name = unique_name("err");
    app.register(&name, PASSWORD).await;

    for (form, status, code) in [
        (
            vec![("username", name.as_str()), ("password", "wrong password")],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            vec![("username", "nobody_here"), ("password", PASSWORD)],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            vec![("username", name.as_str())],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("grant_type", "client_credentials")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "refresh_token")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "stolen-or-made-up"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
    ] {
        let reply = post_form(&app, "/api/token", &form).await;
        assert_eq!(reply.status, status, "{form:?}: {}", reply.body);
        let body = json(&reply);
        assert_eq!(body["error"], code, "{form:?}");
        assert!(body["error_description"].is_string());
    }

    // JSON instead of a form is a malformed request, not a crash.
    let request = Request::post("/api/token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"username":"x","password":"y"}"#))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&reply)["error"], "invalid_request");
}

#[tokio::test]
async fn the_refresh_grant_rotates_and_a_replay_ends_the_session() {
    let app = TestApp::with_args(&["--refresh-grace", "0s"]).await;
    let (_, first) = user_with_tokens(&app).await;
    let old = first["refresh_token"].as_str().unwrap();

    let reply = refresh_grant(&app, old).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second = json(&reply);
    let new = second["refresh_token"].as_str().unwrap();
    assert_ne!(new, old);

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let replay = refresh_grant(&app, old).await;
    assert_eq!(json(&replay)["error"], "invalid_grant");
    // The whole family went with it, and its access tokens too.
    let after = refresh_grant(&app, new).await;
    assert_eq!(json(&after)["error"], "invalid_grant");
    let me = get_with_bearer(&app, "/api/me", second["access_token"].as_str()).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_me_takes_a_bearer_token_and_says_what_is_wrong_otherwise() {
    let app = TestApp::new().await;
    let (name, tokens) = user_with_tokens(&app).await;
    let access = tokens["access_token"].as_str().unwrap();

    let me = get_with_bearer(&app, "/api/me", Some(access)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(json(&me)["username"], name.as_str());
    assert!(json(&me)["id"].is_string());

    let missing = get_with_bearer(&app, "/api/me", None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.headers[header::WWW_AUTHENTICATE],
        r#"Bearer realm="authbridge""#
    );

    let mut tampered = access.to_owned();
    tampered.pop();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    for bad in [tampered.as_str(), "not-a-jwt", refresh] {
        let reply = get_with_bearer(&app, "/api/me", Some(bad)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{bad}");
        let challenge = reply.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );
    }
}

#[tokio::test]
async fn api_me_ignores_the_browser_cookie() {
    let app = TestApp::new().await;
    let cookie = app.register(&unique_name("ck"), PASSWORD).await;
    let request = Request::get("/api/me")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_logout_revokes_the_refresh_family_and_its_access_tokens() {
    let app = TestApp::new().await;
    let (_, tokens) = user_with_tokens(&app).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let reply = post_form(&app, "/api/logout", &[("refresh_token", refresh)]).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);

    let again = refresh_grant(&app, refresh).await;
    assert_eq!(json(&again)["error"], "invalid_grant");
    let me = get_with_bearer(&app, "/api/me", tokens["access_token"].as_str()).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    // Unknown tokens are no error (RFC 7009), missing ones are.
    let unknown = post_form(&app, "/api/logout", &[("refresh_token", "x")]).await;
    assert_eq!(unknown.status, StatusCode::NO_CONTENT);
    let empty = post_form(&app, "/api/logout", &[]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn api_logout_with_the_bearer_access_token_ends_its_session() {
    let app = TestApp::new().await;
    let (_, tokens) = user_with_tokens(&app).await;
    let access = tokens["access_token"].as_str().unwrap();
    let request = Request::post("/api/logout")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::NO_CONTENT);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let again = refresh_grant(&app, refresh).await;
    assert_eq!(json(&again)["error"], "invalid_grant");
}

fn peer_token(secret: &str, iss: Value, aud: Value) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "sub": "peer-user", "name": "PeerMinted", "iat": now, "exp": now + 60,
        "iss": iss, "aud": aud
    });
    let key = EncodingKey::from_secret(secret.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::default(), &claims, &key).unwrap()
}

#[tokio::test]
async fn a_token_a_peer_minted_with_the_shared_secret_needs_our_iss_and_aud() {
    let app = TestApp::new().await;
    let ours = peer_token(SECRET, "authbridge".into(), "authbridge".into());
    let reply = get_with_bearer(&app, "/api/me", Some(&ours)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(json(&reply)["username"], "PeerMinted");

    for (iss, aud) in [
        (Value::from("someone-else"), Value::from("authbridge")),
        (Value::from("authbridge"), Value::from("another-service")),
        (
            Value::from("authbridge"),
            serde_json::json!(["another-service"]),
        ),
        (Value::Null, Value::from("authbridge")),
    ] {
        let token = peer_token(SECRET, iss.clone(), aud.clone());
        let reply = get_with_bearer(&app, "/api/me", Some(&token)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "iss {iss} aud {aud}"
        );
    }
    let other_secret = peer_token(
        "a-different-secret-of-at-least-32-bytes",
        "authbridge".into(),
        "authbridge".into(),
    );
    let reply = get_with_bearer(&app, "/api/me", Some(&other_secret)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn in_the_shared_secret_mode_the_key_set_is_empty() {
    let app = TestApp::new().await;
    let reply = app.get_page("/.well-known/jwks.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(json(&reply), serde_json::json!({"keys": []}));
    assert!(!reply.body.contains(SECRET));
}

/// A fixture signing with freshly generated key files (oldest first).
async fn with_keys(kinds: &[KeyKind]) -> (TestApp, tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let path = dir.path().join(format!("key{i}.pem"));
        std::fs::write(&path, generate(*kind)).unwrap();
        paths.push(path.to_str().unwrap().to_owned());
    }
    let app = TestApp::with_args(&["--jwt-keys", &paths.join(",")]).await;
    (app, dir, paths)
}

#[tokio::test]
async fn the_key_set_publishes_exactly_the_configured_public_keys() {
    let (app, _dir, paths) = with_keys(&[KeyKind::Eddsa, KeyKind::Es256]).await;
    let reply = app.get_page("/.well-known/jwks.json", None).await;
    let set: JwkSet = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(set.keys.len(), 2);
    let raw = json(&reply);
    for (key, path) in raw["keys"].as_array().unwrap().iter().zip(&paths) {
        assert!(key.get("d").is_none(), "private part published: {key}");
        assert_eq!(key["use"], "sig");
        // The kid is the key's own thumbprint: loading the file again gives it.
        let pem = std::fs::read(path).unwrap();
        let loaded = authbridge::auth::keys::KeySet::from_pem(&pem).unwrap();
        assert_eq!(key["kid"].as_str(), loaded.kid.as_deref());
    }
    assert_eq!(raw["keys"][0]["crv"], "Ed25519");
    assert_eq!(raw["keys"][1]["crv"], "P-256");

    // New tokens are signed by the last key, and verify with the published JWK.
    let (_, tokens) = user_with_tokens(&app).await;
    let access = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("kid published");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&["authbridge"]);
    let decoded =
        jsonwebtoken::decode::<Value>(access, &DecodingKey::from_jwk(jwk).unwrap(), &validation);
    assert!(decoded.is_ok(), "{decoded:?}");
}

#[tokio::test]
async fn with_keys_configured_the_shared_secret_no_longer_mints_tokens() {
    let (app, _dir, _) = with_keys(&[KeyKind::Eddsa]).await;
    let minted = peer_token(SECRET, "authbridge".into(), "authbridge".into());
    let reply = get_with_bearer(&app, "/api/me", Some(&minted)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn discovery_names_the_issuer_keys_and_token_endpoint() {
    let (app, _dir, _) = with_keys(&[KeyKind::Eddsa]).await;
    let reply = app
        .get_page("/.well-known/openid-configuration", None)
        .await;
    let doc = json(&reply);
    assert_eq!(doc["issuer"], "authbridge");
    assert!(
        doc["jwks_uri"]
            .as_str()
            .unwrap()
            .ends_with("/.well-known/jwks.json")
    );
    assert!(
        doc["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/api/token")
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["EdDSA"])
    );
}

#[tokio::test]
async fn startup_refuses_a_key_file_that_is_not_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.txt");
    std::fs::write(&path, "not a key").unwrap();
    let settings = <authbridge::config::Settings as clap::Parser>::try_parse_from([
        "authbridge",
        "--database-url",
        "mem://",
        "--jwt-keys",
        path.to_str().unwrap(),
    ])
    .unwrap();
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("authbridge")
        .build();
    let error = authbridge::server::AppState::build(&settings, leptos)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("secret.txt"), "{error}");
}
