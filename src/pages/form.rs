//! Pieces shared by the login and registration forms.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;

/// The error of `action`'s last submission, if it failed: what
/// [`FormError`] shows.
pub fn last_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// The error of the last submission, shown next to the form.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
    }
}

/// A submit button that shows `busy` and is disabled while the request runs.
#[component]
pub fn SubmitButton(
    #[prop(into)] pending: Signal<bool>,
    idle: &'static str,
    busy: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            {move || if pending.get() { busy } else { idle }}
        </button>
    }
}

/// A required input with its label and an optional hint, tied together by
/// `for`/`id` and `aria-describedby` so the label is the input's name.
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    autocomplete: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(default = None)] value: Option<String>,
    #[prop(optional)] node_ref: NodeRef<Input>,
) -> impl IntoView {
    let hint_id = hint.map(|_| format!("{id}-hint"));
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type=kind
                name=name
                autocomplete=autocomplete
                value=value
                required
                aria-describedby=hint_id.clone()
                node_ref=node_ref
            />
            {hint.map(|text| view! { <small id=hint_id>{text}</small> })}
        </div>
    }
}

/// `true` once the page runs in the browser (after hydration), `false` in the
/// server-rendered HTML: for controls that only work with scripts.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}
