//! Attack suite, guessing: failed logins are limited per username and
//! address, per username and per address; registrations per address. Only
//! failures count, a lock answers like a wrong password with "try again in
//! N seconds", costs the same work, and ends by itself.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Reply, TestApp, unique_name};

const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "wrong guess 123";
const ATTACKER: &str = "203.0.113.7";
const ELSEWHERE: &str = "198.51.100.20";
const REFERER_LOGIN: &str = "http://127.0.0.1:3000/login";

fn is_wrong_password(reply: &Reply) -> bool {
    reply.status == StatusCode::UNAUTHORIZED && reply.body.contains("InvalidCredentials")
}

fn is_locked(reply: &Reply) -> bool {
    reply.status == StatusCode::TOO_MANY_REQUESTS && reply.body.contains("TooManyAttempts")
}

/// What the login form shows after a plain form post.
async fn form_message(app: &TestApp, name: &str, password: &str) -> String {
    let form = [("username", name), ("password", password)];
    let reply = app.submit("/auth/login", &form, None, REFERER_LOGIN).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let page = app.get_page(reply.location(), None).await;
    let at = page
        .body
        .find("class=\"form-error\"")
        .expect("an error on the form");
    let start = at + page.body[at..].find('>').unwrap() + 1;
    let end = start + page.body[start..].find('<').unwrap();
    page.body[start..end].to_owned()
}

/// The `retry_after_secs` of a locked reply.
fn retry_after(reply: &Reply) -> u32 {
    let digits: String = reply.body.chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

#[tokio::test]
async fn fifty_wrong_passwords_for_one_user_from_one_address_are_throttled() {
    let app = TestApp::new().await;
    let name = unique_name("guessed");
    app.register(&name, PASSWORD).await;
    let attacker = app.at_ip(ATTACKER);
    let before = app.state.hasher.hashes_run();

    let mut replies = Vec::new();
    for i in 0..50 {
        replies.push(attacker.try_login(&name, &format!("{WRONG}{i}")).await);
    }

    let wrong = replies.iter().filter(|r| is_wrong_password(r)).count();
    let locked = replies.iter().filter(|r| is_locked(r)).count();
    assert_eq!((wrong, locked), (5, 45), "default: 5 failures, then locked");
    assert!(
        replies[5..].iter().all(is_locked),
        "once locked, stays locked"
    );
    let wait = retry_after(&replies[49]);
    assert_eq!(wait, 60, "one attempt back per minute");
    assert_eq!(
        replies[49].headers["retry-after"],
        wait.to_string().as_str()
    );
    assert_eq!(
        app.state.hasher.hashes_run() - before,
        50,
        "a locked attempt costs what a wrong password costs"
    );
    // Even the right password waits: the lock is not an oracle.
    assert!(is_locked(&attacker.try_login(&name, PASSWORD).await));
    // The real user, elsewhere, is not locked out.
    let real = app.at_ip(ELSEWHERE).try_login(&name, PASSWORD).await;
    assert_eq!(real.status, StatusCode::OK, "{}", real.body);
}

#[tokio::test]
async fn a_locked_login_says_what_a_wrong_password_says_and_when_to_retry() {
    let app = TestApp::new().await;
    let name = unique_name("hinted");
    app.register(&name, PASSWORD).await;
    let attacker = app.at_ip(ATTACKER);

    let first = form_message(&attacker, &name, WRONG).await;
    for _ in 0..4 {
        attacker.try_login(&name, WRONG).await;
    }
    let locked = form_message(&attacker, &name, WRONG).await;

    assert_eq!(first, "Incorrect username or password.");
    let hint = locked
        .strip_prefix("Incorrect username or password. Too many attempts: try again in ")
        .and_then(|rest| rest.strip_suffix(" seconds."))
        .unwrap_or_else(|| panic!("{locked}"));
    assert_eq!(hint, "60", "{locked}");
}

#[tokio::test]
async fn locked_names_look_the_same_whether_or_not_they_exist() {
    let app = TestApp::new().await;
    let real = unique_name("exists");
    app.register(&real, PASSWORD).await;
    let ghost = unique_name("ghost");
    let attacker = app.at_ip(ATTACKER);

    let mut last = Vec::new();
    for name in [&real, &ghost] {
        for _ in 0..5 {
            attacker.try_login(name, WRONG).await;
        }
        let before = app.state.hasher.hashes_run();
        let reply = attacker.try_login(name, WRONG).await;
        let work = app.state.hasher.hashes_run() - before;
        last.push((reply.status, retry_after(&reply).div_ceil(10), work));
        assert!(is_locked(&reply));
    }
    // The same answer (the wait to within the seconds that passed), the same work.
    assert_eq!(last[0], last[1]);
    assert_eq!(last[0].2, 1, "one (dummy) hash each");
}

#[tokio::test]
async fn page_reloads_never_count() {
    let app = TestApp::new().await;
    let name = unique_name("reloader");
    app.register(&name, PASSWORD).await;
    let user = app.at_ip(ATTACKER);

    for _ in 0..100 {
        assert_eq!(user.get_page("/login", None).await.status, StatusCode::OK);
        user.get_page("/register", None).await;
    }
    for _ in 0..4 {
        assert!(is_wrong_password(&user.try_login(&name, WRONG).await));
    }
    let reply = user.try_login(&name, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn logging_in_correctly_never_locks_anyone_out() {
    let app = TestApp::new().await;
    let name = unique_name("regular");
    app.register(&name, PASSWORD).await;

    for i in 0..40 {
        let reply = app.try_login(&name, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "login {i}: {}", reply.body);
    }
}

#[tokio::test]
async fn the_lock_ends_by_itself_after_its_penalty() {
    let app = TestApp::with_args(&["--login-limit-user-ip", "2/6s"]).await;
    let name = unique_name("patient");
    app.register(&name, PASSWORD).await;

    app.try_login(&name, WRONG).await;
    app.try_login(&name, WRONG).await;
    let locked = app.try_login(&name, PASSWORD).await;
    assert!(is_locked(&locked), "{}", locked.body);
    let wait = retry_after(&locked);
    assert_eq!(wait, 3, "one attempt back every 3 s");
    // Hammering the lock does not lengthen it.
    for _ in 0..5 {
        assert!(is_locked(&app.try_login(&name, WRONG).await));
    }

    // Just short of the promised wait, still locked; at it, the right
    // password gets in.
    app.limit_clock.advance(Duration::from_millis(2_900));
    assert!(is_locked(&app.try_login(&name, PASSWORD).await));
    app.limit_clock.advance(Duration::from_millis(100));
    let reply = app.try_login(&name, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn trying_many_usernames_from_one_address_is_throttled() {
    let app = TestApp::new().await;
    let name = unique_name("sprayed");
    app.register(&name, PASSWORD).await;
    let attacker = app.at_ip(ATTACKER);

    for i in 0..30 {
        let reply = attacker.try_login(&format!("guess_{i}"), WRONG).await;
        assert!(is_wrong_password(&reply), "attempt {i}");
    }
    assert!(is_locked(&attacker.try_login("guess_31", WRONG).await));
    assert!(is_locked(&attacker.try_login(&name, PASSWORD).await));
    let elsewhere = app.at_ip(ELSEWHERE).try_login(&name, PASSWORD).await;
    assert_eq!(elsewhere.status, StatusCode::OK);
}

#[tokio::test]
async fn guessing_one_username_from_many_addresses_is_throttled() {
    let app = TestApp::with_args(&["--login-limit-user", "10/10m"]).await;
    let name = unique_name("botnet");
    app.register(&name, PASSWORD).await;

    for i in 0..10 {
        let bot = app.at_ip(&format!("192.0.2.{}", i + 1));
        assert!(is_wrong_password(&bot.try_login(&name, WRONG).await));
    }
    let fresh = app.at_ip("192.0.2.200").try_login(&name, WRONG).await;
    assert!(is_locked(&fresh), "{}", fresh.body);
    assert!(
        retry_after(&fresh) <= 60,
        "a lock of one minute at most: {}",
        fresh.body
    );
    let other_user = app
        .at_ip("192.0.2.200")
        .try_login("someone_else", WRONG)
        .await;
    assert!(is_wrong_password(&other_user));
}

#[tokio::test]
async fn a_forged_forwarded_for_header_does_not_escape_the_limit() {
    let app = TestApp::new().await;
    let name = unique_name("spoofed");
    app.register(&name, PASSWORD).await;
    let attacker = app.at_ip(ATTACKER);

    let mut replies = Vec::new();
    for i in 0..8 {
        let forwarded = format!("10.1.1.{i}");
        let form = [("username", name.as_str()), ("password", WRONG)];
        let headers = [
            ("sec-fetch-site", "same-origin"),
            ("accept", "application/json"),
            ("x-forwarded-for", forwarded.as_str()),
            ("x-real-ip", forwarded.as_str()),
        ];
        replies.push(
            attacker
                .post_with("/auth/login", &form, None, &headers)
                .await,
        );
    }
    assert!(replies[..5].iter().all(is_wrong_password));
    assert!(
        replies[5..].iter().all(is_locked),
        "the header was believed"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let app = TestApp::with_args(&["--trusted-proxy-header", "X-Forwarded-For"]).await;
    let name = unique_name("proxied");
    app.register(&name, PASSWORD).await;
    let proxy = app.at_ip("10.0.0.1");
    let via = |client: &'static str, password: &'static str| {
        let proxy = proxy.clone();
        let name = name.clone();
        async move {
            let form = [("username", name.as_str()), ("password", password)];
            let forwarded = format!("192.0.2.99, {client}");
            let headers = [
                ("sec-fetch-site", "same-origin"),
                ("accept", "application/json"),
                ("x-forwarded-for", forwarded.as_str()),
            ];
            proxy.post_with("/auth/login", &form, None, &headers).await
        }
    };

    for _ in 0..5 {
        assert!(is_wrong_password(&via(ATTACKER, WRONG).await));
    }
    assert!(is_locked(&via(ATTACKER, PASSWORD).await));
    let real = via(ELSEWHERE, PASSWORD).await;
    assert_eq!(real.status, StatusCode::OK, "{}", real.body);

    // The sessions list shows the client, not the proxy.
    let mut jar = common::Jar::from_reply(&real);
    let sessions = app.call_with("/auth/sessions", &[], &mut jar).await;
    assert!(sessions.body.contains(ELSEWHERE), "{}", sessions.body);
}

#[tokio::test]
async fn registrations_from_one_address_are_limited() {
    let app = TestApp::with_args(&["--register-limit-ip", "3/30m"]).await;
    let attacker = app.at_ip(ATTACKER);
    for _ in 0..3 {
        let reply = attacker.try_register(&unique_name("bulk"), PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let census = app.census().await;

    let refused = attacker.try_register(&unique_name("bulk"), PASSWORD).await;

    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.body.contains("TooManyRegistrations"),
        "{}",
        refused.body
    );
    assert!(refused.set_cookies().is_empty());
    assert_eq!(app.census().await, census, "a user was created");
    let elsewhere = app
        .at_ip(ELSEWHERE)
        .try_register(&unique_name("ok"), PASSWORD)
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_current_passwords_on_the_account_page_are_limited_too() {
    let app = TestApp::new().await;
    let name = unique_name("thief");
    let mut jar = app.register_jar(&name, PASSWORD).await;

    let mut statuses = Vec::new();
    for i in 0..7 {
        let guess = format!("{WRONG}{i}");
        let form = [
            ("current_password", guess.as_str()),
            ("new_password", "taken over now"),
        ];
        let reply = app
            .call_with("/auth/change_password", &form, &mut jar)
            .await;
        statuses.push(reply.status);
    }

    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    assert_eq!(
        app.at_ip(ELSEWHERE).try_login(&name, PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn switched_off_nothing_is_limited() {
    let app = TestApp::with_args(&["--rate-limit", "off"]).await;
    let name = unique_name("bench");
    app.register(&name, PASSWORD).await;

    for _ in 0..12 {
        assert!(is_wrong_password(&app.try_login(&name, WRONG).await));
    }
    assert_eq!(app.try_login(&name, PASSWORD).await.status, StatusCode::OK);
}
