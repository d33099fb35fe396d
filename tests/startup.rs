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

#[test]
fn keygen_writes_an_owner_only_key_the_server_signs_with() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing.pem");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_authbridge"))
        .args(["keygen", "eddsa", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never over an existing file.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_authbridge"))
        .args(["keygen", "eddsa", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(!again.status.success());

    let store = TempStore::new();
    let mut server =
        RunningServer::start(&store, &[("AUTHBRIDGE_JWT_KEYS", key.to_str().unwrap())]);
    let jwks = server
        .agent
        .get(server.url("/.well-known/jwks.json"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    server.kill();
    assert!(jwks.contains(r#""crv":"Ed25519""#), "{jwks}");
}

#[test]
fn keygen_prints_a_secret_long_enough_for_production() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_authbridge"))
        .args(["keygen", "hs256"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let secret = String::from_utf8(out.stdout).unwrap();
    let secret = secret.trim();
    assert!(secret.len() >= 64, "{secret}");
    let log = {
        let store = TempStore::new();
        let mut server = RunningServer::start(
            &store,
            &[
                ("AUTHBRIDGE_ENV", "production"),
                ("SECRET_KEY", secret),
                ("AUTHBRIDGE_PUBLIC_URL", "https://auth.example.com"),
            ],
        );
        server.kill();
        server.stderr()
    };
    assert!(!log.contains(secret), "the secret is logged");
}

/// A production secret that passes the secret checks, so the next rule speaks.
const STRONG: &str = "k3J9vQ2mX8pL5nR7tW1yZ4bC6dF0gH2jK-strong";

#[test]
fn production_without_an_https_public_url_refuses_to_start() {
    let missing = refusal(&[("AUTHBRIDGE_ENV", "production"), ("SECRET_KEY", STRONG)]);
    let plain = refusal(&[
        ("AUTHBRIDGE_ENV", "production"),
        ("SECRET_KEY", STRONG),
        ("AUTHBRIDGE_PUBLIC_URL", "http://auth.example.com"),
    ]);
    assert!(
        missing.contains("AUTHBRIDGE_PUBLIC_URL must be set"),
        "{missing}"
    );
    assert!(plain.contains("must be https://"), "{plain}");
}

#[test]
fn production_with_insecure_cookies_or_without_rate_limits_refuses_to_start() {
    let production = [
        ("AUTHBRIDGE_ENV", "production"),
        ("SECRET_KEY", STRONG),
        ("AUTHBRIDGE_PUBLIC_URL", "https://auth.example.com"),
    ];
    let insecure = refusal(&[&production[..], &[("AUTHBRIDGE_COOKIE_SECURE", "false")]].concat());
    let unlimited = refusal(&[&production[..], &[("AUTHBRIDGE_RATE_LIMIT", "off")]].concat());
    assert!(
        insecure.contains("AUTHBRIDGE_COOKIE_SECURE=false is refused"),
        "{insecure}"
    );
    assert!(
        unlimited.contains("AUTHBRIDGE_RATE_LIMIT=off is refused"),
        "{unlimited}"
    );
}

#[test]
fn production_with_https_public_url_starts() {
    let store = TempStore::new();
    let mut server = RunningServer::start(
        &store,
        &[
            ("AUTHBRIDGE_ENV", "production"),
            ("SECRET_KEY", STRONG),
            ("AUTHBRIDGE_PUBLIC_URL", "https://auth.example.com"),
        ],
    );
    let reply = server.agent.get(server.url("/login")).call().unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    server.kill();
}

/// `AnonHugePages` of a running server, in KiB.
fn huge_page_kib(server: &RunningServer) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", server.child.id()))
        .expect("procfs is mounted");
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("AnonHugePages line")
}

/// An idle server after some requests, as the memory target measures it.
fn idle_huge_page_kib(env: &[(&str, &str)]) -> u64 {
    let store = TempStore::new();
    let server = RunningServer::start(&store, env);
    for path in ["/", "/login", "/register", "/healthz"] {
        let reply = server.agent.get(server.url(path)).call().unwrap();
        assert!(reply.status().as_u16() < 400, "{path}: {}", reply.status());
    }
    std::thread::sleep(Duration::from_millis(300));
    huge_page_kib(&server)
}

/// mimalloc's default on Linux commits whole arenas and asks for transparent
/// huge pages on them, which put 18-27 MiB of 2 MiB pages into an idle
/// server's RSS; the binary turns that off before Rust's runtime allocates
/// (see `src/main.rs`). The control run restores mimalloc's default through
/// its environment variable: where that yields huge pages, ours must not.
#[test]
fn an_idle_server_keeps_its_heap_off_transparent_huge_pages() {
    let control = idle_huge_page_kib(&[("MIMALLOC_ARENA_EAGER_COMMIT", "2")]);
    let ours = idle_huge_page_kib(&[]);
    if control == 0 {
        eprintln!(
            "not checked: mimalloc's default got no huge pages on this machine either \
             (transparent huge pages off or none free)"
        );
        return;
    }
    assert_eq!(ours, 0, "control run: {control} KiB of huge pages");
}
