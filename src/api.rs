//! Server functions: every auth action the pages perform. The bodies run on
//! the server only; the browser gets a typed stub that posts the form.
//!
//! They answer with `()`, a [`PublicUser`] or an [`AppError`]: the token only
//! ever travels in a `Set-Cookie` header, never in a response body.

use leptos::prelude::*;

use crate::auth::PublicUser;
use crate::error::AppError;

/// Logs in and redirects to `next` (a local path, else `/`). `remember` is the
/// checkbox of the same name; it is handled in the browser and ignored here.
#[server(prefix = "/auth", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
    remember: Option<String>,
) -> Result<(), AppError> {
    let _ = remember;
    ssr::login(username, password, next).await
}

/// Creates an account, logs it in and redirects home.
#[server(prefix = "/auth", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<(), AppError> {
    ssr::register(username, password).await
}

/// Ends the session in this browser and redirects to the login page.
#[server(prefix = "/auth", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    ssr::logout();
    Ok(())
}

/// The logged-in user, or [`AppError::NotLoggedIn`].
#[server(prefix = "/auth", endpoint = "me")]
pub async fn current_user() -> Result<PublicUser, AppError> {
    let user = crate::auth::guard::current_session().user().cloned();
    user.ok_or(AppError::NotLoggedIn)
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::HeaderValue;
    use axum::http::header::SET_COOKIE;
    use axum_extra::extract::cookie::Cookie;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    use crate::auth::cookie::{ACCESS_COOKIE, MARKER_COOKIE};
    use crate::auth::guard::current_session;
    use crate::auth::next_path::safe_next;
    use crate::auth::password::{HashError, Verified};
    use crate::auth::username::{Username, UsernameError};
    use crate::auth::{LoginReason, PublicUser, login_url, password_rules};
    use crate::db::StoreError;
    use crate::error::AppError;
    use crate::server::AppState;

    pub async fn login(
        username: String,
        password: String,
        next: Option<String>,
    ) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let name = match Username::parse(&username) {
            Err(UsernameError::Empty) => return Err(AppError::Username(UsernameError::Empty)),
            other => other.ok(),
        };
        if !password_rules::plausible_at_login(&password) {
            return Err(AppError::InvalidCredentials);
        }

        let user = match &name {
            Some(name) => state.store.find_user(name).await.map_err(store_fault)?,
            None => None,
        };
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let verified = state
            .hasher
            .verify(password, stored)
            .await
            .map_err(hash_fault)?;

        let Some(user) = user.filter(|_| verified != Verified::No) else {
            let shown = name.as_ref().map_or("<malformed>", Username::as_str);
            tracing::warn!(username = %shown, "login failed");
            return Err(AppError::InvalidCredentials);
        };
        if let Verified::YesRehashed(hash) = verified
            && let Err(e) = state.store.set_password_hash(&user.id, &hash).await
        {
            tracing::warn!(error = %e, "could not store the upgraded password hash");
        }

        let public = PublicUser {
            id: user.id,
            name: user.username,
        };
        start_session(&state, &public)?;
        tracing::info!(username = %public.name, user.id = %public.id, "login succeeded");
        leptos_axum::redirect(&safe_next(next.as_deref()));
        Ok(())
    }

    pub async fn register(username: String, password: String) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let name = Username::parse(&username).map_err(AppError::Username)?;
        password_rules::check(&password).map_err(AppError::Password)?;

        let hash = state.hasher.hash(password).await.map_err(hash_fault)?;
        let user = match state.store.create_user(&name, &hash).await {
            Err(StoreError::UsernameTaken) => {
                tracing::info!(username = %name.as_str(), "registration refused: name taken");
                return Err(AppError::UsernameTaken);
            }
            other => other.map_err(store_fault)?,
        };

        let public = PublicUser {
            id: user.id,
            name: user.username,
        };
        start_session(&state, &public)?;
        tracing::info!(username = %public.name, user.id = %public.id, "user registered");
        leptos_axum::redirect("/");
        Ok(())
    }

    pub fn logout() {
        let state = expect_context::<AppState>();
        if let Some(user) = current_session().user() {
            tracing::info!(username = %user.name, "logged out");
        }
        set_cookie(state.cookies.removal(ACCESS_COOKIE));
        set_cookie(state.cookies.removal(MARKER_COOKIE));
        leptos_axum::redirect(&login_url(None, LoginReason::LoggedOut));
    }

    fn start_session(state: &AppState, user: &PublicUser) -> Result<(), AppError> {
        let token = state.jwt.issue(user).map_err(|e| {
            tracing::error!(error = %e, "could not sign an access token");
            AppError::Internal
        })?;
        set_cookie(state.cookies.access(token, state.jwt.ttl()));
        set_cookie(state.cookies.marker());
        Ok(())
    }

    fn set_cookie(cookie: Cookie<'static>) {
        let options = expect_context::<ResponseOptions>();
        match HeaderValue::from_str(&cookie.to_string()) {
            Ok(value) => options.append_header(SET_COOKIE, value),
            Err(_) => tracing::error!(cookie = cookie.name(), "cookie value is not a valid header"),
        }
    }

    fn store_fault(e: StoreError) -> AppError {
        tracing::error!(error = %e, "user store failed");
        AppError::Internal
    }

    fn hash_fault(e: HashError) -> AppError {
        match e {
            HashError::Busy => {
                tracing::warn!("password hashing queue full");
                AppError::Busy
            }
            HashError::Failed(detail) => {
                tracing::error!(error = %detail, "password hashing failed");
                AppError::Internal
            }
        }
    }
}
