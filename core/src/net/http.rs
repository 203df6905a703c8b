//! HTTP to the TiersPay server: JSON bodies, Stripe-style errors, an `Idempotency-Key` on every
//! POST (the same key on every retry, so a retried request never runs twice), DPoP proofs signed
//! by the device key, and a count of round trips for the journey figures.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::auth::{dpop, random};
use crate::error::{Error, Result};
use crate::platform::DeviceKey;
use crate::wire::{ErrorBody, ErrorCode};

/// Delays before each retry of a request whose connection failed.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_millis(150), Duration::from_millis(500)];
/// Largest answer the core reads: far above any real one (a full sync is a few kilobytes), so
/// a hostile or broken server cannot make the phone buffer without end.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Reads an answer's body, refusing one larger than [`MAX_RESPONSE_BYTES`] as it streams.
async fn bounded_body(mut response: reqwest::Response) -> Result<Vec<u8>> {
    let too_large = || {
        Error::Protocol(format!(
            "the server's answer exceeds {MAX_RESPONSE_BYTES} bytes"
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One request to send.
pub struct Request<'a> {
    /// HTTP method.
    pub method: Method,
    /// Path below the server URL, e.g. `/v1/me`.
    pub path: String,
    /// JSON body.
    pub body: Option<Vec<u8>>,
    /// `Authorization: DPoP <token>`.
    pub access_token: Option<&'a str>,
    /// The key that signs the DPoP proof, if one is sent.
    pub proof_key: Option<&'a Arc<dyn DeviceKey>>,
    /// The `Idempotency-Key` of a POST, when the caller keeps it (written to the store before
    /// sending, so a retry after a restart reuses it); a fresh one otherwise.
    pub idempotency_key: Option<String>,
}

impl<'a> Request<'a> {
    /// A request without body, token or proof.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            body: None,
            access_token: None,
            proof_key: None,
            idempotency_key: None,
        }
    }

    /// Adds a JSON body.
    pub fn json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        self.body = Some(serde_json::to_vec(body).map_err(|e| Error::Internal(e.to_string()))?);
        Ok(self)
    }

    /// Signs a DPoP proof with `key`.
    pub fn proof(mut self, key: &'a Arc<dyn DeviceKey>) -> Self {
        self.proof_key = Some(key);
        self
    }

    /// Sends a POST with this `Idempotency-Key` rather than a fresh one.
    pub fn idempotency_key(mut self, key: Option<String>) -> Self {
        self.idempotency_key = key;
        self
    }

    /// Presents an access token (a proof is then required).
    pub fn token(mut self, token: &'a str) -> Self {
        self.access_token = Some(token);
        self
    }
}

/// A successful answer.
pub struct Response {
    /// The raw body.
    pub body: Vec<u8>,
    /// The server's signature header, if any.
    pub signature: Option<String>,
}

impl Response {
    /// Parses the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::Protocol(format!("unexpected answer from the server: {e}")))
    }
}

/// The client of one server.
pub struct Api {
    http: reqwest::Client,
    base_url: String,
    round_trips: AtomicU64,
    /// Seconds from the phone's clock to the server's, learned from a proof the server refused
    /// for its time: proofs are judged by the server's clock, and a phone's may be set back.
    clock_offset: AtomicI64,
    /// What the last answer's `Date` said of that offset.
    observed_offset: AtomicI64,
}

/// Largest clock correction taken from a server's `Date` (about 30 years): beyond it the
/// answer is not believed, and nothing overflows.
const MAX_CLOCK_OFFSET_SECS: i64 = 1 << 30;

impl Api {
    /// A client of the server at `base_url` (`https://…`; `http://` only for loopback tests).
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::invalid(
                "server_url",
                "must start with https:// (or http:// for a local test server)",
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            // The server never redirects: a 307 from a relay would replay a POST's body (a
            // session's proofs, an enrollment code) to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tierspay-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("http client: {e}")))?;
        Ok(Self {
            http,
            base_url,
            round_trips: AtomicU64::new(0),
            clock_offset: AtomicI64::new(0),
            observed_offset: AtomicI64::new(0),
        })
    }

    /// The server's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests sent so far (each retry counts).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// Sends a request, retrying connection failures and 502/503/504 answers (every request is
    /// safe to retry: a GET, or a POST with the same idempotency key, which the server replays
    /// rather than runs twice), and maps error answers to [`Error::Api`].
    pub async fn send(&self, req: Request<'_>) -> Result<Response> {
        let url = format!("{}{}", self.base_url, req.path);
        let idempotency_key = (req.method == Method::POST).then(|| {
            req.idempotency_key
                .clone()
                .unwrap_or_else(|| random::id("idk"))
        });
        let mut attempt = 0;
        let mut clock_corrected = false;
        loop {
            match self.send_once(&req, &url, idempotency_key.as_deref()).await {
                Err(e) if attempt < RETRY_DELAYS.len() && retryable(&e) => {
                    tracing::debug!(path = %req.path, attempt, "retrying: {e}");
                    tokio::time::sleep(RETRY_DELAYS[attempt]).await;
                    attempt += 1;
                }
                // Once per request: a server that keeps refusing is not a clock problem.
                Err(e) if !clock_corrected && req.proof_key.is_some() && self.correct_clock(&e) => {
                    tracing::info!(path = %req.path, "proof refused for its time: clock corrected");
                    clock_corrected = true;
                }
                other => return other,
            }
        }
    }

    /// The time a proof carries: the phone's clock, corrected by what the server said of it.
    fn proof_time(&self) -> i64 {
        super::unix_now().saturating_add(self.clock_offset.load(Ordering::Relaxed))
    }

    /// After a proof refused (`invalid_dpop_proof`) by a server whose `Date` is further from the
    /// phone's corrected clock than a proof may be, takes the server's time for the next proofs
    /// and says so (the caller sends again, with the same idempotency key: the server refused
    /// before running anything). Any other refusal is left as it is.
    fn correct_clock(&self, e: &Error) -> bool {
        if !matches!(e, Error::Api { status: 401, .. })
            || e.api_code() != Some(ErrorCode::InvalidDpopProof.as_str())
        {
            return false;
        }
        let observed = self.observed_offset.load(Ordering::Relaxed);
        let current = self.clock_offset.load(Ordering::Relaxed);
        if (observed - current).abs() <= dpop::MAX_SKEW_SECS {
            return false;
        }
        self.clock_offset.store(observed, Ordering::Relaxed);
        true
    }

    /// Notes what an answer's `Date` (RFC 9110, second precision) says of the phone's clock.
    fn observe_date(&self, headers: &reqwest::header::HeaderMap) {
        let Some(date) = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        else {
            return;
        };
        let Ok(server) = date.duration_since(std::time::UNIX_EPOCH) else {
            return;
        };
        let offset = (server.as_secs() as i64).saturating_sub(super::unix_now());
        if offset.abs() <= MAX_CLOCK_OFFSET_SECS {
            self.observed_offset.store(offset, Ordering::Relaxed);
        }
    }

    async fn send_once(
        &self,
        req: &Request<'_>,
        url: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Response> {
        let mut builder = self
            .http
            .request(req.method.clone(), url)
            .header("accept", "application/json");
        if let Some(key) = idempotency_key {
            builder = builder.header("idempotency-key", key);
        }
        if let Some(body) = &req.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body.clone());
        }
        if let Some(token) = req.access_token {
            builder = builder.header("authorization", format!("DPoP {token}"));
        }
        if let Some(key) = req.proof_key {
            // A fresh proof for every attempt: proof ids are single-use.
            builder = builder.header(
                dpop::HEADER,
                make_proof(
                    key,
                    req.method.as_str(),
                    url,
                    self.proof_time(),
                    req.access_token,
                )?,
            );
        }
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let response = builder.send().await?;
        let status = response.status();
        // Only a refused proof is corrected by the server's clock (`correct_clock`).
        if status == StatusCode::UNAUTHORIZED {
            self.observe_date(response.headers());
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let signature = response
            .headers()
            .get(crate::auth::signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = bounded_body(response).await?;
        if status.is_success() {
            return Ok(Response { body, signature });
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(err) => Err(Error::Api {
                status: status.as_u16(),
                detail: Box::new(err.error),
                retry_after,
                extra: extra_members(&body),
            }),
            Err(_) if status == StatusCode::BAD_GATEWAY || status.is_server_error() => {
                Err(Error::Network(format!("server unavailable ({status})")))
            }
            Err(_) => Err(Error::Protocol(format!(
                "the server answered {status} without an error document"
            ))),
        }
    }
}

/// The members of an error document beside `error` (a 409 `preview_stale` carries the server's
/// `quote` there), or `None` when there are none.
fn extra_members(body: &[u8]) -> Option<Box<serde_json::Map<String, serde_json::Value>>> {
    let serde_json::Value::Object(mut members) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    members.remove("error");
    (!members.is_empty()).then(|| Box::new(members))
}

fn retryable(e: &Error) -> bool {
    matches!(
        e,
        Error::Network(_)
            | Error::Api {
                status: 502..=504,
                ..
            }
    )
}

/// Builds a DPoP proof for `method url` at `now` (the server's time, as the phone knows it),
/// signed by the device key.
pub fn make_proof(
    key: &Arc<dyn DeviceKey>,
    method: &str,
    url: &str,
    now: i64,
    access_token: Option<&str>,
) -> Result<String> {
    let public_key = key.public_key()?;
    let claims = dpop::Claims::new(method, url, now, access_token);
    let input = dpop::signing_input(&public_key, &claims)
        .map_err(|e| Error::Platform(format!("device key: {e}")))?;
    let signature = key.sign(input.as_bytes().to_vec())?;
    dpop::assemble(&input, &signature)
        .map_err(|e| Error::Platform(format!("device key signature: {e}")))
}

/// A query string (`?a=1&b=x%20y`) from pairs, skipping empty values. Values are
/// percent-encoded byte by byte, leaving only RFC 3986 unreserved characters as they are.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            let value: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={value}")
        })
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A server that answers every request with a 307 to `/steal`, and counts what reaches it.
    async fn redirecting_server() -> (String, Arc<AtomicU64>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stolen = Arc::new(AtomicU64::new(0));
        let count = stolen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let answer = if request.contains(" /steal") {
                    count.fetch_add(1, Ordering::SeqCst);
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
                } else {
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: /steal\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (url, stolen)
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_so_a_posts_body_goes_nowhere_else() {
        let (url, stolen) = redirecting_server().await;
        let api = Api::new(&url, Duration::from_secs(5)).unwrap();
        let req = Request::new(Method::POST, "/v1/visits")
            .json(&serde_json::json!({"code": "123456"}))
            .unwrap();
        assert!(matches!(api.send(req).await, Err(Error::Protocol(_))));
        assert_eq!(stolen.load(Ordering::SeqCst), 0, "nothing reached /steal");
    }

    /// A device key in software, for the proofs these tests send.
    struct TestKey(p256::ecdsa::SigningKey);

    impl DeviceKey for TestKey {
        fn public_key(&self) -> std::result::Result<Vec<u8>, crate::PlatformError> {
            Ok(crate::auth::ecdsa::public_key_sec1(&self.0))
        }
        fn sign(&self, message: Vec<u8>) -> std::result::Result<Vec<u8>, crate::PlatformError> {
            Ok(crate::auth::ecdsa::sign(&self.0, &message).to_vec())
        }
        fn delete(&self) -> std::result::Result<(), crate::PlatformError> {
            Ok(())
        }
    }

    /// What a proof server saw: requests, and the idempotency key of each.
    #[derive(Default)]
    struct Seen {
        requests: AtomicU64,
        keys: std::sync::Mutex<Vec<String>>,
    }

    /// A server whose clock is `ahead` seconds past the phone's, judging proofs' `iat` by it
    /// as the platform does (60 s old at most, 5 s ahead at most); `refuse_all` refuses every
    /// proof; `date` sends its time in `Date`.
    async fn proof_server(ahead: i64, refuse_all: bool, date: bool) -> (String, Arc<Seen>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Seen::default());
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 16384];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                let header = |name: &str| {
                    request.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                    })
                };
                log.requests.fetch_add(1, Ordering::SeqCst);
                if let Some(key) = header("idempotency-key") {
                    log.keys.lock().unwrap().push(key);
                }
                let now = super::super::unix_now() + ahead;
                let iat = header("dpop")
                    .and_then(|p| p.split('.').nth(1).map(str::to_owned))
                    .and_then(|c| crate::auth::b64url_decode(&c).ok())
                    .and_then(|c| serde_json::from_slice::<serde_json::Value>(&c).ok())
                    .and_then(|c| c["iat"].as_i64());
                let fresh = iat.is_some_and(|iat| {
                    iat >= now - dpop::MAX_AGE_SECS && iat <= now + dpop::MAX_SKEW_SECS
                });
                let (status, body) = if fresh && !refuse_all {
                    ("200 OK", "{}".to_owned())
                } else {
                    (
                        "401 Unauthorized",
                        r#"{"error":{"type":"invalid_request_error","code":"invalid_dpop_proof","message":"stale"}}"#.to_owned(),
                    )
                };
                let date = if date {
                    let at = std::time::UNIX_EPOCH + Duration::from_secs(now as u64);
                    format!("date: {}\r\n", httpdate::fmt_http_date(at))
                } else {
                    String::new()
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\n{date}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (url, seen)
    }

    fn signed_post(key: &Arc<dyn DeviceKey>) -> Request<'_> {
        Request::new(Method::POST, "/v1/me/invoices/in_1/payments")
            .json(&serde_json::json!({"amount": 4250}))
            .unwrap()
            .proof(key)
            .idempotency_key(Some("idk_pay_once".into()))
    }

    #[tokio::test]
    async fn a_phone_clock_set_back_a_day_is_corrected_once_and_the_same_key_is_sent_again() {
        let key: Arc<dyn DeviceKey> = Arc::new(TestKey(crate::auth::ecdsa::generate_signing_key()));
        let (url, seen) = proof_server(86_400, false, true).await;
        let api = Api::new(&url, Duration::from_secs(5)).unwrap();
        api.send(signed_post(&key)).await.unwrap();
        assert_eq!(
            seen.requests.load(Ordering::SeqCst),
            2,
            "refused, then sent again"
        );
        assert_eq!(*seen.keys.lock().unwrap(), ["idk_pay_once", "idk_pay_once"]);
        // The correction stays: the next request goes through at once.
        api.send(signed_post(&key)).await.unwrap();
        assert_eq!(seen.requests.load(Ordering::SeqCst), 3);
        // A phone clock ahead of the server's is corrected the same way.
        let (url, seen) = proof_server(-3_600, false, true).await;
        let api = Api::new(&url, Duration::from_secs(5)).unwrap();
        api.send(signed_post(&key)).await.unwrap();
        assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_server_that_keeps_refusing_or_gives_no_date_is_not_asked_again_and_again() {
        let key: Arc<dyn DeviceKey> = Arc::new(TestKey(crate::auth::ecdsa::generate_signing_key()));
        let refused = |e: &Error| e.api_code() == Some("invalid_dpop_proof");
        // Refuses whatever the time: one correction, then its refusal stands.
        let (url, seen) = proof_server(86_400, true, true).await;
        let api = Api::new(&url, Duration::from_secs(5)).unwrap();
        assert!(refused(&api.send(signed_post(&key)).await.err().unwrap()));
        assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
        // Says nothing of its time: nothing to correct by, refused once.
        let (url, seen) = proof_server(86_400, false, false).await;
        let api = Api::new(&url, Duration::from_secs(5)).unwrap();
        assert!(refused(&api.send(signed_post(&key)).await.err().unwrap()));
        assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
        // A refusal from a server whose clock agrees with the phone's is no clock problem.
        let (url, seen) = proof_server(0, true, true).await;
        let api = Api::new(&url, Duration::from_secs(5)).unwrap();
        assert!(refused(&api.send(signed_post(&key)).await.err().unwrap()));
        assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn extra_members_of_an_error_document_are_kept() {
        let body = br#"{"error":{"type":"invalid_request_error","code":"preview_stale","message":"m"},"quote":{"amc":5000}}"#;
        let extra = extra_members(body).unwrap();
        assert_eq!(extra["quote"]["amc"], 5000);
        assert!(extra_members(br#"{"error":{}}"#).is_none());
    }
}
