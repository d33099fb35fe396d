//! `/`: the protected home page.
//!
//! The server never renders it without a session (the guard redirects first);
//! after client-side navigation the page asks the server who is logged in and
//! goes to the login page if nobody is.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use super::form::SubmitButton;
use crate::api::{Logout, current_user};
use crate::auth::{LoginReason, login_url};

/// Greets the logged-in user and offers "Log out".
#[component]
pub fn HomePage() -> impl IntoView {
    let user = Resource::new(|| (), |()| current_user());
    let logout = ServerAction::<Logout>::new();

    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        if let Some(Err(_)) = user.get() {
            let mut here = location.pathname.get_untracked();
            let search = location.search.get_untracked();
            let search = search.trim_start_matches('?');
            if !search.is_empty() {
                here.push('?');
                here.push_str(search);
            }
            navigate(
                &login_url(Some(&here), LoginReason::Required),
                Default::default(),
            );
        }
    });

    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(me) => view! {
                        <section class="card">
                            <h1>"Hello, " <span class="username">{me.name}</span> "!"</h1>
                            <p>"You are logged in."</p>
                            <ActionForm action=logout attr:id="logout-form">
                                <SubmitButton pending=logout.pending() idle="Log out" busy="Logging out…"/>
                            </ActionForm>
                        </section>
                    }
                    .into_any(),
                    Err(_) => view! { <p>"Please log in."</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
