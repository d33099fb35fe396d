//! Secrets never reach the log: run the real server with debug logging,
//! register, fail a login, load a page and refresh, then search everything it
//! printed.

mod server_process;

use server_process::{RunningServer, SECRET, TempStore};

const PASSWORD: &str = "hunter2-but-longer-and-unique";
const WRONG: &str = "wrong-password-attempt";
const TYPED_AS_NAME: &str = "Hunter2.Typed.In.Name";

#[test]
fn debug_logs_hold_no_password_hash_token_or_secret() {
    let store = TempStore::new();
    let mut server = RunningServer::start(&store, &[("RUST_LOG", "debug")]);

    let registered = server.call(
        "/auth/register",
        &[("username", "Quiet_Quinn"), ("password", PASSWORD)],
    );
    let cookie = |name: &str| {
        let prefix = format!("{name}=");
        registered
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| Some(v.to_str().ok()?.strip_prefix(&prefix)?.to_owned()))
            .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
            .next()
            .unwrap_or_else(|| panic!("{name} cookie"))
    };
    let token = cookie("authbridge_access");
    let refresh = cookie("authbridge_refresh");
    server.call(
        "/auth/login",
        &[("username", "Quiet_Quinn"), ("password", WRONG)],
    );
    let home = server
        .agent
        .get(server.url("/"))
        .header("Accept", "text/html")
        .header("Cookie", format!("authbridge_access={token}"))
        .call()
        .unwrap();
    assert_eq!(home.status(), 200);
    // A refresh, then the same token again after it was spent.
    for _ in 0..2 {
        let renewed = server
            .agent
            .post(server.url("/auth/renew"))
            .header("Accept", "application/json")
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", format!("authbridge_refresh={refresh}"))
            .send_empty()
            .unwrap();
        assert_eq!(renewed.status(), 200);
    }
    server.kill();
    let log = server.stderr();

    assert!(
        log.contains("user registered"),
        "expected the outcome in the log:\n{log}"
    );
    assert!(log.contains("login failed"));
    for (what, secret) in [
        ("password", PASSWORD),
        ("wrong password", WRONG),
        ("password typed as a username", TYPED_AS_NAME),
        ("token", token.as_str()),
        ("refresh token", refresh.as_str()),
        ("secret key", SECRET),
        ("password hash", "$argon2id$"),
    ] {
        assert!(!log.contains(secret), "the log contains the {what}");
    }
}
