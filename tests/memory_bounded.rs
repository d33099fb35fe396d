//! Memory stays bounded under steady traffic: serving a request must not
//! leave anything behind. (A `Surreal` handle cloned with the application
//! state on every request once opened a SurrealDB session each time, and the
//! server grew by ~10 KB per request until it was killed.)
//!
//! Its own test binary, so no other test's allocations share the process.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestApp, unique_name};
use tokio::task::JoinSet;

/// Requests in flight at once, as a load tool's connections.
const CONCURRENCY: usize = 32;

/// Resident memory of this process, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs is mounted");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line");
    kib * 1024
}

/// Sends `total` copies of the request `make` builds, `CONCURRENCY` at a
/// time, and checks each answer's status.
async fn hammer(
    app: &TestApp,
    total: usize,
    expect: StatusCode,
    make: fn(&str) -> Request<Body>,
    cookie: &str,
) {
    let mut set = JoinSet::new();
    for i in 0..total {
        if i >= CONCURRENCY {
            set.join_next().await.unwrap().unwrap();
        }
        let app = app.clone();
        let request = make(cookie);
        set.spawn(async move {
            let reply = app.send(request).await;
            assert_eq!(reply.status, expect, "{}", reply.body);
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

fn protected_page(cookie: &str) -> Request<Body> {
    Request::get("/")
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap()
}

fn api_me_without_token(_: &str) -> Request<Body> {
    Request::get("/api/me").body(Body::empty()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_traffic_does_not_grow_memory() {
    let app = TestApp::new().await;
    let name = unique_name("mem");
    let cookie = app.register(&name, "correct horse battery").await;

    // Warm-up: lazily built caches, allocator arenas, the runtime's pools.
    hammer(&app, 3_000, StatusCode::OK, protected_page, &cookie).await;
    hammer(
        &app,
        3_000,
        StatusCode::UNAUTHORIZED,
        api_me_without_token,
        "",
    )
    .await;
    let before = rss_bytes();

    const REQUESTS: usize = 12_000;
    hammer(&app, REQUESTS, StatusCode::OK, protected_page, &cookie).await;
    hammer(
        &app,
        REQUESTS,
        StatusCode::UNAUTHORIZED,
        api_me_without_token,
        "",
    )
    .await;
    let after = rss_bytes();

    // 24,000 requests: the old leak (~10 KB each) made ~230 MiB of this.
    // A bounded server stays within allocator noise.
    let grown = after.saturating_sub(before);
    let limit = 24 * 1024 * 1024;
    assert!(
        grown < limit,
        "memory grew by {} KiB over {} requests ({} bytes per request); \
         the limit is {} KiB",
        grown / 1024,
        2 * REQUESTS,
        grown / (2 * REQUESTS) as u64,
        limit / 1024
    );
}
