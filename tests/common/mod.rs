//! Shared fixture: each test gets its own router over its own `mem://` store.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use authbridge::config::Settings;
use authbridge::server::{AppState, router};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use tower::ServiceExt;

/// The secret every fixture signs with, so tests can forge tokens on purpose.
pub const SECRET: &str = "integration-test-secret-0123456789abcdef";

/// A test application over an isolated in-memory database.
#[derive(Clone)]
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
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
        let state = AppState::build(&settings, leptos)
            .await
            .expect("test app builds");
        let router = router(state.clone());
        Self { state, router }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response: Response<Body> = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
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

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        accept: &str,
        referer: Option<&str>,
    ) -> Reply {
        let body = form_encode(form);
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, body.len())
            .header(header::ACCEPT, accept);
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        if let Some(referer) = referer {
            req = req.header(header::REFERER, referer);
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
        let reply = self.try_register(name, password).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "register {name}: {}",
            reply.body
        );
        cookie_header(&reply)
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
