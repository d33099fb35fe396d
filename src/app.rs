//! The HTML shell and the server's router. In the browser only the pages'
//! islands run (see `src/pages/`): links and redirects are full page loads.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::pages::{AccountPage, HomePage, LoginPage, NotFound, RegisterPage};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Every page has this title: set here, not through leptos_meta, so
                // the browser bundle needs no title-updating code.
                <title>"authbridge"</title>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                // `/pkg/authbridge.<hash>.css` when the site was built with hashed names.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                // Hydrates the `<leptos-island>` elements only; carries the
                // response's CSP nonce like the full hydration script did.
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: four pages and a not-found page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Router>
            <main>
                <Routes fallback=NotFound>
                    // Async: the greeting is in the HTML itself, so the page
                    // works without JavaScript.
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/register") view=RegisterPage/>
                </Routes>
            </main>
            <HydratedMarker/>
        </Router>
    }
}

/// Marks `<body data-hydrated>` once the WebAssembly runs, so tests (and
/// curious developers) can tell a hydrated page from server-rendered HTML.
/// The last island of every page: islands hydrate in document order, so the
/// mark appears after the page's other islands have been hydrated.
#[island]
fn HydratedMarker() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
}
