//! `/login`: the login form, with `?next=` and the flash message of `?reason=`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{Field, FormError, SubmitButton, use_hydrated};
use super::{remember, session_keeper};
use crate::api::Login;
use crate::auth::LoginReason;
use crate::auth::next_path::MAX_LEN;

/// The login page. Works as a plain form post without JavaScript.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let query = use_query_map();
    // Checked by the server when the form is sent (a peer's absolute URL may
    // be allowed there); here only local paths would be known to be safe.
    let next = Memo::new(move |_| {
        query
            .read()
            .get("next")
            .filter(|n| n.len() <= MAX_LEN)
            .unwrap_or_else(|| "/".to_owned())
    });
    // The reason we are here matters only until the first attempt.
    let flash = move || {
        if action.value().read().is_some() {
            return None;
        }
        let reason = query.read().get("reason")?;
        LoginReason::from_query(&reason).map(LoginReason::message)
    };
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    // Put back after a failed plain form post (JavaScript off).
    let typed_name = query.read_untracked().get("username");
    let scripted = use_hydrated();

    // Shown after a logout: the other tabs of this browser leave their pages.
    let after_logout = query
        .read_untracked()
        .get("reason")
        .and_then(|r| LoginReason::from_query(&r))
        .is_some_and(LoginReason::ends_session);
    if after_logout {
        Effect::new(move |_| session_keeper::announce_logout());
    }

    let username = NodeRef::new();
    let remember_box = NodeRef::new();
    remember::restore(username, remember_box);
    remember::save_on_submit(action);

    view! {
        <section class="card">
            <h1>"Log in"</h1>
            {move || flash().map(|m| view! { <p class="flash" role="status">{m}</p> })}
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
            <p class="alt">"No account yet? " <a href="/register">"Register"</a></p>
        </section>
    }
}
