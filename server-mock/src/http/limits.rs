//! Bounds on what a request may carry before any module reads it, each refused with a
//! Stripe-shaped error: header count and size, path length, depth and encoding, query length.
//! Body size is bounded where the body is read (`MAX_BODY_BYTES`), and form nesting where forms
//! are parsed (the PSP's `form`). The HTTP server refuses, without a body, only what exceeds its
//! own larger buffers (see `serve`).

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// Most headers a request may have.
pub const MAX_HEADERS: usize = 100;
/// Most bytes of header names and values together.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Most `/`-separated segments in a path.
pub const MAX_PATH_SEGMENTS: usize = 12;
const MAX_PATH_BYTES: usize = 2048;
const MAX_QUERY_BYTES: usize = 16 * 1024;

fn refuse(status: StatusCode, code: &str, param: Option<&str>, message: String) -> Response {
    let mut e = ApiError::invalid(code, message);
    e.status = status;
    e.detail.param = param.map(str::to_owned);
    e.not_executed().into_response()
}

/// Middleware: refuses oversized or malformed requests before routing.
pub async fn check_request(req: Request, next: Next) -> Response {
    match check(&req) {
        Ok(()) => next.run(req).await,
        Err(response) => response,
    }
}

fn check(req: &Request) -> Result<(), Response> {
    let headers = req.headers();
    if headers.len() > MAX_HEADERS {
        return Err(refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            None,
            format!("A request may have at most {MAX_HEADERS} headers."),
        ));
    }
    let size: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            None,
            format!("Request headers may total at most {MAX_HEADER_BYTES} bytes."),
        ));
    }
    let uri = req.uri();
    let path = uri.path();
    if path.len() > MAX_PATH_BYTES || path.split('/').count() > MAX_PATH_SEGMENTS + 1 {
        return Err(refuse(
            StatusCode::URI_TOO_LONG,
            "url_too_long",
            None,
            format!(
                "A request path may have at most {MAX_PATH_BYTES} bytes and {MAX_PATH_SEGMENTS} segments."
            ),
        ));
    }
    if let Some(segment) = path.split('/').find(|s| percent_decoded_utf8(s).is_none()) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "url_invalid",
            None,
            format!(
                "The request path segment `{}` is not valid percent-encoded UTF-8.",
                segment.chars().take(64).collect::<String>()
            ),
        ));
    }
    if uri.query().is_some_and(|q| q.len() > MAX_QUERY_BYTES) {
        return Err(refuse(
            StatusCode::URI_TOO_LONG,
            "url_too_long",
            None,
            format!("A query string may have at most {MAX_QUERY_BYTES} bytes."),
        ));
    }
    Ok(())
}

/// Decodes `%XX` escapes; `None` when an escape is broken or the result is not UTF-8.
fn percent_decoded_utf8(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decoded_utf8;

    #[test]
    fn path_segments_must_decode_to_utf8() {
        assert_eq!(percent_decoded_utf8("ic_1").as_deref(), Some("ic_1"));
        assert_eq!(percent_decoded_utf8("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decoded_utf8("%C3%A9").as_deref(), Some("é"));
        assert!(percent_decoded_utf8("%FF").is_none());
        assert!(percent_decoded_utf8("%F").is_none());
        assert!(percent_decoded_utf8("%zz").is_none());
    }
}
