//! The on-disk store: an acknowledged registration survives `kill -9`, a store
//! held by another process is a clear error (never a hang), and the schema can
//! be applied again and again.

mod server_process;

use std::time::Duration;

use authbridge::auth::password::PasswordHash;
use authbridge::auth::username::Username;
use authbridge::db::{Store, StoreError};
use server_process::{RunningServer, TempStore};

#[tokio::test]
async fn acknowledged_registration_survives_kill_dash_nine() {
    let store = TempStore::new();
    let mut server = RunningServer::start(&store, &[]);

    let form = [
        ("username", "Durable_Dora"),
        ("password", "survives a crash"),
    ];
    let reply = server.call("/auth/register", &form);
    assert_eq!(reply.status(), 200, "registration acknowledged");
    server.kill();

    let reopened = store.reopen().await;
    let name = Username::parse("durable_dora").unwrap();
    let user = reopened.find_user(&name).await.unwrap();
    assert_eq!(user.map(|u| u.username).as_deref(), Some("Durable_Dora"));
}

#[tokio::test]
async fn second_server_on_a_held_store_fails_fast_with_a_clear_message() {
    let store = TempStore::new();
    let _first = RunningServer::start(&store, &[]);

    let mut second = RunningServer::spawn(&store, &[]);
    let status = second.wait_exit(Duration::from_secs(30));

    let status = status.expect("second server hangs on a held store");
    assert!(!status.success());
    let log = second.stderr();
    assert!(
        log.contains("already in use by another process"),
        "stderr: {log}"
    );
}

#[tokio::test]
async fn store_held_in_this_process_is_refused_not_awaited() {
    let store = TempStore::new();
    let _held = Store::open(&store.url).await.unwrap();

    let second = tokio::time::timeout(Duration::from_secs(20), Store::open(&store.url)).await;

    assert!(
        matches!(second, Ok(Err(StoreError::Locked(_)))),
        "got {:?}",
        second.map(|r| r.err())
    );
}

#[tokio::test]
async fn schema_is_applied_idempotently_and_data_persists_across_opens() {
    let store = TempStore::new();
    let name = Username::parse("Persistent_Pia").unwrap();
    {
        let first = Store::open(&store.url).await.unwrap();
        let hash = PasswordHash::from_phc("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into());
        first.create_user(&name, &hash).await.unwrap();
    }

    let reopened = store.reopen().await;

    assert_eq!(reopened.count_users_named(&name).await.unwrap(), 1);
}

#[tokio::test]
async fn seeding_adds_users_in_batches_who_can_log_in() {
    let store = TempStore::new();
    let seeded = std::process::Command::new(env!("CARGO_BIN_EXE_authbridge"))
        .args(["--database-url", &store.url, "seed", "--users", "1500"])
        .args(["--prefix", "seeded_", "--password", "load test pass"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    assert!(String::from_utf8_lossy(&seeded.stdout).contains("now holds 1500"));

    let reopened = store.reopen().await;
    assert_eq!(reopened.count_users().await.unwrap(), 1500);
    let user = reopened
        .find_user(&Username::parse("SEEDED_1499").unwrap())
        .await
        .unwrap()
        .expect("the last batch is there");
    let hasher = authbridge::auth::password::Hasher::new(1, Duration::from_secs(5)).unwrap();
    let verified = hasher
        .verify("load test pass".into(), Some(user.password_hash))
        .await
        .unwrap();
    // Cheap test-only parameters: accepted, and due for a rehash.
    assert!(matches!(
        verified,
        authbridge::auth::password::Verified::YesRehashed(_)
    ));
}
