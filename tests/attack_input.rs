//! Attack suite, hostile input: NUL and control characters, bidirectional
//! overrides, megabyte values and SurrealQL injection text in usernames,
//! passwords and ids. Each is either refused with a clear message (and
//! nothing stored) or stored literally (and matches only itself); none is
//! ever executed, and no request gets a 500.

mod common;

use axum::http::StatusCode;
use common::{TestApp, unique_name};

const PASSWORD: &str = "correct horse battery";
const REFERER: &str = "http://127.0.0.1:3000/register";

/// What the registration form shows after a plain form post of `name` and `password`.
async fn registration_message(app: &TestApp, name: &str, password: &str) -> String {
    let form = [("username", name), ("password", password)];
    let reply = app.submit("/auth/register", &form, None, REFERER).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let page = app.get_page(reply.location(), None).await;
    assert_eq!(page.status, StatusCode::OK);
    let at = page
        .body
        .find("class=\"form-error\"")
        .expect("an error on the form");
    let start = at + page.body[at..].find('>').unwrap() + 1;
    let end = start + page.body[start..].find('<').unwrap();
    page.body[start..end].to_owned()
}

/// One test per refused registration: `name => (username, password, message shown)`.
macro_rules! refused_registration {
    ($($(#[$doc:meta])* $name:ident => ($username:expr, $password:expr, $message:expr);)*) => {$(
        $(#[$doc])*
        #[tokio::test]
        async fn $name() {
            let app = TestApp::new().await;
            let bystander = unique_name("bystander");
            app.register(&bystander, PASSWORD).await;
            let census = app.census().await;
            let (username, password): (String, String) = ($username.into(), $password.into());

            let js = app.try_register(&username, &password).await;
            assert_eq!(js.status, StatusCode::BAD_REQUEST, "{}", js.body);
            assert!(js.set_cookies().is_empty());
            assert_eq!(registration_message(&app, &username, &password).await, $message);

            assert_eq!(app.census().await, census, "something was stored");
            assert_eq!(app.try_login(&bystander, PASSWORD).await.status, StatusCode::OK);
        }
    )*};
}

const BAD_CHARACTERS: &str = "Usernames may only contain letters, digits, '_', '.' and '-'.";
const TOO_LONG_NAME: &str = "Usernames can be at most 32 characters long.";
const CONTROL: &str = "Passwords may not contain control characters.";

refused_registration! {
    /// A NUL byte inside the name.
    username_with_nul => ("ali\u{0}ce", PASSWORD, BAD_CHARACTERS);
    /// Terminal escapes and line breaks in the name (log injection).
    username_with_control_characters => ("bob\u{1b}[31m\r\nINFO fake", PASSWORD, BAD_CHARACTERS);
    /// A right-to-left override that reverses how the name reads.
    username_with_rtl_override => ("admin\u{202e}txt.exe", PASSWORD, BAD_CHARACTERS);
    /// An invisible right-to-left mark.
    username_with_rtl_mark => ("carol\u{200f}", PASSWORD, BAD_CHARACTERS);
    /// A name of one megabyte.
    username_of_one_megabyte => ("n".repeat(1_000_000), PASSWORD, TOO_LONG_NAME);
    /// SQL that would match every row.
    username_sql_or_1_eq_1 => ("' OR 1=1 --", PASSWORD, BAD_CHARACTERS);
    /// SurrealQL that would delete every user.
    username_surrealql_delete => ("x; DELETE user;", PASSWORD, BAD_CHARACTERS);
    /// A SurrealQL record id.
    username_surrealql_record_id => ("user:⟨x⟩", PASSWORD, BAD_CHARACTERS);
    /// A NUL byte inside the password.
    password_with_nul => (unique_name("pwnul"), "pass\u{0}word123", CONTROL);
    /// Escapes and line breaks in the password.
    password_with_control_characters => (unique_name("pwctl"), "pass\u{1b}word\r\n123", CONTROL);
    /// A password of one megabyte: refused before any hashing.
    password_of_one_megabyte => (unique_name("pwbig"), "p".repeat(1_000_000), "Passwords can be at most 128 characters long.");
}

/// One test per password that is stored as typed: `name => password`. The
/// account is created, logs in with exactly that password, and with
/// nothing else.
macro_rules! stored_literally {
    ($($(#[$doc:meta])* $name:ident => ($password:expr, $near_miss:expr);)*) => {$(
        $(#[$doc])*
        #[tokio::test]
        async fn $name() {
            let app = TestApp::new().await;
            let bystander = unique_name("bystander");
            app.register(&bystander, PASSWORD).await;
            let users = app.census().await.users;
            let name = unique_name("literal");

            let cookie = app.register(&name, $password).await;

            assert_eq!(app.census().await.users, users + 1, "one user, nothing else");
            assert_eq!(app.try_login(&name, $password).await.status, StatusCode::OK);
            let near = app.try_login(&name, $near_miss).await;
            assert_eq!(near.status, StatusCode::UNAUTHORIZED, "{}", near.body);
            let home = app.get_page("/", Some(&cookie)).await;
            assert!(home.body.contains(&name));
            assert_eq!(app.try_login(&bystander, PASSWORD).await.status, StatusCode::OK);
        }
    )*};
}

stored_literally! {
    /// Bidirectional marks in a password are characters like any other.
    password_with_rtl_marks => ("pass\u{202e}word\u{200f}123", "password123");
    /// SQL in a password is only a password.
    password_sql_or_1_eq_1 => ("' OR 1=1 --", "' OR 2=2 --");
    /// SurrealQL in a password is only a password.
    password_surrealql_delete => ("'; DELETE user; --", "'; DELETE user;");
    /// A SurrealQL record id in a password is only a password.
    password_surrealql_record_id => ("user:⟨x⟩ user:⟨y⟩", "user:⟨x⟩");
}

/// One test per hostile login: `name => (username, password)`. The answer is
/// a wrong-password answer, no session starts, nothing changes.
macro_rules! refused_login {
    ($($(#[$doc:meta])* $name:ident => ($username:expr, $password:expr);)*) => {$(
        $(#[$doc])*
        #[tokio::test]
        async fn $name() {
            let app = TestApp::new().await;
            let bystander = unique_name("bystander");
            app.register(&bystander, PASSWORD).await;
            let census = app.census().await;
            let username: String = $username.replace("{user}", &bystander);

            let reply = app.try_login(&username, $password).await;

            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
            assert!(reply.body.contains("InvalidCredentials"), "{}", reply.body);
            assert!(reply.set_cookies().is_empty());
            assert_eq!(app.census().await, census);
            assert_eq!(app.try_login(&bystander, PASSWORD).await.status, StatusCode::OK);
        }
    )*};
}

refused_login! {
    /// The classic always-true condition as the username.
    login_username_sql_or_1_eq_1 => ("' OR 1=1 --", PASSWORD);
    /// A real name, closed and followed by a comment.
    login_username_comment_out_the_password_check => ("{user}' --", "anything at all");
    /// A real name followed by SurrealQL deleting every user.
    login_username_surrealql_delete => ("{user}; DELETE user;", PASSWORD);
    /// A SurrealQL record id as the username.
    login_username_surrealql_record_id => ("user:⟨x⟩", PASSWORD);
    /// A real name with a NUL after it.
    login_username_with_nul => ("{user}\u{0}", PASSWORD);
    /// A real name with a right-to-left override.
    login_username_with_rtl_override => ("{user}\u{202e}", PASSWORD);
    /// A real name and SQL as the password.
    login_password_sql_or_1_eq_1 => ("{user}", "' OR '1'='1");
    /// A real name and one megabyte of password.
    login_password_of_one_megabyte => ("{user}", &"p".repeat(1_000_000));
}

#[tokio::test]
async fn session_ids_with_surrealql_end_nothing() {
    let app = TestApp::new().await;
    let name = unique_name("ids");
    let mut jar = app.register_jar(&name, PASSWORD).await;
    app.login_jar(&name, PASSWORD).await;
    let census = app.census().await;

    for id in [
        "x' OR 1=1 --",
        "x; DELETE session; DELETE user;",
        "session:⟨x⟩",
        "*",
        "\u{0}",
        &"s".repeat(100_000),
    ] {
        let reply = app
            .call_with("/auth/end_session", &[("id", id)], &mut jar)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{id:.40}: {}",
            reply.body
        );
        assert!(reply.body.contains("NoSuchSession"));
    }
    assert_eq!(app.census().await, census);
}

#[tokio::test]
async fn oversized_headers_cookies_and_uris_are_refused() {
    let app = TestApp::new().await;
    let cookie = app.register(&unique_name("big"), PASSWORD).await;
    let census = app.census().await;

    let many_cookies = format!("{cookie}; {}", "junk=1; ".repeat(2_000));
    let reply = app.get_page("/", Some(&many_cookies)).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    let request = axum::http::Request::get("/login")
        .header("x-filler", "f".repeat(20 * 1024))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    let long = format!("/login?next=/{}", "a".repeat(9 * 1024));
    assert_eq!(
        app.get_page(&long, None).await.status,
        StatusCode::URI_TOO_LONG
    );
    assert_eq!(app.census().await, census);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_on_every_route() {
    let app = TestApp::new().await;
    let huge = "a".repeat(3 * 1024 * 1024);
    for path in [
        "/auth/login",
        "/auth/logout",
        "/auth/change_password",
        "/api/token",
        "/nowhere",
    ] {
        let reply = app.call(path, &[("username", &huge)], None).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
}
