//! "Remember my username": the only thing we keep in the browser's storage,
//! and never anything secret. Runs in the browser only.

use leptos::html::Input;
use leptos::prelude::*;

use crate::api::Login;

/// `localStorage` key of the remembered username.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const STORAGE_KEY: &str = "authbridge.remembered_username";

/// Pre-fills the username field and ticks the box if a name is remembered.
pub fn restore(username: NodeRef<Input>, remember: NodeRef<Input>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use gloo_storage::{LocalStorage, Storage};

        let (Some(field), Some(checkbox)) = (username.get(), remember.get()) else {
            return;
        };
        if let Ok(name) = LocalStorage::get::<String>(STORAGE_KEY) {
            if field.value().is_empty() {
                field.set_value(&name);
            }
            checkbox.set_checked(true);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (username, remember);
}

/// Stores or forgets the username when the login form is submitted.
pub fn save_on_submit(action: ServerAction<Login>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use gloo_storage::{LocalStorage, Storage};

        let Some(input) = action.input().get() else {
            return;
        };
        if input.remember.is_some() {
            let _ = LocalStorage::set(STORAGE_KEY, input.username.trim());
        } else {
            LocalStorage::delete(STORAGE_KEY);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = action;
}
