//! Server entry point: settings, logging, then [`authbridge::server::run`].

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use authbridge::auth::keys;
use authbridge::config::{Command, Settings};

/// SSR allocates many small, short-lived objects per request; glibc's malloc
/// took about a quarter of the protected page's time (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Startup frees large buffers (the dummy password hash's 19 MiB work area);
/// mimalloc would keep them for reuse. An idle server should not hold them.
fn return_freed_memory() {
    // SAFETY: `mi_collect` takes a plain flag; mimalloc is the global
    // allocator, and collecting is allowed at any time from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// `mi_option_arena_eager_commit` in `mi_option_t` (mimalloc.h; 4 in both
/// the v3 that libmimalloc-sys builds and v2). The crate exports no name for it.
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// On Linux, mimalloc commits each new 1 GiB arena whole and asks for
/// transparent huge pages on it, so every 2 MiB the server touches counts in
/// full: 18-27 MiB of an idle server's RSS (docs/PERFORMANCE.md). Committing
/// on demand keeps to the pages used. `MIMALLOC_ARENA_EAGER_COMMIT` in the
/// environment still wins.
#[cfg(target_os = "linux")]
extern "C" fn configure_allocator() {
    // SAFETY: setting an option's default takes plain integers and is
    // allowed before mimalloc's initialisation.
    unsafe { libmimalloc_sys::mi_option_set_default(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

/// The first arena is made by Rust's runtime before `main` (its stack
/// overflow handler allocates), so the option is set from the ELF init
/// array, which the loader runs before that.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static CONFIGURE_ALLOCATOR: extern "C" fn() = configure_allocator;

/// Our own events and one line per request at info; libraries (SurrealDB is
/// chatty at info) only from warn.
const DEFAULT_LOG_FILTER: &str = "warn,authbridge=info,tower_http=info";

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; its variables never override the real environment.
    let dotenv = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = &dotenv
        && !e.not_found()
    {
        tracing::warn!(error = %e, "could not read .env");
    }

    let settings = Settings::parse();
    match &settings.command {
        Some(Command::Keygen { kind, out }) => return keygen(*kind, out.as_deref()),
        Some(Command::Seed {
            users,
            prefix,
            password,
        }) => return seed(&settings.database_url, *users, prefix, password).await,
        None => {}
    }
    match authbridge::server::run(settings, return_freed_memory).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `authbridge keygen KIND [--out FILE]`.
fn keygen(kind: keys::KeyKind, out: Option<&std::path::Path>) -> ExitCode {
    let key = keys::generate(kind);
    let Some(path) = out else {
        print!("{key}");
        return ExitCode::SUCCESS;
    };
    match keys::write_private(path, &key) {
        Ok(()) => {
            eprintln!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

/// `authbridge seed --users N`: batched inserts of load-test users.
async fn seed(url: &str, users: usize, prefix: &str, password: &str) -> ExitCode {
    const BATCH: usize = 1000;
    let started = std::time::Instant::now();
    let result = async {
        let store = authbridge::db::Store::open(url).await?;
        let hash = authbridge::auth::password::load_test_hash(password)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut next = 0;
        while next < users {
            let end = (next + BATCH).min(users);
            let names: Vec<_> = (next..end)
                .filter_map(|i| {
                    authbridge::auth::username::Username::parse(&format!("{prefix}{i}")).ok()
                })
                .collect();
            store.insert_users(&names, &hash).await?;
            next = end;
        }
        let total = store.count_users().await?;
        store.close().await;
        Ok::<_, Box<dyn std::error::Error>>(total)
    }
    .await;
    match result {
        Ok(total) => {
            println!(
                "seeded {users} users in {:.1?}; the store now holds {total}",
                started.elapsed()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seeding failed: {e}");
            ExitCode::FAILURE
        }
    }
}
