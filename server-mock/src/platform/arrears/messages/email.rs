//! The reminder email as a real MIME message, built by mail-builder from askama templates
//! (HTML escaped by the template engine, every field):
//!
//! ```text
//! multipart/alternative
//! ├── text/plain            the same facts and the link, for any mail client
//! └── multipart/related
//!     ├── text/html         refers to the images by cid:
//!     ├── image/png  <qr>   the QR code of the link
//!     └── image/png  <logo> the insurer's mark
//! ```
//!
//! It links only to `https://app.tierspay.fr/`, loads nothing from the network, and asks for no
//! password or card number: the link leads to the hosted page, where the card goes to the PSP.

use askama::Template;
use mail_builder::headers::address::Address;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;

use super::{euros, french_date, images, Reminder};

/// The sender's address: TiersPay's own domain, on behalf of the insurer.
pub const FROM_ADDRESS: &str = "relances@app.tierspay.fr";
/// Longest email address accepted as a recipient (RFC 5321's path limit).
pub const MAX_ADDRESS: usize = 254;

/// A built email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject.
    pub subject: String,
    /// The text alternative, what the outbox shows as the body.
    pub text: String,
    /// The whole message, RFC 5322 with CRLF line ends.
    pub raw: String,
}

#[derive(Template)]
#[template(path = "arrears_email/reminder.html")]
struct Html<'a> {
    subject: &'a str,
    insurer: &'a str,
    legal_entity: &'a str,
    registration: &'a str,
    contact: &'a str,
    member_name: &'a str,
    contract_tail: &'a str,
    invoice_number: &'a str,
    amount: &'a str,
    due_date: &'a str,
    reference: &'a str,
    link: &'a str,
    formal_notice: bool,
    qr_cid: &'a str,
    logo_cid: &'a str,
}

#[derive(Template)]
#[template(path = "arrears_email/reminder.txt")]
struct Text<'a> {
    insurer: &'a str,
    legal_entity: &'a str,
    registration: &'a str,
    contact: &'a str,
    member_name: &'a str,
    contract_tail: &'a str,
    invoice_number: &'a str,
    amount: &'a str,
    due_date: &'a str,
    reference: &'a str,
    link: &'a str,
    formal_notice: bool,
}

/// One line: control characters (a CR or LF that would start a new header) become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Whether `address` can be a recipient: bounded, one `@`, no spaces, controls or brackets.
pub fn is_address(address: &str) -> bool {
    address.len() <= MAX_ADDRESS
        && address.split('@').count() == 2
        && address.split('@').all(|p| !p.is_empty())
        && !address
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "<>\"(),;:[]\\".contains(c))
}

/// Builds the email of `r` to `to`, with `link` (the email channel's signed link), dated `now`
/// (Unix seconds) and identified by `message_id` (without angle brackets).
pub fn build(
    r: &Reminder,
    to: &str,
    link: &str,
    now: i64,
    message_id: &str,
) -> Result<Email, String> {
    if !is_address(to) {
        return Err("the member's email address is not usable".into());
    }
    let insurer = one_line(&r.insurer.name);
    let member_name = one_line(&r.member_name());
    let amount = euros(r.amount_minor);
    let due_date = french_date(r.due_date);
    let tail = r.contract_tail();
    let subject = if r.formal_notice {
        format!("{insurer} : mise en demeure, {amount} dus (contrat {tail})")
    } else {
        format!("{insurer} : {amount} à régler avant relance (contrat {tail})")
    };
    let (qr_cid, logo_cid) = ("qr@app.tierspay.fr", "logo@app.tierspay.fr");
    let html = Html {
        subject: &subject,
        insurer: &insurer,
        legal_entity: &r.insurer.legal_entity,
        registration: &r.insurer.registration,
        contact: &r.insurer.contact,
        member_name: &member_name,
        contract_tail: &tail,
        invoice_number: &r.invoice_number,
        amount: &amount,
        due_date: &due_date,
        reference: &r.reference,
        link,
        formal_notice: r.formal_notice,
        qr_cid,
        logo_cid,
    }
    .render()
    .map_err(|e| e.to_string())?;
    let text = Text {
        insurer: &insurer,
        legal_entity: &r.insurer.legal_entity,
        registration: &r.insurer.registration,
        contact: &r.insurer.contact,
        member_name: &member_name,
        contract_tail: &tail,
        invoice_number: &r.invoice_number,
        amount: &amount,
        due_date: &due_date,
        reference: &r.reference,
        link,
        formal_notice: r.formal_notice,
    }
    .render()
    .map_err(|e| e.to_string())?;
    let qr = images::qr_png(link)?;
    let logo = images::logo_png(r.insurer.colour)?;
    let body = MimePart::new(
        "multipart/alternative",
        vec![
            MimePart::new("text/plain", text.clone()),
            MimePart::new(
                "multipart/related",
                vec![
                    MimePart::new("text/html", html),
                    MimePart::new("image/png", qr).inline().cid(qr_cid),
                    MimePart::new("image/png", logo).inline().cid(logo_cid),
                ],
            ),
        ],
    );
    let raw = MessageBuilder::new()
        .from(Address::new_address(
            Some(format!("{insurer} via TiersPay")),
            FROM_ADDRESS,
        ))
        .to(Address::new_address(
            Some(member_name.clone()),
            to.to_owned(),
        ))
        .subject(subject.clone())
        .date(now)
        .message_id(message_id.to_owned())
        .body(body)
        .write_to_string()
        .map_err(|e| e.to_string())?;
    Ok(Email { subject, text, raw })
}

#[cfg(test)]
mod tests {
    use mail_parser::{MessageParser, MimeHeaders, PartType};
    use time::Date;

    use super::super::{Insurer, Reminder};
    use super::*;

    const LINK: &str = "https://app.tierspay.fr/l/AQEAAAAq";

    fn reminder(field: &str) -> Reminder {
        Reminder {
            insurer: Insurer {
                name: format!("Mutuelle Horizon{field}"),
                legal_entity: format!("Mutuelle Horizon, mutuelle régie par le livre II du Code de la mutualité{field}"),
                registration: format!("SIREN 775 000 000{field}"),
                contact: format!("01 23 45 67 89, contact@mutuelle-horizon.fr{field}"),
                colour: [0x1f, 0x5f, 0xa8],
            },
            first_name: format!("Jean{field}"),
            last_name: format!("Dupont{field}"),
            contract_number: "TP1001234".into(),
            invoice_number: format!("HZN-2026-000123{field}"),
            amount_minor: 3_000,
            due_date: Date::from_calendar_date(2026, time::Month::December, 31).unwrap(),
            reference: format!("RF04 INV2 0240 0012 3{field}"),
            formal_notice: false,
        }
    }

    fn html_and_text(raw: &str) -> (String, String) {
        let m = MessageParser::default().parse(raw.as_bytes()).unwrap();
        (
            m.body_html(0).unwrap().into_owned(),
            m.body_text(0).unwrap().into_owned(),
        )
    }

    #[test]
    fn the_email_is_text_and_html_alternatives_with_inline_images() {
        let email = build(
            &reminder(""),
            "jean@example.org",
            LINK,
            1_800_000_000,
            "in_1.d10-email@app.tierspay.fr",
        )
        .unwrap();
        let m = MessageParser::default()
            .parse(email.raw.as_bytes())
            .unwrap();
        assert_eq!(
            m.subject(),
            Some("Mutuelle Horizon : 30,00 € à régler avant relance (contrat ...1234)")
        );
        assert_eq!(
            m.from().unwrap().first().unwrap().address(),
            Some(FROM_ADDRESS)
        );
        assert_eq!(
            m.to().unwrap().first().unwrap().address(),
            Some("jean@example.org")
        );
        assert_eq!(m.message_id(), Some("in_1.d10-email@app.tierspay.fr"));
        // The structure: alternative(text, related(html, png, png)).
        let root = m.root_part();
        assert!(root.content_type().unwrap().c_subtype.as_deref() == Some("alternative"));
        let PartType::Multipart(children) = &root.body else {
            panic!("not multipart")
        };
        assert_eq!(children.len(), 2);
        let related = m.part(children[1]).unwrap();
        assert_eq!(
            related.content_type().unwrap().c_subtype.as_deref(),
            Some("related")
        );
        let pngs: Vec<_> = m
            .parts
            .iter()
            .filter(|p| p.content_type().is_some_and(|c| c.c_type == "image"))
            .collect();
        assert_eq!(pngs.len(), 2);
        let cids: Vec<_> = pngs
            .iter()
            .map(|p| p.content_id().unwrap().to_owned())
            .collect();
        assert_eq!(cids, ["qr@app.tierspay.fr", "logo@app.tierspay.fr"]);
        assert!(pngs.iter().all(|p| p.contents().starts_with(b"\x89PNG")));
        let (html, text) = html_and_text(&email.raw);
        for cid in &cids {
            assert!(html.contains(&format!("cid:{cid}")), "{cid}");
        }
        // The facts, on both alternatives.
        for body in [&html, &text] {
            for fact in [
                "Mutuelle Horizon",
                "Jean Dupont",
                "...1234",
                "30,00 €",
                "31/12/2026",
                "RF04 INV2 0240 0012 3",
                "HZN-2026-000123",
                "SIREN 775 000 000",
                "contact@mutuelle-horizon.fr",
                LINK,
            ] {
                assert!(body.contains(fact), "{fact} missing");
            }
            assert!(!body.contains("TP1001234"), "the whole contract number");
        }
        assert_eq!(email.text, text.replace("\r\n", "\n"));
    }

    #[test]
    fn it_links_only_to_tierspay_and_asks_for_no_secret() {
        let email = build(
            &reminder(""),
            "jean@example.org",
            LINK,
            1_800_000_000,
            "m@app.tierspay.fr",
        )
        .unwrap();
        let (html, text) = html_and_text(&email.raw);
        for body in [&html, &text] {
            let lower = body.to_lowercase();
            for asked in [
                "mot de passe",
                "password",
                "numéro de carte",
                "card number",
                "cvc",
                "cryptogramme",
                "code secret",
            ] {
                assert!(!lower.contains(asked), "{asked}");
            }
            // Every URL is on app.tierspay.fr.
            for (i, _) in body.match_indices("http") {
                assert!(
                    body[i..].starts_with("https://app.tierspay.fr/"),
                    "{}",
                    &body[i..i + 40]
                );
            }
        }
        // No image or style is fetched from anywhere: every src is a cid.
        for (i, _) in html.match_indices("src=\"") {
            assert!(html[i + 5..].starts_with("cid:"));
        }
    }

    #[test]
    fn every_field_is_escaped_in_the_html() {
        let evil = "<script>alert(1)</script>\"'&";
        let email = build(
            &reminder(evil),
            "jean@example.org",
            LINK,
            1_800_000_000,
            "m@app.tierspay.fr",
        )
        .unwrap();
        let (html, text) = html_and_text(&email.raw);
        assert!(!html.contains("<script"), "unescaped script in HTML");
        assert!(!html.contains("\"'&"));
        // Six fields' worth, at least (insurer appears several times).
        assert!(
            html.matches("&#60;script&#62;").count() + html.matches("&lt;script&gt;").count() >= 7,
            "{html}"
        );
        // The text alternative shows the characters as they are: text/plain renders nothing.
        assert!(text.contains(evil));
    }

    #[test]
    fn a_header_cannot_be_injected_and_bad_addresses_are_refused() {
        let mut r = reminder("");
        r.insurer.name = "Horizon\r\nBcc: everyone@example.org".into();
        r.first_name = "Jean\r\nX-Evil: 1".into();
        let email = build(
            &r,
            "jean@example.org",
            LINK,
            1_800_000_000,
            "m@app.tierspay.fr",
        )
        .unwrap();
        let m = MessageParser::default()
            .parse(email.raw.as_bytes())
            .unwrap();
        assert!(m.bcc().is_none());
        assert!(m.header("X-Evil").is_none());
        for bad in [
            "",
            "jean",
            "a@b@c",
            "jean@example.org\r\nBcc: x@y",
            "<x@y>",
            &format!("{}@x.fr", "a".repeat(260)),
        ] {
            assert!(build(&r, bad, LINK, 0, "m@x").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_formal_notice_is_titled_as_one() {
        let mut r = reminder("");
        r.formal_notice = true;
        let email = build(
            &r,
            "jean@example.org",
            LINK,
            1_800_000_000,
            "m@app.tierspay.fr",
        )
        .unwrap();
        assert!(email.subject.contains("mise en demeure"));
        assert!(email.text.contains("Mise en demeure de payer"));
    }
}
