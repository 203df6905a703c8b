//! The harness of the end-to-end journeys: a real tierspay-mock on loopback (in-process, real
//! SQLite file, restartable on the same file) and phones running the real core.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use tempfile::TempDir;
use tierspay_core::{
    CoreConfig, DeviceKey, MemorySecureStorage, Profile, SecureStorage, SoftwareDeviceKey, TiersPay,
};
use tierspay_server_mock::{start, Limits, RunningServer, ServerConfig};

pub mod chaos;
pub mod invoices;
pub mod pay_once;
pub mod secrets;
pub mod stripe;
pub mod visits;
pub mod webhook_receiver;
pub use stripe::{Answer, Stripe};

/// The PSP's test secret key.
pub const PSP_KEY: &str = "sk_test_tierspay";

/// The demo family's contract number and holder birth date.
pub const DEMO_CONTRACT: &str = "TP1000001";
/// The demo holder's birth date.
pub const DEMO_BIRTH_DATE: &str = "1985-04-12";
/// The demo holder's phone.
pub const DEMO_PHONE: &str = "+33612345678";

/// A tierspay-mock on a free loopback port with its own SQLite file.
pub struct Mock {
    server: Option<RunningServer>,
    addr: std::net::SocketAddr,
    dir: TempDir,
    limits: Limits,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The key to pin.
    pub key: String,
    /// A plain HTTP client for test helpers and raw API calls.
    pub http: reqwest::Client,
}

impl Mock {
    /// Starts the mock with the demo seed and default limits.
    pub async fn start() -> Self {
        Self::start_with(Limits::default()).await
    }

    /// Starts the mock with the demo seed and the given limits.
    pub async fn start_with(limits: Limits) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = Self::boot(&dir, &limits, None).await;
        Self {
            url: server.url.clone(),
            key: server.public_key_hex.clone(),
            addr: server.addr,
            server: Some(server),
            dir,
            limits,
            http: reqwest::Client::new(),
        }
    }

    async fn boot(
        dir: &TempDir,
        limits: &Limits,
        addr: Option<std::net::SocketAddr>,
    ) -> RunningServer {
        let mut config = ServerConfig::for_tests(dir.path().join("mock.db"));
        config.seed_demo = true;
        config.limits = limits.clone();
        if let Some(addr) = addr {
            config.addr = addr;
        }
        start(config).await.expect("mock starts")
    }

    /// The SQLite file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("mock.db")
    }

    /// The key this mock signs with (DPoP answers, payment links), unsealed from its database:
    /// for tests that sign payment links as the platform does.
    pub fn signing_key(&self) -> p256::ecdsa::SigningKey {
        tierspay_server_mock::stored_signing_key(&self.db_path()).expect("the mock's signing key")
    }

    /// Stops the server (the file stays).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// Stops and starts again on the same file and port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let server = Self::boot(&self.dir, &self.limits, Some(self.addr)).await;
        assert_eq!(
            server.public_key_hex, self.key,
            "the signing key survives a restart"
        );
        self.url = server.url.clone();
        self.server = Some(server);
    }

    /// A request to `path`, with the secret key test helpers need when it is one.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.url));
        if path.starts_with("/v1/test_helpers/") {
            builder.bearer_auth(PSP_KEY)
        } else {
            builder
        }
    }

    /// GET a path, JSON answer.
    pub async fn get(&self, path: &str) -> Value {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    /// POST JSON, returns (status, body).
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST a form to the PSP with its test secret key (as Stripe's clients do).
    pub async fn psp_post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(PSP_KEY)
            .form(form)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Trusts `root` (DER) as the Apple root for in-app provisioning.
    pub async fn trust_apple_root(&self, root: &[u8]) {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD.encode(root);
        let (status, body) = self
            .psp_post(
                "/v1/test_helpers/issuing/apple_root",
                &[("certificate", &der)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// What the card network does when a wallet activates a token.
    pub async fn activate_token(&self, token_id: &str, proof: &[(&str, &str)]) -> (u16, Value) {
        self.psp_post(
            &format!("/v1/test_helpers/issuing/tokens/{token_id}/activate"),
            proof,
        )
        .await
    }

    /// The newest SMS code sent to `phone`.
    pub async fn latest_code(&self, phone: &str) -> String {
        let list = self
            .get(&format!(
                "/v1/test_helpers/outbox?channel=sms&limit=1&recipient={}",
                phone.replace('+', "%2B")
            ))
            .await;
        let body = list["data"][0]["body"].as_str().expect("an SMS was sent");
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a 6-digit code")
            .to_owned()
    }

    /// Moves the mock's business clock forward.
    pub async fn advance(&self, seconds: i64) {
        let (status, _) = self
            .post(
                "/v1/test_helpers/clock/advance",
                json!({ "seconds": seconds }),
            )
            .await;
        assert_eq!(status, 200);
    }

    /// Creates a contract through the test helpers; returns its document.
    pub async fn create_contract(&self, body: Value) -> Value {
        let (status, doc) = self.post("/v1/test_helpers/contracts", body).await;
        assert_eq!(status, 200, "{doc}");
        doc
    }

    /// Rows of the business tables, as text, to show that a refused request changed nothing.
    pub fn snapshot(&self, tables: &[&str]) -> String {
        let conn = rusqlite::Connection::open(self.db_path()).expect("open mock db");
        let mut out = String::new();
        for table in tables {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
                .expect("table");
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    (0..columns)
                        .map(|i| {
                            r.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .expect("rows");
            for row in rows {
                out.push_str(&format!("{table}: {}\n", row.expect("row").join(" | ")));
            }
        }
        out
    }
}

/// Tables that a refused enrollment request must leave alone.
pub const BUSINESS_TABLES: &[&str] = &[
    "insurer_contracts",
    "insurer_beneficiaries",
    "insurer_enrollments",
    "platform_devices",
    "platform_tokens",
    "platform_outbox",
];

/// A phone: a data directory, secure storage and a device key that outlive the core instance,
/// as an app's do across restarts.
pub struct Phone {
    /// The app's data directory.
    pub dir: TempDir,
    /// Secure storage (Keychain stand-in).
    pub secrets: Arc<dyn SecureStorage>,
    /// The device key.
    pub key: Arc<dyn DeviceKey>,
    /// The running core.
    pub app: Arc<TiersPay>,
    server_url: String,
    server_key: String,
}

impl Phone {
    /// A fresh phone pointed at `mock`.
    pub fn new(mock: &Mock) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets: Arc<dyn SecureStorage> = Arc::new(MemorySecureStorage::default());
        let key: Arc<dyn DeviceKey> = Arc::new(SoftwareDeviceKey::new(secrets.clone()));
        let app = Self::open(&dir, &secrets, &key, &mock.url, &mock.key);
        Self {
            dir,
            secrets,
            key,
            app,
            server_url: mock.url.clone(),
            server_key: mock.key.clone(),
        }
    }

    fn open(
        dir: &TempDir,
        secrets: &Arc<dyn SecureStorage>,
        key: &Arc<dyn DeviceKey>,
        url: &str,
        server_key: &str,
    ) -> Arc<TiersPay> {
        TiersPay::new(
            CoreConfig {
                server_url: url.into(),
                data_dir: dir.path().to_string_lossy().into_owned(),
                server_public_key: server_key.into(),
                device_name: Some("Test phone".into()),
                link_public_key: None,
                link_key_id: None,
            },
            secrets.clone(),
            key.clone(),
        )
        .expect("core opens")
    }

    /// Kills the app and starts it again on the same data and secrets.
    pub fn restart(&mut self) {
        self.app = Self::open(
            &self.dir,
            &self.secrets,
            &self.key,
            &self.server_url,
            &self.server_key,
        );
    }

    /// The whole enrollment with the demo family's holder.
    pub async fn enroll_demo(&self, mock: &Mock) -> Profile {
        self.enroll(mock, DEMO_CONTRACT, DEMO_BIRTH_DATE, DEMO_PHONE)
            .await
    }

    /// The whole enrollment: start, read the SMS, confirm.
    pub async fn enroll(
        &self,
        mock: &Mock,
        number: &str,
        birth_date: &str,
        phone: &str,
    ) -> Profile {
        let flow = self.app.enrollment();
        let challenge = flow
            .start(number.into(), birth_date.into())
            .await
            .expect("start");
        let code = mock.latest_code(phone).await;
        flow.confirm(challenge.enrollment_id, code)
            .await
            .expect("confirm")
    }
}

/// An enrolled device driven over raw HTTP (its own key, tokens and DPoP proofs), for API
/// tests that send what the core would never send.
pub struct RawDevice {
    /// The device key.
    pub key: p256::ecdsa::SigningKey,
    /// `dev_…`
    pub device_id: String,
    /// The access token.
    pub access_token: String,
}

impl RawDevice {
    /// Enrolls a new device for a contract over raw HTTP (start, read the SMS, confirm).
    pub async fn enroll(mock: &Mock, number: &str, birth_date: &str, phone: &str) -> Self {
        let (status, challenge) = mock
            .post(
                "/v1/enrollments",
                json!({"contract_number": number, "birth_date": birth_date}),
            )
            .await;
        assert_eq!(status, 200, "{challenge}");
        let code = mock.latest_code(phone).await;
        let key = tierspay_core::auth::ecdsa::generate_signing_key();
        let url = format!(
            "{}/v1/enrollments/{}/confirm",
            mock.url,
            challenge["id"].as_str().expect("an enrollment id")
        );
        let response = mock
            .http
            .post(&url)
            .header("dpop", raw_proof(&key, "POST", &url, None))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("confirm");
        assert_eq!(response.status().as_u16(), 200);
        let result: Value = response.json().await.expect("JSON");
        Self {
            key,
            device_id: result["device_id"].as_str().expect("device id").to_owned(),
            access_token: result["tokens"]["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
        }
    }

    /// Sends `method path` with the access token, a fresh proof and, for a POST, a JSON body
    /// and an `Idempotency-Key`; returns (status, body).
    pub async fn send(
        &self,
        mock: &Mock,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", mock.url);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = mock
            .http
            .request(method.clone(), &url)
            .header("authorization", format!("DPoP {}", self.access_token))
            .header(
                "dpop",
                raw_proof(&self.key, method.as_str(), &url, Some(&self.access_token)),
            );
        if method == reqwest::Method::POST {
            request = request.header("idempotency-key", tierspay_core::auth::random::id("test"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// A DPoP proof by `key` for `method url`, now.
pub fn raw_proof(
    key: &p256::ecdsa::SigningKey,
    method: &str,
    url: &str,
    access_token: Option<&str>,
) -> String {
    use tierspay_core::auth::{dpop, ecdsa};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let claims = dpop::Claims::new(method, url, now, access_token);
    let input = dpop::signing_input(&ecdsa::public_key_sec1(key), &claims).expect("claims");
    dpop::assemble(&input, &ecdsa::sign(key, input.as_bytes())).expect("proof")
}

/// Waits until `read()` gives a value that satisfies `done`, polling every 10 ms for at most
/// 10 s (a flow's answers arrive from the core's runtime, not from the call that asked); then
/// fails the test naming `what` and the last value.
pub async fn wait_for<S: std::fmt::Debug>(
    what: &str,
    read: impl Fn() -> S,
    done: impl Fn(&S) -> bool,
) -> S {
    for _ in 0..1000 {
        let value = read();
        if done(&value) {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{what}: {:?}", read());
}
