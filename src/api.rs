//! Server functions: every auth action the pages perform. The bodies run on
//! the server only; the browser gets a typed stub that posts the form.
//!
//! They answer with `()`, a [`Me`], session views or an [`AppError`]: tokens
//! only ever travel in `Set-Cookie` headers, never in a response body.

use leptos::prelude::*;

use serde::{Deserialize, Serialize};

use crate::auth::Me;
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
    ssr::back_to_form::<Login>(result, Some(&username), "/login")
}

/// Creates an account, logs it in and redirects home.
#[server(prefix = "/auth", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<(), AppError> {
    let result = ssr::register(&username, password).await;
    ssr::back_to_form::<Register>(result, Some(&username), "/register")
}

/// Ends this browser's session (revoking it in the store) and redirects to
/// the login page.
#[server(prefix = "/auth", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    ssr::logout().await;
    Ok(())
}

/// The logged-in user of the page being rendered, without a round trip:
/// pages other than their islands render on the server only, where the
/// session guard has already put the session into the request. A browser
/// build has no request, so nobody is logged in there.
pub fn signed_in_user() -> Result<Me, AppError> {
    #[cfg(feature = "ssr")]
    {
        ssr::me()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Err(AppError::NotLoggedIn)
    }
}

/// The logged-in user and the access token's remaining lifetime.
#[server(prefix = "/auth", endpoint = "me")]
pub async fn current_user() -> Result<Me, AppError> {
    ssr::me()
}

/// Renews the session ahead of the access token's expiry: the page calls it
/// while it is in use. Spends the refresh cookie even if the access token is
/// still valid.
#[server(prefix = "/auth", endpoint = "renew")]
pub async fn renew_session() -> Result<Me, AppError> {
    ssr::renew_session().await
}

/// One of the user's sessions, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Session id (for "end this session").
    pub id: String,
    /// Browser and system, from the user agent.
    pub device: String,
    /// The user agent as sent.
    pub user_agent: String,
    /// Address of the last use.
    pub ip: String,
    /// When it was last used, UTC.
    pub last_used: String,
    /// When the user logged in, UTC.
    pub signed_in: String,
    /// Whether it is the session of this browser.
    pub current: bool,
}

/// The user's sessions that can still be renewed, most recently used first.
#[server(prefix = "/auth", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    ssr::list_sessions().await
}

/// Ends one session of the user. Ending this browser's own is a logout.
#[server(prefix = "/auth", endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    let result = ssr::end_session(&id).await;
    ssr::back_to_form::<EndSession>(result, None, "/account")
}

/// Ends every session of the user, this one included.
#[server(prefix = "/auth", endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    let result = ssr::logout_everywhere().await;
    ssr::back_to_form::<LogoutEverywhere>(result, None, "/account")
}

/// Changes the password (the current one is required). Every other session
/// ends; this one continues with new tokens.
#[server(prefix = "/auth", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let result = ssr::change_password(current_password, new_password).await;
    ssr::back_to_form::<ChangePassword>(result, None, "/account")
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::net::{IpAddr, Ipv4Addr};

    use axum::http::HeaderValue;
    use axum::http::header::{ACCEPT, REFERER, SET_COOKIE};
    use axum::http::request::Parts;
    use axum_extra::extract::cookie::Cookie;
    use leptos::prelude::*;
    use leptos::server_fn::ServerFn;
    use leptos::server_fn::error::ServerFnUrlError;
    use leptos_axum::ResponseOptions;
    use url::Url;

    use super::SessionView;
    use crate::auth::cookie::REFRESH_COOKIE;
    use crate::auth::guard::{
        Authenticated, Session, client_info, current_session, our_cookie, renew,
    };
    use crate::auth::jwt::unix_now;
    use crate::auth::login::{hash_fault, store_fault};
    use crate::auth::password::Verified;
    use crate::auth::username::Username;
    use crate::auth::{LoginReason, Me, PublicUser, login_url, password_rules};
    use crate::db::{ClientInfo, RevokeReason, StoreError};
    use crate::error::AppError;
    use crate::security::rate_limit::retry_after_secs;
    use crate::server::AppState;

    pub async fn login(
        username: &str,
        password: String,
        next: Option<String>,
    ) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let public =
            crate::auth::login::authenticate(&state, username, password, request_ip()).await?;
        start_session(&state, &public).await?;
        tracing::info!(username = %public.name, user.id = %public.id, "login succeeded");
        leptos_axum::redirect(&state.next_target(next.as_deref()));
        Ok(())
    }

    pub async fn register(username: &str, password: String) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let name = Username::parse(username).map_err(AppError::Username)?;
        password_rules::check(&password).map_err(AppError::Password)?;
        let ip = request_ip();
        if let Some(wait) = state.limits.registration_locked(ip) {
            tracing::warn!("registration refused: too many from this address");
            return Err(AppError::TooManyRegistrations {
                retry_after_secs: retry_after_secs(wait),
            });
        }
        state.limits.registration_attempted(ip);

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
        start_session(&state, &public).await?;
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
    pub fn back_to_form<S: ServerFn>(
        result: Result<(), AppError>,
        username: Option<&str>,
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
        // Without a session the form's page would only bounce to the login
        // page, which says why itself.
        if let Some(reason) = error.login_reason() {
            leptos_axum::redirect(&login_url(Some(form_page), reason));
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
                query.extend_pairs(referer.query_pairs().filter(|(k, _)| {
                    !matches!(k.as_ref(), "username" | "__path" | "__err" | "done")
                }));
            }
            if let Some(Ok(name)) = username.map(Username::parse) {
                query.append_pair("username", name.as_str());
            }
        }
        if let Ok(url) = ServerFnUrlError::new(S::PATH, error).to_url(back.as_str()) {
            let query = url.query().unwrap_or_default();
            leptos_axum::redirect(&format!("{}?{query}", url.path()));
        }
        Err(error)
    }

    pub async fn logout() {
        let state = expect_context::<AppState>();
        if let Some(auth) = current_session().authenticated() {
            match state
                .sessions
                .end(&auth.user.id, &auth.session_id, RevokeReason::Logout)
                .await
            {
                Ok(_) => tracing::info!(username = %auth.user.name, "logged out"),
                Err(e) => tracing::error!(error = %e, "could not revoke the session at logout"),
            }
        }
        end_in_this_browser(&state, LoginReason::LoggedOut);
    }

    pub fn me() -> Result<Me, AppError> {
        match current_session() {
            Session::User(auth) => Ok(me_of(&auth)),
            Session::Anonymous(reason) => Err(AppError::from_login_reason(reason)),
        }
    }

    pub async fn renew_session() -> Result<Me, AppError> {
        let state = expect_context::<AppState>();
        let session = current_session();
        if let Some(auth) = session.authenticated().filter(|a| a.renewed) {
            return Ok(me_of(auth));
        }
        let Some((token, client)) = refresh_cookie() else {
            return Err(match session {
                Session::Anonymous(reason) => AppError::from_login_reason(reason),
                Session::User(_) => AppError::SessionExpired,
            });
        };
        match renew(&state, &token, &client).await {
            Ok((auth, cookies)) => {
                cookies.into_iter().for_each(set_cookie);
                Ok(me_of(&auth))
            }
            Err((reason, removals)) => {
                removals.into_iter().for_each(set_cookie);
                Err(AppError::from_login_reason(reason))
            }
        }
    }

    pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
        let state = expect_context::<AppState>();
        let auth = require_user()?;
        let now = crate::auth::refresh::now_millis();
        let rows = state
            .store
            .live_sessions(&auth.user.id, now)
            .await
            .map_err(store_fault)?;
        let revocations = state.sessions.revocations();
        Ok(rows
            .into_iter()
            .filter(|row| !revocations.is_revoked(&row.id))
            .map(|row| SessionView {
                current: row.id == auth.session_id,
                device: describe_agent(&row.user_agent),
                last_used: utc_minutes(row.last_used_at),
                signed_in: utc_minutes(row.created_at),
                ip: if row.ip.is_empty() {
                    "unknown".to_owned()
                } else {
                    row.ip
                },
                user_agent: row.user_agent,
                id: row.id,
            })
            .collect())
    }

    pub async fn end_session(id: &str) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let auth = require_live_session(&state).await?;
        if id == auth.session_id {
            logout().await;
            return Ok(());
        }
        let ended = state
            .sessions
            .end(&auth.user.id, id, RevokeReason::Ended)
            .await
            .map_err(store_fault)?;
        if !ended {
            return Err(AppError::NoSuchSession);
        }
        tracing::info!(username = %auth.user.name, session = %id, "session ended from the account page");
        leptos_axum::redirect("/account?done=ended");
        Ok(())
    }

    pub async fn logout_everywhere() -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let auth = require_live_session(&state).await?;
        let ended = state
            .sessions
            .end_all(&auth.user.id, None, RevokeReason::Ended)
            .await
            .map_err(store_fault)?;
        tracing::info!(username = %auth.user.name, sessions = ended, "logged out everywhere");
        end_in_this_browser(&state, LoginReason::LoggedOut);
        Ok(())
    }

    pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
        let state = expect_context::<AppState>();
        let auth = require_live_session(&state).await?;
        password_rules::check(&new).map_err(AppError::Password)?;
        let user = state
            .store
            .find_user_by_id(&auth.user.id)
            .await
            .map_err(store_fault)?
            .ok_or(AppError::SessionEnded)?;
        // Wrong current passwords count as failed logins of this user.
        let name = Username::parse(&user.username).ok();
        let key = name.as_ref().map(Username::key);
        let ip = request_ip();
        if let Some(wait) = state.limits.login_locked(key, ip) {
            return Err(AppError::TooManyPasswordAttempts {
                retry_after_secs: retry_after_secs(wait),
            });
        }
        let verified = state
            .hasher
            .verify(current, Some(user.password_hash))
            .await
            .map_err(hash_fault)?;
        if verified == Verified::No {
            state.limits.login_failed(key, ip);
            tracing::warn!(username = %user.username, "password change refused: wrong current password");
            return Err(AppError::WrongCurrentPassword);
        }
        let hash = state.hasher.hash(new).await.map_err(hash_fault)?;
        state
            .store
            .set_password_hash(&user.id, &hash)
            .await
            .map_err(store_fault)?;
        let ended = state
            .sessions
            .end_all(
                &user.id,
                Some(&auth.session_id),
                RevokeReason::PasswordChanged,
            )
            .await
            .map_err(store_fault)?;
        tracing::info!(username = %user.username, other_sessions_ended = ended, "password changed");

        // This session goes on, with tokens issued after the change.
        if let Some((token, client)) = refresh_cookie() {
            match renew(&state, &token, &client).await {
                Ok((_, cookies)) => cookies.into_iter().for_each(set_cookie),
                Err((reason, _)) => return Err(AppError::from_login_reason(reason)),
            }
        }
        leptos_axum::redirect("/account?done=password");
        Ok(())
    }

    /// The session of this request, or the error that says why there is none.
    fn require_user() -> Result<Authenticated, AppError> {
        match current_session() {
            Session::User(auth) => Ok(auth),
            Session::Anonymous(reason) => Err(AppError::from_login_reason(reason)),
        }
    }

    /// Like [`require_user`], but also asks the store whether the session is
    /// still live: account changes must not ride on a token whose session was
    /// ended on another server.
    async fn require_live_session(state: &AppState) -> Result<Authenticated, AppError> {
        let auth = require_user()?;
        if state
            .sessions
            .is_live(&auth.session_id)
            .await
            .map_err(store_fault)?
        {
            Ok(auth)
        } else {
            state.cookies.removals().into_iter().for_each(set_cookie);
            Err(AppError::SessionEnded)
        }
    }

    fn me_of(auth: &Authenticated) -> Me {
        Me {
            user: auth.user.clone(),
            expires_in_secs: auth.expires_at.saturating_sub(unix_now()),
        }
    }

    /// The client address of this request (unspecified if unknown).
    fn request_ip() -> IpAddr {
        with_context::<Parts, _>(|parts| {
            crate::security::client_ip::of_or_unspecified(&parts.extensions)
        })
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    /// The refresh cookie of this request and where the request came from.
    fn refresh_cookie() -> Option<(String, ClientInfo)> {
        let parts = use_context::<Parts>()?;
        let state = expect_context::<AppState>();
        let token = our_cookie(&state, &parts.headers, REFRESH_COOKIE)
            .value()?
            .to_owned();
        Some((token, client_info(&parts)))
    }

    async fn start_session(state: &AppState, user: &PublicUser) -> Result<(), AppError> {
        let client = use_context::<Parts>()
            .map(|parts| client_info(&parts))
            .unwrap_or_default();
        let grant = state
            .sessions
            .start(&user.id, &user.name, &client)
            .await
            .map_err(store_fault)?;
        let (_, cookies) = crate::auth::guard::issue_cookies(
            state,
            user,
            &grant.session,
            grant.token,
            grant.max_age_secs,
        )
        .map_err(|e| {
            tracing::error!(error = %e, "could not sign an access token");
            AppError::Internal
        })?;
        cookies.into_iter().for_each(set_cookie);
        Ok(())
    }

    /// Clears the session cookies and sends the browser to the login page.
    fn end_in_this_browser(state: &AppState, reason: LoginReason) {
        state.cookies.removals().into_iter().for_each(set_cookie);
        leptos_axum::redirect(&login_url(None, reason));
    }

    fn set_cookie(cookie: Cookie<'static>) {
        let options = expect_context::<ResponseOptions>();
        match HeaderValue::from_str(&cookie.to_string()) {
            Ok(value) => options.append_header(SET_COOKIE, value),
            Err(_) => tracing::error!(cookie = cookie.name(), "cookie value is not a valid header"),
        }
    }

    /// "Firefox on Linux", from a user agent; the raw value is shown too.
    fn describe_agent(agent: &str) -> String {
        const BROWSERS: &[(&str, &str)] = &[
            ("Edg/", "Edge"),
            ("OPR/", "Opera"),
            ("Firefox/", "Firefox"),
            ("HeadlessChrome/", "Headless Chrome"),
            ("Chromium/", "Chromium"),
            ("Chrome/", "Chrome"),
            ("Safari/", "Safari"),
            ("curl/", "curl"),
            ("python-requests/", "Python requests"),
        ];
        const SYSTEMS: &[(&str, &str)] = &[
            ("Android", "Android"),
            ("iPhone", "iOS"),
            ("iPad", "iPadOS"),
            ("Windows", "Windows"),
            ("Mac OS X", "macOS"),
            ("CrOS", "ChromeOS"),
            ("Linux", "Linux"),
        ];
        let find = |table: &[(&str, &'static str)]| {
            table
                .iter()
                .find(|(needle, _)| agent.contains(needle))
                .map(|(_, name)| *name)
        };
        match (find(BROWSERS), find(SYSTEMS)) {
            (Some(browser), Some(system)) => format!("{browser} on {system}"),
            (Some(browser), None) => browser.to_owned(),
            (None, Some(system)) => format!("A browser on {system}"),
            (None, None) if agent.is_empty() => "Unknown device".to_owned(),
            (None, None) => "Other client".to_owned(),
        }
    }

    /// `2026-12-04 09:30 UTC` for a time in Unix milliseconds.
    fn utc_minutes(ms: i64) -> String {
        match time::OffsetDateTime::from_unix_timestamp(ms / 1000) {
            Ok(t) => format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            ),
            Err(_) => "unknown".to_owned(),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::{describe_agent, utc_minutes};

        #[test]
        fn agents_are_named_by_browser_and_system() {
            let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
            assert_eq!(describe_agent(chrome), "Chrome on Linux");
            let firefox = "Mozilla/5.0 (Windows NT 10.0; rv:133.0) Gecko/20100101 Firefox/133.0";
            assert_eq!(describe_agent(firefox), "Firefox on Windows");
            assert_eq!(describe_agent(""), "Unknown device");
            assert_eq!(describe_agent("curl/8.5"), "curl");
        }

        #[test]
        fn times_show_to_the_minute_in_utc() {
            assert_eq!(utc_minutes(1_796_345_400_999), "2026-12-04 00:50 UTC");
        }
    }
}
