//! Server assembly: state built once from settings, the router built from
//! state, and serving from a given listener so tests can bind port 0.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::{App, shell};
use crate::auth::cookie::CookiePolicy;
use crate::auth::guard;
use crate::auth::jwt::{JwtKeys, JwtSettings};
use crate::auth::keys::{KeyError, KeySet};
use crate::auth::password::{HashError, Hasher};
use crate::auth::refresh::{SessionSettings, Sessions, purge_forever};
use crate::auth::revocations::Revocations;
use crate::config::{ConfigError, SecretSource, Settings};
use crate::db::{Store, StoreError};
use crate::security::rate_limit::{LimitClock, RateLimits};
use crate::security::{self, SecurityConfigError, SecurityPolicy};

/// Everything a request handler needs. Cloned several times per request
/// (each middleware's state, each extractor), so it is one `Arc`: a clone
/// is one counter increment instead of one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    /// Leptos' own options (site root, address, output name).
    pub leptos: LeptosOptions,
    /// The user store.
    pub store: Store,
    /// Token signing and verification.
    pub jwt: Arc<JwtKeys>,
    /// Bounded password hashing.
    pub hasher: Hasher,
    /// How our cookies are built.
    pub cookies: CookiePolicy,
    /// Refresh tokens and session revocation.
    pub sessions: Sessions,
    /// The origin this server is reached at (the first of
    /// `AUTHBRIDGE_PUBLIC_URL`), for the discovery document.
    pub public_origin: String,
    /// Peer origins `next` may lead back to (`AUTHBRIDGE_REDIRECT_ORIGINS`).
    pub redirect_origins: Arc<[String]>,
    /// CSRF origins, headers, size limits, client address source.
    pub security: Arc<SecurityPolicy>,
    /// Failed-login and registration limits.
    pub limits: RateLimits,
}

impl AppState {
    /// Where to go after login: `next` if it is safe, else `/`.
    pub fn next_target(&self, next: Option<&str>) -> String {
        crate::auth::next_path::safe_next_to(next, &self.redirect_origins)
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A security setting was refused.
    #[error(transparent)]
    Security(#[from] SecurityConfigError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hasher could not be set up.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The signing keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// Leptos' configuration could not be read.
    #[error("leptos configuration: {0}")]
    Leptos(String),
    /// The listening socket could not be opened.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

impl AppState {
    /// Checks the settings, opens the store and builds the keys: every fault
    /// in configuration shows here, before the first request.
    pub async fn build(settings: &Settings, leptos: LeptosOptions) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, leptos, &LimitClock::system()).await
    }

    /// [`Self::build`] with the rate limits on `clock` (tests move a manual one).
    pub async fn build_with_clock(
        settings: &Settings,
        leptos: LeptosOptions,
        clock: &LimitClock,
    ) -> Result<Self, StartupError> {
        let (secret, source) = settings.signing_secret()?;
        if source == SecretSource::Generated {
            tracing::warn!(
                "SECRET_KEY is not set: using a random secret for this run (development only); \
                 sessions end when the server restarts and peers cannot verify tokens"
            );
        }
        let keys = if settings.jwt_keys.is_empty() && settings.jwt_next_keys.is_empty() {
            KeySet::shared_secret(&secret)?
        } else {
            KeySet::from_files(&settings.jwt_keys, &settings.jwt_next_keys)?
        };
        let signing = keys.signing();
        tracing::info!(alg = ?signing.alg, kid = signing.kid.as_deref().unwrap_or("-"), keys = keys.keys().count(), "token signing key");
        let jwt = JwtKeys::new(JwtSettings {
            keys,
            issuer: &settings.jwt_issuer,
            audience: &settings.jwt_audience,
            ttl: settings.access_ttl,
            leeway: settings.jwt_leeway,
        });
        let reload_port = std::env::var_os("LEPTOS_WATCH")
            .map(|_| leptos.reload_external_port.unwrap_or(leptos.reload_port));
        let security = settings
            .security
            .policy(settings.env, leptos.site_addr, reload_port)?;
        let store = Store::open(&settings.database_url).await?;
        // An access token outlives its session's revocation by at most this.
        let token_window = settings.access_ttl + settings.jwt_leeway;
        let sessions = Sessions::new(
            store.clone(),
            &secret,
            SessionSettings {
                refresh_ttl: settings.refresh_ttl,
                max_age: settings.session_max_age,
                grace: settings.refresh_grace,
            },
            Revocations::new(token_window),
        );
        sessions.load_recent_revocations(token_window).await?;
        let hasher = Hasher::new(settings.hash_permits(), settings.hash_queue_timeout)?;
        let cookies = CookiePolicy {
            secure: settings.cookie_secure(leptos.site_addr),
        };
        let public_origin = security
            .origins
            .primary()
            .unwrap_or_else(|| format!("http://{}", leptos.site_addr));
        Ok(Self(Arc::new(Shared {
            leptos,
            store,
            jwt: Arc::new(jwt),
            hasher,
            cookies,
            sessions,
            public_origin,
            redirect_origins: settings.redirect_origins.clone().into(),
            security: Arc::new(security),
            limits: settings.security.rate_limits(clock),
        })))
    }
}

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    register_server_fns();
    let routes = generate_route_list(App);
    let options = state.leptos.clone();
    // Leptos' inline scripts carry the nonce of our CSP header.
    let nonce = security::headers::provide_request_nonce;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route(guard::REFRESH_ROUTE, get(guard::refresh_route))
        .merge(crate::oauth::routes())
        .leptos_routes_with_context(&state, routes, nonce, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(nonce, shell))
        .layer(axum::middleware::from_fn(
            crate::error::server_fn_error_status,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::session_layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.leptos.hash_files,
            asset_cache_control,
        ));
    security::guard_requests(app, &state.security)
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    // Path and client address only: no headers (cookies), no query.
                    let ip = security::client_ip::of(req.extensions())
                        .map(|ip| ip.to_string())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), %ip)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.security),
            security::client_ip::client_ip_layer,
        ))
        .with_state(state)
}

/// Cache rules for the site's files under `/pkg/` (wasm, JS, CSS). With
/// hashed names (`hash-files`, as `cargo leptos build` makes them) a name
/// changes with the content, so browsers keep a file for a year; unhashed
/// names (a plain `cargo build`) must be revalidated each time.
async fn asset_cache_control(
    State(hashed): State<bool>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let asset = req.uri().path().starts_with("/pkg/");
    let mut response = next.run(req).await;
    if asset && response.status().is_success() {
        let rule = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static(rule),
        );
    }
    response
}

/// Registers the server functions by hand as well: `inventory` may miss them
/// when the library is linked into a test binary that does not name them.
fn register_server_fns() {
    use crate::api::{
        ChangePassword, CurrentUser, EndSession, ListSessions, Login, Logout, LogoutEverywhere,
        Register, RenewSession,
    };
    use leptos::server_fn::axum::register_explicit;
    register_explicit::<Login>();
    register_explicit::<Register>();
    register_explicit::<Logout>();
    register_explicit::<CurrentUser>();
    register_explicit::<RenewSession>();
    register_explicit::<ListSessions>();
    register_explicit::<EndSession>();
    register_explicit::<LogoutEverywhere>();
    register_explicit::<ChangePassword>();
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.is_healthy().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the server with the given settings until Ctrl-C or SIGTERM.
/// `startup_done` runs once the state is built, before the first request
/// (the binary hands the memory startup freed back to the system there).
pub async fn run(settings: Settings, startup_done: fn()) -> Result<(), StartupError> {
    let conf = get_configuration(None).map_err(|e| StartupError::Leptos(e.to_string()))?;
    let leptos = conf.leptos_options;
    let addr = leptos.site_addr;
    let state = AppState::build(&settings, leptos).await?;
    startup_done();
    let purge = tokio::spawn(purge_forever(
        state.store.clone(),
        settings.purge_interval,
        PURGE_BATCH,
    ));
    let forget = tokio::spawn(state.limits.clone().forget_idle_forever());
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(env = ?settings.env, "authbridge listening on http://{local}");
    println!("authbridge is running: open http://{local}/register");
    tracing::info!(origins = %state.security.origins, "accepting state changes from these origins");
    serve(listener, router(state), shutdown_signal()).await?;
    purge.abort();
    forget.abort();

    // The router, and with it every store handle, is gone now. The embedded
    // engine shuts down in a background task once the last handle drops and
    // offers nothing to await, so give it a moment before the runtime stops
    // (otherwise it logs its tasks as cancelled). Committed data is already
    // on disk either way.
    tokio::time::sleep(crate::db::ENGINE_SHUTDOWN_GRACE).await;
    Ok(())
}

/// Most expired tokens (and sessions) deleted in one purge pass, so a pass
/// never holds the store for long.
const PURGE_BATCH: usize = 500;

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
