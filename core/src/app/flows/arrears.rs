//! The arrears screens' state machine, pure: the invoice list (shown offline from the phone's
//! store, then refreshed), an invoice's detail, and a payment link opened from a push, an email
//! or an SMS (verified by the core before anything of it is shown). Each intent changes the
//! state and returns the [`Effect`]s to run; answers come back with their request, so one the
//! member overtook (another link opened, another refresh) is dropped.

pub use super::Failure;
#[cfg(test)]
use super::FailureKind;
use crate::app::arrears::LinkOpening;
use crate::store::StoredInvoice;

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
    /// The last failure of a sync or of opening a link.
    pub error: Option<Failure>,
}

/// The machine.
#[derive(Debug, Default)]
pub struct ArrearsMachine {
    state: ArrearsState,
    next_request: u64,
    sync_request: Option<u64>,
    open_request: Option<u64>,
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
    use crate::store::StoredInvoiceStatus;

    fn invoice(id: &str) -> StoredInvoice {
        StoredInvoice {
            id: id.into(),
            number: None,
            status: StoredInvoiceStatus::Open,
            source: "premium".into(),
            description: None,
            contract_ref: "TP1000001".into(),
            currency: "EUR".into(),
            amount_due: 4250,
            amount_paid: 0,
            amount_remaining: 4250,
            due_date: None,
            rf_reference: None,
            created: 1,
        }
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
