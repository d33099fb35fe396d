//! The per-request cost of authentication: issuing and verifying access
//! tokens (HS256, EdDSA, ES256), parsing the `Cookie` header, and the guard's
//! whole token check. `cargo bench --features ssr --bench tokens` measures;
//! `cargo test --features ssr --benches` (run by `make test`) runs each once.

use std::hint::black_box;
use std::time::Duration;

use authbridge::auth::PublicUser;
use authbridge::auth::cookie::{ACCESS_COOKIE, MARKER_COOKIE};
use authbridge::auth::guard::{Session, check_access};
use authbridge::auth::jwt::{JwtKeys, JwtSettings};
use authbridge::auth::keys::{KeyKind, KeySet, generate};
use authbridge::config::{Secret, Settings};
use authbridge::security::cookies::find_all;
use authbridge::server::AppState;
use axum::http::{HeaderMap, HeaderValue, header};
use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};

const SECRET: &str = "benchmark-secret-0123456789abcdef-0123456789";

fn user() -> PublicUser {
    PublicUser {
        id: "9f2c4b1e6a7d4e0f8b3a5c2d1e0f9a8b".into(),
        name: "Benchmark_User".into(),
    }
}

fn keys(set: KeySet) -> JwtKeys {
    JwtKeys::new(JwtSettings {
        keys: set,
        issuer: "authbridge",
        audience: "authbridge",
        ttl: Duration::from_secs(900),
        leeway: Duration::from_secs(5),
    })
}

fn asymmetric(kind: KeyKind) -> JwtKeys {
    let key = KeySet::from_pem(generate(kind).as_bytes()).expect("generated key loads");
    keys(KeySet::from_keys(vec![key]).expect("one key"))
}

fn tokens(c: &mut Criterion) {
    let hs = keys(KeySet::shared_secret(&Secret::new(SECRET.to_owned())).expect("secret"));
    for (name, jwt) in [
        ("hs256", hs),
        ("eddsa", asymmetric(KeyKind::Eddsa)),
        ("es256", asymmetric(KeyKind::Es256)),
    ] {
        let token = jwt.issue(&user(), "session").expect("signs");
        c.bench_function(&format!("issue/{name}"), |b| {
            b.iter(|| jwt.issue(black_box(&user()), "session").expect("signs"));
        });
        c.bench_function(&format!("verify/{name}"), |b| {
            b.iter(|| jwt.verify(black_box(&token)).expect("verifies"));
        });
    }
}

/// A `Cookie` header as a browser sends it to a protected page.
fn cookie_headers(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let cookie = format!(
        "_ga=GA1.1.123456789.1700000000; authbridge_access={token}; authbridge_had_session=1; theme=dark"
    );
    headers.insert(
        header::COOKIE,
        HeaderValue::from_str(&cookie).expect("valid header"),
    );
    headers
}

fn guard(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let settings = Settings::try_parse_from([
        "authbridge",
        "--database-url",
        "mem://",
        "--secret-key",
        SECRET,
    ])
    .expect("settings");
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("authbridge")
        .build();
    let state = runtime
        .block_on(AppState::build(&settings, leptos))
        .expect("state");
    let token = state.jwt.issue(&user(), "session").expect("signs");
    let headers = cookie_headers(&token);

    // The guard's cookie lookup: both of its cookies, in one pass.
    c.bench_function("cookie/parse", |b| {
        b.iter(|| find_all(black_box(&headers), [MARKER_COOKIE, ACCESS_COOKIE]));
    });
    c.bench_function("guard/token_check_hs256", |b| {
        b.iter(|| {
            let session = check_access(&state, black_box(&headers));
            assert!(matches!(session, Session::User(_)));
        });
    });
}

criterion_group!(benches, tokens, guard);
criterion_main!(benches);
