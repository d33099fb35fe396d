//! Any path without a page.

use leptos::prelude::*;

/// The 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }

    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Go to the home page"</a></p>
        </section>
    }
}
