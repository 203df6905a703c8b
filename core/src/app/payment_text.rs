//! The words of a payment from the app, decided here so every shell says the same: where an
//! outbox row stands, why it ended as it did ("Already paid by card on 2 Dec from the email
//! link"), and what the invoice's pay button says.

use crate::domain::calendar;
use crate::store::{OutboxRow, OutboxState, StoredInvoice};
use crate::wire::PaidVia;

/// Why a finished payment row was canceled or refused, as stored in its `last_error`.
pub const ALREADY_PAID: &str = "already_paid";
/// The invoice was voided before the payment reached it.
pub const VOIDED: &str = "invoice_voided";

/// Where the phone's payment of an invoice stands, for the screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PaymentProgress {
    /// Written on the phone, waiting for the network.
    Queued,
    /// On its way to the server.
    Sending,
    /// Taken from the saved card.
    Paid,
    /// Not taken: the invoice was already paid another way.
    AlreadyPaid,
    /// Not taken: the insurer voided the invoice.
    Voided,
    /// Declined by the card's bank: nothing taken, the member may try again.
    Declined,
    /// Refused by the server (an amount above what is owed, a currency): nothing taken.
    Refused,
    /// The phone's record of it was unreadable: set aside, never sent.
    Quarantined,
}

/// A sentence for both readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// For a French reader.
    pub fr: String,
    /// For an English reader.
    pub en: String,
}

fn words(fr: impl Into<String>, en: impl Into<String>) -> Words {
    Words {
        fr: fr.into(),
        en: en.into(),
    }
}

/// `2 Dec` and `2 déc.`: the Paris day, as a sentence says it.
fn short_day(unix_seconds: i64) -> (String, String) {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // The abbreviations of the Imprimerie nationale's rules (a month of four letters or fewer is
    // written whole).
    const FR: [&str; 12] = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];
    let d = calendar::paris_date(unix_seconds);
    let m = usize::from(u8::from(d.month())) - 1;
    (
        format!("{} {}", d.day(), FR[m]),
        format!("{} {}", d.day(), EN[m]),
    )
}

/// "Already paid by card on 2 Dec from the email link", from the invoice's `paid_via` and
/// `paid_at` (either may be unknown: the sentence drops what it does not know).
pub fn already_paid(invoice: Option<&StoredInvoice>) -> Words {
    let via = invoice.and_then(|i| i.extra.paid_via);
    let at = invoice.and_then(|i| i.extra.paid_at);
    let (on_fr, on_en) = match at.map(short_day) {
        Some((fr, en)) => (format!(" le {fr}"), format!(" on {en}")),
        None => (String::new(), String::new()),
    };
    let (fr, en) = match via {
        Some(PaidVia::EmailLink) => (
            format!("Déjà payée par carte{on_fr} depuis le lien de l'e-mail"),
            format!("Already paid by card{on_en} from the email link"),
        ),
        Some(PaidVia::SmsLink) => (
            format!("Déjà payée par carte{on_fr} depuis le lien du SMS"),
            format!("Already paid by card{on_en} from the SMS link"),
        ),
        Some(PaidVia::PushLink) => (
            format!("Déjà payée par carte{on_fr} depuis le lien de la notification"),
            format!("Already paid by card{on_en} from the notification's link"),
        ),
        Some(PaidVia::App) => (
            format!("Déjà payée par carte{on_fr} depuis l'application"),
            format!("Already paid by card{on_en} from the app"),
        ),
        Some(PaidVia::HostedInvoice) => (
            format!("Déjà payée par carte{on_fr} sur la page de la facture"),
            format!("Already paid by card{on_en} on the invoice's page"),
        ),
        Some(PaidVia::BankTransfer) => (
            format!("Déjà payée par virement{on_fr}"),
            format!("Already paid by bank transfer{on_en}"),
        ),
        Some(PaidVia::OutOfBand) => (
            format!("Déjà payée{on_fr} (enregistré par votre assureur)"),
            format!("Already paid{on_en} (recorded by your insurer)"),
        ),
        Some(PaidVia::CreditNote) => (
            format!("Déjà soldée par un avoir{on_fr}"),
            format!("Already settled by a credit note{on_en}"),
        ),
        None => (format!("Déjà payée{on_fr}"), format!("Already paid{on_en}")),
    };
    words(
        format!("{fr} : rien n'a été prélevé."),
        format!("{en}: nothing was charged."),
    )
}

/// Where `row` stands, and what to tell the member about it.
pub fn progress(row: &OutboxRow, invoice: Option<&StoredInvoice>) -> (PaymentProgress, Words) {
    let error = row.last_error.as_deref().unwrap_or("");
    match row.state {
        OutboxState::Queued if row.attempts == 0 => (
            PaymentProgress::Queued,
            words(
                "Paiement enregistré : il partira dès que le réseau revient.",
                "Payment saved: it goes as soon as the network is back.",
            ),
        ),
        OutboxState::Queued => (
            PaymentProgress::Queued,
            words(
                "Paiement en attente : le serveur n'a pas encore répondu, il sera renvoyé sans \
                 double prélèvement.",
                "Payment waiting: the server has not answered yet; it is sent again, never \
                 charged twice.",
            ),
        ),
        OutboxState::Sending => (
            PaymentProgress::Sending,
            words("Paiement en cours…", "Paying…"),
        ),
        OutboxState::Done => (
            PaymentProgress::Paid,
            words(
                "Payée par carte depuis l'application.",
                "Paid by card from the app.",
            ),
        ),
        OutboxState::Canceled if error == VOIDED => (
            PaymentProgress::Voided,
            words(
                "Annulée par votre assureur : il n'y a rien à payer, rien n'a été prélevé.",
                "Cancelled by your insurer: nothing to pay, nothing was charged.",
            ),
        ),
        OutboxState::Canceled => (PaymentProgress::AlreadyPaid, already_paid(invoice)),
        OutboxState::Failed => match error.split_once(':') {
            // A 4xx: `refused:{param}:{message}`.
            Some(("refused", rest)) => {
                let param = rest.split(':').next().unwrap_or("");
                let (fr, en) = match param {
                    "amount" => (
                        "Le montant dépasse ce qui reste dû : rien n'a été prélevé. Actualisez.",
                        "The amount is more than what is left to pay: nothing was charged. \
                         Refresh.",
                    ),
                    "payment_method" => (
                        "Aucune carte enregistrée : ajoutez-en une, rien n'a été prélevé.",
                        "No saved card: add one; nothing was charged.",
                    ),
                    _ => (
                        "Paiement refusé par le serveur : rien n'a été prélevé.",
                        "The server refused the payment: nothing was charged.",
                    ),
                };
                (PaymentProgress::Refused, words(fr, en))
            }
            _ => (
                PaymentProgress::Declined,
                words(
                    format!(
                        "Carte refusée ({}) : rien n'a été prélevé. Vous pouvez réessayer.",
                        decline(error)
                    ),
                    format!(
                        "Card declined ({}): nothing was charged. You may try again.",
                        decline(error)
                    ),
                ),
            ),
        },
        OutboxState::Quarantined => (
            PaymentProgress::Quarantined,
            words(
                "Ce paiement enregistré est illisible : il n'a pas été envoyé. Rien n'a été \
                 prélevé.",
                "This saved payment is unreadable: it was not sent. Nothing was charged.",
            ),
        ),
    }
}

/// A decline code reduced to the characters Stripe's codes use (it comes from the server).
fn decline(code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    if code.is_empty() {
        "card_declined".into()
    } else {
        code
    }
}

/// What an invoice's pay button does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayButton {
    /// It shows.
    pub shows: bool,
    /// It can be tapped (a queued payment shows it greyed).
    pub enabled: bool,
    /// Its label.
    pub label: Words,
}

/// The pay button of `invoice`, given its latest outbox row: an unfinished payment holds it, a
/// paid, voided or settled invoice hides it, a declined one offers to try again.
pub fn pay_button(invoice: &StoredInvoice, latest: Option<&OutboxRow>, payable: bool) -> PayButton {
    if latest.is_some_and(|r| r.state.unfinished()) {
        return PayButton {
            shows: true,
            enabled: false,
            label: words("Paiement en attente", "Payment queued"),
        };
    }
    let after_decline = latest.is_some_and(|r| r.state == OutboxState::Failed);
    let settled_here = latest.is_some_and(|r| r.state == OutboxState::Done);
    if !payable || settled_here {
        return PayButton {
            shows: false,
            enabled: false,
            label: words("", ""),
        };
    }
    let (fr, en) = amount_words(invoice.amount_remaining, &invoice.currency);
    let label = if after_decline {
        words(
            format!("Réessayer de payer {fr}"),
            format!("Try again to pay {en}"),
        )
    } else {
        words(format!("Payer {fr}"), format!("Pay {en}"))
    };
    PayButton {
        shows: true,
        enabled: true,
        label,
    }
}

/// An amount in a sentence: the euro's own grammar, another currency by its code.
fn amount_words(minor: i64, currency: &str) -> (String, String) {
    if currency.eq_ignore_ascii_case("EUR") {
        return (
            crate::domain::money::display_fr(minor),
            crate::domain::money::display_en(minor),
        );
    }
    let plain = format!("{}.{:02} {currency}", minor / 100, (minor % 100).abs());
    (plain.replace('.', ","), plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoredInvoiceStatus;

    fn invoice(via: Option<PaidVia>, at: Option<i64>) -> StoredInvoice {
        StoredInvoice {
            id: "in_1".into(),
            number: None,
            status: StoredInvoiceStatus::Paid,
            source: "premium".into(),
            description: None,
            contract_ref: "TP1000001".into(),
            currency: "EUR".into(),
            amount_due: 4250,
            amount_paid: 4250,
            amount_remaining: 0,
            due_date: None,
            rf_reference: None,
            created: 0,
            extra: crate::store::StoredInvoiceExtra {
                paid_at: at,
                paid_via: via,
                ..Default::default()
            },
        }
    }

    #[test]
    fn already_paid_says_how_and_when_in_both_languages() {
        // 2026-12-02T10:00:00Z: 2 December in Paris.
        let w = already_paid(Some(&invoice(
            Some(PaidVia::EmailLink),
            Some(1_796_205_600),
        )));
        assert_eq!(
            w.en,
            "Already paid by card on 2 Dec from the email link: nothing was charged."
        );
        assert_eq!(
            w.fr,
            "Déjà payée par carte le 2 déc. depuis le lien de l'e-mail : rien n'a été prélevé."
        );
        let unknown = already_paid(None);
        assert_eq!(unknown.en, "Already paid: nothing was charged.");
        // 2026-12-31T23:30:00Z is already 1 January in Paris.
        let w = already_paid(Some(&invoice(
            Some(PaidVia::BankTransfer),
            Some(1_798_759_800),
        )));
        assert_eq!(
            w.en,
            "Already paid by bank transfer on 1 Jan: nothing was charged."
        );
        assert_eq!(
            w.fr,
            "Déjà payée par virement le 1 janv. : rien n'a été prélevé."
        );
    }

    #[test]
    fn the_pay_button_waits_on_a_queued_payment_and_offers_a_retry_after_a_decline() {
        let mut open = invoice(None, None);
        open.status = StoredInvoiceStatus::Open;
        open.amount_remaining = 4250;
        let b = pay_button(&open, None, true);
        assert!(b.shows && b.enabled);
        assert_eq!(
            b.label.en,
            format!("Pay {}", crate::domain::money::display_en(4250))
        );
        let mut row = OutboxRow {
            seq: 1,
            kind: "invoice_payment".into(),
            subject: "in_1".into(),
            idempotency_key: Some("idk_1".into()),
            body: "{}".into(),
            amount: Some(4250),
            currency: Some("EUR".into()),
            state: OutboxState::Queued,
            attempts: 0,
            last_error: None,
            answer: None,
            created_at: 0,
            updated_at: 0,
        };
        let b = pay_button(&open, Some(&row), true);
        assert!(b.shows && !b.enabled, "a second tap cannot queue twice");
        row.state = OutboxState::Failed;
        row.last_error = Some("insufficient_funds".into());
        assert!(pay_button(&open, Some(&row), true)
            .label
            .en
            .starts_with("Try again"));
        let (p, w) = progress(&row, Some(&open));
        assert_eq!(p, PaymentProgress::Declined);
        assert!(w.en.contains("insufficient_funds"), "{}", w.en);
        row.last_error = Some("refused:amount:too much".into());
        assert_eq!(progress(&row, None).0, PaymentProgress::Refused);
        row.state = OutboxState::Done;
        assert!(!pay_button(&open, Some(&row), true).shows);
        assert!(!pay_button(&invoice(None, None), None, false).shows);
    }
}
