//! The console's two static files: its stylesheet and its one script, compiled into the binary.
//! The script's name carries the start of its SHA-256 and its page tag carries the whole hash as
//! Subresource Integrity, so a browser runs exactly these bytes; the CSP allows scripts and
//! styles from the console's own origin only (no inline script or style at all).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tierspay_core::auth::{b64, sha256};

use super::views::Script;

const JS: &str = include_str!("../../../templates/console/console.js");
const CSS: &str = include_str!("../../../templates/console/console.css");
/// The stylesheet's path.
pub const CSS_PATH: &str = "/console/static/console.css";

struct Hashed {
    name: String,
    integrity: String,
}

fn js() -> &'static Hashed {
    static JS_HASH: OnceLock<Hashed> = OnceLock::new();
    JS_HASH.get_or_init(|| {
        let digest = sha256(JS.as_bytes());
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Hashed {
            name: format!("console-{hex}.js"),
            integrity: format!("sha256-{}", b64(digest)),
        }
    })
}

/// The script tag's source and integrity.
pub fn script() -> Script {
    let h = js();
    Script {
        src: format!("/console/static/{}", h.name),
        integrity: h.integrity.clone(),
    }
}

/// `GET /console/static/{name}`: the script under its hashed name (cached for a year: a new
/// script has a new name) or the stylesheet (revalidated each time).
pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind, cache) = if name == js().name {
        (
            JS,
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        )
    } else if name == "console.css" {
        (CSS, "text/css; charset=utf-8", "no-cache")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}
