//! The one place where session cookies are read.
//!
//! [`session_layer`] runs on every request: it verifies the access cookie once
//! and stores the outcome as a [`Session`] in the request extensions, where SSR
//! and server functions alike read it ([`current_session`]). A request to
//! `/auth/...` (server functions, the refresh route) whose access token is
//! missing or expired but which carries a refresh cookie is renewed on the
//! way in: the refresh token is rotated, the request is served as the user,
//! and the new cookies go out with the response.
//!
//! Page requests that must go elsewhere it answers itself with a 303, before
//! anything is rendered:
//! - a protected page without a session goes through `/auth/refresh` if the
//!   browser had a session (pages never receive the refresh cookie), else to
//!   the login page, so no protected content is ever rendered for it;
//! - a dotted spelling of a known page (`/%2e`, `/login/..`) to its real path;
//! - a logged-in visitor of the login or registration form on to `next`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::Cookie;

use crate::auth::cookie::{ACCESS_COOKIE, MARKER_COOKIE, REFRESH_COOKIE};
use crate::auth::jwt::TokenError;
use crate::auth::refresh::RefreshError;
use crate::auth::{LoginReason, PublicUser, login_url};
use crate::db::ClientInfo;
use crate::security::cookies::{Found, find, find_all};
use crate::security::limits::MAX_ACCESS_TOKEN_BYTES;
use crate::server::AppState;

/// Pages that need a logged-in user.
pub const PROTECTED_PAGES: &[&str] = &["/", "/account"];

/// Where page requests go to renew a session: the refresh cookie is sent to
/// `/auth` paths only, so a page whose access token is gone passes through
/// here and comes back.
pub const REFRESH_ROUTE: &str = "/auth/refresh";

/// A request with a valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user.
    pub user: PublicUser,
    /// The session (refresh-token family) of the access token.
    pub session_id: String,
    /// When the access token expires (Unix seconds).
    pub expires_at: u64,
    /// Whether this request renewed the session (new cookies are on the way).
    pub renewed: bool,
}

/// Who is making this request, as far as the cookies tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// A valid access token, or a refresh token renewed on the way in.
    User(Authenticated),
    /// No valid session; the reason picks the login page's message.
    Anonymous(LoginReason),
}

impl Session {
    /// The user, if logged in.
    pub fn user(&self) -> Option<&PublicUser> {
        self.authenticated().map(|a| &a.user)
    }

    /// The whole session, if logged in.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        match self {
            Self::User(auth) => Some(auth),
            Self::Anonymous(_) => None,
        }
    }
}

/// What the cookies said, and which cookies the response must set.
struct Inspection {
    session: Session,
    cookies: Vec<Cookie<'static>>,
}

/// The cookie `name` (a plain name, see [`crate::auth::cookie::CookiePolicy::name`])
/// of this request, if it came exactly once.
pub fn our_cookie<'a>(state: &AppState, headers: &'a HeaderMap, name: &'static str) -> Found<'a> {
    find(headers, state.cookies.name(name))
}

/// The token check every request pays: find our cookie, verify the access
/// token (signature, claims, revocation). No store access; renewal, which
/// needs the store, is not included. Public for the benchmarks.
pub fn check_access(state: &AppState, headers: &HeaderMap) -> Session {
    inspect_access(state, headers).session
}

fn inspect_access(state: &AppState, headers: &HeaderMap) -> Inspection {
    let [marker, access] = find_all(
        headers,
        [MARKER_COOKIE, ACCESS_COOKIE].map(|name| state.cookies.name(name)),
    );
    let had_session = marker.is_present();
    let clear_access = || vec![state.cookies.removal(ACCESS_COOKIE)];
    let token = match access {
        Found::One(token) => token,
        Found::Many => {
            tracing::debug!("refused a request with two access cookies");
            return Inspection {
                session: Session::Anonymous(LoginReason::Required),
                cookies: clear_access(),
            };
        }
        Found::Absent => {
            let reason = if had_session {
                LoginReason::Expired
            } else {
                LoginReason::Required
            };
            return Inspection {
                session: Session::Anonymous(reason),
                cookies: Vec::new(),
            };
        }
    };
    // Refused unread: no parser sees a token longer than any we issue.
    let verified = if token.len() > MAX_ACCESS_TOKEN_BYTES {
        Err(TokenError::Invalid)
    } else {
        state.jwt.verify(token)
    };
    match verified {
        Ok(claims) if state.sessions.token_revoked(&claims) => Inspection {
            session: Session::Anonymous(LoginReason::Ended),
            cookies: clear_access(),
        },
        Ok(claims) => Inspection {
            session: Session::User(Authenticated {
                user: PublicUser {
                    id: claims.sub,
                    name: claims.name,
                },
                // A peer-minted token belongs to no session: account
                // changes, which need a live session, refuse it.
                session_id: claims.sid.unwrap_or_default(),
                expires_at: claims.exp,
                renewed: false,
            }),
            cookies: Vec::new(),
        },
        Err(TokenError::Expired) => Inspection {
            session: Session::Anonymous(LoginReason::Expired),
            cookies: clear_access(),
        },
        Err(TokenError::Invalid) => {
            tracing::debug!("refused an invalid access token");
            Inspection {
                session: Session::Anonymous(LoginReason::Required),
                cookies: clear_access(),
            }
        }
    }
}

/// The client as the sessions list shows it.
pub fn client_info(req: &axum::http::request::Parts) -> ClientInfo {
    const MAX_AGENT: usize = 256;
    let agent = req
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut end = agent.len().min(MAX_AGENT);
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    let ip = crate::security::client_ip::of(&req.extensions)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    ClientInfo {
        user_agent: agent[..end].to_owned(),
        ip,
    }
}

/// Renews the session with the refresh token `token`: on success the new
/// access, refresh and marker cookies; on refusal the reason and removals of
/// all three cookies.
pub async fn renew(
    state: &AppState,
    token: &str,
    client: &ClientInfo,
) -> Result<(Authenticated, Vec<Cookie<'static>>), (LoginReason, Vec<Cookie<'static>>)> {
    let ended = |reason| (reason, state.cookies.removals().to_vec());
    let grant = match state.sessions.refresh(token, client).await {
        Ok(grant) => grant,
        Err(RefreshError::Reused) => return Err(ended(LoginReason::Security)),
        Err(RefreshError::Revoked) => return Err(ended(LoginReason::Ended)),
        Err(RefreshError::Expired | RefreshError::Unknown) => {
            return Err(ended(LoginReason::Expired));
        }
        Err(RefreshError::Store(e)) => {
            // Not the client's fault: keep its cookies for the next try.
            tracing::error!(error = %e, "session store failed during refresh");
            return Err((LoginReason::Required, Vec::new()));
        }
    };
    let user = PublicUser {
        id: grant.user_id.clone(),
        name: grant.username.clone(),
    };
    match issue_cookies(
        state,
        &user,
        &grant.session,
        grant.token,
        grant.max_age_secs,
    ) {
        Ok((auth, cookies)) => Ok((
            Authenticated {
                renewed: true,
                ..auth
            },
            cookies,
        )),
        Err(e) => {
            tracing::error!(error = %e, "could not sign an access token");
            Err((LoginReason::Required, Vec::new()))
        }
    }
}

/// Signs an access token for `user` in `session` and builds the three cookies
/// of a session: access, refresh (`refresh_token`) and marker.
pub fn issue_cookies(
    state: &AppState,
    user: &PublicUser,
    session: &str,
    refresh_token: String,
    refresh_max_age_secs: u64,
) -> Result<(Authenticated, Vec<Cookie<'static>>), jsonwebtoken::errors::Error> {
    let token = state.jwt.issue(user, session)?;
    let refresh_ttl = std::time::Duration::from_secs(refresh_max_age_secs);
    let cookies = vec![
        state.cookies.access(token, state.jwt.ttl()),
        state.cookies.refresh(refresh_token, refresh_ttl),
        state.cookies.marker(refresh_ttl),
    ];
    let auth = Authenticated {
        user: user.clone(),
        session_id: session.to_owned(),
        expires_at: crate::auth::jwt::unix_now() + state.jwt.ttl().as_secs(),
        renewed: false,
    };
    Ok((auth, cookies))
}

/// Axum middleware: verifies the access cookie once per request (renewing
/// the session inline when a refresh cookie came along), records the
/// [`Session`], and answers page requests that must go elsewhere.
pub async fn session_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Inspection {
        mut session,
        mut cookies,
    } = inspect_access(&state, req.headers());
    let (parts, body) = req.into_parts();

    // The refresh cookie only reaches `/auth` paths. `/auth/renew` spends it
    // itself, even while the access token is still valid. Two refresh
    // cookies renew nothing.
    if session.user().is_none()
        && parts.uri.path() != RENEW_ROUTE
        && let Some(token) = our_cookie(&state, &parts.headers, REFRESH_COOKIE)
            .value()
            .map(str::to_owned)
    {
        let client = client_info(&parts);
        match renew(&state, &token, &client).await {
            Ok((auth, renewed)) => {
                session = Session::User(auth);
                cookies = renewed;
            }
            Err((reason, removals)) => {
                session = Session::Anonymous(reason);
                cookies = removals;
            }
        }
    }
    let req = Request::from_parts(parts, body);

    let marker = our_cookie(&state, req.headers(), MARKER_COOKIE).is_present();
    let page = page_request(&req);
    if let Some(Redirect {
        location,
        clear_marker,
    }) = page.as_ref().and_then(|p| p.gate(&state, &session, marker))
    {
        let mut response = see_other(&location);
        if clear_marker {
            cookies.push(state.cookies.removal(MARKER_COOKIE));
        }
        put_cookies_first(&mut response, cookies);
        return response;
    }

    let mut req = req;
    req.extensions_mut().insert(session);
    let mut response = next.run(req).await;
    put_cookies_first(&mut response, cookies);
    if page.is_some_and(|p| p.is_protected()) {
        // A protected page must not come back from a cache after logout.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The server function the page calls to renew ahead of expiry.
pub const RENEW_ROUTE: &str = "/auth/renew";

/// Pages for visitors without a session; a logged-in user goes on to `next`.
const ENTRY_PAGES: &[&str] = &["/login", "/register"];

/// A GET or HEAD request, with its path as the router will resolve it.
struct PageRequest {
    path: String,
    canonical: String,
    query: Option<String>,
}

struct Redirect {
    location: String,
    clear_marker: bool,
}

fn page_request(req: &Request) -> Option<PageRequest> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let path = req.uri().path().to_owned();
    // Resolves `.`/`..` segments, also percent-encoded, as the router does:
    // `/%2e` and `/login/..` are the home page too.
    let canonical = url::Url::parse(&format!("http://localhost{path}"))
        .map_or_else(|_| path.clone(), |u| u.path().to_owned());
    let query = req.uri().query().map(str::to_owned);
    Some(PageRequest {
        path,
        canonical,
        query,
    })
}

impl PageRequest {
    fn is_protected(&self) -> bool {
        PROTECTED_PAGES.contains(&self.canonical.as_str())
    }

    fn with_query(&self, path: &str) -> String {
        match &self.query {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        }
    }

    /// Where this request must go instead, if anywhere. `marker`: the browser
    /// says it had a session, which the refresh route may renew.
    fn gate(&self, state: &AppState, session: &Session, marker: bool) -> Option<Redirect> {
        let known = self.is_protected() || ENTRY_PAGES.contains(&self.canonical.as_str());
        if known && self.canonical != self.path {
            let location = self.with_query(&self.canonical);
            return Some(Redirect {
                location,
                clear_marker: false,
            });
        }
        match session {
            Session::Anonymous(_) if self.is_protected() && marker => Some(Redirect {
                location: refresh_url(&self.with_query(&self.path)),
                clear_marker: false,
            }),
            Session::Anonymous(reason) if self.is_protected() => Some(Redirect {
                location: login_url(Some(&self.with_query(&self.path)), *reason),
                clear_marker: *reason == LoginReason::Expired,
            }),
            Session::User(_) if ENTRY_PAGES.contains(&self.path.as_str()) => {
                let next =
                    url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
                        .find(|(key, _)| key == "next")
                        .map(|(_, value)| value.into_owned());
                Some(Redirect {
                    location: state.next_target(next.as_deref()),
                    clear_marker: false,
                })
            }
            _ => None,
        }
    }
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `/auth/refresh?next=...`: renews the session, then goes on to `next`.
pub fn refresh_url(next: &str) -> String {
    let mut url = format!("{REFRESH_ROUTE}?");
    url.push_str(
        &url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish(),
    );
    url
}

/// Adds `cookies` ahead of those the handler set, so that a handler that
/// ends the session (logout) has the last word over a renewal on the way in.
fn put_cookies_first(response: &mut Response, cookies: Vec<Cookie<'static>>) {
    if cookies.is_empty() {
        return;
    }
    let headers = response.headers_mut();
    let later: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        match HeaderValue::from_str(&cookie.to_string()) {
            Ok(value) => {
                headers.append(header::SET_COOKIE, value);
            }
            Err(_) => tracing::error!(cookie = cookie.name(), "cookie is not a valid header"),
        }
    }
    for value in later {
        headers.append(header::SET_COOKIE, value);
    }
}

/// The session recorded by [`session_layer`] for the request being served
/// (SSR or server function). Anonymous if the layer did not run.
pub fn current_session() -> Session {
    // `with_context` borrows the request's parts; `use_context` would clone
    // them (every header and extension) on each page.
    leptos::prelude::with_context::<axum::http::request::Parts, _>(|parts| {
        parts.extensions.get::<Session>().cloned()
    })
    .flatten()
    .unwrap_or(Session::Anonymous(LoginReason::Required))
}

/// The query of the refresh route.
#[derive(Debug, serde::Deserialize)]
pub struct RefreshQuery {
    next: Option<String>,
    retry: Option<String>,
}

/// `GET /auth/refresh?next=...`: the stop a page request makes to renew its
/// session. [`session_layer`] has done the renewing by the time this runs;
/// this sends the browser on to `next`, or to the login page with the reason.
pub async fn refresh_route(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<RefreshQuery>,
    headers: HeaderMap,
    axum::Extension(session): axum::Extension<Session>,
) -> Response {
    let next = state.next_target(query.next.as_deref());
    let marker = our_cookie(&state, &headers, MARKER_COOKIE).is_present();
    match session {
        Session::User(_) => see_other(&next),
        // A navigation that began on another site withholds the `Strict`
        // refresh cookie for its whole redirect chain. One navigation that
        // starts on our own page (a meta refresh, no script needed) gets it.
        Session::Anonymous(_)
            if marker
                && !our_cookie(&state, &headers, REFRESH_COOKIE).is_present()
                && query.retry.is_none() =>
        {
            resume_page(&format!("{}&retry=1", refresh_url(&next)))
        }
        Session::Anonymous(reason) => {
            let reason = match reason {
                LoginReason::Required if marker => LoginReason::Expired,
                other => other,
            };
            let mut response = see_other(&login_url(Some(&next), reason));
            put_cookies_first(&mut response, state.cookies.removals().to_vec());
            response
        }
    }
}

/// A page that at once navigates to `location` (same-site), for browsers
/// that arrived from elsewhere.
fn resume_page(location: &str) -> Response {
    let escaped = location
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={escaped}\">\
         <title>Resuming your session</title></head>\
         <body><p>Resuming your session… <a href=\"{escaped}\">continue</a></p></body></html>"
    );
    let mut response = (StatusCode::OK, axum::response::Html(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
