//! The page's two languages, chosen from `Accept-Language` (parsed by
//! `http::accept_language`, bounded); French when the header names neither, since the insurers
//! are French. Money and dates are written as each language writes them.

/// A language the page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// French, the default.
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The page's sentences in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// An amount in minor units of euros, as this language writes it.
    pub fn money(self, minor: i64) -> String {
        match self {
            Lang::Fr => tierspay_core::domain::money::display_fr(minor),
            Lang::En => tierspay_core::domain::money::display_en(minor),
        }
    }

    /// A calendar date: `31/12/2026` or `31 December 2026`.
    pub fn date(self, date: time::Date) -> String {
        match self {
            Lang::Fr => format!(
                "{:02}/{:02}/{}",
                date.day(),
                u8::from(date.month()),
                date.year()
            ),
            Lang::En => format!("{} {} {}", date.day(), date.month(), date.year()),
        }
    }
}

/// The language to answer in for an `Accept-Language` header (none, or neither language
/// named: French).
pub fn negotiate(header: Option<&str>) -> Lang {
    match crate::http::accept_language::preferred(header, &["fr", "en"]) {
        Some(1) => Lang::En,
        _ => Lang::Fr,
    }
}

/// Every sentence of the hosted pages, in one language. Fields, not a lookup by key: a missing
/// translation does not compile.
#[derive(Debug)]
pub struct Texts {
    /// Between a label and its value (French puts a no-break space before the colon).
    pub colon: &'static str,
    /// Skip link to the main content.
    pub skip: &'static str,
    /// `<title>` and heading prefix of the invoice page.
    pub invoice_title: &'static str,
    /// The facts section's heading.
    pub details: &'static str,
    /// Label: whose invoice.
    pub member: &'static str,
    /// Label: the contract's last digits.
    pub contract: &'static str,
    /// Label: invoice number.
    pub number: &'static str,
    /// Label: what the invoice is for.
    pub description: &'static str,
    /// Label: amount due.
    pub amount_due: &'static str,
    /// Label: what is left to pay.
    pub amount_remaining: &'static str,
    /// Label: due date.
    pub due_date: &'static str,
    /// Label: status.
    pub status: &'static str,
    /// Label: the RF creditor reference.
    pub reference: &'static str,
    /// Status: open.
    pub status_open: &'static str,
    /// Status: partly paid.
    pub status_partial: &'static str,
    /// Status: paid.
    pub status_paid: &'static str,
    /// Status: void.
    pub status_void: &'static str,
    /// Status: handed to collection but still payable.
    pub status_uncollectible: &'static str,
    /// Heading: pay by card.
    pub card_heading: &'static str,
    /// Why the card form is somewhere else.
    pub card_explain: &'static str,
    /// Button: pay by card (followed by the amount).
    pub card_button: &'static str,
    /// Heading: pay by transfer.
    pub transfer_heading: &'static str,
    /// How to pay by transfer.
    pub transfer_explain: &'static str,
    /// Label: the beneficiary.
    pub beneficiary: &'static str,
    /// Label: IBAN.
    pub iban: &'static str,
    /// Label: BIC.
    pub bic: &'static str,
    /// Label: the amount to transfer.
    pub transfer_amount: &'static str,
    /// Label: the reference to type.
    pub transfer_reference: &'static str,
    /// The QR code image's text alternative.
    pub qr_alt: &'static str,
    /// Heading of the paid page.
    pub paid_heading: &'static str,
    /// Sentence of the paid page.
    pub paid_text: &'static str,
    /// Heading of the receipt.
    pub receipt: &'static str,
    /// Label: when it was paid.
    pub paid_on: &'static str,
    /// Label: how much was paid.
    pub paid_amount: &'static str,
    /// Label: how it was paid.
    pub paid_method: &'static str,
    /// Method: card (followed by brand and last digits).
    pub method_card: &'static str,
    /// Method: SEPA transfer.
    pub method_transfer: &'static str,
    /// Method: recorded by the insurer (paid out of band).
    pub method_out_of_band: &'static str,
    /// The invoice was cancelled: nothing to pay.
    pub void_text: &'static str,
    /// The last card payment was declined.
    pub declined: &'static str,
    /// A card payment is waiting for its authentication.
    pub pending: &'static str,
    /// Heading: who sends this.
    pub legal_heading: &'static str,
    /// Label: registration.
    pub registration: &'static str,
    /// Label: contact.
    pub contact: &'static str,
    /// The anti-phishing promise.
    pub never_ask: &'static str,
    /// Heading of the expired page.
    pub expired_heading: &'static str,
    /// Sentence of the expired page (followed by the masked address).
    pub expired_text: &'static str,
    /// Button: send a fresh link.
    pub resend_button: &'static str,
    /// Heading once a fresh link is sent.
    pub resent_heading: &'static str,
    /// Sentence once a fresh link is sent (followed by the masked address).
    pub resent_text: &'static str,
    /// The member has no address on record.
    pub no_address: &'static str,
    /// Heading of the refusal page.
    pub refused_heading: &'static str,
    /// Sentence of the refusal page.
    pub refused_text: &'static str,
}

static FR: Texts = Texts {
    colon: "\u{a0}: ",
    skip: "Aller au contenu",
    invoice_title: "Facture",
    details: "Détails de la facture",
    member: "Adhérent",
    contract: "Contrat",
    number: "Numéro",
    description: "Objet",
    amount_due: "Montant dû",
    amount_remaining: "Reste à payer",
    due_date: "Échéance",
    status: "État",
    reference: "Référence",
    status_open: "À payer",
    status_partial: "Payée en partie",
    status_paid: "Payée",
    status_void: "Annulée",
    status_uncollectible: "En recouvrement, toujours payable",
    card_heading: "Payer par carte",
    card_explain: "Vous allez saisir votre carte sur la page sécurisée de notre prestataire de paiement. Ni TiersPay ni votre assureur ne voient votre numéro de carte.",
    card_button: "Payer par carte",
    transfer_heading: "Payer par virement SEPA",
    transfer_explain: "Scannez le code avec l'application de votre banque, ou saisissez ces informations. Indiquez la référence telle quelle : c'est elle qui rattache votre virement à cette facture.",
    beneficiary: "Bénéficiaire",
    iban: "IBAN",
    bic: "BIC",
    transfer_amount: "Montant",
    transfer_reference: "Référence du virement",
    qr_alt: "Code QR de virement SEPA (EPC) : bénéficiaire, IBAN, montant et référence ci-dessous",
    paid_heading: "Facture déjà payée",
    paid_text: "Cette facture est réglée. Vous n'avez rien à payer.",
    receipt: "Reçu",
    paid_on: "Payée le",
    paid_amount: "Montant payé",
    paid_method: "Moyen de paiement",
    method_card: "Carte",
    method_transfer: "Virement SEPA",
    method_out_of_band: "Enregistré par votre assureur",
    void_text: "Cette facture a été annulée. Vous n'avez rien à payer.",
    declined: "Le dernier paiement par carte a été refusé. Vous pouvez réessayer, avec une autre carte ou par virement.",
    pending: "Un paiement par carte est en attente de validation.",
    legal_heading: "Qui vous écrit",
    registration: "Immatriculation",
    contact: "Contact",
    never_ask: "Nous ne vous demanderons jamais votre mot de passe, ni votre numéro de carte par e-mail, SMS ou téléphone.",
    expired_heading: "Ce lien a expiré",
    expired_text: "Pour votre sécurité, les liens de paiement ont une durée limitée. Nous pouvons envoyer un nouveau lien à l'adresse que nous avons déjà :",
    resend_button: "Envoyer un nouveau lien",
    resent_heading: "Nouveau lien envoyé",
    resent_text: "Un nouveau lien a été envoyé à",
    no_address: "Nous n'avons pas d'adresse pour vous envoyer un nouveau lien. Ouvrez l'application TiersPay ou contactez votre assureur.",
    refused_heading: "Lien de paiement refusé",
    refused_text: "Ce lien n'a pas été émis par TiersPay, ou il a été modifié ou coupé. Ne payez pas à partir de ce lien. Ouvrez l'application TiersPay ou contactez votre assureur.",
};

static EN: Texts = Texts {
    colon: ": ",
    skip: "Skip to content",
    invoice_title: "Invoice",
    details: "Invoice details",
    member: "Member",
    contract: "Contract",
    number: "Number",
    description: "For",
    amount_due: "Amount due",
    amount_remaining: "Left to pay",
    due_date: "Due date",
    status: "Status",
    reference: "Reference",
    status_open: "To pay",
    status_partial: "Partly paid",
    status_paid: "Paid",
    status_void: "Cancelled",
    status_uncollectible: "In collection, still payable",
    card_heading: "Pay by card",
    card_explain: "You will enter your card on our payment provider's secure page. Neither TiersPay nor your insurer sees your card number.",
    card_button: "Pay by card",
    transfer_heading: "Pay by SEPA transfer",
    transfer_explain: "Scan the code with your banking app, or type these details. Give the reference exactly as shown: it is what matches your transfer to this invoice.",
    beneficiary: "Beneficiary",
    iban: "IBAN",
    bic: "BIC",
    transfer_amount: "Amount",
    transfer_reference: "Transfer reference",
    qr_alt: "SEPA transfer QR code (EPC): beneficiary, IBAN, amount and reference below",
    paid_heading: "Already paid",
    paid_text: "This invoice is settled. You have nothing to pay.",
    receipt: "Receipt",
    paid_on: "Paid on",
    paid_amount: "Amount paid",
    paid_method: "Payment method",
    method_card: "Card",
    method_transfer: "SEPA transfer",
    method_out_of_band: "Recorded by your insurer",
    void_text: "This invoice was cancelled. You have nothing to pay.",
    declined: "The last card payment was declined. You can try again, with another card or by transfer.",
    pending: "A card payment is waiting for its authentication.",
    legal_heading: "Who is writing to you",
    registration: "Registration",
    contact: "Contact",
    never_ask: "We will never ask for your password, or for your card number by email, SMS or phone.",
    expired_heading: "This link has expired",
    expired_text: "For your safety, payment links last a limited time. We can send a fresh link to the address we already have:",
    resend_button: "Send a fresh link",
    resent_heading: "Fresh link sent",
    resent_text: "A fresh link was sent to",
    no_address: "We have no address to send you a fresh link. Open the TiersPay app or contact your insurer.",
    refused_heading: "Payment link refused",
    refused_text: "This link was not issued by TiersPay, or it was altered or cut. Do not pay from it. Open the TiersPay app or contact your insurer.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_unless_english_is_preferred() {
        assert_eq!(negotiate(None), Lang::Fr);
        assert_eq!(negotiate(Some("de-DE")), Lang::Fr);
        assert_eq!(negotiate(Some("en-GB,en;q=0.9,fr;q=0.8")), Lang::En);
        assert_eq!(negotiate(Some("en;q=0.5, fr-FR")), Lang::Fr);
        assert_eq!(Lang::En.tag(), "en");
    }

    #[test]
    fn money_and_dates_in_each_language() {
        let d = time::macros::date!(2026 - 12 - 31);
        assert_eq!(Lang::Fr.date(d), "31/12/2026");
        assert_eq!(Lang::En.date(d), "31 December 2026");
        assert_eq!(Lang::Fr.money(4250), "42,50\u{a0}€");
        assert_eq!(Lang::En.money(123450), "€1,234.50");
    }
}
