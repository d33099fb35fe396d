//! Property tests (fuzzing on stable Rust) of the entry points that read
//! untrusted tokens and cookies: the token verifier, and the whole router
//! fed arbitrary `Cookie` headers and mutated copies of a real token.
//!
//! Properties: nothing panics, nothing answers 500, garbage never
//! authenticates, and a mutated token is either refused or still the
//! victim's own session (never anyone else's).
//!
//! `FUZZ_CASES` cases per property by default, so CI spends well under a
//! minute here; run longer with, for example,
//! `PROPTEST_CASES=200000 cargo test --features ssr --release --test fuzz_parsing`.

mod common;

use std::sync::LazyLock;

use axum::http::StatusCode;
use common::{TestApp, unique_name};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const FUZZ_CASES: u32 = 1_000;

const PASSWORD: &str = "correct horse battery";

/// One application and one victim for all cases (built once: a new store
/// per case would measure SurrealDB, not our parsers).
struct Target {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
    name: String,
    token: String,
    refresh: String,
}

static TARGET: LazyLock<Target> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let name = unique_name("fuzzed");
    let (app, jar) = runtime.block_on(async {
        let app = TestApp::new().await;
        let jar = app.register_jar(&name, PASSWORD).await;
        (app, jar)
    });
    Target {
        token: jar.get("authbridge_access").unwrap().to_owned(),
        refresh: jar.get("authbridge_refresh").unwrap().to_owned(),
        runtime,
        app,
        name,
    }
});

fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = FUZZ_CASES;
    }
    // Some edits change nothing (a truncation past the end, a swap of
    // segments a refresh token does not have); those cases are skipped.
    config.max_global_rejects = config.cases;
    config.failure_persistence = None;
    config
}

/// Sends `cookie` to a protected page and to a server function; returns
/// both replies' status and whether they show the victim.
fn present(cookie: &str) -> [(StatusCode, bool); 2] {
    let t = &*TARGET;
    t.runtime.block_on(async {
        let page = t.app.get_page("/account", Some(cookie)).await;
        let me = t.app.call("/auth/me", &[], Some(cookie)).await;
        [
            (page.status, page.body.contains(&t.name)),
            (me.status, me.body.contains(&t.name)),
        ]
    })
}

fn cookie_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("authbridge_access".to_owned()),
        Just("authbridge_refresh".to_owned()),
        Just("authbridge_had_session".to_owned()),
        Just("__Host-authbridge_access".to_owned()),
        "[!-~&&[^=;]]{1,12}",
    ]
}

/// A cookie value: printable ASCII with the characters that matter to the
/// parsers (`.`, `=`, `;`, quotes, base64 alphabets) over-represented.
fn cookie_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,200}",
        "[A-Za-z0-9_=.;\"+/-]{0,600}",
        "(eyJ[A-Za-z0-9_-]{0,60}\\.){0,4}[A-Za-z0-9_-]{0,60}",
    ]
}

/// How a real token is damaged.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Remove(usize),
    Truncate(usize),
    SwapSegments(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let c = proptest::char::range(' ', '~');
    prop_oneof![
        (any::<usize>(), c.clone()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), c).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Truncate),
        (0..3usize, 0..3usize).prop_map(|(a, b)| Edit::SwapSegments(a, b)),
    ]
}

fn apply(token: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    for edit in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match *edit {
            Edit::Replace(i, c) if !chars.is_empty() => {
                let i = at(i, chars.len());
                chars[i] = c;
            }
            Edit::Insert(i, c) => chars.insert(at(i, chars.len() + 1), c),
            Edit::Remove(i) if !chars.is_empty() => {
                chars.remove(at(i, chars.len()));
            }
            Edit::Truncate(i) => chars.truncate(at(i, chars.len() + 1)),
            Edit::SwapSegments(a, b) => {
                let text: String = chars.iter().collect();
                let mut parts: Vec<&str> = text.split('.').collect();
                if a < parts.len() && b < parts.len() {
                    parts.swap(a, b);
                }
                chars = parts.join(".").chars().collect();
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_verifier_refuses_any_string_without_panicking(token in "\\PC{0,300}") {
        prop_assert!(TARGET.app.state.jwt.verify(&token).is_err());
    }

    #[test]
    fn arbitrary_cookie_headers_never_fail_and_never_authenticate(
        pairs in proptest::collection::vec((cookie_name(), cookie_value()), 0..6),
        separator in prop_oneof![Just("; "), Just(";"), Just(" ; "), Just(",")],
    ) {
        let cookie: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let cookie = cookie.join(separator);
        prop_assume!(axum::http::HeaderValue::from_str(&cookie).is_ok());
        for (status, shows_victim) in present(&cookie) {
            prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{cookie:?}");
            prop_assert!(status != StatusCode::OK, "{cookie:?} authenticated");
            prop_assert!(!shows_victim);
        }
    }

    #[test]
    fn a_damaged_token_is_refused_or_still_only_the_victims(
        edits in proptest::collection::vec(edit(), 1..4),
        as_refresh in any::<bool>(),
    ) {
        let t = &*TARGET;
        let damaged = apply(&t.token, &edits);
        prop_assume!(axum::http::HeaderValue::from_str(&damaged).is_ok());
        let cookie = if as_refresh {
            // Not a refresh token: never renews (and never rotates the real one).
            format!("authbridge_refresh={damaged}; authbridge_had_session=1")
        } else {
            format!("authbridge_access={damaged}")
        };
        for (status, shows_victim) in present(&cookie) {
            prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{damaged:?}");
            if status == StatusCode::OK {
                prop_assert!(!as_refresh && shows_victim, "{damaged:?} is someone else");
            }
        }
    }

    #[test]
    fn a_damaged_refresh_token_never_renews(edits in proptest::collection::vec(edit(), 1..4)) {
        let t = &*TARGET;
        let damaged = apply(&t.refresh, &edits);
        // Spaces around a cookie value are not part of it (RFC 6265 §5.2):
        // those are the real token, which would renew (and be spent).
        prop_assume!(damaged.trim_matches(' ') != t.refresh);
        prop_assume!(axum::http::HeaderValue::from_str(&damaged).is_ok());
        let reply = t.runtime.block_on(
            t.app.call("/auth/renew", &[], Some(&format!("authbridge_refresh={damaged}"))),
        );
        prop_assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", damaged);
    }
}
