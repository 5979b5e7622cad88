//! A control that only works once the page is hydrated: before the wasm loads the button is
//! inert, which is exactly what the end-to-end test checks.
use leptos::prelude::*;

#[component]
pub fn Counter() -> impl IntoView {
    let count = RwSignal::new(0u32);
    view! {
        <section class="card">
            <h2>"Interactivity"</h2>
            <p>"This counter runs in your browser once the WebAssembly has loaded."</p>
            <button class="button" data-testid="counter" on:click=move |_| count.update(|n| *n += 1)>
                "Clicked " {count} {move || if count.get() == 1 { " time" } else { " times" }}
            </button>
        </section>
    }
}
