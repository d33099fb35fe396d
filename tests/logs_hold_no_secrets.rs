//! Secrets never reach the log: run the real server with debug logging,
//! register, log in and fail a login, then search everything it printed.

mod server_process;

use std::io::Read;

use server_process::{SECRET, agent, free_port, start_server_with, store_url, wait_healthy};

const PASSWORD: &str = "hunter2-but-longer-and-unique";

#[test]
fn debug_logs_hold_no_password_hash_token_or_secret() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_server_with(&store_url(dir.path()), port, &[("RUST_LOG", "debug")]);
    let agent = agent();
    wait_healthy(&agent, port, &mut server);
    let base = format!("http://127.0.0.1:{port}");

    let registered = agent
        .post(format!("{base}/auth/register"))
        .header("Accept", "application/json")
        .send_form([("username", "Quiet_Quinn"), ("password", PASSWORD)])
        .unwrap();
    let token = registered
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            v.to_str()
                .ok()?
                .strip_prefix("authbridge_access=")
                .map(|s| s.split(';').next().unwrap_or("").to_owned())
        })
        .expect("access cookie");
    let _ = agent
        .post(format!("{base}/auth/login"))
        .header("Accept", "application/json")
        .send_form([
            ("username", "Quiet_Quinn"),
            ("password", "wrong-password-attempt"),
        ])
        .unwrap();
    let _ = agent
        .get(format!("{base}/"))
        .header("Accept", "text/html")
        .header("Cookie", format!("authbridge_access={token}"))
        .call()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();

    assert!(
        log.contains("user registered"),
        "expected the outcome in the log:\n{log}"
    );
    assert!(log.contains("login failed"));
    for (what, secret) in [
        ("password", PASSWORD),
        ("wrong password", "wrong-password-attempt"),
        ("token", token.as_str()),
        ("secret key", SECRET),
        ("password hash", "$argon2id$"),
    ] {
        assert!(!log.contains(secret), "the log contains the {what}");
    }
}
