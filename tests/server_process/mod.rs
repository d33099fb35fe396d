//! Runs the real `authbridge` binary on a loopback port picked here.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authbridge::db::Store;

pub const SECRET: &str = "durability-test-secret-0123456789abcdef";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn store_url(dir: &std::path::Path) -> String {
    format!("surrealkv://{}?sync=every", dir.join("db").display())
}

pub fn start_server(url: &str, port: u16) -> Child {
    start_server_with(url, port, &[])
}

/// Starts the server with extra environment variables (which win).
pub fn start_server_with(url: &str, port: u16, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_authbridge"))
        .env("AUTHBRIDGE_DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SECRET_KEY", SECRET)
        .env("AUTHBRIDGE_ENV", "development")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server binary starts")
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Polls `/healthz` instead of sleeping a fixed time.
pub fn wait_healthy(agent: &ureq::Agent, port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early with {status}");
        }
        if let Ok(reply) = agent.get(format!("http://127.0.0.1:{port}/healthz")).call()
            && reply.status() == 200
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not become healthy within 30 s");
}

pub async fn open_with_retry(url: &str) -> Store {
    // The lock of a killed process is free at once, but give the OS a moment.
    let mut last = None;
    for _ in 0..50 {
        match Store::open(url).await {
            Ok(store) => return store,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("store did not reopen: {last:?}");
}
