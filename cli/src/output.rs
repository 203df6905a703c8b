//! Printing: short friendly lines for people, one JSON document for scripts. Errors go to
//! standard error (human) or standard output as `{"error": …}` (JSON), with exit code 2 for
//! bad input and 1 otherwise.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{json, Value};
use tierspay_core::{CoreError, Profile};

/// A command that did not succeed.
#[derive(Debug)]
pub struct Failure {
    pub kind: &'static str,
    pub field: Option<String>,
    pub code: Option<String>,
    pub message: String,
}

impl Failure {
    pub fn input(field: &str, message: impl Into<String>) -> Self {
        Self {
            kind: "invalid_input",
            field: Some(field.into()),
            code: None,
            message: message.into(),
        }
    }
    /// Not enrolled yet (nothing configured in the data directory).
    pub fn not_enrolled() -> Self {
        Self {
            kind: "not_enrolled",
            field: None,
            code: None,
            message: "this terminal is not enrolled: run `tierspay --server URL --server-key HEX \
                      enroll --contract-number N --birth-date YYYY-MM-DD` first"
                .into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: "internal",
            field: None,
            code: None,
            message: message.into(),
        }
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        let (kind, field, code) = match e {
            CoreError::InvalidInput { field, .. } => ("invalid_input", Some(field), None),
            CoreError::Rejected { code, .. } => ("rejected", None, Some(code.to_string())),
            CoreError::RateLimited { .. } => ("rate_limited", None, None),
            CoreError::Network { .. } => ("network", None, None),
            CoreError::NotEnrolled => ("not_enrolled", None, None),
            CoreError::NotSynced { .. } => ("not_synced", None, None),
            CoreError::SessionEnded { .. } => ("session_ended", None, None),
            CoreError::Platform { .. } => ("platform", None, None),
            CoreError::Internal { .. } => ("internal", None, None),
        };
        Self {
            kind,
            field,
            code,
            message,
        }
    }
}

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// A progress line for something slow (human mode only, on standard error).
    pub fn progress(&self, text: &str) -> Progress {
        if !self.json {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "{text}… ").and_then(|_| stderr.flush());
        }
        Progress {
            json: self.json,
            started: Instant::now(),
        }
    }

    /// The command's result: a JSON document, or the human text. A reader that went away
    /// (`| head -1`) is not an error worth a crash.
    pub fn done(&self, document: Value, human: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = if self.json {
            writeln!(stdout, "{document}")
        } else {
            writeln!(stdout, "{human}")
        };
    }

    pub fn fail(&self, f: &Failure) -> ExitCode {
        let _ = if self.json {
            writeln!(
                std::io::stdout().lock(),
                "{}",
                json!({"error": {"kind": f.kind, "field": f.field, "code": f.code, "message": f.message}})
            )
        } else {
            writeln!(std::io::stderr().lock(), "tierspay: {}", f.message)
        };
        ExitCode::from(if f.kind == "invalid_input" { 2 } else { 1 })
    }
}

pub struct Progress {
    json: bool,
    started: Instant,
}

impl Progress {
    pub fn finish(self) {
        if !self.json {
            let _ = writeln!(
                std::io::stderr().lock(),
                "done ({} ms)",
                self.started.elapsed().as_millis()
            );
        }
    }
}

pub fn profile_json(p: &Profile) -> Value {
    json!({
        "device_id": p.device_id,
        "enrolled_at": p.enrolled_at,
        "member": {"id": p.member.id, "first_name": p.member.first_name, "last_name": p.member.last_name,
                   "phone_masked": p.member.phone_masked, "email_masked": p.member.email_masked},
        "contract": {"id": p.contract.id, "number": p.contract.number, "insurer_name": p.contract.insurer_name,
                     "product_name": p.contract.product_name, "start_date": p.contract.start_date, "status": p.contract.status},
        "beneficiaries": p.beneficiaries.iter().map(|b| json!({
            "id": b.id, "first_name": b.first_name, "last_name": b.last_name,
            "birth_date": b.birth_date, "relationship": b.relationship})).collect::<Vec<_>>(),
    })
}

pub fn profile_text(p: &Profile) -> String {
    let mut text = format!(
        "{} {} — {} {} (contract {}, {})\n",
        p.member.first_name,
        p.member.last_name,
        p.contract.insurer_name,
        p.contract.product_name,
        p.contract.number,
        p.contract.status
    );
    text.push_str("Covered:\n");
    for b in &p.beneficiaries {
        text.push_str(&format!(
            "  • {} {} ({}, born {})\n",
            b.first_name, b.last_name, b.relationship, b.birth_date
        ));
    }
    text.trim_end().to_owned()
}
