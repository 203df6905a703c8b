//! The insurer: contracts, beneficiaries, and enrollment (proving a contract by a code sent to
//! the phone on file). It never sees a card number.

pub mod contracts;
mod enrollment;
pub mod seed;

use axum::routing::post;
use axum::Router;

pub use contracts::profile;

use crate::state::AppState;

/// Routes of the insurer module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/enrollments", post(enrollment::start))
        .route("/v1/enrollments/{id}/confirm", post(enrollment::confirm))
}

/// The insurer's tables.
pub const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE insurer_contracts (
        id           TEXT PRIMARY KEY,
        number       TEXT NOT NULL UNIQUE,
        member_id    TEXT NOT NULL UNIQUE,
        insurer_name TEXT NOT NULL,
        product_name TEXT NOT NULL,
        start_date   TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
        phone        TEXT NOT NULL,
        email        TEXT NOT NULL,
        created      INTEGER NOT NULL
    );
    CREATE TABLE insurer_beneficiaries (
        id           TEXT PRIMARY KEY,
        contract_id  TEXT NOT NULL REFERENCES insurer_contracts(id),
        first_name   TEXT NOT NULL,
        last_name    TEXT NOT NULL,
        birth_date   TEXT NOT NULL,
        relationship TEXT NOT NULL CHECK (relationship IN ('holder', 'spouse', 'child')),
        position     INTEGER NOT NULL,
        in_parcours  INTEGER NOT NULL DEFAULT 1,
        ald          INTEGER NOT NULL DEFAULT 0,
        css          INTEGER NOT NULL DEFAULT 0,
        pregnant_6m  INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX insurer_one_holder ON insurer_beneficiaries (contract_id)
        WHERE relationship = 'holder';
    CREATE TABLE insurer_enrollments (
        id            TEXT PRIMARY KEY,
        contract_id   TEXT NOT NULL REFERENCES insurer_contracts(id),
        code_mac      TEXT NOT NULL,
        expires_at    INTEGER NOT NULL,
        attempts_left INTEGER NOT NULL CHECK (attempts_left >= 0),
        status        TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'locked', 'superseded')),
        created       INTEGER NOT NULL,
        confirmed_at  INTEGER,
        device_ref    TEXT
    );
    CREATE INDEX insurer_enrollments_contract ON insurer_enrollments (contract_id, status);
"#];
