//! `/account` (protected): the user's sessions, ending them, and changing
//! the password. Every form works as a plain form post too.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{Field, FormError, SubmitButton, last_error};
use super::session_keeper::{SessionKeeper, leave_when_session_ends};
use crate::api::{
    ChangePassword, EndSession, LogoutEverywhere, SessionView, list_sessions, signed_in_user,
};

/// The account page. After each of its actions the server redirects back
/// here (or to the login page), so the page is always rendered afresh. The
/// user comes from the session the guard found, as on the home page; only
/// the sessions list needs the store.
#[component]
pub fn AccountPage() -> impl IntoView {
    let me = match signed_in_user() {
        Ok(me) => me,
        Err(_) => return view! { <p>"Please log in."</p> }.into_any(),
    };
    let sessions = Resource::new(|| (), |()| list_sessions());

    let done = match use_query_map().read_untracked().get("done").as_deref() {
        Some("password") => Some("Your password was changed. Your other sessions were logged out."),
        Some("ended") => Some("The session was ended."),
        _ => None,
    };

    view! {
        <section class="card wide">
            <h1>"Your account"</h1>
            <p>
                "Logged in as " <span class="username">{me.user.name}</span> ". "
                <a href="/">"Home"</a>
            </p>
            {done.map(|m| view! { <p class="flash" role="status">{m}</p> })}
            <SessionKeeper expires_in_secs=me.expires_in_secs/>

            <h2>"Where you are logged in"</h2>
            <Suspense fallback=|| view! { <p>"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => session_list(list).into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <LogoutEverywhereForm/>

            <h2>"Change password"</h2>
            <ChangePasswordForm/>
        </section>
    }
    .into_any()
}

const NEW_PASSWORD_HINT: &str = "8–128 characters. Your other sessions will be logged out.";

fn session_list(list: Vec<SessionView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>"No active sessions."</p> }.into_any();
    }
    view! {
        <ul class="sessions">
            {list
                .into_iter()
                .map(|s| {
                    view! {
                        <li class="session" data-current=s.current.to_string()>
                            <div>
                                <strong class="device">{s.device}</strong>
                                {s.current.then(|| view! { <span class="this-device">" (this device)"</span> })}
                            </div>
                            <small class="agent" title=s.user_agent.clone()>{s.user_agent.clone()}</small>
                            <div class="meta">
                                "IP " <span class="ip">{s.ip}</span>
                                " · last used " <time>{s.last_used}</time>
                                " · logged in " <time>{s.signed_in}</time>
                            </div>
                            <EndSessionForm id=s.id current=s.current/>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// Ends one session (`current`: this browser's, so the button says "Log out").
#[island]
fn EndSessionForm(id: String, current: bool) -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let error = last_error(end);
    leave_when_session_ends(move || error.get());
    let button = if current { "Log out" } else { "End session" };

    view! {
        <ActionForm action=end attr:class="end-session-form">
            <input type="hidden" name="id" value=id/>
            <button type="submit">{button}</button>
        </ActionForm>
        <FormError error/>
    }
}

/// "Log out everywhere": ends every session of the user.
#[island]
fn LogoutEverywhereForm() -> impl IntoView {
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    let error = last_error(everywhere);
    leave_when_session_ends(move || error.get());

    view! {
        <ActionForm action=everywhere attr:id="logout-everywhere-form">
            <SubmitButton
                pending=everywhere.pending()
                idle="Log out everywhere"
                busy="Logging out everywhere…"
            />
        </ActionForm>
        <FormError error/>
    }
}

/// Changes the password; the server then logs out the other sessions.
#[island]
fn ChangePasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = last_error(change);
    leave_when_session_ends(move || error.get());

    view! {
        <ActionForm action=change attr:id="change-password-form">
            <Field
                id="current-password"
                label="Current password"
                name="current_password"
                kind="password"
                autocomplete="current-password"
            />
            <Field
                id="new-password"
                label="New password"
                name="new_password"
                kind="password"
                autocomplete="new-password"
                hint=NEW_PASSWORD_HINT
            />
            <FormError error/>
            <SubmitButton pending=change.pending() idle="Change password" busy="Changing password…"/>
        </ActionForm>
    }
}
