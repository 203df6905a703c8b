//! Records the shells receive. Separate from the wire types, so the server's JSON can evolve
//! without breaking the generated Kotlin and Swift.

use super::values::{ContractStatus, Relationship};
use crate::store::LocalSession;
use crate::wire;

/// How the core is set up by the shell.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CoreConfig {
    /// Base URL of the TiersPay server (`https://…`). Enrollment binds the session to it: with
    /// another URL, an enrolled session's requests are refused (`InvalidInput` naming
    /// `server_url`) until the member signs out.
    pub server_url: String,
    /// A folder private to the app for the SQLite database.
    pub data_dir: String,
    /// The server's public key, hex of the uncompressed P-256 point, pinned in the app.
    pub server_public_key: String,
    /// A label for this device in the member's device list.
    #[uniffi(default = None)]
    pub device_name: Option<String>,
    /// The key payment links are signed with, hex of the uncompressed P-256 point, pinned in
    /// the app; `None` when the server's key above signs them.
    #[uniffi(default = None)]
    pub link_public_key: Option<String>,
    /// The id links signed by `link_public_key` carry (`None`: 1).
    #[uniffi(default = None)]
    pub link_key_id: Option<u8>,
}

/// A one-time code was sent; confirm it with [`crate::Enrollment::confirm`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentChallenge {
    /// Pass back to `confirm`.
    pub enrollment_id: String,
    /// Where the code went, masked (`+33 6 •• •• •• 78`).
    pub phone_masked: String,
    /// Digits in the code.
    pub code_length: u32,
    /// When the code expires, Unix seconds.
    pub expires_at: i64,
}

/// The member who enrolled.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Member {
    /// Server id.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Phone on file, masked.
    pub phone_masked: String,
    /// Email on file, masked.
    pub email_masked: String,
}

/// The insurance contract.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Contract {
    /// Server id.
    pub id: String,
    /// Contract number.
    pub number: String,
    /// The complementary insurer.
    pub insurer_name: String,
    /// The product.
    pub product_name: String,
    /// Start of cover, `YYYY-MM-DD`.
    pub start_date: String,
    /// Whether cover is in force.
    pub status: ContractStatus,
}

/// Someone covered by the contract.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Beneficiary {
    /// Server id.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Who they are to the holder.
    pub relationship: Relationship,
}

/// The enrolled profile shown on the home screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Profile {
    /// This device's id on the server.
    pub device_id: String,
    /// When enrollment finished, Unix seconds.
    pub enrolled_at: i64,
    /// The member.
    pub member: Member,
    /// The contract.
    pub contract: Contract,
    /// Everyone covered.
    pub beneficiaries: Vec<Beneficiary>,
}

/// Whether this device is enrolled, known without the network.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionStatus {
    /// True once enrollment finished and until sign-out.
    pub enrolled: bool,
    /// The profile, when enrolled.
    pub profile: Option<Profile>,
}

/// Something changed in the session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SessionEvent {
    /// Enrollment finished on this device.
    Enrolled,
    /// Member, contract or beneficiaries changed.
    ProfileUpdated,
    /// The member signed out.
    SignedOut,
    /// The server ended the session (another phone enrolled); local data was wiped.
    Ended,
    /// The card's status or wallet tokens changed: read `card().info()` again.
    CardUpdated,
}

impl SessionEvent {
    /// The session's side of a core event; `None` for one a flow redraws for itself
    /// (the invoices changed: the arrears flow listens to it).
    pub(crate) fn of(e: &crate::app::CoreEvent) -> Option<Self> {
        use crate::app::CoreEvent as E;
        Some(match e {
            E::Enrolled => Self::Enrolled,
            E::ProfileUpdated => Self::ProfileUpdated,
            E::SignedOut => Self::SignedOut,
            E::SessionEnded => Self::Ended,
            E::CardUpdated => Self::CardUpdated,
            E::InvoicesUpdated => return None,
        })
    }
}

impl From<wire::EnrollmentChallenge> for EnrollmentChallenge {
    fn from(c: wire::EnrollmentChallenge) -> Self {
        Self {
            enrollment_id: c.id,
            phone_masked: c.phone_masked,
            code_length: c.code_length,
            expires_at: c.expires_at,
        }
    }
}

impl From<LocalSession> for Profile {
    fn from(s: LocalSession) -> Self {
        let m = s.member;
        let c = s.contract;
        Self {
            device_id: s.device_id,
            enrolled_at: s.enrolled_at,
            member: Member {
                id: m.id,
                first_name: m.first_name,
                last_name: m.last_name,
                phone_masked: m.phone_masked,
                email_masked: m.email_masked,
            },
            contract: Contract {
                id: c.id,
                number: c.number,
                insurer_name: c.insurer_name,
                product_name: c.product_name,
                start_date: c.start_date,
                status: ContractStatus::from_wire(&c.status),
            },
            beneficiaries: s
                .beneficiaries
                .into_iter()
                .map(|b| Beneficiary {
                    id: b.id,
                    first_name: b.first_name,
                    last_name: b.last_name,
                    birth_date: b.birth_date,
                    relationship: Relationship::from_wire(&b.relationship),
                })
                .collect(),
        }
    }
}

impl From<Option<LocalSession>> for SessionStatus {
    fn from(s: Option<LocalSession>) -> Self {
        Self {
            enrolled: s.is_some(),
            profile: s.map(Profile::from),
        }
    }
}
