//! Request checks the invoice and credit note endpoints share, so that both answer a bad id or
//! an overlong text the same way.

use crate::http::ApiError;
use crate::psp::form::invalid;
use crate::psp::model::missing;

/// Stripe's id shape, checked before any lookup: an id longer than 64 characters or without
/// `prefix` (`in_`, `cn_`) is a 404 for `object` naming `id` (its first 64 characters), never a
/// query with a megabyte of text.
pub(in crate::psp) fn check_id(id: &str, prefix: &str, object: &str) -> Result<(), ApiError> {
    if id.len() > 64 || !id.starts_with(prefix) {
        return Err(missing(
            object,
            "id",
            &id.chars().take(64).collect::<String>(),
        ));
    }
    Ok(())
}

/// `v` if it has at most `max` characters, else a 400 naming `param`.
pub(in crate::psp) fn bounded(v: String, param: &str, max: usize) -> Result<String, ApiError> {
    if v.chars().count() > max {
        return Err(invalid(
            param,
            format!("{param} has at most {max} characters."),
        ));
    }
    Ok(v)
}
