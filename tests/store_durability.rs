//! The on-disk store: an acknowledged registration survives `kill -9`, a store
//! held by another process is a clear error (never a hang), and the schema can
//! be applied again and again.

mod server_process;

use std::io::Read;
use std::time::{Duration, Instant};

use server_process::{agent, free_port, open_with_retry, start_server, store_url, wait_healthy};

use authbridge::auth::username::Username;
use authbridge::db::{Store, StoreError};

#[tokio::test]
async fn acknowledged_registration_survives_kill_dash_nine() {
    let dir = tempfile::tempdir().unwrap();
    let url = store_url(dir.path());
    let port = free_port();
    let mut server = start_server(&url, port);
    let agent = agent();
    wait_healthy(&agent, port, &mut server);

    let reply = agent
        .post(format!("http://127.0.0.1:{port}/auth/register"))
        .header("Accept", "application/json")
        .send_form([
            ("username", "Durable_Dora"),
            ("password", "survives a crash"),
        ])
        .unwrap();
    assert_eq!(reply.status(), 200, "registration acknowledged");
    // SIGKILL right after the acknowledgement: no shutdown code runs.
    server.kill().unwrap();
    server.wait().unwrap();

    let store = open_with_retry(&url).await;
    let user = store
        .find_user(&Username::parse("durable_dora").unwrap())
        .await
        .unwrap();
    assert_eq!(user.map(|u| u.username).as_deref(), Some("Durable_Dora"));
}

#[tokio::test]
async fn second_server_on_a_held_store_fails_fast_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let url = store_url(dir.path());
    let port = free_port();
    let mut first = start_server(&url, port);
    let agent = agent();
    wait_healthy(&agent, port, &mut first);

    let started = Instant::now();
    let mut second = start_server(&url, free_port());
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "second server hangs on a held store"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    first.kill().unwrap();
    first.wait().unwrap();

    assert!(!status.success());
    assert!(
        stderr.contains("already in use by another process"),
        "stderr: {stderr}"
    );
}

#[tokio::test]
async fn store_held_in_this_process_is_refused_not_awaited() {
    let dir = tempfile::tempdir().unwrap();
    let url = store_url(dir.path());
    let _held = Store::open(&url).await.unwrap();

    let second = tokio::time::timeout(Duration::from_secs(20), Store::open(&url)).await;

    assert!(
        matches!(second, Ok(Err(StoreError::Locked(_)))),
        "got {:?}",
        second.map(|r| r.err())
    );
}

#[tokio::test]
async fn schema_is_applied_idempotently_and_data_persists_across_opens() {
    let dir = tempfile::tempdir().unwrap();
    let url = store_url(dir.path());
    let name = Username::parse("Persistent_Pia").unwrap();
    {
        let store = Store::open(&url).await.unwrap();
        let hash = authbridge::auth::password::PasswordHash::from_phc(
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        );
        store.create_user(&name, &hash).await.unwrap();
    }
    let store = open_with_retry(&url).await;
    assert_eq!(store.count_users_named(&name).await.unwrap(), 1);
}
