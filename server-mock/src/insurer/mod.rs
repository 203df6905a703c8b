//! The insurer: contracts, beneficiaries, and enrollment (proving a contract by a code sent to
//! the phone on file). It never sees a card number, and depends on nothing of the platform or
//! the PSP: the platform calls it (the enrollment endpoints are the platform's).

pub mod catalogue;
pub mod contracts;
mod coverage;
pub mod directory;
pub mod enrollment;
mod providers;
pub mod seed;
pub mod usage;

use axum::routing::{get, post};
use axum::Router;

pub use contracts::profile;

use crate::state::AppState;

/// Routes of the insurer module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sync", get(coverage::sync))
        .route("/v1/previews", post(coverage::check))
        .route("/v1/providers", get(providers::search))
        .route("/v1/providers/{id}", get(providers::get))
        .route("/v1/providers/{id}/qr.svg", get(providers::qr))
}

/// The insurer's tables.
pub const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    // 2: what the coverage preview needs: the statutory tariff catalogue (with effective dates),
    // guarantee lines per care category, annual counters, and the provider directory.
    r#"
    ALTER TABLE insurer_beneficiaries ADD COLUMN ame INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE insurer_tariffs (
        code           TEXT NOT NULL,
        label          TEXT NOT NULL,
        category       TEXT NOT NULL,
        base           TEXT NOT NULL,
        base_non_optam TEXT,
        amo_rate       TEXT NOT NULL,
        pf             INTEGER NOT NULL,
        franchise      TEXT NOT NULL,
        valid_from     TEXT NOT NULL,
        valid_to       TEXT,
        PRIMARY KEY (code, valid_from)
    );
    CREATE TABLE insurer_guarantees (
        contract_id          TEXT NOT NULL REFERENCES insurer_contracts(id),
        category             TEXT NOT NULL,
        label                TEXT NOT NULL,
        percent_br           TEXT,
        percent_br_non_optam TEXT,
        includes_amo         INTEGER NOT NULL DEFAULT 1,
        euro_amount          TEXT,
        annual_ceiling       TEXT,
        CHECK ((percent_br IS NULL) != (euro_amount IS NULL)),
        PRIMARY KEY (contract_id, category)
    );
    CREATE TABLE insurer_counters (
        beneficiary_id TEXT NOT NULL REFERENCES insurer_beneficiaries(id),
        year           INTEGER NOT NULL,
        pf_paid        TEXT NOT NULL DEFAULT '0',
        franchise_paid TEXT NOT NULL DEFAULT '0',
        PRIMARY KEY (beneficiary_id, year)
    );
    CREATE TABLE insurer_ceiling_usage (
        beneficiary_id TEXT NOT NULL REFERENCES insurer_beneficiaries(id),
        year           INTEGER NOT NULL,
        category       TEXT NOT NULL,
        consumed       TEXT NOT NULL,
        PRIMARY KEY (beneficiary_id, year, category)
    );
    CREATE TABLE insurer_pf_daily (
        beneficiary_id TEXT NOT NULL REFERENCES insurer_beneficiaries(id),
        provider_id    TEXT NOT NULL,
        day            TEXT NOT NULL,
        count          INTEGER NOT NULL,
        PRIMARY KEY (beneficiary_id, provider_id, day)
    );
    CREATE TABLE insurer_providers (
        id            TEXT PRIMARY KEY,
        code          TEXT NOT NULL UNIQUE,
        name          TEXT NOT NULL,
        specialty     TEXT NOT NULL,
        sector        INTEGER NOT NULL CHECK (sector IN (1, 2, 3)),
        optam         INTEGER NOT NULL,
        direct_access INTEGER NOT NULL,
        city          TEXT NOT NULL,
        postcode      TEXT NOT NULL,
        merchant_name TEXT NOT NULL,
        mcc           TEXT NOT NULL,
        network_id    TEXT NOT NULL,
        created       INTEGER NOT NULL
    );
"#,
];
