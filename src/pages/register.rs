//! `/register`: create an account and be logged in.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{Field, FormError, SubmitButton, last_error};
use crate::api::Register;

/// The registration page. Works as a plain form post without JavaScript.
#[component]
pub fn RegisterPage() -> impl IntoView {
    // Put back after a failed plain form post (JavaScript off).
    let typed_name = use_query_map().read_untracked().get("username");

    view! {
        <section class="card">
            <h1>"Create an account"</h1>
            <RegisterForm typed_name/>
            <p class="alt">"Already registered? " <a href="/login">"Log in"</a></p>
        </section>
    }
}

/// The registration form: the page's interactive part.
#[island]
fn RegisterForm(typed_name: Option<String>) -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let error = last_error(action);

    view! {
        <ActionForm action=action attr:id="register-form">
            <Field
                id="register-username"
                label="Username"
                name="username"
                autocomplete="username"
                value=typed_name
                hint="3–32 letters, digits, '_', '.' or '-'"
            />
            <Field
                id="register-password"
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                hint="8–128 characters"
            />
            <FormError error/>
            <SubmitButton pending=action.pending() idle="Create account" busy="Creating account…"/>
        </ActionForm>
    }
}
