//! `GET /console/invoices/{id}/events`: a server-sent-events stream per open invoice view. The
//! server compares a cheap fingerprint of the invoice ([`timeline::version`]) every second and
//! sends `changed` when it moves; the page then fetches its live parts again. The session is
//! checked at each tick without touching its idle clock (an unattended page does not stay
//! signed in): when it ends, `signed_out` is sent and the stream closes.
//!
//! Streams are bounded: [`MAX_PER_SESSION`] per session and [`MAX_STREAMS`] in all; one more is
//! refused with 503 and `Retry-After`. A stream also ends after [`MAX_LIFETIME`] (the browser's
//! EventSource reconnects by itself, and is checked again then).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::{secure_headers, session, signed_in, timeline};
use crate::state::AppState;

/// Streams one session may hold (a few tabs).
pub const MAX_PER_SESSION: usize = 4;
/// Streams the server holds in all.
pub const MAX_STREAMS: usize = 256;
/// How often the invoice is compared.
const TICK: Duration = Duration::from_secs(1);
/// Longest life of one stream.
pub const MAX_LIFETIME: Duration = Duration::from_secs(3600);

static TOTAL: AtomicUsize = AtomicUsize::new(0);

fn per_session() -> &'static Mutex<HashMap<String, usize>> {
    static MAP: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    MAP.get_or_init(Default::default)
}

/// A held place among the bounded streams, given back when the stream is dropped (the client
/// went away, or the stream ended).
struct Slot {
    session: String,
}

impl Slot {
    fn take(session: &str) -> Option<Slot> {
        let mut map = per_session().lock().ok()?;
        let mine = map.get(session).copied().unwrap_or(0);
        if mine >= MAX_PER_SESSION {
            return None;
        }
        if TOTAL.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
            TOTAL.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        map.insert(session.to_owned(), mine + 1);
        Some(Slot {
            session: session.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        TOTAL.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut map) = per_session().lock() {
            if let Some(n) = map.get_mut(&self.session) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.session);
                }
            }
        }
    }
}

fn refuse(status: StatusCode, text: &'static str) -> Response {
    let mut r = (status, text).into_response();
    secure_headers(r.headers_mut());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    }
    r
}

struct Watch {
    state: AppState,
    invoice: String,
    session: String,
    last: String,
    started: tokio::time::Instant,
    ending: bool,
    _slot: Slot,
}

/// `GET /console/invoices/{id}/events`.
pub async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = match signed_in(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(StatusCode::UNAUTHORIZED, "sign in first"),
        Err(_) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, "try again"),
    };
    if id.len() > 64 {
        return refuse(StatusCode::NOT_FOUND, "no such invoice");
    }
    let inv = id.clone();
    let first = state
        .db
        .call(move |c| {
            if crate::platform::arrears::invoices::record(c, &inv)?.is_none() {
                return Ok(None);
            }
            timeline::version(c, &inv).map(Some)
        })
        .await;
    let last = match first {
        Ok(Some(v)) => v,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "no such invoice"),
        Err(_) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, "try again"),
    };
    let Some(slot) = Slot::take(&s.id_hash) else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "too many live views");
    };
    let watch = Watch {
        state,
        invoice: id,
        session: s.id_hash,
        last,
        started: tokio::time::Instant::now(),
        ending: false,
        _slot: slot,
    };
    let events = futures_util::stream::unfold(watch, |mut w| async move {
        if w.ending {
            return None;
        }
        loop {
            tokio::time::sleep(TICK).await;
            if w.started.elapsed() >= MAX_LIFETIME {
                return None;
            }
            let (inv, sess, now) = (w.invoice.clone(), w.session.clone(), w.state.clock.now());
            let seen = w
                .state
                .db
                .call(move |c| Ok((session::peek(c, &sess, now)?, timeline::version(c, &inv)?)))
                .await;
            match seen {
                Err(_) => return None,
                Ok((false, _)) => {
                    w.ending = true;
                    let e = Event::default().event("signed_out").data("signed_out");
                    return Some((Ok::<_, Infallible>(e), w));
                }
                Ok((true, v)) if v != w.last => {
                    w.last = v;
                    let e = Event::default().event("changed").data("changed");
                    return Some((Ok(e), w));
                }
                Ok(_) => {}
            }
        }
    });
    let mut r = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    secure_headers(r.headers_mut());
    r
}
