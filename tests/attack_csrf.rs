//! Attack suite, cross-site requests: a page elsewhere makes the victim's
//! browser post to us, with the victim's cookies attached (the worst case:
//! `SameSite` would usually hold them back). Every such request is refused
//! with 403 before anything runs, and changes nothing; our own pages pass.

mod common;

use axum::http::StatusCode;
use common::{Jar, ORIGIN, OTHER_ORIGIN, Reply, TestApp, form_encode, unique_name};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "attacker chose this";
const HTML: &str = "text/html,application/xhtml+xml";

/// What a current browser sends with a form that another site submits.
const CROSS_SITE: &[(&str, &str)] = &[
    ("accept", HTML),
    ("sec-fetch-site", "cross-site"),
    ("origin", OTHER_ORIGIN),
    ("referer", "http://127.0.0.1:4000/attack.html"),
];

struct Victim {
    app: TestApp,
    name: String,
    jar: Jar,
    census: authbridge::db::Census,
}

impl Victim {
    async fn new() -> Self {
        Self::on(TestApp::new().await).await
    }

    async fn on(app: TestApp) -> Self {
        let name = unique_name("target");
        let jar = app.register_jar(&name, PASSWORD).await;
        let census = app.census().await;
        Self {
            app,
            name,
            jar,
            census,
        }
    }

    /// Posts `form` to `path` with the victim's cookies and `headers`.
    async fn post(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let cookie = self.jar.header_for(path);
        self.app.post_with(path, form, Some(&cookie), headers).await
    }

    /// The request was refused, visibly, and nothing changed.
    async fn assert_untouched(&self, reply: &Reply) {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(
            reply.body.contains("did not come from this site"),
            "{}",
            reply.body
        );
        assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
        assert_eq!(self.app.census().await, self.census, "the store changed");
        let mut jar = self.jar.clone();
        let me = self.app.call_with("/auth/me", &[], &mut jar).await;
        assert_eq!(me.status, StatusCode::OK, "the victim lost the session");
        assert!(me.body.contains(&self.name));
    }
}

#[tokio::test]
async fn cross_site_logout_is_refused() {
    let v = Victim::new().await;
    let reply = v.post("/auth/logout", &[], CROSS_SITE).await;
    v.assert_untouched(&reply).await;
}

#[tokio::test]
async fn cross_site_logout_everywhere_is_refused() {
    let v = Victim::new().await;
    let reply = v.post("/auth/logout_everywhere", &[], CROSS_SITE).await;
    v.assert_untouched(&reply).await;
}

#[tokio::test]
async fn cross_site_end_session_is_refused() {
    let v = Victim::new().await;
    let mut jar = v.jar.clone();
    let list = v.app.call_with("/auth/sessions", &[], &mut jar).await;
    let id = list
        .body
        .split("\"id\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let reply = v.post("/auth/end_session", &[("id", id)], CROSS_SITE).await;
    v.assert_untouched(&reply).await;
}

#[tokio::test]
async fn cross_site_password_change_is_refused() {
    let v = Victim::new().await;
    let form = [
        ("current_password", PASSWORD),
        ("new_password", NEW_PASSWORD),
    ];
    let reply = v.post("/auth/change_password", &form, CROSS_SITE).await;
    v.assert_untouched(&reply).await;
    assert_eq!(
        v.app.try_login(&v.name, PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        v.app.try_login(&v.name, NEW_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn cross_site_registration_is_refused() {
    let v = Victim::new().await;
    let planted = unique_name("planted");
    let form = [("username", planted.as_str()), ("password", PASSWORD)];
    let reply = v.post("/auth/register", &form, CROSS_SITE).await;
    v.assert_untouched(&reply).await;
    assert_eq!(
        v.app.try_login(&planted, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED,
        "the account was created"
    );
}

/// Login CSRF: the attacker's page logs the visitor into the attacker's
/// account, to read what they then do. No cookie is needed for it.
#[tokio::test]
async fn cross_site_login_is_refused_even_without_cookies() {
    let v = Victim::new().await;
    let attacker = unique_name("attacker");
    v.app.register(&attacker, PASSWORD).await;
    let census = v.app.census().await;
    let form = [("username", attacker.as_str()), ("password", PASSWORD)];

    let reply = v
        .app
        .post_with("/auth/login", &form, None, CROSS_SITE)
        .await;

    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
    assert_eq!(v.app.census().await, census, "a session was started");
}

/// One case per way of saying "not from here": each refused, each harmless.
macro_rules! refused {
    ($($(#[$doc:meta])* $name:ident => $headers:expr;)*) => {$(
        $(#[$doc])*
        #[tokio::test]
        async fn $name() {
            let v = Victim::new().await;
            let reply = v.post("/auth/logout_everywhere", &[], $headers).await;
            v.assert_untouched(&reply).await;
        }
    )*};
}

refused! {
    /// A sibling subdomain is the same site, not the same origin.
    same_site_is_not_enough => &[("sec-fetch-site", "same-site"), ("origin", "http://sub.127.0.0.1.example:3000")];
    /// `Sec-Fetch-Site: none` (typed into the address bar) is not one of our pages.
    fetch_site_none_is_refused => &[("sec-fetch-site", "none")];
    /// An opaque origin: a sandboxed frame or a `data:` page.
    origin_null_is_refused => &[("origin", "null")];
    /// Another port on the same host is another origin.
    origin_of_another_port_is_refused => &[("origin", OTHER_ORIGIN)];
    /// Our host and port over another scheme is another origin.
    origin_with_another_scheme_is_refused => &[("origin", "https://127.0.0.1:3000")];
    /// A rebound DNS name: the browser thinks it is same-origin, the origin is not ours.
    rebound_host_name_is_refused => &[("sec-fetch-site", "same-origin"), ("origin", "http://rebound.example:3000")];
    /// Only a `Referer`, from another site.
    referer_of_another_site_is_refused => &[("referer", "http://127.0.0.1:4000/attack.html")];
    /// A `Referer` that only starts like ours.
    referer_lookalike_is_refused => &[("referer", "http://127.0.0.1:3000.evil.example/")];
    /// None of the three headers: never trusted.
    no_provenance_at_all_is_refused => &[("accept", HTML)];
}

#[tokio::test]
async fn our_own_pages_pass_by_any_of_the_three_headers() {
    for headers in [
        &[("sec-fetch-site", "same-origin")][..],
        &[("origin", ORIGIN)][..],
        &[("origin", "http://localhost:3000")][..],
        &[("referer", "http://127.0.0.1:3000/account")][..],
    ] {
        let v = Victim::new().await;
        let reply = v.post("/auth/logout_everywhere", &[], headers).await;
        assert_eq!(reply.status, StatusCode::OK, "{headers:?}: {}", reply.body);
        let mut jar = v.jar.clone();
        jar.update(&reply);
        let me = v.app.call_with("/auth/me", &[], &mut jar).await;
        assert_eq!(
            me.status,
            StatusCode::UNAUTHORIZED,
            "{headers:?}: still logged in"
        );
    }
}

#[tokio::test]
async fn get_requests_to_the_server_functions_change_nothing() {
    let v = Victim::new().await;
    let planted = unique_name("viaget");
    let register = format!(
        "/auth/register?{}",
        form_encode(&[("username", &planted), ("password", PASSWORD)])
    );
    let change = format!(
        "/auth/change_password?{}",
        form_encode(&[
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD)
        ])
    );
    for path in [
        "/auth/logout",
        "/auth/logout_everywhere",
        "/auth/end_session?id=x",
        change.as_str(),
        register.as_str(),
        "/auth/login?username=someone&password=something",
    ] {
        let reply = v.app.get_page(path, Some(&v.jar.header_for(path))).await;
        assert_ne!(reply.status, StatusCode::OK, "GET {path} was served");
        assert!(
            reply.status != StatusCode::INTERNAL_SERVER_ERROR,
            "GET {path}"
        );
    }
    assert_eq!(v.app.census().await, v.census);
    assert_eq!(
        v.app.try_login(&v.name, PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_configured_public_url_is_the_origin_that_counts() {
    let app = TestApp::with_args(&["--public-url", "http://auth.test:8080"]).await;
    let v = Victim::on(app).await;

    let default_origin = v
        .post("/auth/logout_everywhere", &[], &[("origin", ORIGIN)])
        .await;
    v.assert_untouched(&default_origin).await;
    let configured = v
        .post(
            "/auth/logout_everywhere",
            &[],
            &[("origin", "http://auth.test:8080")],
        )
        .await;
    assert_eq!(configured.status, StatusCode::OK);
}

#[tokio::test]
async fn cookieless_bearer_and_api_calls_are_exempt_from_the_origin_check() {
    let v = Victim::new().await;
    let bearer = format!("Bearer {}", v.jar.get("authbridge_access").unwrap());
    let headers = [
        ("sec-fetch-site", "cross-site"),
        ("authorization", bearer.as_str()),
    ];

    let api = v
        .app
        .post_with("/api/token", &[], None, &headers[..1])
        .await;
    assert_ne!(
        api.status,
        StatusCode::FORBIDDEN,
        "a cookie-less API call is checked"
    );

    // Exempt from the origin check, but a bearer header authenticates no
    // cookie route: nothing is ended.
    let route = v
        .app
        .post_with("/auth/logout_everywhere", &[], None, &headers)
        .await;
    assert_eq!(route.status, StatusCode::UNAUTHORIZED, "{}", route.body);
    assert_eq!(v.app.census().await, v.census);
}

#[tokio::test]
async fn an_api_call_that_carries_the_cookie_is_checked() {
    let v = Victim::new().await;
    let reply = v.post("/api/logout", &[], CROSS_SITE).await;
    v.assert_untouched(&reply).await;
}
