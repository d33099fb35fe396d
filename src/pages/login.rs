//! `/login`: the login form, with `?next=` and the flash message of `?reason=`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{Field, FormError, SubmitButton, last_error, use_hydrated};
use super::{remember, session_keeper};
use crate::api::Login;
use crate::auth::LoginReason;
use crate::auth::next_path::MAX_LEN;

/// The login page. Works as a plain form post without JavaScript.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let query = query.read_untracked();
    let reason = query
        .get("reason")
        .and_then(|r| LoginReason::from_query(&r));
    // Checked by the server when the form is sent (a peer's absolute URL may
    // be allowed there); here only local paths would be known to be safe.
    let next = query
        .get("next")
        .filter(|n| n.len() <= MAX_LEN)
        .unwrap_or_else(|| "/".to_owned());

    view! {
        <section class="card">
            <h1>"Log in"</h1>
            <LoginForm
                next
                flash=reason.map(|r| r.message().to_owned())
                // Put back after a failed plain form post (JavaScript off).
                typed_name=query.get("username")
                after_logout=reason.is_some_and(LoginReason::ends_session)
            />
            <p class="alt">"No account yet? " <a href="/register">"Register"</a></p>
        </section>
    }
}

/// The login form and the flash message above it: the page's interactive
/// part. `after_logout`: this page is shown after a logout, so the other tabs
/// of this browser are told to leave their pages.
#[island]
fn LoginForm(
    next: String,
    flash: Option<String>,
    typed_name: Option<String>,
    after_logout: bool,
) -> impl IntoView {
    let action = ServerAction::<Login>::new();
    // The reason we are here matters only until the first attempt.
    let flash = move || {
        if action.value().read().is_some() {
            return None;
        }
        flash
            .clone()
            .map(|m| view! { <p class="flash" role="status">{m}</p> })
    };
    let error = last_error(action);
    let scripted = use_hydrated();
    if after_logout {
        Effect::new(move |_| session_keeper::announce_logout());
    }

    let username = NodeRef::new();
    let remember_box = NodeRef::new();
    remember::restore(username, remember_box);
    remember::save_on_submit(action);

    view! {
        {flash}
        <ActionForm action=action attr:id="login-form">
            <input type="hidden" name="next" value=next/>
            <Field
                id="login-username"
                label="Username"
                name="username"
                autocomplete="username"
                value=typed_name
                node_ref=username
            />
            <Field
                id="login-password"
                label="Password"
                name="password"
                kind="password"
                autocomplete="current-password"
            />
            // Remembering lives in the browser's storage: offered only
            // where scripts run.
            <Show when=move || scripted.get()>
                <label class="check">
                    <input type="checkbox" name="remember" node_ref=remember_box/>
                    "Remember my username"
                </label>
            </Show>
            <FormError error/>
            <SubmitButton pending=action.pending() idle="Log in" busy="Logging in…"/>
        </ActionForm>
    }
}
