//! `/`: the protected home page.
//!
//! The server never renders it without a session (the guard redirects first).

use leptos::prelude::*;

use super::form::SubmitButton;
use super::session_keeper::SessionKeeper;
use crate::api::{Logout, signed_in_user};

/// Greets the logged-in user and offers "Log out". Rendered on the server
/// only, from the session the guard found: no resource, nothing to wait for.
#[component]
pub fn HomePage() -> impl IntoView {
    match signed_in_user() {
        Ok(me) => view! {
            <section class="card">
                <h1>"Hello, " <span class="username">{me.user.name}</span> "!"</h1>
                <p>"You are logged in."</p>
                <p><a href="/account">"Your account and sessions"</a></p>
                <LogoutForm/>
                <SessionKeeper expires_in_secs=me.expires_in_secs/>
            </section>
        }
        .into_any(),
        Err(_) => view! { <p>"Please log in."</p> }.into_any(),
    }
}

/// "Log out": the server ends the session and redirects to the login page.
#[island]
fn LogoutForm() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();

    view! {
        <ActionForm action=logout attr:id="logout-form">
            <SubmitButton pending=logout.pending() idle="Log out" busy="Logging out…"/>
        </ActionForm>
    }
}
