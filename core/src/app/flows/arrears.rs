//! The arrears screens' state machine, pure: the invoice list (shown offline from the phone's
//! store, then refreshed), an invoice's detail, and a payment link opened from a push, an email
//! or an SMS (verified by the core before anything of it is shown). Each intent changes the
//! state and returns the [`Effect`]s to run; answers come back with their request, so one the
//! member overtook (another link opened, another refresh) is dropped.

pub use super::Failure;
#[cfg(test)]
use super::FailureKind;
use crate::app::arrears::LinkOpening;
use crate::app::outbox::PayResult;
use crate::store::{OutboxRow, StoredInvoice};

/// I/O the driver runs, then reports back with `request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Download the invoices (`Core::sync_invoices`).
    Sync {
        /// The request's token.
        request: u64,
    },
    /// Verify a link (`Core::open_link`).
    Open {
        /// The request's token.
        request: u64,
        /// The link as received.
        url: String,
    },
    /// Send the queued refusal reports (`Core::report_link_refusals`); nothing comes back.
    Report,
    /// Pay an invoice (`Core::pay_invoice`: the outbox row first, then a send if online).
    Pay {
        /// The request's token.
        request: u64,
        /// The `in_…` to pay.
        invoice_id: String,
    },
    /// Send the outbox (`Core::send_outbox`), then read the invoices and payments again.
    SendOutbox,
    /// Read the invoices and payments from the store again (no network).
    Reload,
}

/// What the screens show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrearsState {
    /// The invoices as last synced; `None` when never synced on this phone.
    pub invoices: Option<Vec<StoredInvoice>>,
    /// When they were synced, Unix seconds.
    pub synced_at: Option<i64>,
    /// The invoice whose detail is open.
    pub selected: Option<String>,
    /// The link last opened, verified or refused.
    pub opened: Option<LinkOpening>,
    /// A sync is under way.
    pub syncing: bool,
    /// A link is being verified (a short link needs the server).
    pub opening: bool,
    /// The last failure of a sync, of opening a link or of paying.
    pub error: Option<Failure>,
    /// The phone's latest payment row of each invoice that has one.
    pub payments: Vec<OutboxRow>,
    /// Invoices whose "pay" tap is being written (a second tap meanwhile does nothing).
    pub paying: Vec<String>,
    /// The answer of the last "pay": a payment was already queued for it.
    pub already_queued: Option<String>,
}

/// The machine.
#[derive(Debug, Default)]
pub struct ArrearsMachine {
    state: ArrearsState,
    next_request: u64,
    sync_request: Option<u64>,
    open_request: Option<u64>,
    pay_requests: Vec<(u64, String)>,
}

impl ArrearsMachine {
    /// A machine showing what the phone had (`None`: never synced).
    pub fn new(offline: Option<(Vec<StoredInvoice>, i64)>) -> Self {
        let mut m = Self::default();
        if let Some((list, at)) = offline {
            m.state.invoices = Some(list);
            m.state.synced_at = Some(at);
        }
        m
    }

    /// The latest payment row of `invoice_id`, if the phone paid it.
    pub fn payment_of(&self, invoice_id: &str) -> Option<&OutboxRow> {
        self.state.payments.iter().find(|r| r.subject == invoice_id)
    }

    /// "Pay" tapped on an invoice: written to the outbox by the core; a tap while one is being
    /// written, or while its payment is unfinished, asks nothing more.
    pub fn pay(&mut self, invoice_id: &str) -> Vec<Effect> {
        let unfinished = self
            .payment_of(invoice_id)
            .is_some_and(|r| r.state.unfinished());
        if unfinished {
            self.state.already_queued = Some(invoice_id.to_owned());
            return Vec::new();
        }
        if self.state.paying.iter().any(|i| i == invoice_id) {
            return Vec::new();
        }
        let request = self.request();
        self.pay_requests.push((request, invoice_id.to_owned()));
        self.state.paying.push(invoice_id.to_owned());
        self.state.already_queued = None;
        self.state.error = None;
        vec![Effect::Pay {
            request,
            invoice_id: invoice_id.to_owned(),
        }]
    }

    /// The answer of a "pay": its row shows at once, then the store is read again (the answer
    /// may have updated the invoice).
    pub fn paid(&mut self, request: u64, answer: Result<PayResult, Failure>) -> Vec<Effect> {
        let Some(at) = self.pay_requests.iter().position(|(r, _)| *r == request) else {
            return Vec::new();
        };
        let (_, invoice_id) = self.pay_requests.remove(at);
        self.state.paying.retain(|i| *i != invoice_id);
        match answer {
            Ok(result) => {
                if result.already_queued {
                    self.state.already_queued = Some(invoice_id);
                }
                self.set_payment(result.row);
                vec![Effect::Reload]
            }
            Err(f) => {
                self.state.error = Some(f);
                Vec::new()
            }
        }
    }

    fn set_payment(&mut self, row: OutboxRow) {
        self.state.payments.retain(|r| r.subject != row.subject);
        self.state.payments.push(row);
        self.state.payments.sort_by_key(|r| r.seq);
    }

    /// The shell says the network is back: the outbox goes first, then a refresh.
    pub fn network_available(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::SendOutbox];
        effects.extend(self.refresh());
        effects
    }

    /// What the store holds now (after an event, a send or a payment): invoices and payments.
    pub fn reloaded(
        &mut self,
        offline: Option<(Vec<StoredInvoice>, i64)>,
        payments: Vec<OutboxRow>,
    ) {
        if let Some((list, at)) = offline {
            self.state.invoices = Some(list);
            self.state.synced_at = Some(at);
            if self.selected_invoice().is_none() {
                self.state.selected = None;
            }
        }
        self.state.payments = payments;
        self.state.payments.sort_by_key(|r| r.seq);
    }

    /// The state as it stands.
    pub fn state(&self) -> &ArrearsState {
        &self.state
    }

    /// The selected invoice, if it is still in the list.
    pub fn selected_invoice(&self) -> Option<&StoredInvoice> {
        let id = self.state.selected.as_deref()?;
        self.state.invoices.as_ref()?.iter().find(|i| i.id == id)
    }

    fn request(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    /// Refresh the list (the first one at start, the member's pull later). One at a time.
    pub fn refresh(&mut self) -> Vec<Effect> {
        if self.state.syncing {
            return Vec::new();
        }
        let request = self.request();
        self.sync_request = Some(request);
        self.state.syncing = true;
        vec![Effect::Sync { request }]
    }

    /// The sync's answer.
    pub fn synced(&mut self, request: u64, answer: Result<(Vec<StoredInvoice>, i64), Failure>) {
        if self.sync_request != Some(request) {
            return;
        }
        self.sync_request = None;
        self.state.syncing = false;
        match answer {
            Ok((list, at)) => {
                self.state.invoices = Some(list);
                self.state.synced_at = Some(at);
                self.state.error = None;
                // An invoice the server no longer lists closes its detail.
                if self.selected_invoice().is_none() {
                    self.state.selected = None;
                }
            }
            // The list on screen stays: offline, the last one is still true enough to read.
            Err(f) => self.state.error = Some(f),
        }
    }

    /// A link arrived (App Link, universal link, the scheme, a tapped push): whatever was open
    /// is replaced by nothing until the core has verified it.
    pub fn open_link(&mut self, url: String) -> Vec<Effect> {
        let request = self.request();
        self.open_request = Some(request);
        self.state.opened = None;
        self.state.opening = true;
        self.state.error = None;
        vec![Effect::Open { request, url }]
    }

    /// The verification's answer; a refusal asks for the reports to be sent.
    pub fn link_opened(
        &mut self,
        request: u64,
        answer: Result<LinkOpening, Failure>,
    ) -> Vec<Effect> {
        if self.open_request != Some(request) {
            return Vec::new();
        }
        self.open_request = None;
        self.state.opening = false;
        match answer {
            Ok(opening) => {
                let refused = matches!(opening, LinkOpening::Refused(_));
                self.state.opened = Some(opening);
                if refused {
                    return vec![Effect::Report];
                }
            }
            Err(f) => self.state.error = Some(f),
        }
        Vec::new()
    }

    /// Opens an invoice's detail; an id not in the list changes nothing.
    pub fn select(&mut self, id: &str) {
        let known = self
            .state
            .invoices
            .as_ref()
            .is_some_and(|l| l.iter().any(|i| i.id == id));
        if known {
            self.state.selected = Some(id.to_owned());
        }
    }

    /// Back: closes the opened link first, then the detail.
    pub fn back(&mut self) {
        if self.state.opened.is_some() || self.state.opening {
            self.state.opened = None;
            self.state.opening = false;
            self.open_request = None;
        } else {
            self.state.selected = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::arrears::{InvoiceLink, LinkRefusal};
    use crate::domain::payment_link::Channel;

    fn invoice(id: &str) -> StoredInvoice {
        StoredInvoice::open_for_tests(id)
    }

    fn network() -> Failure {
        Failure {
            kind: FailureKind::Network,
            field: None,
            message: "offline".into(),
            code: None,
        }
    }

    fn link() -> LinkOpening {
        LinkOpening::Invoice(InvoiceLink {
            invoice_number: 7,
            amount_minor: 4250,
            currency: "EUR".into(),
            expires_at: 10,
            channel: Channel::Email,
            key_id: 1,
            page_url: "https://app.tierspay.fr/l/x".into(),
        })
    }

    #[test]
    fn the_offline_list_shows_at_once_and_a_failed_refresh_keeps_it() {
        let mut m = ArrearsMachine::new(Some((vec![invoice("in_a")], 5)));
        assert_eq!(m.state().invoices.as_ref().unwrap().len(), 1);
        let effects = m.refresh();
        assert_eq!(effects, vec![Effect::Sync { request: 1 }]);
        assert!(m.refresh().is_empty(), "one sync at a time");
        m.synced(1, Err(network()));
        assert!(!m.state().syncing);
        assert_eq!(m.state().invoices.as_ref().unwrap()[0].id, "in_a");
        assert_eq!(m.state().error, Some(network()));
        m.refresh();
        m.synced(2, Ok((vec![invoice("in_b")], 9)));
        assert_eq!(m.state().invoices.as_ref().unwrap()[0].id, "in_b");
        assert_eq!(
            (m.state().synced_at, m.state().error.clone()),
            (Some(9), None)
        );
    }

    #[test]
    fn a_detail_closes_when_its_invoice_leaves_the_list() {
        let mut m = ArrearsMachine::new(Some((vec![invoice("in_a")], 5)));
        m.select("in_zz");
        assert_eq!(m.state().selected, None, "unknown ids open nothing");
        m.select("in_a");
        assert_eq!(m.selected_invoice().unwrap().id, "in_a");
        m.refresh();
        m.synced(1, Ok((vec![invoice("in_b")], 9)));
        assert_eq!(m.state().selected, None);
    }

    #[test]
    fn only_the_last_link_opened_is_shown_and_a_refusal_asks_for_reports() {
        let mut m = ArrearsMachine::new(None);
        let first = m.open_link("https://app.tierspay.fr/l/a".into());
        let second = m.open_link("https://app.tierspay.fr/l/b".into());
        let (Effect::Open { request: r1, .. }, Effect::Open { request: r2, .. }) =
            (&first[0], &second[0])
        else {
            panic!("open effects");
        };
        assert!(m.link_opened(*r1, Ok(link())).is_empty());
        assert_eq!(m.state().opened, None, "an overtaken answer is dropped");
        assert!(m.state().opening);
        let effects = m.link_opened(*r2, Ok(LinkOpening::Refused(LinkRefusal::BadSignature)));
        assert_eq!(effects, vec![Effect::Report]);
        assert_eq!(
            m.state().opened,
            Some(LinkOpening::Refused(LinkRefusal::BadSignature))
        );
        m.back();
        assert_eq!(m.state().opened, None);
    }

    fn queued(seq: i64, invoice: &str) -> OutboxRow {
        OutboxRow {
            seq,
            kind: "invoice_payment".into(),
            subject: invoice.into(),
            idempotency_key: Some(format!("idk_{seq}")),
            body: "{}".into(),
            amount: Some(4250),
            currency: Some("EUR".into()),
            state: crate::store::OutboxState::Queued,
            attempts: 0,
            last_error: None,
            answer: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_second_tap_on_pay_while_the_first_is_written_or_queued_asks_nothing() {
        let mut m = ArrearsMachine::new(Some((vec![invoice("in_a")], 5)));
        let effects = m.pay("in_a");
        let [Effect::Pay { request, .. }] = effects.as_slice() else {
            panic!("one pay effect: {effects:?}");
        };
        assert!(m.pay("in_a").is_empty(), "being written");
        let after = m.paid(
            *request,
            Ok(PayResult {
                row: queued(1, "in_a"),
                already_queued: false,
            }),
        );
        assert_eq!(after, vec![Effect::Reload]);
        assert!(m.state().paying.is_empty());
        assert!(m.pay("in_a").is_empty(), "queued");
        assert_eq!(m.state().already_queued.as_deref(), Some("in_a"));
        assert_eq!(m.payment_of("in_a").unwrap().seq, 1);
        // A failure of the write itself is shown and frees the button.
        let mut m = ArrearsMachine::new(Some((vec![invoice("in_b")], 5)));
        let Effect::Pay { request, .. } = m.pay("in_b")[0].clone() else {
            panic!("pay");
        };
        assert!(m.paid(request, Err(network())).is_empty());
        assert_eq!(m.state().error, Some(network()));
        assert_eq!(m.pay("in_b").len(), 1);
    }

    #[test]
    fn the_network_coming_back_sends_the_outbox_before_the_refresh() {
        let mut m = ArrearsMachine::new(None);
        assert_eq!(
            m.network_available(),
            vec![Effect::SendOutbox, Effect::Sync { request: 1 }]
        );
        assert_eq!(
            m.network_available(),
            vec![Effect::SendOutbox],
            "one sync at a time"
        );
        m.reloaded(Some((vec![invoice("in_a")], 7)), vec![queued(3, "in_a")]);
        assert_eq!(m.state().synced_at, Some(7));
        assert_eq!(m.payment_of("in_a").unwrap().seq, 3);
    }

    #[test]
    fn back_closes_the_link_before_the_detail() {
        let mut m = ArrearsMachine::new(Some((vec![invoice("in_a")], 5)));
        m.select("in_a");
        let e = m.open_link("tierspay://l/a".into());
        let Effect::Open { request, .. } = e[0].clone() else {
            panic!("open effect");
        };
        m.link_opened(request, Ok(link()));
        m.back();
        assert_eq!(m.state().selected.as_deref(), Some("in_a"));
        m.back();
        assert_eq!(m.state().selected, None);
    }
}
