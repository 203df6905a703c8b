//! The fixed value sets that cross the FFI as enums, read once here from the wire's strings, so
//! no shell parses them. Each has a catch-all for values a newer server may send.

/// The contract's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ContractStatus {
    /// Cover in force.
    Active,
    /// Suspended (unpaid premiums, …).
    Suspended,
    /// Ended.
    Terminated,
    /// A status this version does not know.
    Unknown,
}

impl ContractStatus {
    /// Reads the wire's string.
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "active" => Self::Active,
            "suspended" => Self::Suspended,
            "terminated" => Self::Terminated,
            _ => Self::Unknown,
        }
    }

    /// The wire's string (`unknown` for the catch-all).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Terminated => "terminated",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ContractStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ContractStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Who a beneficiary is to the contract holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Relationship {
    /// The contract holder.
    Holder,
    /// The holder's spouse or partner.
    Spouse,
    /// A child of the holder.
    Child,
    /// A relationship this version does not know.
    Other,
}

impl Relationship {
    /// Reads the wire's string.
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "holder" => Self::Holder,
            "spouse" => Self::Spouse,
            "child" => Self::Child,
            _ => Self::Other,
        }
    }

    /// The wire's string (`other` for the catch-all).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holder => "holder",
            Self::Spouse => "spouse",
            Self::Child => "child",
            Self::Other => "other",
        }
    }
}

impl std::fmt::Display for Relationship {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Relationship {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The care category of an act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CareCategory {
    /// A general practitioner's consultation.
    Consultation,
    /// A specialist's consultation or act.
    Specialist,
    /// Dental care.
    Dental,
    /// Glasses and lenses.
    Optical,
    /// Medicines.
    Pharmacy,
    /// Laboratory tests.
    Lab,
    /// Imaging.
    Radiology,
    /// Paramedical acts.
    Auxiliary,
    /// A midwife's act.
    Midwife,
    /// A hospital stay.
    Hospital,
    /// Medical transport.
    Transport,
    /// Anything else the catalogue lists.
    Other,
}

impl CareCategory {
    /// Reads the wire's string.
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "consultation" => Self::Consultation,
            "specialist" => Self::Specialist,
            "dental" => Self::Dental,
            "optical" => Self::Optical,
            "pharmacy" => Self::Pharmacy,
            "lab" => Self::Lab,
            "radiology" => Self::Radiology,
            "auxiliary" => Self::Auxiliary,
            "midwife" => Self::Midwife,
            "hospital" => Self::Hospital,
            "transport" => Self::Transport,
            _ => Self::Other,
        }
    }

    /// The wire's string (`other` for the catch-all).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consultation => "consultation",
            Self::Specialist => "specialist",
            Self::Dental => "dental",
            Self::Optical => "optical",
            Self::Pharmacy => "pharmacy",
            Self::Lab => "lab",
            Self::Radiology => "radiology",
            Self::Auxiliary => "auxiliary",
            Self::Midwife => "midwife",
            Self::Hospital => "hospital",
            Self::Transport => "transport",
            Self::Other => "other",
        }
    }
}

impl std::fmt::Display for CareCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for CareCategory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a deduction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum DeductionKind {
    /// The participation forfaitaire withheld from the statutory refund.
    ParticipationForfaitaire,
    /// The franchise withheld from the statutory refund.
    Franchise,
    /// The statutory refund lost outside the parcours de soins.
    OutOfParcours,
    /// The guarantee line's annual ceiling is reached.
    Ceiling,
    /// A kind this version does not know.
    Other,
}

impl DeductionKind {
    /// Reads the wire's string.
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "participation_forfaitaire" => Self::ParticipationForfaitaire,
            "franchise" => Self::Franchise,
            "out_of_parcours" => Self::OutOfParcours,
            "ceiling" => Self::Ceiling,
            _ => Self::Other,
        }
    }

    /// The wire's string (`other` for the catch-all).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParticipationForfaitaire => "participation_forfaitaire",
            Self::Franchise => "franchise",
            Self::OutOfParcours => "out_of_parcours",
            Self::Ceiling => "ceiling",
            Self::Other => "other",
        }
    }
}

impl std::fmt::Display for DeductionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for DeductionKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The virtual card's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CardStatus {
    /// Usable.
    Active,
    /// Frozen.
    Inactive,
    /// Canceled for good.
    Canceled,
    /// A status this version does not know.
    Unknown,
}

impl CardStatus {
    /// Reads the wire's string.
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "active" => Self::Active,
            "inactive" => Self::Inactive,
            "canceled" => Self::Canceled,
            _ => Self::Unknown,
        }
    }

    /// The wire's string (`unknown` for the catch-all).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Canceled => "canceled",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for CardStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for CardStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which wallet holds a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Wallet {
    /// Apple Pay.
    ApplePay,
    /// Google Pay.
    GooglePay,
    /// A wallet this version does not know.
    Other,
}

impl Wallet {
    /// Reads the wire's string.
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "apple_pay" => Self::ApplePay,
            "google_pay" => Self::GooglePay,
            _ => Self::Other,
        }
    }

    /// The wire's string (`other` for the catch-all).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplePay => "apple_pay",
            Self::GooglePay => "google_pay",
            Self::Other => "other",
        }
    }
}

impl std::fmt::Display for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Wallet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A wallet token's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum TokenStatus {
    /// Provisioning started.
    Requested,
    /// Usable in the wallet.
    Active,
    /// Suspended (the card is frozen).
    Suspended,
    /// Removed from the wallet.
    Deleted,
    /// A status this version does not know.
    Unknown,
}

impl TokenStatus {
    /// Reads the wire's string.
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "requested" => Self::Requested,
            "active" => Self::Active,
            "suspended" => Self::Suspended,
            "deleted" => Self::Deleted,
            _ => Self::Unknown,
        }
    }

    /// The wire's string (`unknown` for the catch-all).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Deleted => "deleted",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for TokenStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TokenStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An amount of money: integer minor units and the currency, with the text to show, formatted
/// by the core for French and English readers. Shells never compute or format money.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Amount {
    /// Minor units (cents): 1900 for 19.00 €.
    pub minor_units: i64,
    /// ISO 4217 code, `EUR`.
    pub currency: String,
    /// For a French reader: `19,00 €`.
    pub display_fr: String,
    /// For an English reader: `€19.00`.
    pub display_en: String,
}

impl Amount {
    /// Euros, rounded once to the cent.
    pub fn euros(amount: rust_decimal::Decimal) -> Self {
        let cents = crate::domain::money::to_cents(amount);
        Self {
            minor_units: cents,
            currency: "EUR".into(),
            display_fr: crate::domain::money::display_fr(cents),
            display_en: crate::domain::money::display_en(cents),
        }
    }
}

impl Amount {
    /// Minor units of a wire currency (`eur`); euros are shown as everywhere else, another
    /// currency by its code (the core formats only euros).
    pub fn minor(minor_units: i64, currency: &str) -> Self {
        let currency = currency.to_ascii_uppercase();
        if currency == "EUR" {
            return Self {
                minor_units,
                currency,
                display_fr: crate::domain::money::display_fr(minor_units),
                display_en: crate::domain::money::display_en(minor_units),
            };
        }
        let sign = if minor_units < 0 { "-" } else { "" };
        let c = minor_units.unsigned_abs();
        let plain = format!("{sign}{}.{:02} {currency}", c / 100, c % 100);
        Self {
            minor_units,
            display_fr: plain.replace('.', ","),
            display_en: plain,
            currency,
        }
    }
}

impl std::fmt::Display for Amount {
    /// The amount's decimal form, `19.00` (what the terminal prints and the tests compare).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let c = self.minor_units.unsigned_abs();
        write!(f, "{sign}{}.{:02}", c / 100, c % 100)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl PartialEq<&str> for Amount {
    #[allow(clippy::cmp_owned)]
    fn eq(&self, other: &&str) -> bool {
        self.to_string() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_read_back() {
        assert_eq!(CardStatus::from_wire("inactive"), CardStatus::Inactive);
        assert_eq!(CardStatus::from_wire("lost"), CardStatus::Unknown);
        assert_eq!(
            Wallet::from_wire(Wallet::GooglePay.as_str()),
            Wallet::GooglePay
        );
        assert_eq!(Relationship::from_wire("cousin"), Relationship::Other);
        assert_eq!(CareCategory::from_wire("optical").to_string(), "optical");
        assert_eq!(TokenStatus::from_wire("deleted"), TokenStatus::Deleted);
        assert_eq!(ContractStatus::from_wire("active"), ContractStatus::Active);
        assert_eq!(DeductionKind::from_wire("ceiling"), DeductionKind::Ceiling);
        let a = Amount::euros(rust_decimal::Decimal::new(1900, 2));
        assert_eq!((a.minor_units, a.to_string()), (1900, "19.00".to_owned()));
        assert_eq!(a.display_en, "€19.00");
    }
}
