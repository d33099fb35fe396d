//! `/register`: create an account and be logged in.

use leptos::prelude::*;

use super::form::{FormError, SubmitButton};
use crate::api::Register;

/// The registration page. Works as a plain form post without JavaScript.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    view! {
        <section class="card">
            <h1>"Create an account"</h1>
            <ActionForm action=action attr:id="register-form">
                <div class="field">
                    <label for="register-username">"Username"</label>
                    <input
                        id="register-username"
                        name="username"
                        autocomplete="username"
                        required
                        aria-describedby="register-username-hint"
                    />
                    <small id="register-username-hint">"3–32 letters, digits, '_', '.' or '-'"</small>
                </div>
                <div class="field">
                    <label for="register-password">"Password"</label>
                    <input
                        id="register-password"
                        type="password"
                        name="password"
                        autocomplete="new-password"
                        required
                        aria-describedby="register-password-hint"
                    />
                    <small id="register-password-hint">"8–128 characters"</small>
                </div>
                <FormError error/>
                <SubmitButton pending=action.pending() idle="Create account" busy="Creating account…"/>
            </ActionForm>
            <p class="alt">"Already registered? " <a href="/login">"Log in"</a></p>
        </section>
    }
}
