//! Registration and login: rules, errors, uniqueness, enumeration, `next`.

mod common;

use axum::http::StatusCode;
use common::{TestApp, cookie_header, unique_name};

use authbridge::auth::username::Username;

const PASSWORD: &str = "correct horse battery";
const REFERER_LOGIN: &str = "http://127.0.0.1:3000/login";

async fn users_named(app: &TestApp, name: &str) -> usize {
    app.state
        .store
        .count_users_named(&Username::parse(name).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn login_with_right_password_sets_a_session_and_redirects_to_next() {
    let app = TestApp::new().await;
    let name = unique_name("nora");
    app.register(&name, PASSWORD).await;

    let form = [
        ("username", name.as_str()),
        ("password", PASSWORD),
        ("next", "/?from=mail"),
    ];
    let reply = app.submit("/auth/login", &form, None, REFERER_LOGIN).await;

    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), "/?from=mail");
    let home = app.get_page("/", Some(&cookie_header(&reply))).await;
    assert!(home.body.contains(&name));
}

#[tokio::test]
async fn next_may_lead_back_to_a_configured_peer_origin_only() {
    let app = TestApp::with_args(&["--redirect-origins", "http://127.0.0.1:5001"]).await;
    let name = unique_name("peer");
    app.register(&name, PASSWORD).await;

    for (next, expected) in [
        (
            "http://127.0.0.1:5001/reports?y=2",
            "http://127.0.0.1:5001/reports?y=2",
        ),
        ("http://127.0.0.1:5002/reports", "/"),
        ("http://127.0.0.1:5001@evil.example/", "/"),
    ] {
        let form = [
            ("username", name.as_str()),
            ("password", PASSWORD),
            ("next", next),
        ];
        let reply = app.submit("/auth/login", &form, None, REFERER_LOGIN).await;
        assert_eq!(reply.location(), expected, "{next}");
    }
}

#[tokio::test]
async fn next_outside_this_site_falls_back_to_home() {
    let app = TestApp::new().await;
    let name = unique_name("ned");
    app.register(&name, PASSWORD).await;

    for evil in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let form = [
            ("username", name.as_str()),
            ("password", PASSWORD),
            ("next", evil),
        ];
        let reply = app.submit("/auth/login", &form, None, REFERER_LOGIN).await;
        assert_eq!(reply.location(), "/", "next={evil:?}");
    }
}

#[tokio::test]
async fn login_is_case_insensitive_and_trims() {
    let app = TestApp::new().await;
    let name = unique_name("Carla");
    app.register(&name, PASSWORD).await;

    let shouted = format!("  {}  ", name.to_uppercase());
    let reply = app.try_login(&shouted, PASSWORD).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.cookie("authbridge_access").is_some());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_exactly_alike() {
    let app = TestApp::new().await;
    let name = unique_name("wendy");
    app.register(&name, PASSWORD).await;

    let wrong = app.try_login(&name, "not the password").await;
    let unknown = app.try_login("nobody_here", PASSWORD).await;
    let malformed = app.try_login("no spaces allowed", PASSWORD).await;

    for reply in [&wrong, &unknown, &malformed] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body, wrong.body);
        assert!(reply.set_cookies().is_empty());
    }
    assert!(wrong.body.contains("InvalidCredentials"));
}

#[tokio::test]
async fn wrong_password_without_javascript_shows_the_error_on_the_form() {
    let app = TestApp::new().await;
    let name = unique_name("nojs");
    app.register(&name, PASSWORD).await;

    let form = [
        ("username", name.as_str()),
        ("password", "wrong password"),
        ("next", "/"),
    ];
    let reply = app
        .submit(
            "/auth/login",
            &form,
            None,
            "http://127.0.0.1:3000/login?next=%2F",
        )
        .await;

    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(
        reply.location().starts_with("/login?next=%2F&"),
        "back to the same form, on our own site: {}",
        reply.location()
    );
    assert!(
        !reply.location().contains("wrong"),
        "the password is never carried back"
    );
    let page = app.get_page(reply.location(), None).await;
    assert!(
        page.body.contains(&format!("value=\"{name}\"")),
        "the username is typed in again for the user"
    );
    assert!(
        page.body.contains("Incorrect username or password."),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn names_differing_only_in_case_are_one_user() {
    let app = TestApp::new().await;
    let name = unique_name("Alice");
    app.register(&name, PASSWORD).await;

    let reply = app
        .call(
            "/auth/register",
            &[("username", &name.to_lowercase()), ("password", PASSWORD)],
            None,
        )
        .await;

    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("UsernameTaken"));
    assert!(reply.set_cookies().is_empty());
    assert_eq!(users_named(&app, &name).await, 1);
}

#[tokio::test]
async fn fifty_parallel_registrations_of_one_name_make_exactly_one_user() {
    // Fifty 19 MiB hashes queue for two slots: on a loaded machine that takes
    // longer than the default queue timeout, which is not what this tests.
    // And fifty registrations from one address are more than the limit allows.
    let app = TestApp::with_args(&[
        "--hash-queue-timeout",
        "300s",
        "--register-limit-ip",
        "100/1m",
    ])
    .await;
    let name = unique_name("race");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let app = app.clone();
        let name = name.clone();
        tasks.spawn(async move {
            // Mixed case on purpose: uniqueness is case-insensitive.
            let name = if i % 2 == 0 {
                name.to_uppercase()
            } else {
                name
            };
            app.try_register(&name, PASSWORD).await.status
        });
    }
    let statuses: Vec<StatusCode> = tasks.join_all().await;

    let created = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let taken = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!(created, 1, "statuses: {statuses:?}");
    assert_eq!(taken, 49, "statuses: {statuses:?}");
    assert_eq!(users_named(&app, &name).await, 1);
}

#[tokio::test]
async fn thai_usernames_register_and_log_in() {
    let app = TestApp::new().await;
    let name = format!("สมชาย{}", unique_name("_"));
    app.register(&name, PASSWORD).await;

    let reply = app.try_login(&name, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_registration_input_gets_a_clear_error_and_stores_nothing() {
    let app = TestApp::new().await;
    let huge = "a".repeat(1_000_000);
    let cases: [(&str, &str, &str); 7] = [
        ("", PASSWORD, "Please enter a username."),
        ("ab", PASSWORD, "at least 3 characters"),
        (&huge, PASSWORD, "at most 32 characters"),
        ("bad\u{7}name", PASSWORD, "may only contain"),
        ("fine_name", "short", "at least 8 characters"),
        ("fine_name", &huge, "at most 128 characters"),
        ("fine_name", "pass\u{0}word123", "control characters"),
    ];
    for (username, password, message) in cases {
        let reply = app
            .submit(
                "/auth/register",
                &[("username", username), ("password", password)],
                None,
                "http://127.0.0.1:3000/register",
            )
            .await;
        assert_eq!(reply.status, StatusCode::FOUND, "{message}");
        let location = reply.location().trim_start_matches("http://127.0.0.1:3000");
        let page = app.get_page(location, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(message),
            "expected {message:?} on the form"
        );

        let js = app.try_register(username, password).await;
        assert_eq!(js.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(js.set_cookies().is_empty());
    }
    assert_eq!(users_named(&app, "fine_name").await, 0);
}

#[tokio::test]
async fn missing_fields_are_a_bad_request_not_a_server_error() {
    let app = TestApp::new().await;
    let reply = app
        .call("/auth/register", &[("username", "only_name")], None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("BadRequest"));
}

#[tokio::test]
async fn absurd_login_input_is_refused_like_a_wrong_password() {
    let app = TestApp::new().await;
    let huge = "x".repeat(1_000_000);
    let reply = app.try_login(&huge, &huge).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("InvalidCredentials"));
}

#[tokio::test]
async fn failed_form_post_never_redirects_off_our_site() {
    let app = TestApp::new().await;
    let form = [("username", "someone"), ("password", "wrong password")];

    for referer in [
        "https://evil.example/login?x=1",
        "https://evil.example/phish",
        "//evil.example/login",
        "javascript:alert(1)//x/login",
    ] {
        let reply = app.submit("/auth/login", &form, None, referer).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        assert!(
            reply.location().starts_with("/login?"),
            "{referer} -> {}",
            reply.location()
        );
    }
}

#[tokio::test]
async fn input_that_is_no_valid_name_is_not_carried_back_in_the_url() {
    let app = TestApp::new().await;
    let form = [
        ("username", "My Secret Pass 123!"),
        ("password", "wrong password"),
    ];

    let reply = app
        .submit("/auth/login", &form, None, "http://127.0.0.1:3000/login")
        .await;

    assert!(
        reply.location().starts_with("/login?"),
        "{}",
        reply.location()
    );
    assert!(!reply.location().contains("Secret"), "{}", reply.location());
}

#[tokio::test]
async fn unicode_look_alikes_of_a_taken_name_are_refused() {
    let app = TestApp::new().await;
    let base = unique_name("strasse");
    app.register(&base, PASSWORD).await;

    let folded = base.replace("ss", "ß").to_uppercase().replace("SS", "ß");
    let full_width: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                char::from_u32(c as u32 - 0x61 + 0xFF41).unwrap()
            } else {
                c
            }
        })
        .collect();
    for twin in [folded, full_width] {
        let reply = app.try_register(&twin, PASSWORD).await;
        assert_eq!(
            reply.status,
            StatusCode::CONFLICT,
            "{twin:?} registered next to {base:?}"
        );
    }
    for bad in [
        format!("{base}\u{3164}"),
        format!("\u{430}{base}"),
        "...".to_owned(),
    ] {
        let reply = app.try_register(&bad, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad:?} accepted");
    }
    assert_eq!(users_named(&app, &base).await, 1);
}

#[tokio::test]
async fn unknown_user_costs_the_same_hashing_work_as_a_wrong_password() {
    let app = TestApp::new().await;
    let name = unique_name("work");
    app.register(&name, PASSWORD).await;

    let before = app.state.hasher.hashes_run();
    app.try_login(&name, "not the password").await;
    let wrong_password = app.state.hasher.hashes_run() - before;
    app.try_login("nobody_by_this_name", "not the password")
        .await;
    let unknown_user = app.state.hasher.hashes_run() - before - wrong_password;
    app.try_login("no spaces allowed", "not the password").await;
    let malformed = app.state.hasher.hashes_run() - before - wrong_password - unknown_user;

    assert_eq!(wrong_password, 1);
    assert_eq!(unknown_user, wrong_password);
    assert_eq!(malformed, wrong_password);
}

#[tokio::test]
async fn oversized_request_bodies_are_refused_before_anything_runs() {
    let app = TestApp::new().await;
    let huge = "a".repeat(3 * 1024 * 1024);

    let reply = app.try_register(&huge, PASSWORD).await;

    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.set_cookies().is_empty());
}
