use std::borrow::Cow;
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Gives each request a `Request-Id` and logs one line when it ends: method, path (ids only,
/// never the query string, which could carry personal data, and never a bearer token of a path:
/// see [`loggable_path`]), status and duration. The id is
/// also set as the request's own `Request-Id` header (replacing any the client sent), so the
/// layers and handlers inside read it there (events, idempotent replays' `Original-Request`).
pub async fn request_log(mut req: Request, next: Next) -> Response {
    let id = tierspay_core::auth::random::id("req");
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("request-id", v);
    }
    let method = req.method().clone();
    let path = loggable_path(req.uri().path()).into_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            %method,
            path,
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("request-id", v);
    }
    response
}

/// Paths whose next segment is a bearer secret: whoever holds it may open the page it names (a
/// payment link, the PSP's card form, a hosted invoice, a 3-D Secure challenge, an SMS short
/// code). The log keeps the route, not the secret.
const BEARER_PREFIXES: [&str; 6] = [
    "/l/",
    "/c/pay/",
    "/i/",
    "/redirect/authenticate/",
    "/s/",
    "/v1/platform/short_links/",
];

/// `path` as the request log may keep it: the segment after a bearer prefix becomes `{token}`
/// (`/l/AbC…/card` → `/l/{token}/card`); any other path is kept as it is.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    for prefix in BEARER_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return Cow::Owned(format!("{prefix}{{token}}{tail}"));
        }
    }
    Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn bearer_segments_never_reach_the_log() {
        for (path, logged) in [
            ("/l/AAECAwQ", "/l/{token}"),
            ("/l/AAECAwQ/card", "/l/{token}/card"),
            ("/l/AAECAwQ/resend", "/l/{token}/resend"),
            ("/c/pay/cs_secret/return", "/c/pay/{token}/return"),
            ("/i/inv_secret", "/i/{token}"),
            (
                "/redirect/authenticate/secret",
                "/redirect/authenticate/{token}",
            ),
            ("/s/Ab3dE5gH9k", "/s/{token}"),
            (
                "/v1/platform/short_links/Ab3dE5gH9k",
                "/v1/platform/short_links/{token}",
            ),
            ("/l/", "/l/{token}"),
        ] {
            assert_eq!(loggable_path(path), logged, "{path}");
        }
    }

    #[test]
    fn other_paths_are_kept() {
        for path in [
            "/v1/invoices/in_123",
            "/v1/me/invoices",
            "/",
            "/list",
            "/v1/issuing/cards",
        ] {
            assert_eq!(loggable_path(path), path);
        }
    }
}
