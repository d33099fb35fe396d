//! Sessions that last and end for real: refresh-token rotation, the grace
//! window, theft detection, absolute lifetime, logout, "log out everywhere",
//! password change and the purge of expired records.

mod common;

use std::time::Duration;

use authbridge::auth::refresh::{Grant, RefreshError, now_millis};
use authbridge::db::ClientInfo;
use axum::http::StatusCode;
use common::{Jar, TestApp, unique_name};

const PASSWORD: &str = "correct horse battery";
const ACCESS: &str = "authbridge_access";
const REFRESH: &str = "authbridge_refresh";
const MARKER: &str = "authbridge_had_session";

fn client() -> ClientInfo {
    ClientInfo {
        user_agent: "integration test".into(),
        ip: "127.0.0.1".into(),
    }
}

/// A fresh session straight from the store layer, for the time-travel tests.
async fn started(app: &TestApp) -> Grant {
    let name = unique_name("fam");
    let jar = app.register_jar(&name, PASSWORD).await;
    assert!(jar.get(REFRESH).is_some());
    let user = app
        .state
        .store
        .find_user(&authbridge::auth::username::Username::parse(&name).unwrap())
        .await
        .unwrap()
        .unwrap();
    app.state
        .sessions
        .start(&user.id, &user.username, &client())
        .await
        .unwrap()
}

/// Refreshes `token` as if at `now` (Unix ms), from the test client.
async fn refresh_at(app: &TestApp, token: &str, now: i64) -> Result<Grant, RefreshError> {
    app.state.sessions.refresh_at(token, &client(), now).await
}

#[tokio::test]
async fn a_refresh_token_is_spent_once_for_a_new_one() {
    let app = TestApp::new().await;
    let first = started(&app).await;

    let second = app
        .state
        .sessions
        .refresh(&first.token, &client())
        .await
        .unwrap();
    assert!(second.rotated);
    assert_ne!(second.token, first.token);
    assert_eq!(second.session, first.session, "same family");

    let third = app
        .state
        .sessions
        .refresh(&second.token, &client())
        .await
        .unwrap();
    assert!(third.rotated);
    assert_ne!(third.token, second.token);
}

#[tokio::test]
async fn a_token_reused_within_the_grace_window_gets_the_same_successor() {
    let app = TestApp::new().await;
    let first = started(&app).await;
    let now = now_millis();

    let second = refresh_at(&app, &first.token, now).await.unwrap();
    let again = refresh_at(&app, &first.token, now + 3_000).await.unwrap();

    assert_eq!(again.token, second.token);
    assert!(!again.rotated, "no second rotation");
    // The successor itself is unspent and rotates normally.
    let third = refresh_at(&app, &second.token, now + 4_000).await.unwrap();
    assert!(third.rotated);
}

#[tokio::test]
async fn within_the_window_a_late_tab_gets_the_newest_token_not_a_spent_one() {
    let app = TestApp::new().await;
    let first = started(&app).await;
    let now = now_millis();

    let second = refresh_at(&app, &first.token, now).await.unwrap();
    let third = refresh_at(&app, &second.token, now + 100).await.unwrap();
    let late = refresh_at(&app, &first.token, now + 200).await.unwrap();

    assert_eq!(late.token, third.token);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_whole_family() {
    let app = TestApp::new().await;
    let first = started(&app).await;
    let now = now_millis();
    let sessions = &app.state.sessions;

    let second = refresh_at(&app, &first.token, now).await.unwrap();
    let stolen = refresh_at(&app, &first.token, now + 11_000).await;
    assert!(matches!(stolen, Err(RefreshError::Reused)), "{stolen:?}");

    // The legitimate holder of the newest token is out too.
    let owner = refresh_at(&app, &second.token, now + 12_000).await;
    assert!(matches!(owner, Err(RefreshError::Reused)), "{owner:?}");
    assert!(!sessions.is_live(&first.session).await.unwrap());
}

#[tokio::test]
async fn no_refresh_beyond_the_absolute_session_lifetime() {
    let app = TestApp::with_args(&["--session-max-age", "1h", "--refresh-ttl", "50m"]).await;
    let first = started(&app).await;
    let now = now_millis();

    // Refreshed every 40 minutes: each token would live 50 more minutes...
    let second = refresh_at(&app, &first.token, now + 40 * 60_000)
        .await
        .unwrap();
    // ...but the second one is cut at the hour.
    assert!(second.max_age_secs <= 20 * 60, "{}", second.max_age_secs);
    let late = refresh_at(&app, &second.token, now + 61 * 60_000).await;
    assert!(matches!(late, Err(RefreshError::Expired)), "{late:?}");
}

#[tokio::test]
async fn an_idle_session_expires_with_its_refresh_token() {
    let app = TestApp::with_args(&["--refresh-ttl", "10m"]).await;
    let first = started(&app).await;
    let idle = refresh_at(&app, &first.token, now_millis() + 11 * 60_000).await;
    assert!(matches!(idle, Err(RefreshError::Expired)), "{idle:?}");
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_refused() {
    let app = TestApp::new().await;
    for token in [
        "",
        "short",
        &"A".repeat(43),
        &"A".repeat(5000),
        "../../etc/passwd",
    ] {
        let result = app.state.sessions.refresh(token, &client()).await;
        assert!(matches!(result, Err(RefreshError::Unknown)), "{token:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_refreshes_of_one_token_rotate_it_once() {
    let app = TestApp::new().await;
    let first = started(&app).await;

    let attempts = (0..20).map(|_| {
        let sessions = app.state.sessions.clone();
        let token = first.token.clone();
        tokio::spawn(async move { sessions.refresh(&token, &client()).await })
    });
    let mut granted = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(grant) => granted.push(grant),
            Err(RefreshError::Store(e)) => panic!("store error under contention: {e}"),
            Err(_) => {}
        }
    }

    assert!(!granted.is_empty());
    assert_eq!(
        granted.iter().filter(|g| g.rotated).count(),
        1,
        "exactly one rotation"
    );
    let child = &granted[0].token;
    assert!(
        granted.iter().all(|g| &g.token == child),
        "one successor for all"
    );
    assert_eq!(
        app.state
            .store
            .count_session_tokens(&first.session)
            .await
            .unwrap(),
        2,
        "the parent and its one child"
    );
    // And that child is unspent.
    let next = app.state.sessions.refresh(child, &client()).await.unwrap();
    assert!(next.rotated);
}

#[tokio::test]
async fn purge_removes_expired_records_a_bounded_batch_at_a_time() {
    let app = TestApp::with_args(&["--refresh-ttl", "1m"]).await;
    for _ in 0..3 {
        started(&app).await;
    }
    let store = &app.state.store;
    let later = now_millis() + 15 * 86_400_000;

    let first = store.purge_expired(later, 2).await.unwrap();
    assert_eq!((first.tokens, first.sessions), (2, 2));
    let rest = store.purge_expired(later, 100).await.unwrap();
    // Three sessions from `started` and three from the registrations.
    assert_eq!((rest.tokens, rest.sessions), (4, 4));
    let none = store.purge_expired(later, 100).await.unwrap();
    assert_eq!((none.tokens, none.sessions), (0, 0));
}

#[tokio::test]
async fn purge_keeps_what_can_still_be_used() {
    let app = TestApp::new().await;
    let grant = started(&app).await;
    let purged = app
        .state
        .store
        .purge_expired(now_millis(), 100)
        .await
        .unwrap();
    assert_eq!((purged.tokens, purged.sessions), (0, 0));
    assert!(
        app.state
            .sessions
            .refresh(&grant.token, &client())
            .await
            .is_ok()
    );
}

// --- Through HTTP, as a browser sees it -----------------------------------

#[tokio::test]
async fn login_sets_a_strict_http_only_refresh_cookie_for_the_auth_routes_only() {
    let app = TestApp::new().await;
    let reply = app.try_register(&unique_name("ck"), PASSWORD).await;
    let refresh = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("authbridge_refresh="))
        .expect("refresh cookie");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/auth",
        "Max-Age=1209600",
    ] {
        assert!(refresh.contains(part), "{part} missing: {refresh}");
    }
    let value = reply.cookie(REFRESH).unwrap();
    assert_eq!(value.len(), 43, "opaque 32-byte token, not a JWT");
    assert!(!value.starts_with("eyJ"));
    // The page itself never receives it.
    let jar = Jar::from_reply(&reply);
    assert!(!jar.header_for("/").contains(REFRESH));
    assert!(jar.header_for("/auth/me").contains(REFRESH));
}

#[tokio::test]
async fn an_expired_access_token_is_renewed_on_a_page_load_without_the_login_page() {
    let app = TestApp::with_args(&["--access-ttl", "1s"]).await;
    let name = unique_name("stay");
    let mut jar = app.register_jar(&name, PASSWORD).await;
    let old_refresh = jar.get(REFRESH).unwrap().to_owned();

    tokio::time::sleep(Duration::from_millis(2100)).await;
    jar.drop_cookie(ACCESS); // the browser drops it at Max-Age
    let (page, visited) = app.browse("/?tab=2", &mut jar).await;

    assert_eq!(page.status, StatusCode::OK, "visited {visited:?}");
    assert!(page.body.contains(&name));
    assert_eq!(visited, ["/auth/refresh?next=%2F%3Ftab%3D2", "/?tab=2"]);
    assert_ne!(jar.get(REFRESH).unwrap(), old_refresh, "rotated");
    assert!(jar.get(ACCESS).is_some());
}

#[tokio::test]
async fn a_server_function_renews_inline_when_the_access_token_expired() {
    let app = TestApp::with_args(&["--access-ttl", "1s"]).await;
    let name = unique_name("fn");
    let mut jar = app.register_jar(&name, PASSWORD).await;

    tokio::time::sleep(Duration::from_millis(2100)).await;
    // An expired access cookie still sent (no Max-Age yet), and one dropped.
    let me = app.call_with("/auth/me", &[], &mut jar).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert!(me.body.contains(&name));
    assert!(me.cookie(ACCESS).is_some() && me.cookie(REFRESH).is_some());

    tokio::time::sleep(Duration::from_millis(2100)).await;
    jar.drop_cookie(ACCESS);
    let me = app.call_with("/auth/me", &[], &mut jar).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
}

#[tokio::test]
async fn renew_rotates_ahead_of_expiry_and_reports_the_new_lifetime() {
    let app = TestApp::with_args(&["--access-ttl", "30s"]).await;
    let mut jar = app.register_jar(&unique_name("ahead"), PASSWORD).await;
    let before = jar.get(REFRESH).unwrap().to_owned();

    let reply = app.call_with("/auth/renew", &[], &mut jar).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let me: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let left = me["expires_in_secs"].as_u64().unwrap();
    assert!((28..=30).contains(&left), "{left}");
    assert_ne!(jar.get(REFRESH).unwrap(), before);
    assert!(
        !reply.body.contains(jar.get(REFRESH).unwrap()),
        "token only in the cookie"
    );
}

#[tokio::test]
async fn a_stolen_old_refresh_cookie_ends_the_family_for_everyone() {
    let app = TestApp::with_args(&["--refresh-grace", "1s"]).await;
    let mut owner = app.register_jar(&unique_name("theft"), PASSWORD).await;
    let stolen = owner.get(REFRESH).unwrap().to_owned();

    assert_eq!(
        app.call_with("/auth/renew", &[], &mut owner).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let mut thief = Jar::default();
    thief.put(REFRESH, &stolen, "/auth");
    thief.put(MARKER, "1", "/");
    let (page, visited) = app.browse("/", &mut thief).await;
    assert!(
        visited.last().unwrap().ends_with("reason=security"),
        "{visited:?}"
    );
    assert!(
        page.body
            .contains("Your session was ended for security reasons, please log in again.")
    );
    assert!(thief.get(REFRESH).is_none(), "cookie cleared");

    // The owner's current token belongs to the revoked family now.
    owner.drop_cookie(ACCESS);
    let (_, visited) = app.browse("/", &mut owner).await;
    assert!(
        visited.last().unwrap().ends_with("reason=security"),
        "{visited:?}"
    );
}

#[tokio::test]
async fn after_logout_a_copied_refresh_cookie_is_refused() {
    let app = TestApp::new().await;
    let mut jar = app.register_jar(&unique_name("out"), PASSWORD).await;
    let copy = jar.clone();

    let reply = app.call_with("/auth/logout", &[], &mut jar).await;
    assert!(reply.status.is_success() || reply.status.is_redirection());
    for name in [ACCESS, REFRESH, MARKER] {
        assert!(jar.get(name).is_none(), "{name} still set");
    }

    let mut replay = copy;
    replay.drop_cookie(ACCESS);
    let me = app.call_with("/auth/me", &[], &mut replay).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert!(replay.get(REFRESH).is_none(), "refused cookie is cleared");
}

#[tokio::test]
async fn the_access_token_of_a_logged_out_session_is_refused_at_once() {
    let app = TestApp::new().await;
    let mut jar = app.register_jar(&unique_name("now"), PASSWORD).await;
    let copy = jar.clone();
    app.call_with("/auth/logout", &[], &mut jar).await;

    let home = app.get_page("/", Some(&copy.header_for("/"))).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn log_out_everywhere_ends_the_other_devices_on_their_next_request() {
    let app = TestApp::new().await;
    let name = unique_name("all");
    let mut laptop = app.register_jar(&name, PASSWORD).await;
    let mut phone = app.login_jar(&name, PASSWORD).await;

    let reply = app
        .call_with("/auth/logout_everywhere", &[], &mut laptop)
        .await;
    assert!(!reply.status.is_client_error(), "{}", reply.body);
    assert!(laptop.get(REFRESH).is_none());

    // The phone's access token is still unexpired, and refused anyway.
    let (page, visited) = app.browse("/", &mut phone).await;
    assert!(
        visited.last().unwrap().ends_with("reason=ended"),
        "{visited:?}"
    );
    assert!(
        page.body
            .contains("Your session was ended, please log in again.")
    );
}

#[tokio::test]
async fn the_account_page_lists_sessions_and_ends_one() {
    let app = TestApp::new().await;
    let name = unique_name("list");
    let mut laptop = app.register_jar(&name, PASSWORD).await;
    let mut phone = app.login_jar(&name, PASSWORD).await;

    let list = app.call_with("/auth/sessions", &[], &mut laptop).await;
    let sessions: Vec<serde_json::Value> = serde_json::from_str(&list.body).unwrap();
    assert_eq!(sessions.len(), 2, "{}", list.body);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let other_id = other["id"].as_str().unwrap();

    let (page, _) = app.browse("/account", &mut laptop).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("(this device)"));
    assert!(page.body.contains("Log out everywhere"));

    let ended = app
        .call_with("/auth/end_session", &[("id", other_id)], &mut laptop)
        .await;
    assert!(!ended.status.is_client_error(), "{}", ended.body);
    let me = app.call_with("/auth/me", &[], &mut phone).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);

    // Someone else's session id, or one already ended: refused, nothing ends.
    let again = app
        .call_with("/auth/end_session", &[("id", other_id)], &mut laptop)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let list = app.call_with("/auth/sessions", &[], &mut laptop).await;
    let sessions: Vec<serde_json::Value> = serde_json::from_str(&list.body).unwrap();
    assert_eq!(sessions.len(), 1);
}

#[tokio::test]
async fn a_user_cannot_end_another_users_session() {
    let app = TestApp::new().await;
    let mut alice = app.register_jar(&unique_name("alice"), PASSWORD).await;
    let mut bob = app.register_jar(&unique_name("bob"), PASSWORD).await;
    let list = app.call_with("/auth/sessions", &[], &mut bob).await;
    let sessions: Vec<serde_json::Value> = serde_json::from_str(&list.body).unwrap();
    let bobs = sessions[0]["id"].as_str().unwrap();

    let reply = app
        .call_with("/auth/end_session", &[("id", bobs)], &mut alice)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call_with("/auth/me", &[], &mut bob).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::new().await;
    let name = unique_name("pw");
    let mut laptop = app.register_jar(&name, PASSWORD).await;
    let mut phone = app.login_jar(&name, PASSWORD).await;

    let wrong = app
        .call_with(
            "/auth/change_password",
            &[
                ("current_password", "not my password"),
                ("new_password", "a brand new secret"),
            ],
            &mut laptop,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.body.contains("WrongCurrentPassword"),
        "{}",
        wrong.body
    );
    assert_eq!(
        app.call_with("/auth/me", &[], &mut phone).await.status,
        StatusCode::OK
    );

    let old_refresh = laptop.get(REFRESH).unwrap().to_owned();
    let changed = app
        .call_with(
            "/auth/change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new secret"),
            ],
            &mut laptop,
        )
        .await;
    assert!(!changed.status.is_client_error(), "{}", changed.body);
    assert_ne!(laptop.get(REFRESH).unwrap(), old_refresh, "new tokens here");

    // This device goes on; the other one is out at once.
    assert_eq!(
        app.call_with("/auth/me", &[], &mut laptop).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call_with("/auth/me", &[], &mut phone).await.status,
        StatusCode::UNAUTHORIZED
    );
    // And only the new password logs in.
    assert_eq!(
        app.try_login(&name, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login(&name, "a brand new secret").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn account_changes_check_the_store_not_just_the_token() {
    let app = TestApp::new().await;
    let name = unique_name("store");
    let mut jar = app.register_jar(&name, PASSWORD).await;
    let list = app.call_with("/auth/sessions", &[], &mut jar).await;
    let sessions: Vec<serde_json::Value> = serde_json::from_str(&list.body).unwrap();
    let id = sessions[0]["id"].as_str().unwrap();
    // Revoked by another server sharing the store: this one's memory of
    // revocations does not know.
    let user_id = app
        .state
        .store
        .find_user(&authbridge::auth::username::Username::parse(&name).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    app.state
        .store
        .revoke_session(
            &user_id,
            id,
            now_millis(),
            authbridge::db::RevokeReason::Ended,
        )
        .await
        .unwrap();

    let reply = app
        .call_with(
            "/auth/change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another new secret"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_login(&name, PASSWORD).await.status,
        StatusCode::OK,
        "unchanged"
    );
}

#[tokio::test]
async fn arriving_from_another_site_resumes_the_session_with_one_same_site_step() {
    let app = TestApp::new().await;
    let mut jar = app.register_jar(&unique_name("xsite"), PASSWORD).await;
    // A cross-site navigation: Lax cookies are sent, the Strict refresh one is not.
    jar.drop_cookie(ACCESS);
    let mut cross_site = jar.clone();
    cross_site.drop_cookie(REFRESH);

    let (page, visited) = app.browse("/account", &mut cross_site).await;
    assert_eq!(visited, ["/auth/refresh?next=%2Faccount"]);
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"http-equiv="refresh""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("retry=1"));

    // The meta refresh is a same-site navigation: the refresh cookie goes along.
    let (page, visited) = app
        .browse("/auth/refresh?next=%2Faccount&retry=1", &mut jar)
        .await;
    assert_eq!(visited, ["/account"]);
    assert_eq!(page.status, StatusCode::OK);

    // Without any refresh cookie, the second step gives up with "expired".
    let (_, visited) = app
        .browse("/auth/refresh?next=%2Faccount&retry=1", &mut cross_site)
        .await;
    assert_eq!(visited[0], "/login?next=/account&reason=expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_racing_a_revocation_never_outlives_it() {
    let app = TestApp::new().await;
    for _ in 0..10 {
        let first = started(&app).await;
        let sessions = app.state.sessions.clone();
        let token = first.token.clone();
        let refresh = tokio::spawn(async move { sessions.refresh(&token, &client()).await });
        let sessions = app.state.sessions.clone();
        let (user, session) = (first.user_id.clone(), first.session.clone());
        let revoke = tokio::spawn(async move {
            sessions
                .end(&user, &session, authbridge::db::RevokeReason::Ended)
                .await
        });
        let refreshed = refresh.await.unwrap();
        revoke.await.unwrap().unwrap();
        assert!(
            !matches!(refreshed, Err(RefreshError::Store(_))),
            "{refreshed:?}"
        );
        if let Ok(grant) = refreshed {
            let next = app.state.sessions.refresh(&grant.token, &client()).await;
            assert!(matches!(next, Err(RefreshError::Revoked)), "{next:?}");
        }
        assert!(!app.state.sessions.is_live(&first.session).await.unwrap());
    }
}
