//! authbridge: the login and token authority.
//!
//! One crate, two builds: with `ssr` it is the axum server (see `main.rs`);
//! with `hydrate` it is the WebAssembly that takes over the server-rendered
//! pages' islands in the browser ([`hydrate`] is its entry point).

pub mod api;
pub mod app;
pub mod auth;
pub mod error;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod oauth;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod server;

/// Browser entry point: prepares the islands of the server-rendered page,
/// which leptos' island script then hydrates one by one. There is no
/// client-side router: links and redirects are full page loads.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console are for development: the hook pulls in
    // the formatting machinery, which would cost release bundles size.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
