//! The browser contract: protected home, redirects to login with the right
//! message, cookies, logout — driven through the real router.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Jar, SECRET, TestApp, cookie_header, unique_name};
use jsonwebtoken::{EncodingKey, Header};

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn home_without_session_redirects_to_login_with_please_log_in() {
    let app = TestApp::new().await;

    let reply = app.get_page("/", None).await;

    assert!(matches!(
        reply.status,
        StatusCode::SEE_OTHER | StatusCode::FOUND
    ));
    assert_eq!(reply.location(), "/login?next=/&reason=required");
    assert!(
        reply.body.is_empty(),
        "redirect carries a body: {}",
        reply.body
    );

    let login = app.get_page(reply.location(), None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("Please log in."), "{}", login.body);
}

#[tokio::test]
async fn registered_user_is_greeted_by_name_on_home() {
    let app = TestApp::new().await;
    let name = unique_name("Greta");
    let cookie = app.register(&name, PASSWORD).await;

    let home = app.get_page("/", Some(&cookie)).await;

    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&name), "home does not greet {name}");
    assert!(home.body.contains("Log out"));
    assert_eq!(home.headers.get("cache-control").unwrap(), "no-store");
}

#[tokio::test]
async fn access_cookie_is_http_only_lax_root_and_lives_as_long_as_the_token() {
    let app = TestApp::new().await;
    let name = unique_name("cookie");

    let reply = app.try_register(&name, PASSWORD).await;

    let access = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("authbridge_access="))
        .expect("access cookie set");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=900"] {
        assert!(access.contains(attribute), "{attribute} missing: {access}");
    }
    // Development on loopback: plain http is allowed, so no Secure here.
    assert!(!access.contains("Secure"));
}

#[tokio::test]
async fn production_cookies_are_secure_even_on_loopback() {
    let app = TestApp::with_args(&[
        "--env",
        "production",
        "--public-url",
        "https://auth.example.com",
    ])
    .await;
    let name = unique_name("prod");

    let reply = app.try_register(&name, PASSWORD).await;

    let cookies = reply.set_cookies();
    assert_eq!(cookies.len(), 3, "access, refresh, marker: {cookies:?}");
    assert!(
        cookies
            .iter()
            .all(|c| c.contains("Secure") && c.contains("HttpOnly"))
    );
}

#[tokio::test]
async fn token_never_appears_in_html_or_server_function_bodies() {
    let app = TestApp::new().await;
    let name = unique_name("leak");
    let reply = app.try_register(&name, PASSWORD).await;
    let token = reply.cookie("authbridge_access").unwrap();
    let cookie = cookie_header(&reply);

    let home = app.get_page("/", Some(&cookie)).await;
    let me = app.call("/auth/me", &[], Some(&cookie)).await;
    let login = app.try_login(&name, PASSWORD).await;

    for (what, body) in [
        ("register", &reply.body),
        ("home", &home.body),
        ("me", &me.body),
        ("login", &login.body),
    ] {
        assert!(!body.contains(&token), "token leaked into {what}");
        // Any JWT has a base64url JSON header starting with "eyJ".
        assert!(
            !body.contains("eyJ"),
            "something token-like in {what}: {body}"
        );
    }
    assert!(me.body.contains(&name));
}

#[tokio::test]
async fn expired_session_redirects_to_login_saying_session_expired() {
    let app = TestApp::with_args(&["--access-ttl", "1s", "--refresh-ttl", "1s"]).await;
    let mut jar = app.register_jar(&unique_name("late"), PASSWORD).await;

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (login, visited) = app.browse("/", &mut jar).await;

    assert_eq!(
        visited,
        ["/auth/refresh?next=%2F", "/login?next=/&reason=expired"]
    );
    assert!(
        login
            .body
            .contains("Your session has expired, please log in again.")
    );
    assert!(jar.get("authbridge_refresh").is_none());
}

#[tokio::test]
async fn browser_that_dropped_the_expired_cookies_still_hears_expired() {
    let app = TestApp::new().await;
    // The browser removes access and refresh cookies at their Max-Age; only
    // the longer-lived marker remains.
    let mut jar = Jar::default();
    jar.put("authbridge_had_session", "1", "/");
    let (_, visited) = app.browse("/", &mut jar).await;
    assert_eq!(visited, ["/auth/refresh?next=%2F"]);
    let (login, visited) = app.browse("/auth/refresh?next=%2F&retry=1", &mut jar).await;
    assert_eq!(visited, ["/login?next=/&reason=expired"]);
    assert!(login.body.contains("Your session has expired"));
}

#[tokio::test]
async fn redirect_keeps_the_requested_path_as_next() {
    let app = TestApp::new().await;
    let reply = app.get_page("/?tab=2", None).await;
    assert_eq!(reply.location(), "/login?next=/%3Ftab%3D2&reason=required");
}

fn forged(secret: &str, name: &str, exp_offset: i64) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let claims = serde_json::json!({
        "sub": "someone", "name": name, "iat": now, "exp": now + exp_offset,
        "iss": "authbridge", "aud": "authbridge", "jti": "x", "sid": "peer"
    });
    let key = EncodingKey::from_secret(secret.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::default(), &claims, &key).unwrap()
}

#[tokio::test]
async fn forged_or_malformed_tokens_get_login_and_lose_the_cookie() {
    let app = TestApp::new().await;
    let forged = forged("not-our-secret-not-our-secret-not-ours", "admin", 600);
    let alg_none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";

    for token in [forged.as_str(), alg_none, "garbage", ""] {
        let reply = app
            .get_page("/", Some(&format!("authbridge_access={token}")))
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "token {token:?}");
        assert!(!reply.body.contains("admin"));
        if !token.is_empty() {
            assert!(
                reply
                    .set_cookies()
                    .iter()
                    .any(|c| c.starts_with("authbridge_access=;") && c.contains("Max-Age=0")),
                "bad cookie not cleared for {token:?}"
            );
        }
    }
}

#[tokio::test]
async fn token_signed_with_our_secret_is_accepted_only_with_our_claims() {
    let app = TestApp::new().await;
    let good = forged(SECRET, "PeerMinted", 600);
    let reply = app
        .get_page("/", Some(&format!("authbridge_access={good}")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("PeerMinted"));

    let expired = forged(SECRET, "PeerMinted", -30);
    let reply = app
        .get_page("/", Some(&format!("authbridge_access={expired}")))
        .await;
    assert_eq!(reply.location(), "/login?next=/&reason=expired");
}

#[tokio::test]
async fn logout_clears_cookies_and_says_logged_out() {
    let app = TestApp::new().await;
    let cookie = app.register(&unique_name("bye"), PASSWORD).await;

    let reply = app
        .submit("/auth/logout", &[], Some(&cookie), "http://127.0.0.1:3000/")
        .await;

    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), "/login?reason=logged_out");
    for name in [
        "authbridge_access",
        "authbridge_refresh",
        "authbridge_had_session",
    ] {
        assert!(
            reply
                .set_cookies()
                .iter()
                .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
            "{name} not cleared: {:?}",
            reply.set_cookies()
        );
    }
    let login = app.get_page(reply.location(), None).await;
    assert!(login.body.contains("You have been logged out."));
}

#[tokio::test]
async fn logout_is_not_reachable_by_get() {
    let app = TestApp::new().await;
    let reply = app.get_page("/auth/logout", None).await;
    assert!(reply.set_cookies().is_empty());
    assert_ne!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn healthz_answers_once_the_database_is_open() {
    let app = TestApp::new().await;
    let reply = app.get_page("/healthz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "ok");
}

#[tokio::test]
async fn dotted_spellings_of_a_protected_path_are_sent_to_the_real_one() {
    let app = TestApp::new().await;
    let cookie = app.register(&unique_name("dots"), PASSWORD).await;

    for path in ["/%2e", "/.", "/login/..", "/a/../?tab=1"] {
        for session in [None, Some(cookie.as_str())] {
            let reply = app.get_page(path, session).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
            assert!(
                reply.location() == "/" || reply.location() == "/?tab=1",
                "{path} -> {}",
                reply.location()
            );
            assert!(
                !reply.body.contains("Hello"),
                "{path} rendered the home page"
            );
        }
    }
}

#[tokio::test]
async fn logged_in_users_skip_the_login_and_register_forms() {
    let app = TestApp::new().await;
    let cookie = app.register(&unique_name("skip"), PASSWORD).await;

    let login = app
        .get_page("/login?next=%2F%3Ftab%3D3", Some(&cookie))
        .await;
    let register = app.get_page("/register", Some(&cookie)).await;
    let evil = app
        .get_page("/login?next=//evil.example", Some(&cookie))
        .await;

    assert_eq!(
        (login.status, login.location()),
        (StatusCode::SEE_OTHER, "/?tab=3")
    );
    assert_eq!(
        (register.status, register.location()),
        (StatusCode::SEE_OTHER, "/")
    );
    assert_eq!(evil.location(), "/");
}
