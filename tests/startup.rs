//! Startup checks a user of the binary meets: production refuses weak or
//! missing secrets before opening anything, and says why.

mod server_process;

use std::time::Duration;

use server_process::{RunningServer, TempStore};

fn refusal(env: &[(&str, &str)]) -> String {
    let store = TempStore::new();
    let mut server = RunningServer::spawn(&store, env);
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("server refuses at once");
    assert!(!status.success());
    server.stderr()
}

#[test]
fn production_without_secret_key_refuses_to_start() {
    let log = refusal(&[("AUTHBRIDGE_ENV", "production"), ("SECRET_KEY", "")]);
    assert!(log.contains("SECRET_KEY must be set"), "{log}");
}

#[test]
fn production_with_a_placeholder_or_short_secret_refuses_to_start() {
    let placeholder = refusal(&[
        ("AUTHBRIDGE_ENV", "production"),
        ("SECRET_KEY", "supersecret"),
    ]);
    let short = refusal(&[
        ("AUTHBRIDGE_ENV", "production"),
        ("SECRET_KEY", "tooShort123"),
    ]);
    assert!(placeholder.contains("placeholder"), "{placeholder}");
    assert!(short.contains("at least 32 bytes"), "{short}");
    assert!(
        !short.contains("tooShort123"),
        "the refused secret is echoed"
    );
}

#[test]
fn development_without_secret_key_starts_with_a_warning() {
    let store = TempStore::new();
    let mut server = RunningServer::start(&store, &[("SECRET_KEY", "")]);
    server.kill();
    assert!(server.stderr().contains("SECRET_KEY is not set"));
}
