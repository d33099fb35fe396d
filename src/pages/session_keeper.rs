//! Keeps a session alive while its tab is in use, and ends it in every tab.
//!
//! - [`SessionKeeper`] sits on protected pages. In the browser it renews the
//!   session (`/auth/renew`) shortly before the access token runs out, but
//!   only while the tab is visible; a hidden tab checks again every few
//!   seconds and renews as soon as it is shown. It also listens for the
//!   logout signal of other tabs and then goes to the login page.
//! - [`announce_logout`] is called by the login page when it is shown after a
//!   logout: it removes what the app stored in this browser (all but the
//!   remembered username) and signals the other tabs through `localStorage`,
//!   whose `storage` event reaches every other tab of the same origin.
//!
//! Without JavaScript none of this runs: the server renews on each request.

use leptos::prelude::*;

/// `localStorage` key whose change tells the other tabs "logged out".
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const LOGOUT_SIGNAL_KEY: &str = "authbridge.logout";

/// Renews this page's session ahead of expiry; sends the tab to the login
/// page when another tab logs out. An island that renders nothing.
#[island]
pub fn SessionKeeper(expires_in_secs: u64) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::keep(expires_in_secs);
    #[cfg(not(feature = "hydrate"))]
    let _ = expires_in_secs;
}

/// Clears what this app keeps in the browser, except the remembered username,
/// and tells the other tabs that the session is over.
pub fn announce_logout() {
    #[cfg(feature = "hydrate")]
    browser::announce_logout();
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use gloo_storage::{LocalStorage, SessionStorage, Storage};
    use leptos::ev;
    use leptos::prelude::*;

    use super::LOGOUT_SIGNAL_KEY;
    use crate::api::renew_session;
    use crate::auth::{LoginReason, login_url};
    use crate::pages::remember;

    /// Renew when this much of the token's life is left (at most a minute).
    fn renew_after(expires_in_secs: u64) -> Duration {
        let lead = (expires_in_secs / 4).clamp(1, 60);
        Duration::from_secs(expires_in_secs.saturating_sub(lead).max(1))
    }

    /// How often a hidden tab looks again whether it is shown.
    const HIDDEN_RECHECK: Duration = Duration::from_secs(2);

    pub fn keep(expires_in_secs: u64) {
        let alive = Arc::new(AtomicBool::new(true));
        Effect::new({
            let alive = Arc::clone(&alive);
            move |_| schedule(Arc::clone(&alive), renew_after(expires_in_secs))
        });
        let listener = window_event_listener(ev::storage, |event| {
            if event.key().as_deref() == Some(LOGOUT_SIGNAL_KEY) {
                go_to(&login_url(None, LoginReason::LoggedOut));
            }
        });
        on_cleanup(move || {
            alive.store(false, Ordering::Relaxed);
            listener.remove();
        });
    }

    fn schedule(alive: Arc<AtomicBool>, delay: Duration) {
        set_timeout(
            move || {
                if !alive.load(Ordering::Relaxed) {
                    return;
                }
                if document().hidden() {
                    schedule(alive, HIDDEN_RECHECK);
                    return;
                }
                leptos::task::spawn_local(async move {
                    match renew_session().await {
                        Ok(me) if alive.load(Ordering::Relaxed) => {
                            schedule(alive, renew_after(me.expires_in_secs));
                        }
                        Ok(_) => {}
                        Err(error) => {
                            let reason = error.login_reason().unwrap_or(LoginReason::Expired);
                            go_to(&login_url(Some(&here()), reason));
                        }
                    }
                });
            },
            delay,
        );
    }

    pub fn here() -> String {
        let location = window().location();
        let path = location.pathname().unwrap_or_else(|_| "/".to_owned());
        let search = location.search().unwrap_or_default();
        format!("{path}{search}")
    }

    /// A full page load, so the server sees the cookies as they are now.
    pub fn go_to(url: &str) {
        let _ = window().location().assign(url);
    }

    pub fn announce_logout() {
        if let Ok(storage) = LocalStorage::raw()
            .length()
            .map(|n| (LocalStorage::raw(), n))
        {
            let (raw, length) = storage;
            let ours: Vec<String> = (0..length)
                .filter_map(|i| raw.key(i).ok().flatten())
                .filter(|key| key.starts_with("authbridge."))
                .filter(|key| key != remember::STORAGE_KEY)
                .collect();
            for key in ours {
                let _ = raw.remove_item(&key);
            }
        }
        SessionStorage::clear();
        // A new value each time (`storage` events fire only on a change),
        // removed at once: the signal is the event, nothing stays behind.
        let _ = LocalStorage::set(LOGOUT_SIGNAL_KEY, js_sys::Date::now());
        LocalStorage::delete(LOGOUT_SIGNAL_KEY);
    }
}

/// Goes to the login page (with the fitting message, and back here after)
/// when `error` turns into a "no session" error: an action whose session
/// ended meanwhile. A full page load, like every move between pages.
pub fn leave_when_session_ends(error: impl Fn() -> Option<crate::error::AppError> + 'static) {
    Effect::new(move |_| {
        let Some(reason) = error().and_then(|e| e.login_reason()) else {
            return;
        };
        #[cfg(feature = "hydrate")]
        browser::go_to(&crate::auth::login_url(Some(&browser::here()), reason));
        #[cfg(not(feature = "hydrate"))]
        let _ = reason;
    });
}
