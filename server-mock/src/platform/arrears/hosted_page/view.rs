//! What the hosted page shows, as plain data ([`InvoiceFacts`]), and its rendering into HTML
//! through askama templates (`server-mock/templates/hosted_page/`), which escape every value
//! unless marked safe; the only markup marked safe is the QR code's SVG, drawn by [`super::qr`]
//! from numbers. Pure: no database, no clock (the time is in the facts), so every page is
//! tested without a server.

use askama::Template;
use base64::Engine as _;
use rust_decimal::Decimal;
use tierspay_core::domain::epc_qr::{self, CreditTransfer, Remittance};
use tierspay_core::domain::masking::last_chars;
use tierspay_core::domain::rf_reference::RfReference;

use super::i18n::{Lang, Texts};
use super::qr;

/// The insurer's identity, as its messages show it: the member checks the page against them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insurer {
    /// Trading name.
    pub name: String,
    /// Legal entity (name and form).
    pub legal_entity: String,
    /// Registration (RCS, ORIAS, code de la mutualité…).
    pub registration: String,
    /// A contact (address, phone or email).
    pub contact: String,
    /// The logo, an SVG or PNG shown as an image (never inline markup: an `<img>` runs no
    /// script).
    pub logo: Option<Logo>,
}

/// An image and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// `image/svg+xml` or `image/png`; anything else is not shown.
    pub mime: String,
    /// The image's bytes.
    pub bytes: Vec<u8>,
}

/// Where a transfer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    /// The beneficiary's name.
    pub name: String,
    /// IBAN in electronic form.
    pub iban: String,
    /// BIC, when known.
    pub bic: Option<String>,
}

/// An invoice's state as the member reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Finalized, nothing paid.
    Open,
    /// Part of it paid.
    PartlyPaid,
    /// Paid in full.
    Paid,
    /// Cancelled.
    Void,
    /// Written off but still payable.
    Uncollectible,
}

impl Status {
    /// From Stripe's invoice status and what is left to pay.
    pub fn of(status: &str, amount_paid: i64, amount_remaining: i64) -> Option<Self> {
        Some(match status {
            "paid" => Status::Paid,
            "void" => Status::Void,
            "uncollectible" => Status::Uncollectible,
            "open" if amount_remaining <= 0 => Status::Paid,
            "open" if amount_paid > 0 => Status::PartlyPaid,
            "open" => Status::Open,
            _ => return None,
        })
    }

    fn payable(self) -> bool {
        matches!(
            self,
            Status::Open | Status::PartlyPaid | Status::Uncollectible
        )
    }

    fn text(self, t: &Texts) -> &'static str {
        match self {
            Status::Open => t.status_open,
            Status::PartlyPaid => t.status_partial,
            Status::Paid => t.status_paid,
            Status::Void => t.status_void,
            Status::Uncollectible => t.status_uncollectible,
        }
    }
}

/// How the invoice was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// A card, by brand and last four digits.
    Card {
        /// `visa`, `mastercard`…
        brand: String,
        /// Last four digits.
        last4: String,
    },
    /// A SEPA credit transfer.
    Transfer,
    /// Recorded by the insurer (`paid_out_of_band`).
    OutOfBand,
}

/// What the receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The Paris calendar day of the payment.
    pub paid_on: time::Date,
    /// Minor units paid.
    pub amount: i64,
    /// How.
    pub method: Method,
}

/// A passing message on the invoice page (the `aria-live` region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The last card payment was declined (its reason was shown on the PSP's form).
    Declined,
    /// A card payment waits for its 3-D Secure step.
    Pending,
}

/// Everything the invoice page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFacts {
    /// Who sends it.
    pub insurer: Insurer,
    /// The member's name.
    pub member_name: String,
    /// The contract reference (the page shows its last four characters).
    pub contract_ref: String,
    /// The invoice's number.
    pub number: String,
    /// What it is for, as the insurer wrote it (shown escaped, like every value).
    pub description: Option<String>,
    /// Minor units of euros.
    pub amount_due: i64,
    /// Minor units still to pay.
    pub amount_remaining: i64,
    /// The Paris calendar day it is due.
    pub due_date: time::Date,
    /// Its state.
    pub status: Status,
    /// The RF creditor reference the transfer must carry.
    pub reference: RfReference,
    /// Where a transfer goes; `None` shows no transfer section.
    pub payee: Option<Payee>,
    /// Once paid.
    pub receipt: Option<Receipt>,
}

/// Why a page could not be drawn: a fact the view refuses to show (it is the server's data,
/// so this is a 500, not the member's fault).
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The transfer details do not make a valid EPC payload.
    #[error("transfer details: {0}")]
    Transfer(#[from] epc_qr::EpcError),
    /// The payload does not fit a QR code the guidelines allow.
    #[error("QR code: {0}")]
    Qr(#[from] qr::QrError),
    /// The template engine failed.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

// ------------------------------------------------------------------- templates

/// What every page's frame shows (language, title, insurer).
struct Frame<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: String,
    insurer: Option<&'a Insurer>,
    logo_uri: Option<String>,
}

impl<'a> Frame<'a> {
    fn new(lang: Lang, title: String, insurer: Option<&'a Insurer>) -> Self {
        let logo_uri = insurer.and_then(|i| i.logo.as_ref()).and_then(logo_uri);
        Frame {
            lang: lang.tag(),
            t: lang.texts(),
            title,
            insurer,
            logo_uri,
        }
    }
}

fn logo_uri(logo: &Logo) -> Option<String> {
    let mime = match logo.mime.as_str() {
        "image/svg+xml" => "image/svg+xml",
        "image/png" => "image/png",
        _ => return None,
    };
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&logo.bytes)
    ))
}

struct Fact {
    label: &'static str,
    value: String,
}

struct Transfer {
    name: String,
    iban: String,
    bic: Option<String>,
    amount: String,
    reference: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "hosted_page/invoice.html")]
struct InvoiceTemplate<'a> {
    f: Frame<'a>,
    heading: String,
    status: &'static str,
    notice: Option<String>,
    facts: Vec<Fact>,
    paid: bool,
    void: bool,
    receipt: Vec<Fact>,
    card_action: Option<&'a str>,
    card_button: String,
    transfer: Option<Transfer>,
}

#[derive(Template)]
#[template(path = "hosted_page/expired.html")]
struct ExpiredTemplate<'a> {
    f: Frame<'a>,
    address: Option<&'a str>,
    resend_action: &'a str,
}

#[derive(Template)]
#[template(path = "hosted_page/resent.html")]
struct ResentTemplate<'a> {
    f: Frame<'a>,
    address: &'a str,
}

#[derive(Template)]
#[template(path = "hosted_page/refused.html")]
struct RefusedTemplate<'a> {
    f: Frame<'a>,
}

/// Groups an IBAN by four for reading (`FR76 3000 6000 …`).
fn grouped(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn method_text(t: &Texts, m: &Method) -> String {
    match m {
        Method::Card { brand, last4 } => {
            let mut brand: Vec<char> = brand.chars().collect();
            if let Some(first) = brand.first_mut() {
                *first = first.to_ascii_uppercase();
            }
            format!(
                "{} {} •••• {last4}",
                t.method_card,
                brand.into_iter().collect::<String>()
            )
        }
        Method::Transfer => t.method_transfer.to_owned(),
        Method::OutOfBand => t.method_out_of_band.to_owned(),
    }
}

/// The invoice page: the facts, the two ways to pay while something is left to pay, the
/// receipt once paid. `card_action` is the form target that starts a card payment (none: no
/// card section).
pub fn invoice_page(
    lang: Lang,
    facts: &InvoiceFacts,
    notice: Option<&Notice>,
    card_action: Option<&str>,
) -> Result<String, ViewError> {
    let t = lang.texts();
    let payable = facts.status.payable() && facts.amount_remaining > 0;
    let paid = facts.status == Status::Paid;
    let mut rows = vec![
        Fact {
            label: t.member,
            value: facts.member_name.clone(),
        },
        Fact {
            label: t.contract,
            value: format!("…{}", last_chars(&facts.contract_ref, 4)),
        },
        Fact {
            label: t.number,
            value: facts.number.clone(),
        },
    ];
    if let Some(d) = &facts.description {
        rows.push(Fact {
            label: t.description,
            value: d.clone(),
        });
    }
    rows.push(Fact {
        label: t.amount_due,
        value: lang.money(facts.amount_due),
    });
    if facts.status == Status::PartlyPaid {
        rows.push(Fact {
            label: t.amount_remaining,
            value: lang.money(facts.amount_remaining),
        });
    }
    rows.push(Fact {
        label: t.due_date,
        value: lang.date(facts.due_date),
    });
    rows.push(Fact {
        label: t.reference,
        value: facts.reference.grouped(),
    });
    let receipt = match (&facts.receipt, paid) {
        (Some(r), true) => vec![
            Fact {
                label: t.paid_on,
                value: lang.date(r.paid_on),
            },
            Fact {
                label: t.paid_amount,
                value: lang.money(r.amount),
            },
            Fact {
                label: t.paid_method,
                value: method_text(t, &r.method),
            },
        ],
        _ => Vec::new(),
    };
    let transfer = match (&facts.payee, payable) {
        (Some(p), true) => {
            let payload = epc_qr::payload(&CreditTransfer {
                bic: p.bic.clone(),
                name: p.name.clone(),
                iban: p.iban.clone(),
                amount: Decimal::new(facts.amount_remaining, 2),
                purpose: None,
                remittance: Remittance::Structured(facts.reference.clone()),
                message: None,
            })?;
            Some(Transfer {
                name: p.name.clone(),
                iban: grouped(&p.iban),
                bic: p.bic.clone(),
                amount: lang.money(facts.amount_remaining),
                reference: facts.reference.as_str().to_owned(),
                qr_svg: qr::draw(&payload, "qr-label")?.svg,
            })
        }
        _ => None,
    };
    let notice = match notice {
        Some(Notice::Declined) if payable => Some(t.declined.to_owned()),
        Some(Notice::Pending) if payable => Some(t.pending.to_owned()),
        _ => None,
    };
    let heading = if paid {
        t.paid_heading.to_owned()
    } else {
        format!("{} {}", t.invoice_title, facts.number)
    };
    let page = InvoiceTemplate {
        f: Frame::new(
            lang,
            format!("{heading} – {}", facts.insurer.name),
            Some(&facts.insurer),
        ),
        heading,
        status: facts.status.text(t),
        notice,
        facts: rows,
        paid,
        void: facts.status == Status::Void,
        receipt,
        card_action: card_action.filter(|_| payable),
        card_button: format!("{} ({})", t.card_button, lang.money(facts.amount_remaining)),
        transfer,
    };
    Ok(page.render()?)
}

/// The expired link's page: a button that sends a fresh link to the address on record
/// (already masked), never an input for one. Nothing about the invoice is shown: the link
/// may have been forwarded.
pub fn expired_page(
    lang: Lang,
    insurer: Option<&Insurer>,
    masked_address: Option<&str>,
    resend_action: &str,
) -> Result<String, ViewError> {
    let t = lang.texts();
    Ok(ExpiredTemplate {
        f: Frame::new(lang, t.expired_heading.to_owned(), insurer),
        address: masked_address,
        resend_action,
    }
    .render()?)
}

/// After the fresh link is sent.
pub fn resent_page(
    lang: Lang,
    insurer: Option<&Insurer>,
    masked_address: &str,
) -> Result<String, ViewError> {
    let t = lang.texts();
    Ok(ResentTemplate {
        f: Frame::new(lang, t.resent_heading.to_owned(), insurer),
        address: masked_address,
    }
    .render()?)
}

/// A tampered, truncated or unknown link: a refusal naming nobody and no invoice.
pub fn refused_page(lang: Lang) -> Result<String, ViewError> {
    let t = lang.texts();
    Ok(RefusedTemplate {
        f: Frame::new(lang, t.refused_heading.to_owned(), None),
    }
    .render()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn facts() -> InvoiceFacts {
        InvoiceFacts {
            insurer: Insurer {
                name: "Mutuelle <Exemple>".into(),
                legal_entity: "Mutuelle Exemple, mutuelle du livre II".into(),
                registration: "SIREN 123 456 789".into(),
                contact: "01 23 45 67 89".into(),
                logo: Some(Logo {
                    mime: "image/svg+xml".into(),
                    bytes: b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
                }),
            },
            member_name: "Camille <script>alert(1)</script> Martin".into(),
            contract_ref: "CTR-2026-001234".into(),
            number: "TP-0042".into(),
            description: Some("Cotisation <b>de novembre</b>".into()),
            amount_due: 4250,
            amount_remaining: 4250,
            due_date: date!(2026 - 12 - 31),
            status: Status::Open,
            reference: RfReference::make("INV2024000123").expect("reference"),
            payee: Some(Payee {
                name: "Mutuelle Exemple".into(),
                iban: "FR7630006000011234567890189".into(),
                bic: Some("BNPAFRPPXXX".into()),
            }),
            receipt: None,
        }
    }

    #[test]
    fn an_open_invoice_shows_its_facts_and_both_ways_to_pay() {
        let html = invoice_page(Lang::Fr, &facts(), None, Some("/l/tok/card")).expect("page");
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<html lang=\"fr\">"));
        for text in [
            "Facture TP-0042",
            "…1234",
            "42,50\u{a0}€",
            "31/12/2026",
            "RF04 INV2 0240 0012 3",
            "FR76 3000 6000 0112 3456 7890 189",
            "BNPAFRPPXXX",
            "À payer",
            "action=\"/l/tok/card\"",
            "SIREN 123 456 789",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"qr-label\"",
        ] {
            assert!(html.contains(text), "missing {text:?}");
        }
        assert!(
            !html.contains("CTR-2026-00"),
            "the whole contract reference"
        );
        assert!(!html.contains("<script"), "no script, and escaped input");
    }

    #[test]
    fn every_value_is_escaped() {
        let html = invoice_page(Lang::En, &facts(), None, Some("/l/t/card")).expect("page");
        assert!(html.contains("Camille &#60;script&#62;alert(1)&#60;/script&#62; Martin"));
        assert!(html.contains("Mutuelle &#60;Exemple&#62;"));
        assert!(html.contains("Cotisation &#60;b&#62;de novembre&#60;/b&#62;"));
        assert!(!html.contains("<Exemple>"));
    }

    #[test]
    fn the_page_is_accessible_by_construction() {
        let html =
            invoice_page(Lang::En, &facts(), Some(&Notice::Pending), Some("/c")).expect("page");
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("class=\"skip\" href=\"#main\""));
        assert!(html.contains("<main id=\"main\""));
        assert!(html.contains("aria-live=\"polite\""));
        assert!(html.contains(":focus-visible"));
        let h1 = html.find("<h1").expect("h1");
        let h2 = html.find("<h2").expect("h2");
        assert!(h1 < h2 && html.matches("<h1").count() == 1);
        assert!(!html.contains("<h3") && !html.contains("<h4"));
        assert!(html.contains("alt=\"Mutuelle &#60;Exemple&#62;\""));
    }

    #[test]
    fn a_paid_invoice_shows_the_receipt_and_no_way_to_pay() {
        let mut f = facts();
        f.status = Status::Paid;
        f.amount_remaining = 0;
        f.receipt = Some(Receipt {
            paid_on: date!(2026 - 12 - 02),
            amount: 4250,
            method: Method::Card {
                brand: "visa".into(),
                last4: "4242".into(),
            },
        });
        let html = invoice_page(Lang::En, &f, Some(&Notice::Declined), Some("/c")).expect("page");
        for text in [
            "Already paid",
            "2 December 2026",
            "€42.50",
            "Card Visa •••• 4242",
            "Receipt",
        ] {
            assert!(html.contains(text), "missing {text:?}");
        }
        assert!(!html.contains("<form"), "no pay button once paid");
        assert!(!html.contains("<svg"), "no QR code once paid");
        assert!(!html.contains("declined"));
    }

    #[test]
    fn a_partly_paid_invoice_asks_for_the_rest_and_a_decline_is_said() {
        let mut f = facts();
        f.status = Status::PartlyPaid;
        f.amount_remaining = 1250;
        let notice = Notice::Declined;
        let html = invoice_page(Lang::En, &f, Some(&notice), Some("/c")).expect("page");
        assert!(html.contains("Left to pay"));
        assert!(html.contains("Pay by card (€12.50)"));
        assert!(html.contains("The last card payment was declined. You can try again"));
        assert!(html.contains("role=\"alert\""));
    }

    #[test]
    fn a_void_invoice_asks_nothing() {
        let mut f = facts();
        f.status = Status::Void;
        let html = invoice_page(Lang::Fr, &f, None, Some("/c")).expect("page");
        assert!(html.contains("annulée"));
        assert!(!html.contains("<form") && !html.contains("<svg"));
    }

    #[test]
    fn a_bad_iban_is_an_error_not_a_page() {
        let mut f = facts();
        if let Some(p) = f.payee.as_mut() {
            p.iban = "FR7630006000011234567890180".into();
        }
        assert!(matches!(
            invoice_page(Lang::Fr, &f, None, None),
            Err(ViewError::Transfer(_))
        ));
    }

    #[test]
    fn an_unknown_logo_type_is_not_shown() {
        let mut f = facts();
        f.insurer.logo = Some(Logo {
            mime: "text/html".into(),
            bytes: b"<script>".to_vec(),
        });
        let html = invoice_page(Lang::Fr, &f, None, None).expect("page");
        assert!(!html.contains("<img"));
    }

    #[test]
    fn the_expired_page_has_a_button_and_no_address_input() {
        let html =
            expired_page(Lang::En, None, Some("c•••@example.fr"), "/l/t/resend").expect("page");
        assert!(html.contains("This link has expired"));
        assert!(html.contains("c•••@example.fr"));
        assert!(html.contains("action=\"/l/t/resend\""));
        assert!(html.contains("<button"));
        assert!(!html.contains("<input type=\"email\"") && !html.contains("type=\"text\""));
        let none = expired_page(Lang::En, None, None, "/l/t/resend").expect("page");
        assert!(!none.contains("<form"));
    }

    #[test]
    fn the_refusal_names_nothing() {
        let html = refused_page(Lang::Fr).expect("page");
        assert!(html.contains("Lien de paiement refusé"));
        assert!(!html.contains("<form") && !html.contains('€'));
    }

    #[test]
    fn pages_are_small() {
        let html = invoice_page(Lang::Fr, &facts(), None, Some("/c")).expect("page");
        assert!(html.len() < 30 * 1024, "{} bytes", html.len());
    }

    #[test]
    fn status_from_stripe_words() {
        assert_eq!(Status::of("open", 0, 100), Some(Status::Open));
        assert_eq!(Status::of("open", 50, 50), Some(Status::PartlyPaid));
        assert_eq!(Status::of("paid", 100, 0), Some(Status::Paid));
        assert_eq!(
            Status::of("uncollectible", 0, 100),
            Some(Status::Uncollectible)
        );
        assert_eq!(Status::of("draft", 0, 100), None);
    }

    /// WCAG 2 relative luminance of `#rrggbb` (floats are fine here: no money).
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn every_text_colour_of_the_style_sheet_has_contrast_4_5_to_1() {
        let css = include_str!("../../../../templates/hosted_page/style.css");
        // (text, background) pairs the style sheet draws: body text, links and the skip link,
        // buttons, alerts, the footer.
        let pairs = [
            ("#1a1a1a", "#ffffff"),
            ("#0b3d91", "#ffffff"),
            ("#ffffff", "#0b3d91"),
            ("#8a0000", "#ffffff"),
            ("#333333", "#ffffff"),
        ];
        for (text, background) in pairs {
            let short = |c: &str| {
                if c == "#ffffff" {
                    "#fff".to_owned()
                } else if c == "#333333" {
                    "#333".to_owned()
                } else {
                    c.to_owned()
                }
            };
            assert!(
                css.contains(&short(text)),
                "{text} is not in the style sheet"
            );
            let ratio = contrast(text, background);
            assert!(ratio >= 4.5, "{text} on {background}: {ratio:.2}");
        }
        // The focus ring is not text: 3:1 against the page is WCAG's bar for it.
        assert!(css.contains("#b34700") && contrast("#b34700", "#ffffff") >= 3.0);
    }
}
