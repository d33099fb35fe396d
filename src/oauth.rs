//! The JSON API for clients that are not our pages: scripts, mobile apps and
//! the other services (see `interop/`).
//!
//! - `POST /api/token`: OAuth 2.0 token endpoint (RFC 6749) with the
//!   `password` grant as FastAPI's `OAuth2PasswordRequestForm` sends it
//!   (form fields `username`, `password`, optional `grant_type`, `scope`) and
//!   the `refresh_token` grant, which rotates like the browser sessions do.
//! - `GET /api/me`: the caller's public profile, for `Authorization: Bearer`.
//! - `POST /api/logout`: ends the session of a refresh token (or of the
//!   Bearer access token).
//! - `GET /.well-known/jwks.json` and `/.well-known/openid-configuration`:
//!   our public keys and where things are, for stock JWT libraries.
//!
//! These routes read no cookie: a browser's cookies cannot act here.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::PublicUser;
use crate::auth::guard::client_info;
use crate::auth::jwt::{Claims, TokenError};
use crate::auth::login::authenticate;
use crate::auth::refresh::{Grant, RefreshError};
use crate::db::RevokeReason;
use crate::error::AppError;
use crate::server::AppState;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/api/token";
/// Path of the key set.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The API's routes, to merge into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route("/api/me", get(me))
        .route("/api/logout", post(logout))
        .route(JWKS_PATH, get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
}

/// The form of a token request (RFC 6749 §4.3.2 and §6).
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    /// Accepted and ignored: every token grants the same (the user's own account).
    #[allow(dead_code)]
    scope: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access JWT.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The opaque refresh token; spend it once at the token endpoint.
    pub refresh_token: String,
}

/// An error response of the token endpoint (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: std::borrow::Cow<'static, str>,
    retry_after: Option<u32>,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: &'static str) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    fn invalid_request(description: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_grant(description: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
}

impl From<AppError> for OAuthError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::InvalidCredentials => Self::invalid_grant("Incorrect username or password."),
            AppError::Username(_) | AppError::Password(_) | AppError::BadRequest => {
                Self::invalid_request("The username or password is malformed.")
            }
            AppError::Busy => Self {
                retry_after: Some(2),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "The server is busy, please try again in a moment.",
                )
            },
            // RFC 6749 has no code for throttling; the grant is refused, and
            // 429 with `Retry-After` says for how long.
            AppError::TooManyAttempts { retry_after_secs } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "invalid_grant",
                description: error.to_string().into(),
                retry_after: Some(retry_after_secs),
            },
            _ => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Something went wrong on our side, please try again.",
            ),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.code,
            "error_description": self.description,
        });
        let mut response = (self.status, Json(body)).into_response();
        no_store(response.headers_mut());
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

async fn token(
    State(state): State<AppState>,
    parts: Parts,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Ok(Form(request)) = form else {
        return Err(OAuthError::invalid_request(
            "Send the fields form-encoded (application/x-www-form-urlencoded).",
        ));
    };
    let client = client_info(&parts);
    let (user, grant) = match request.grant_type.as_deref() {
        None | Some("password") => {
            let (Some(username), Some(password)) = (request.username, request.password) else {
                return Err(OAuthError::invalid_request(
                    "The password grant needs username and password.",
                ));
            };
            let ip = crate::security::client_ip::of_or_unspecified(&parts.extensions);
            let user = authenticate(&state, &username, password, ip).await?;
            let grant = state
                .sessions
                .start(&user.id, &user.name, &client)
                .await
                .map_err(crate::auth::login::store_fault)?;
            tracing::info!(username = %user.name, "token issued for a password grant");
            (user, grant)
        }
        Some("refresh_token") => {
            let Some(token) = request.refresh_token else {
                return Err(OAuthError::invalid_request(
                    "The refresh_token grant needs refresh_token.",
                ));
            };
            let grant = match state.sessions.refresh(&token, &client).await {
                Ok(grant) => grant,
                Err(RefreshError::Store(e)) => {
                    return Err(crate::auth::login::store_fault(e).into());
                }
                Err(_) => {
                    return Err(OAuthError::invalid_grant(
                        "The refresh token is invalid, expired or revoked.",
                    ));
                }
            };
            let user = PublicUser {
                id: grant.user_id.clone(),
                name: grant.username.clone(),
            };
            (user, grant)
        }
        Some(_) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Supported grant types: password, refresh_token.",
            ));
        }
    };
    issue(&state, &user, grant)
}

fn issue(state: &AppState, user: &PublicUser, grant: Grant) -> Result<Response, OAuthError> {
    let access_token = state.jwt.issue(user, &grant.session).map_err(|e| {
        tracing::error!(error = %e, "could not sign an access token");
        OAuthError::from(AppError::Internal)
    })?;
    let body = TokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: state.jwt.ttl().as_secs(),
        refresh_token: grant.token,
    };
    let mut response = Json(body).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// The `Bearer` token of a request, if it has one (RFC 6750 §2.1).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Why a protected API call was refused (RFC 6750 §3).
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// No Bearer token at all: a bare challenge, no error code.
    Missing,
    /// A token that is not (or no longer) valid, with the reason.
    InvalidToken(&'static str),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Missing => unauthorized(None),
            Self::InvalidToken(why) => unauthorized(Some(("invalid_token", why))),
        }
    }
}

fn unauthorized(error: Option<(&'static str, &'static str)>) -> Response {
    let (challenge, body) = match error {
        None => (
            r#"Bearer realm="authbridge""#.to_owned(),
            serde_json::json!({"error": "invalid_request", "error_description": "An Authorization: Bearer token is required."}),
        ),
        Some((code, description)) => (
            format!(
                r#"Bearer realm="authbridge", error="{code}", error_description="{description}""#
            ),
            serde_json::json!({"error": code, "error_description": description}),
        ),
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The claims of a valid Bearer access token whose session was not ended.
fn bearer_claims(state: &AppState, headers: &HeaderMap) -> Result<Claims, Refusal> {
    let token = bearer(headers).ok_or(Refusal::Missing)?;
    let claims = state.jwt.verify(token).map_err(|e| {
        Refusal::InvalidToken(match e {
            TokenError::Expired => "The access token expired.",
            TokenError::Invalid => "The access token is invalid.",
        })
    })?;
    if state.sessions.token_revoked(&claims) {
        return Err(Refusal::InvalidToken(
            "The session of this token was ended.",
        ));
    }
    Ok(claims)
}

/// The public profile `/api/me` answers with.
#[derive(Debug, Serialize, Deserialize)]
pub struct Profile {
    /// Stable user id (the token's `sub`).
    pub id: String,
    /// The username.
    pub username: String,
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match bearer_claims(&state, &headers) {
        Ok(claims) => Json(Profile {
            id: claims.sub,
            username: claims.name,
        })
        .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// The form of `/api/logout`: the refresh token to revoke (RFC 7009 style).
#[derive(Debug, Deserialize)]
pub struct LogoutRequest {
    refresh_token: Option<String>,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutRequest>, FormRejection>,
) -> Response {
    let refresh = form.ok().and_then(|Form(f)| f.refresh_token);
    let result = match (refresh, bearer(&headers)) {
        (Some(token), _) => state.sessions.end_by_token(&token).await,
        (None, Some(_)) => match bearer_claims(&state, &headers) {
            Ok(Claims {
                sub,
                sid: Some(sid),
                ..
            }) => state
                .sessions
                .end(&sub, &sid, RevokeReason::Logout)
                .await
                .map(|_| ()),
            Ok(_) => Ok(()),
            Err(refusal) => return refusal.into_response(),
        },
        (None, None) => {
            return OAuthError::invalid_request(
                "Send refresh_token, or the access token as Authorization: Bearer.",
            )
            .into_response();
        }
    };
    match result {
        // As RFC 7009 §2.2: an unknown or already revoked token is no error.
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => OAuthError::from(crate::auth::login::store_fault(e)).into_response(),
    }
}

async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.jwt.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn discovery(State(state): State<AppState>) -> Response {
    let origin = &state.public_origin;
    let algorithms: Vec<String> = state
        .jwt
        .key_set()
        .algorithms()
        .into_iter()
        .map(|alg| format!("{alg:?}"))
        .collect();
    let body = serde_json::json!({
        "issuer": state.jwt.issuer(),
        "jwks_uri": format!("{origin}{JWKS_PATH}"),
        "token_endpoint": format!("{origin}{TOKEN_PATH}"),
        "grant_types_supported": ["password", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "token_signing_alg_values_supported": algorithms,
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
