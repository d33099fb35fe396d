//! Shared fixture: each test gets its own router over its own `mem://` store.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use authbridge::config::Settings;
use authbridge::security::rate_limit::LimitClock;
use authbridge::server::{AppState, router};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use tower::ServiceExt;

/// The secret every fixture signs with, so tests can forge tokens on purpose.
pub const SECRET: &str = "integration-test-secret-0123456789abcdef";

/// The public origin of every fixture (the default listen address).
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// An origin that is not ours: a page on another local port.
pub const OTHER_ORIGIN: &str = "http://127.0.0.1:4000";

/// Longest a request may take before the test fails (instead of hanging).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The client address fixtures send from unless told otherwise.
pub const CLIENT_IP: &str = "127.0.0.1";

/// A test application over an isolated in-memory database.
#[derive(Clone)]
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    /// The address requests come from (the TCP peer).
    pub peer: SocketAddr,
    /// The clock of the brute-force limits: it stands still unless a test
    /// moves it, so no limit refills while a slow machine runs the test.
    pub limit_clock: LimitClock,
}

/// A response read to the end.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The value set for cookie `name`, if this response sets it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find_map(|c| {
            let first = c.split(';').next()?.to_owned();
            let (k, v) = first.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }
}

/// A unique username per call, so parallel tests never collide.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}{}_{}",
        std::process::id() % 10_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_args(&[]).await
    }

    /// A fixture with extra command-line settings (e.g. `--access-ttl 1s`).
    pub async fn with_args(extra: &[&str]) -> Self {
        let mut argv = vec![
            "authbridge",
            "--env",
            "development",
            "--database-url",
            "mem://",
        ];
        argv.extend(["--secret-key", SECRET, "--jwt-leeway", "0s"]);
        argv.extend_from_slice(extra);
        let settings = Settings::try_parse_from(argv).expect("test settings parse");
        let leptos = LeptosOptions::builder().output_name("authbridge").build();
        let limit_clock = LimitClock::manual();
        let state = AppState::build_with_clock(&settings, leptos, &limit_clock)
            .await
            .expect("test app builds");
        let router = router(state.clone());
        let peer = SocketAddr::new(CLIENT_IP.parse().unwrap(), 40_000);
        Self {
            state,
            router,
            peer,
            limit_clock,
        }
    }

    /// The same application, with requests coming from `ip`.
    pub fn at_ip(&self, ip: &str) -> Self {
        Self {
            peer: SocketAddr::new(ip.parse().unwrap(), 40_000),
            ..self.clone()
        }
    }

    /// What the store holds now.
    pub async fn census(&self) -> authbridge::db::Census {
        self.state.store.census().await.unwrap()
    }

    /// Sends `request` from [`Self::peer`] and reads the reply; a request
    /// that takes longer than [`REQUEST_TIMEOUT`] fails the test, naming it.
    pub async fn send(&self, mut request: Request<Body>) -> Reply {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let what = format!("{} {}", request.method(), request.uri().path());
        let exchange = async {
            let response: Response<Body> = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, headers, bytes)
        };
        let (status, headers, bytes) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| panic!("{what} got no answer within {REQUEST_TIMEOUT:?}"));
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A page load, as a browser navigation.
    pub async fn get_page(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A server-function call as the hydrated page makes it (JavaScript on).
    pub async fn call(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
        self.post(path, form, cookie, "application/json", None)
            .await
    }

    /// A plain HTML form post from `referer` (JavaScript off).
    pub async fn submit(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        referer: &str,
    ) -> Reply {
        self.post(
            path,
            form,
            cookie,
            "text/html,application/xhtml+xml",
            Some(referer),
        )
        .await
    }

    /// Our own pages' posts carry `Sec-Fetch-Site: same-origin`, as a
    /// browser sends it.
    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        accept: &str,
        referer: Option<&str>,
    ) -> Reply {
        let mut headers = vec![
            (header::ACCEPT.as_str(), accept),
            ("sec-fetch-site", "same-origin"),
        ];
        if let Some(referer) = referer {
            headers.push((header::REFERER.as_str(), referer));
        }
        self.post_with(path, form, cookie, &headers).await
    }

    /// A form post with exactly the headers given (and the cookie, if any):
    /// for requests that do not come from our pages.
    pub async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = form_encode(form);
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, body.len());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// A registration as the hydrated page sends it.
    pub async fn try_register(&self, name: &str, password: &str) -> Reply {
        let form = [("username", name), ("password", password)];
        self.call("/auth/register", &form, None).await
    }

    /// A login as the hydrated page sends it.
    pub async fn try_login(&self, name: &str, password: &str) -> Reply {
        let form = [("username", name), ("password", password)];
        self.call("/auth/login", &form, None).await
    }

    /// Registers `name` (JavaScript on) and returns the `Cookie` header value
    /// that the browser would send afterwards.
    pub async fn register(&self, name: &str, password: &str) -> String {
        cookie_header(&self.registered(name, password).await)
    }

    /// The reply of a registration that must succeed.
    async fn registered(&self, name: &str, password: &str) -> Reply {
        let reply = self.try_register(name, password).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "register {name}: {}",
            reply.body
        );
        reply
    }
}

/// The `Cookie` header a browser would send after `reply` set its cookies.
pub fn cookie_header(reply: &Reply) -> String {
    ["authbridge_access", "authbridge_had_session"]
        .iter()
        .filter_map(|name| reply.cookie(name).map(|v| format!("{name}={v}")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `application/x-www-form-urlencoded` encoding.
pub fn form_encode(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A browser's cookie store, as far as these tests need one: cookies by name
/// with their `Path`, replaced and removed (`Max-Age=0`) as responses say, and
/// sent only to paths under their `Path`.
#[derive(Debug, Clone, Default)]
pub struct Jar {
    cookies: Vec<(String, String, String)>,
}

impl Jar {
    /// A jar holding what `reply` set.
    pub fn from_reply(reply: &Reply) -> Self {
        let mut jar = Self::default();
        jar.update(reply);
        jar
    }

    /// Applies the `Set-Cookie` headers of `reply`.
    pub fn update(&mut self, reply: &Reply) {
        for header in reply.set_cookies() {
            let mut parts = header.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let mut path = "/".to_owned();
            let mut removed = false;
            for attribute in parts {
                if let Some(p) = attribute.strip_prefix("Path=") {
                    path = p.to_owned();
                }
                if attribute == "Max-Age=0" {
                    removed = true;
                }
            }
            self.cookies.retain(|(n, _, p)| !(n == name && *p == path));
            if !removed {
                self.cookies.push((name.to_owned(), value.to_owned(), path));
            }
        }
    }

    /// The value of cookie `name`, whatever its path.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.as_str())
    }

    /// Forgets cookie `name` (as a browser does when `Max-Age` runs out).
    pub fn drop_cookie(&mut self, name: &str) {
        self.cookies.retain(|(n, _, _)| n != name);
    }

    /// Sets cookie `name` for `path`, as a copied or stolen cookie would be.
    pub fn put(&mut self, name: &str, value: &str, path: &str) {
        self.cookies.retain(|(n, _, p)| !(n == name && p == path));
        self.cookies
            .push((name.to_owned(), value.to_owned(), path.to_owned()));
    }

    /// The `Cookie` header for a request to `path`.
    pub fn header_for(&self, path: &str) -> String {
        let path = path.split('?').next().unwrap_or(path);
        self.cookies
            .iter()
            .filter(|(_, _, p)| {
                p == "/" || path == p || path.starts_with(&format!("{}/", p.trim_end_matches('/')))
            })
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl TestApp {
    /// Loads `path` as a browser with `jar` would, following redirects (at
    /// most 8) and keeping the cookies they set. Returns the last reply and
    /// every location passed through.
    pub async fn browse(&self, path: &str, jar: &mut Jar) -> (Reply, Vec<String>) {
        let mut visited = Vec::new();
        let mut path = path.to_owned();
        for _ in 0..8 {
            let cookie = jar.header_for(&path);
            let reply = self
                .get_page(&path, (!cookie.is_empty()).then_some(cookie.as_str()))
                .await;
            jar.update(&reply);
            if !reply.status.is_redirection() {
                return (reply, visited);
            }
            path = reply.location().to_owned();
            visited.push(path.clone());
        }
        panic!("redirect loop: {visited:?}");
    }

    /// A server-function call (JavaScript on) with the cookies `jar` sends
    /// to `path`; the jar keeps what the reply sets.
    pub async fn call_with(&self, path: &str, form: &[(&str, &str)], jar: &mut Jar) -> Reply {
        let cookie = jar.header_for(path);
        let reply = self
            .call(path, form, (!cookie.is_empty()).then_some(cookie.as_str()))
            .await;
        jar.update(&reply);
        reply
    }

    /// Registers `name` and returns the browser's cookie jar afterwards.
    pub async fn register_jar(&self, name: &str, password: &str) -> Jar {
        Jar::from_reply(&self.registered(name, password).await)
    }

    /// Logs `name` in (a second device) and returns that browser's jar.
    pub async fn login_jar(&self, name: &str, password: &str) -> Jar {
        let reply = self.try_login(name, password).await;
        assert_eq!(reply.status, StatusCode::OK, "login {name}: {}", reply.body);
        Jar::from_reply(&reply)
    }
}
