//! The same-origin rule for state-changing requests (CSRF defence).
use axum::{
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The app's own origin (`scheme://host[:port]`), as browsers send it in `Origin`.
#[derive(Clone, Debug)]
pub struct Origin(String);

/// The app's origin, and the ones whose browser apps may also call `/auth/v1` (its CORS
/// setting): `/auth/v1` takes no cookies, so a listed origin's calls carry only what the app
/// itself puts in them.
#[derive(Clone, Debug)]
pub struct Origins {
    pub own: Origin,
    pub auth_api: std::sync::Arc<[String]>,
}

impl Origin {
    pub fn of(public_url: &str) -> Self {
        let after_scheme = public_url.find("://").map_or(0, |i| i + 3);
        let end = public_url[after_scheme..]
            .find('/')
            .map_or(public_url.len(), |i| after_scheme + i);
        Self(public_url[..end].to_ascii_lowercase())
    }
}

/// Refuses state-changing requests that a browser sent from another site. Browsers send
/// `Sec-Fetch-Site` (and `Origin` on every POST), so a cross-site form or fetch is caught by one
/// of them; requests without either come from non-browser clients, which carry no ambient
/// cookies to abuse.
pub async fn same_origin_only(
    State(origins): State<Origins>,
    request: Request,
    next: Next,
) -> Response {
    let own = &origins.own;
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !safe {
        let headers = request.headers();
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let allowed = match (fetch_site, origin) {
            (Some("same-origin" | "none"), _) => true,
            (Some(_), _) => false,
            (None, Some(origin)) => origin.eq_ignore_ascii_case(&own.0),
            (None, None) => true,
        } || (request.uri().path().starts_with("/auth/v1/")
            && origin.is_some_and(|o| origins.auth_api.iter().any(|a| a.eq_ignore_ascii_case(o))));
        if !allowed {
            tracing::warn!(?fetch_site, ?origin, "cross-origin request refused");
            return (
                StatusCode::FORBIDDEN,
                "Cross-site requests are not allowed.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::Origin;

    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(
            Origin::of("http://127.0.0.1:3000").0,
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            Origin::of("https://Example.com/app/").0,
            "https://example.com"
        );
    }
}
