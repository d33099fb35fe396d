//! Security headers on every response, and cookie names with prefixes when
//! cookies are `Secure`.

mod common;

use axum::http::StatusCode;
use common::{Jar, Reply, TestApp, unique_name};

const PASSWORD: &str = "correct horse battery";
const PRODUCTION: &[&str] = &[
    "--env",
    "production",
    "--public-url",
    "https://auth.example.com",
];

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply.headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// The nonce the CSP header allows.
fn nonce(reply: &Reply) -> String {
    let csp = header(reply, "content-security-policy");
    let start = csp.find("'nonce-").expect("a nonce in the CSP") + 7;
    csp[start..start + csp[start..].find('\'').unwrap()].to_owned()
}

/// Every `<script` of the page carries `nonce`.
fn assert_scripts_carry(reply: &Reply, nonce: &str) {
    let scripts: Vec<&str> = reply.body.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "no scripts on the page");
    for script in scripts {
        let tag = &script[..script.find('>').unwrap()];
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")),
            "a script without the nonce: <script{tag}>"
        );
    }
}

#[tokio::test]
async fn every_page_has_a_csp_whose_nonce_is_on_every_inline_script() {
    let app = TestApp::new().await;
    let jar = app.register_jar(&unique_name("csp"), PASSWORD).await;

    for path in [
        "/",
        "/account",
        "/login?next=/x",
        "/register",
        "/no-such-page",
    ] {
        let (page, _) = app.browse(path, &mut jar.clone()).await;
        assert!(
            page.status == StatusCode::OK || page.status == StatusCode::NOT_FOUND,
            "{path}: {}",
            page.status
        );
        assert_scripts_carry(&page, &nonce(&page));
    }
    let (first, _) = app.browse("/login", &mut Jar::default()).await;
    let (second, _) = app.browse("/login", &mut Jar::default()).await;
    assert_ne!(nonce(&first), nonce(&second), "a new nonce per response");
}

#[tokio::test]
async fn the_csp_allows_our_own_script_and_wasm_and_no_framing() {
    let app = TestApp::new().await;
    let page = app.get_page("/login", None).await;
    let csp = header(&page, "content-security-policy");

    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
}

#[tokio::test]
async fn refusals_redirects_and_plain_responses_carry_the_headers_too() {
    let app = TestApp::new().await;
    let redirect = app.get_page("/", None).await;
    let refused = app
        .post_with(
            "/auth/logout",
            &[],
            None,
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    let health = app.get_page("/healthz", None).await;
    let too_large = app.get_page("/login", Some(&"a=b; ".repeat(5_000))).await;

    for (what, reply) in [
        ("redirect", &redirect),
        ("refusal", &refused),
        ("health", &health),
        ("too large", &too_large),
    ] {
        assert_eq!(header(reply, "x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header(reply, "referrer-policy"), "same-origin", "{what}");
        assert_eq!(header(reply, "x-frame-options"), "DENY", "{what}");
        assert!(
            header(reply, "content-security-policy").contains("frame-ancestors 'none'"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_public_origin_is_https() {
    let dev = TestApp::new().await;
    let prod = TestApp::with_args(PRODUCTION).await;

    let plain = dev.get_page("/login", None).await;
    let tls = prod.get_page("/login", None).await;

    assert_eq!(header(&plain, "strict-transport-security"), "");
    assert_eq!(
        header(&tls, "strict-transport-security"),
        "max-age=31536000"
    );
}

#[tokio::test]
async fn secure_cookies_carry_the_host_and_secure_prefixes_and_only_those_are_read() {
    let app = TestApp::with_args(PRODUCTION).await;
    let name = unique_name("prefixed");

    let reply = app.try_register(&name, PASSWORD).await;

    let names: Vec<String> = reply
        .set_cookies()
        .iter()
        .map(|c| c.split('=').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "__Host-authbridge_access",
            "__Secure-authbridge_refresh",
            "__Host-authbridge_had_session"
        ]
    );
    let token = reply.cookie("__Host-authbridge_access").unwrap();
    let home = app
        .get_page("/", Some(&format!("__Host-authbridge_access={token}")))
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&name));
    // Without the prefix, a cookie anyone could have set is not ours.
    let plain = app
        .get_page("/", Some(&format!("authbridge_access={token}")))
        .await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);

    // The session renews through the prefixed refresh cookie.
    let mut jar = Jar::from_reply(&reply);
    jar.drop_cookie("__Host-authbridge_access");
    let renewed = app.call_with("/auth/renew", &[], &mut jar).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
}
