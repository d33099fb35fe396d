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
    let result = ssr::login(&username, password, next).await;
    ssr::back_to_form_keeping::<Login>(result, &username, "/login")
}

/// Creates an account, logs it in and redirects home.
#[server(prefix = "/auth", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<(), AppError> {
    let result = ssr::register(&username, password).await;
    ssr::back_to_form_keeping::<Register>(result, &username, "/register")
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
    use axum::http::header::{ACCEPT, REFERER, SET_COOKIE};
    use axum::http::request::Parts;
    use axum_extra::extract::cookie::Cookie;
    use leptos::prelude::*;
    use leptos::server_fn::ServerFn;
    use leptos::server_fn::error::ServerFnUrlError;
    use leptos_axum::ResponseOptions;
    use url::Url;

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
        username: &str,
        password: String,
        next: Option<String>,
    ) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let name = match Username::parse(username) {
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

        let known_user = user.as_ref().map(|u| u.username.clone());
        let Some(user) = user.filter(|_| verified != Verified::No) else {
            // Only a name that exists is logged: what was typed into the
            // username field may be a password.
            match known_user {
                Some(name) => tracing::warn!(username = %name, "login failed: wrong password"),
                None => tracing::warn!("login failed: unknown username"),
            }
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

    pub async fn register(username: &str, password: String) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let name = Username::parse(username).map_err(AppError::Username)?;
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

    /// After a failed plain form post (JavaScript off), leptos would send the
    /// browser back to whatever the `Referer` names, with the error in the
    /// URL and the fields empty. This sends it back to our own `form_page`
    /// instead (keeping the form's query only if the Referer was that form),
    /// with the username put back if it is a valid name. Invalid input is not
    /// carried: it may be a password typed into the wrong field.
    pub fn back_to_form_keeping<S: ServerFn>(
        result: Result<(), AppError>,
        username: &str,
        form_page: &str,
    ) -> Result<(), AppError> {
        let Err(error) = result else {
            return result;
        };
        let Some(parts) = use_context::<Parts>() else {
            return Err(error);
        };
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        if !header(ACCEPT).is_some_and(|v| v.contains("text/html")) {
            return Err(error);
        }
        let referer = header(REFERER)
            .and_then(|r| Url::parse(r).ok())
            .filter(|r| r.path() == form_page);
        let Ok(mut back) = Url::parse(&format!("http://localhost{form_page}")) else {
            return Err(error);
        };

        {
            let mut query = back.query_pairs_mut();
            if let Some(referer) = &referer {
                query.extend_pairs(
                    referer
                        .query_pairs()
                        .filter(|(k, _)| !matches!(k.as_ref(), "username" | "__path" | "__err")),
                );
            }
            if let Ok(name) = Username::parse(username) {
                query.append_pair("username", name.as_str());
            }
        }
        if let Ok(url) = ServerFnUrlError::new(S::PATH, error).to_url(back.as_str()) {
            let query = url.query().unwrap_or_default();
            leptos_axum::redirect(&format!("{}?{query}", url.path()));
        }
        Err(error)
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
