//! The Content-Security-Policy of rendered pages: only this origin's scripts, plus the inline
//! hydration scripts that carry this response's nonce.
use leptos::prelude::*;

pub fn set_content_security_policy() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    // `cargo leptos watch` reloads the page over a websocket on its own port.
    let reload = match (
        std::env::var("LEPTOS_WATCH").is_ok(),
        use_context::<LeptosOptions>(),
    ) {
        (true, Some(o)) => format!(" ws://{}:{}", o.site_addr.ip(), o.reload_port),
        _ => String::new(),
    };
    let policy = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; \
         style-src 'self'{nonce}; img-src 'self' data:; connect-src 'self'{reload}; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
