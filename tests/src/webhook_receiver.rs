//! A webhook receiver on loopback for the PSP tests: it checks every delivery's
//! `Stripe-Signature` with the endpoint's secret (Stripe's scheme, 300 s tolerance), keeps what
//! it received, and answers real-time authorization requests as the test told it to (approve,
//! decline, sleep past the deadline, fail).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tierspay_server_mock::http::webhook_signature;

use crate::stripe::{now, Stripe};

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// 200 `{"approved": true}` (with `amount` when set: a partial approval).
    Approve(Option<i64>),
    /// 200 `{"approved": false, "reason_message", "metadata"}`.
    Decline(String),
    /// Sleeps this long, then approves.
    Sleep(Duration),
    /// Answers this status with an empty body.
    Status(u16),
    /// 200 with a body that is not the expected JSON.
    Garbage,
}

/// One delivery the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event.
    pub event: Value,
    /// Whether its signature verified with the endpoint's secret.
    pub signature_ok: bool,
}

#[derive(Clone)]
struct Shared {
    behaviour: Arc<Mutex<Behaviour>>,
    secret: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<Delivery>>>,
}

/// A running receiver and the PSP endpoint pointing at it.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`
    pub url: String,
    /// The `we_…` endpoint created for it.
    pub endpoint: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

async fn hook(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let secret = s.secret.lock().unwrap().clone();
    let signature_ok = headers
        .get(webhook_signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| {
            webhook_signature::verify(
                h,
                &body,
                &secret,
                now(),
                webhook_signature::DEFAULT_TOLERANCE_SECS,
            )
            .is_ok()
        });
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.received.lock().unwrap().push(Delivery {
        event: event.clone(),
        signature_ok,
    });
    if !signature_ok {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let behaviour = s.behaviour.lock().unwrap().clone();
    // Failures apply to every delivery; decisions only to real-time requests.
    if event["type"] != "issuing_authorization.request" {
        return match behaviour {
            Behaviour::Status(code) => StatusCode::from_u16(code)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response(),
            _ => StatusCode::OK.into_response(),
        };
    }
    let json = |v: Value| {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            v.to_string(),
        )
            .into_response()
    };
    match behaviour {
        Behaviour::Approve(None) => json(json!({ "approved": true })),
        Behaviour::Approve(Some(amount)) => json(json!({ "approved": true, "amount": amount })),
        Behaviour::Decline(message) => json(json!({
            "approved": false,
            "reason_message": message,
            "metadata": { "decline_cause": message },
        })),
        Behaviour::Sleep(d) => {
            tokio::time::sleep(d).await;
            json(json!({ "approved": true }))
        }
        Behaviour::Status(code) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Behaviour::Garbage => json(json!({ "approve": "yes" })),
    }
}

impl Receiver {
    /// Starts a receiver and registers it with the PSP for `events`.
    pub async fn start(psp: &Stripe<'_>, events: &[&str], behaviour: Behaviour) -> Self {
        let shared = Shared {
            behaviour: Arc::new(Mutex::new(behaviour)),
            secret: Arc::new(Mutex::new(String::new())),
            received: Arc::new(Mutex::new(Vec::new())),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut form: Vec<(String, String)> = vec![("url".into(), url.clone())];
        for (i, e) in events.iter().enumerate() {
            form.push((format!("enabled_events[{i}]"), (*e).to_owned()));
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let we = psp.ok_post("/v1/webhook_endpoints", &form).await;
        *shared.secret.lock().unwrap() = we["secret"].as_str().unwrap().to_owned();
        Self {
            url,
            endpoint: we["id"].as_str().unwrap().to_owned(),
            shared,
            task,
        }
    }

    /// Changes how it answers from now on.
    pub fn set(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Delivery> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The events of `kind` received so far.
    pub fn of_type(&self, kind: &str) -> Vec<Delivery> {
        self.received()
            .into_iter()
            .filter(|d| d.event["type"] == kind)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Disables the platform's own endpoint (made at start-up), so a test's receiver is the only
/// one deciding; returns its id.
pub async fn disable_platform_endpoint(psp: &Stripe<'_>) -> String {
    let list = psp
        .ok_get("/v1/webhook_endpoints", &[("limit", "100")])
        .await;
    let id = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["url"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/v1/platform/psp_events")
        })
        .expect("the platform endpoint exists")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    psp.ok_post(
        &format!("/v1/webhook_endpoints/{id}"),
        &[("disabled", "true")],
    )
    .await;
    id
}
