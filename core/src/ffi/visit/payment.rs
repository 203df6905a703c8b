//! The paying part of the visit flow: authorize, follow and cancel the visit the virtual card
//! is armed for. Kept beside the flow's object so the screen's state stays one record; the
//! steps are the machine's ([`crate::app::flows::visit`]), the requests `app/visits.rs`'s.

use std::sync::Arc;

use super::{failure, FfiVisit, VisitFlow};
use crate::app::flows::visit::{is_active, AuthorizeFailure, Effect, VisitMachine};
use crate::app::AuthorizeRefusal;
use crate::ffi::payments::{StaleFigures, Visit};
use crate::wire;

/// What the visit screen draws once the figures are shown: paying with the card.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitPayment {
    /// "Pay with my card" can be asked (figures shown, nothing under way, no visit yet).
    pub can_authorize: bool,
    /// The authorization is under way.
    pub authorizing: bool,
    /// The choices cannot change: a visit is being authorized or has been.
    pub locked: bool,
    /// The visit authorized: its status, `expires_at` for the countdown, and once paid the
    /// sentence and the receipt.
    pub visit: Option<Visit>,
    /// The server's figures after a stale preview: `authorize()` again accepts them.
    pub stale: Option<StaleFigures>,
    /// `cancel()` applies: the card is armed and not tapped yet.
    pub can_cancel: bool,
    /// The visit is being cancelled.
    pub canceling: bool,
    /// The visit is being read again.
    pub refreshing: bool,
}

/// The paying part of the machine's state.
pub(super) fn state(m: &VisitMachine<FfiVisit>) -> VisitPayment {
    let s = m.state();
    VisitPayment {
        can_authorize: m.can_authorize(),
        authorizing: s.authorizing,
        locked: m.locked(),
        visit: s.visit.clone().map(Into::into),
        stale: s.stale.clone().map(Into::into),
        can_cancel: s
            .visit
            .as_ref()
            .is_some_and(|v| v.status == wire::VisitStatus::Armed && !s.canceling),
        canceling: s.canceling,
        refreshing: s.refreshing,
    }
}

impl VisitFlow {
    /// Runs the paying effects.
    pub(super) async fn run_payment(self: Arc<Self>, effect: Effect) {
        match effect {
            Effect::Authorize {
                request,
                preview_id,
                quote,
            } => {
                let answer = self
                    .core
                    .authorize_visit(&request, Some(&preview_id), quote.as_ref())
                    .await;
                self.apply(move |m| {
                    m.authorize_failed_or(answer);
                    Vec::new()
                });
            }
            Effect::RefreshVisit { visit_id } => {
                let answer = self.core.refresh_visit(&visit_id).await;
                self.visit_answer(visit_id, answer);
            }
            Effect::CancelVisit { visit_id } => {
                let answer = self.core.cancel_visit(&visit_id).await;
                self.visit_answer(visit_id, answer);
            }
            Effect::FindArmedVisit => {
                let now = crate::net::unix_now();
                let armed = self.core.visits().ok().and_then(|visits| {
                    visits
                        .into_iter()
                        .find(|v| is_active(v.status) && v.expires_at > now)
                });
                if let Some(v) = armed {
                    self.apply(move |m| {
                        m.armed_found(v);
                        Vec::new()
                    });
                }
            }
            _ => {}
        }
    }

    fn visit_answer(self: &Arc<Self>, visit_id: String, answer: crate::error::Result<wire::Visit>) {
        self.apply(move |m| {
            match answer {
                Ok(v) => m.visit_updated(v),
                Err(e) => m.visit_failed(&visit_id, failure(e)),
            }
            Vec::new()
        });
    }
}

trait Authorized {
    fn authorize_failed_or(&mut self, answer: Result<wire::Visit, AuthorizeRefusal>);
}

impl Authorized for VisitMachine<FfiVisit> {
    /// The authorization's answer, as the machine's.
    fn authorize_failed_or(&mut self, answer: Result<wire::Visit, AuthorizeRefusal>) {
        match answer {
            Ok(visit) => self.authorized(visit),
            Err(AuthorizeRefusal::Stale(q)) => self.authorize_failed(AuthorizeFailure::Stale(q)),
            Err(AuthorizeRefusal::Declined { decline_code, .. }) => {
                let s = crate::domain::payment::decline_sentence(&decline_code);
                self.authorize_failed(AuthorizeFailure::Declined {
                    message: s.en,
                    decline_code,
                })
            }
            Err(AuthorizeRefusal::Failed(e)) => {
                self.authorize_failed(AuthorizeFailure::Failed(failure(e)))
            }
        }
    }
}

#[uniffi::export]
impl VisitFlow {
    /// "Pay with my card": arms the virtual card for the figures shown (or the server's, after
    /// a stale answer); the state then shows the visit and its `expires_at`.
    pub fn authorize(self: Arc<Self>) {
        self.apply(|m| m.authorize());
    }

    /// Cancels the armed visit (before the tap).
    pub fn cancel(self: Arc<Self>) {
        self.apply(|m| m.cancel());
    }

    /// Reads the visit again: when the countdown ends, when a push says the visit changed, or
    /// when the screen comes back to the front.
    pub fn refresh(self: Arc<Self>) {
        self.apply(|m| m.refresh());
    }
}
