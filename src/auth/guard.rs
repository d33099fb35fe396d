//! The one place where the access token is read.
//!
//! [`session_layer`] runs on every request: it verifies the access cookie once
//! and stores the outcome as a [`Session`] in the request extensions, where SSR
//! and server functions alike read it ([`current_session`]). Page requests
//! that must go elsewhere it answers itself with a 303, before anything is
//! rendered: a protected page without a session goes to the login page (so no
//! protected content is ever rendered for it), a dotted spelling of a known
//! page (`/%2e`, `/login/..`) to its real path, and a logged-in visitor of the
//! login or registration form on to `next`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use crate::auth::cookie::{ACCESS_COOKIE, MARKER_COOKIE};
use crate::auth::jwt::TokenError;
use crate::auth::next_path::safe_next;
use crate::auth::{LoginReason, PublicUser, login_url};
use crate::server::AppState;

/// Pages that need a logged-in user.
pub const PROTECTED_PAGES: &[&str] = &["/"];

/// Who is making this request, as far as the access cookie tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// A valid access token for this user.
    User(PublicUser),
    /// No valid token; the reason picks the login page's message.
    Anonymous(LoginReason),
}

impl Session {
    /// The user, if logged in.
    pub fn user(&self) -> Option<&PublicUser> {
        match self {
            Self::User(user) => Some(user),
            Self::Anonymous(_) => None,
        }
    }
}

/// What the cookies said, and whether a stale access cookie should be removed.
struct Inspection {
    session: Session,
    clear_access: bool,
}

fn inspect(state: &AppState, jar: &CookieJar) -> Inspection {
    let had_session = jar.get(MARKER_COOKIE).is_some();
    let Some(token) = jar.get(ACCESS_COOKIE).map(|c| c.value()) else {
        let reason = if had_session {
            LoginReason::Expired
        } else {
            LoginReason::Required
        };
        return Inspection {
            session: Session::Anonymous(reason),
            clear_access: false,
        };
    };
    match state.jwt.verify(token) {
        Ok(claims) => Inspection {
            session: Session::User(PublicUser {
                id: claims.sub,
                name: claims.name,
            }),
            clear_access: false,
        },
        Err(TokenError::Expired) => Inspection {
            session: Session::Anonymous(LoginReason::Expired),
            clear_access: true,
        },
        Err(TokenError::Invalid) => {
            tracing::debug!("refused an invalid access token");
            Inspection {
                session: Session::Anonymous(LoginReason::Required),
                clear_access: true,
            }
        }
    }
}

/// Axum middleware: verifies the access cookie once per request, records the
/// [`Session`], and answers page requests that must go elsewhere.
pub async fn session_layer(
    State(state): State<AppState>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    let Inspection {
        session,
        clear_access,
    } = inspect(&state, &jar);

    let page = page_request(&req);
    if let Some(Redirect {
        location,
        clear_marker,
    }) = page.as_ref().and_then(|p| p.gate(&session))
    {
        let mut response = see_other(&location);
        append_removals(&state, &mut response, clear_access, clear_marker);
        return response;
    }

    req.extensions_mut().insert(session);
    let mut response = next.run(req).await;
    append_removals(&state, &mut response, clear_access, false);
    if page.is_some_and(|p| p.is_protected()) {
        // A protected page must not come back from a cache after logout.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

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

    /// Where this request must go instead, if anywhere.
    fn gate(&self, session: &Session) -> Option<Redirect> {
        let known = self.is_protected() || ENTRY_PAGES.contains(&self.canonical.as_str());
        if known && self.canonical != self.path {
            let location = self.with_query(&self.canonical);
            return Some(Redirect {
                location,
                clear_marker: false,
            });
        }
        match session {
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
                    location: safe_next(next.as_deref()),
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

fn append_removals(state: &AppState, response: &mut Response, access: bool, marker: bool) {
    let names = [(access, ACCESS_COOKIE), (marker, MARKER_COOKIE)];
    for (_, name) in names.into_iter().filter(|(remove, _)| *remove) {
        if let Ok(value) = HeaderValue::from_str(&state.cookies.removal(name).to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

/// The session recorded by [`session_layer`] for the request being served
/// (SSR or server function). Anonymous if the layer did not run.
pub fn current_session() -> Session {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Session>().cloned())
        .unwrap_or(Session::Anonymous(LoginReason::Required))
}
