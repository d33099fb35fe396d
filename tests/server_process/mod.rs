//! Runs the real `authbridge` binary on a loopback port picked here, over an
//! on-disk store in a temporary directory.
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use authbridge::db::Store;

pub const SECRET: &str = "process-test-secret-0123456789abcdef";

/// How long a server may take to answer `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process; killed (SIGKILL) when dropped.
pub struct RunningServer {
    pub child: Child,
    pub port: u16,
    pub agent: ureq::Agent,
}

/// A temporary directory holding one on-disk store.
pub struct TempStore {
    _dir: tempfile::TempDir,
    pub url: String,
}

impl TempStore {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("surrealkv://{}?sync=every", dir.path().join("db").display());
        Self { _dir: dir, url }
    }

    /// Opens the store from this test process, retrying while a killed
    /// server's lock is being released.
    pub async fn reopen(&self) -> Store {
        let mut last = None;
        for _ in 0..50 {
            match Store::open(&self.url).await {
                Ok(store) => return store,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("store did not reopen: {last:?}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RunningServer {
    /// Starts a server on `store` without waiting for it. `env` overrides the
    /// defaults; a variable given as `""` is removed instead.
    pub fn spawn(store: &TempStore, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_authbridge"));
        command
            .env("AUTHBRIDGE_DATABASE_URL", &store.url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("SECRET_KEY", SECRET)
            .env("AUTHBRIDGE_ENV", "development")
            .env("RUST_LOG", "warn");
        for (name, value) in env {
            if value.is_empty() {
                command.env_remove(name);
            } else {
                command.env(name, value);
            }
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("server binary starts");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Self { child, port, agent }
    }

    /// Starts a server and polls `/healthz` until it answers 200.
    pub fn start(store: &TempStore, env: &[(&str, &str)]) -> Self {
        let mut server = Self::spawn(store, env);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("server exited early with {status}: {}", server.stderr());
            }
            if let Ok(reply) = server.agent.get(server.url("/healthz")).call()
                && reply.status() == 200
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not become healthy within {START_TIMEOUT:?}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Posts a server-function form as the hydrated page does (from our origin).
    pub fn call(&self, path: &str, form: &[(&str, &str)]) -> ureq::http::Response<ureq::Body> {
        self.agent
            .post(self.url(path))
            .header("Accept", "application/json")
            .header("Sec-Fetch-Site", "same-origin")
            .send_form(form.iter().copied())
            .unwrap()
    }

    /// Waits up to `limit` for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Everything the process wrote to stderr (its log); call after it ended.
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut text).unwrap();
        }
        text
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.kill();
    }
}
