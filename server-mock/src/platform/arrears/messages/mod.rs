//! What a reminder says, on each channel, from one set of facts ([`Reminder`]). Every channel
//! names the same things, the ones that make a genuine message recognisable and a fake one
//! suspicious: the insurer, the member, the last digits of the contract, the amount, the due
//! date and the RF reference the landing page shows; and none asks for a password or a card
//! number. Pure: the scheduler signs the links and records the messages.

pub mod email;
pub mod images;
pub mod push;
pub mod sms;

use time::Date;

/// Who sends: the insurer as the member knows it, with its legal mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insurer {
    /// The name the member knows (`Mutuelle Horizon`).
    pub name: String,
    /// Legal entity and form (`Mutuelle Horizon, mutuelle régie par le livre II du Code de la
    /// mutualité`).
    pub legal_entity: String,
    /// Registration (`SIREN 775 000 000`).
    pub registration: String,
    /// How to reach it (a phone number and an address on its own domain).
    pub contact: String,
    /// Its brand colour, `#RRGGBB`, for the logo drawn in the email.
    pub colour: [u8; 3],
}

impl Insurer {
    /// The insurer's public identity, by the name its contracts carry. The mock knows the demo
    /// insurer; any other is shown by its name, with TiersPay (which sends the messages on the
    /// insurer's behalf) as the legal entity to contact.
    pub fn named(name: &str) -> Self {
        match name {
            "Mutuelle Horizon" => Self {
                name: name.to_owned(),
                legal_entity:
                    "Mutuelle Horizon, mutuelle régie par le livre II du Code de la mutualité"
                        .to_owned(),
                registration: "SIREN 775 000 000".to_owned(),
                contact: "01 40 00 00 00, contact@mutuelle-horizon.fr".to_owned(),
                colour: [0x1f, 0x5f, 0xa8],
            },
            _ => Self {
                name: name.to_owned(),
                legal_entity: "TiersPay SAS, pour le compte de votre assureur".to_owned(),
                registration: "RCS Paris 900 000 000".to_owned(),
                contact: "support@tierspay.fr".to_owned(),
                colour: [0x0b, 0x3d, 0x91],
            },
        }
    }
}

/// The facts of one reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// The sender.
    pub insurer: Insurer,
    /// The member's first name.
    pub first_name: String,
    /// The member's last name.
    pub last_name: String,
    /// The contract number; messages show its last four characters only.
    pub contract_number: String,
    /// The invoice number (`HZN-2026-000123`).
    pub invoice_number: String,
    /// What is left to pay, minor units (cents).
    pub amount_minor: i64,
    /// When it fell due.
    pub due_date: Date,
    /// The RF creditor reference, grouped by four (`RF04 INV2 0240 0012 3`).
    pub reference: String,
    /// Whether this is the formal notice rather than a reminder.
    pub formal_notice: bool,
}

impl Reminder {
    /// `…1234`: the contract's last four characters, never the whole number.
    pub fn contract_tail(&self) -> String {
        let chars: Vec<char> = self.contract_number.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        format!("...{tail}")
    }

    /// `Jean Dupont`.
    pub fn member_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// An amount in French form, `1 234,56 €` (spaces between thousands, comma before cents).
pub fn euros(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02} €", abs % 100)
}

/// `31/12/2026`.
pub fn french_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_dates_are_written_the_french_way() {
        assert_eq!(euros(3_000), "30,00 €");
        assert_eq!(euros(5), "0,05 €");
        assert_eq!(euros(123_456), "1 234,56 €");
        assert_eq!(euros(4_294_967_295), "42 949 672,95 €");
        assert_eq!(euros(-150), "-1,50 €");
        let d = Date::from_calendar_date(2026, time::Month::March, 9).unwrap();
        assert_eq!(french_date(d), "09/03/2026");
    }
}
