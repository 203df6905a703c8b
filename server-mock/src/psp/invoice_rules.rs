//! The invoice's state machine and its arithmetic, pure: no database, no clock. `invoices/`
//! and `credit_notes.rs` read a row, ask these functions what follows, and write the answer.
//!
//! Stripe's rules, mirrored: `draft → open → paid | void | uncollectible`, an uncollectible
//! invoice can still be paid, only a draft may be edited or deleted, only an open invoice may be
//! voided or marked uncollectible. The amounts always satisfy
//! `amount_due = total − pre_payment_credit_notes_amount`,
//! `amount_remaining = amount_due − amount_paid ≥ 0`; money beyond what is due is never
//! dropped: it is `amount_overpaid`, for the caller to refund. A credit note first lowers what
//! remains (its pre-payment part), and whatever exceeds that (its post-payment part) must be
//! covered by a refund or an out-of-band credit.

/// Where an invoice stands (Stripe's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Editable, not yet due; no number, no link.
    Draft,
    /// Finalized and due.
    Open,
    /// Nothing remains to pay.
    Paid,
    /// Cancelled; nothing is owed.
    Void,
    /// Written off, still payable.
    Uncollectible,
}

impl Status {
    /// Stripe's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
            Self::Uncollectible => "uncollectible",
        }
    }

    /// From Stripe's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "open" => Self::Open,
            "paid" => Self::Paid,
            "void" => Self::Void,
            "uncollectible" => Self::Uncollectible,
            _ => return None,
        })
    }

    /// Every status, for `status` filters.
    pub const ALL: [&'static str; 5] = ["draft", "open", "paid", "void", "uncollectible"];

    /// Money may still be taken for it.
    fn collectible(self) -> bool {
        matches!(self, Self::Open | Self::Uncollectible)
    }
}

/// What a caller wants done to an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Change fields or lines (`POST /v1/invoices/{id}`).
    Update,
    /// Delete it.
    Delete,
    /// Number it and make it due.
    Finalize,
    /// Send it to the customer.
    Send,
    /// Void it.
    Void,
    /// Write it off.
    MarkUncollectible,
}

/// Why a rule refused: Stripe's error code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stripe's `code` (`invoice_not_editable`, `invoice_unexpected_state`, `amount_too_large`, …).
    pub code: &'static str,
    /// For the error's `message`.
    pub message: String,
}

fn refusal(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// The status after `action`, or why it is refused from `status` (Stripe's messages).
pub fn transition(status: Status, action: Action) -> Result<Status, Refusal> {
    use Action as A;
    use Status as S;
    match (action, status) {
        (A::Update, S::Draft) => Ok(S::Draft),
        (A::Update, _) => Err(refusal(
            "invoice_not_editable",
            format!(
                "You can only update draft invoices; this invoice is {}. Issue a credit note to correct a finalized invoice.",
                status.as_str()
            ),
        )),
        (A::Delete, S::Draft) => Ok(S::Draft),
        (A::Delete, _) => Err(refusal(
            "invoice_not_editable",
            "You can only delete draft invoices. Void an open invoice instead.",
        )),
        (A::Finalize, S::Draft) => Ok(S::Open),
        (A::Finalize, _) => Err(refusal(
            "invoice_unexpected_state",
            format!("This invoice is already finalized (status {}).", status.as_str()),
        )),
        (A::Send, S::Open | S::Uncollectible) => Ok(status),
        (A::Send, _) => Err(refusal(
            "invoice_unexpected_state",
            format!(
                "You can only send an open or uncollectible invoice; this invoice is {}.",
                status.as_str()
            ),
        )),
        (A::Void, S::Open | S::Uncollectible) => Ok(S::Void),
        (A::Void, _) => Err(refusal(
            "invoice_unexpected_state",
            format!(
                "You can only void an open or uncollectible invoice; this invoice is {}.",
                status.as_str()
            ),
        )),
        (A::MarkUncollectible, S::Open) => Ok(S::Uncollectible),
        (A::MarkUncollectible, _) => Err(refusal(
            "invoice_unexpected_state",
            format!(
                "You can only mark an open invoice uncollectible; this invoice is {}.",
                status.as_str()
            ),
        )),
    }
}

/// An invoice's money, minor units. `amount_due`, `amount_remaining` follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    /// Sum of the lines.
    pub total: i64,
    /// Credited before payment (lowers what is due).
    pub pre_payment_credit: i64,
    /// Credited after payment (refunded or credited out of band).
    pub post_payment_credit: i64,
    /// Paid towards what is due, never above it.
    pub paid: i64,
    /// Received beyond what was due, to be refunded.
    pub overpaid: i64,
}

impl Amounts {
    /// A draft's amounts for `total`.
    #[cfg(test)]
    pub fn new(total: i64) -> Self {
        Self {
            total,
            ..Self::default()
        }
    }

    /// Stripe's `amount_due`.
    pub fn due(&self) -> i64 {
        self.total - self.pre_payment_credit
    }

    /// Stripe's `amount_remaining`.
    pub fn remaining(&self) -> i64 {
        self.due() - self.paid
    }

    /// What credit notes may still take from the invoice.
    pub fn creditable(&self) -> i64 {
        self.total - self.pre_payment_credit - self.post_payment_credit
    }

    /// The invariants every stored invoice keeps.
    pub fn consistent(&self) -> bool {
        self.total >= 0
            && self.pre_payment_credit >= 0
            && self.post_payment_credit >= 0
            && self.paid >= 0
            && self.overpaid >= 0
            && self.creditable() >= 0
            && self.remaining() >= 0
    }
}

/// How a payment is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayMode {
    /// A payment asked for through the API (`/pay`): at most what remains, on an invoice that
    /// still owes something.
    Exact,
    /// Money that has already arrived (a transfer, a captured card): it is taken whatever the
    /// state of a finalized invoice; beyond what remains it is overpaid, never refused.
    Received,
}

/// What one payment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payment {
    /// Lowered `amount_remaining` by this much.
    pub applied: i64,
    /// Beyond what remained: added to `amount_overpaid`.
    pub overpaid: i64,
    /// This payment made the invoice paid.
    pub settled: bool,
}

/// A payment of `amount` on an invoice in `status` with `amounts`: the new amounts, status and
/// what the payment did.
pub fn pay(
    status: Status,
    amounts: Amounts,
    amount: i64,
    mode: PayMode,
) -> Result<(Amounts, Status, Payment), Refusal> {
    match (status, mode) {
        (Status::Draft, _) => {
            return Err(refusal(
                "invoice_unexpected_state",
                "This invoice is a draft: finalize it before paying it.",
            ))
        }
        (Status::Void, _) => {
            return Err(refusal(
                "invoice_unexpected_state",
                "This invoice is void and cannot be paid.",
            ))
        }
        (Status::Paid, PayMode::Exact) => {
            return Err(refusal("invoice_already_paid", "Invoice is already paid."))
        }
        _ => {}
    }
    if amount <= 0 {
        return Err(refusal("amount_too_small", "A payment must be at least 1."));
    }
    let remaining = amounts.remaining();
    if mode == PayMode::Exact && amount > remaining {
        return Err(refusal(
            "amount_too_large",
            format!("The amount ({amount}) is greater than the invoice's amount_remaining ({remaining})."),
        ));
    }
    let applied = amount.min(remaining);
    let excess = amount - applied;
    let after = Amounts {
        paid: amounts.paid + applied,
        overpaid: amounts.overpaid.saturating_add(excess),
        ..amounts
    };
    let settled = status.collectible() && after.remaining() == 0;
    let next = if settled { Status::Paid } else { status };
    Ok((
        after,
        next,
        Payment {
            applied,
            overpaid: excess,
            settled,
        },
    ))
}

/// How a credit note of `amount` splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    /// Lowers `amount_due` and `amount_remaining`.
    pub pre_payment: i64,
    /// Beyond what remained: refunded or credited out of band.
    pub post_payment: i64,
    /// The credit left nothing to pay: the invoice is paid.
    pub settled: bool,
}

impl Credit {
    /// Stripe's credit note `type`.
    pub fn kind(&self) -> &'static str {
        match (self.pre_payment > 0, self.post_payment > 0) {
            (true, true) => "mixed",
            (false, true) => "post_payment",
            _ => "pre_payment",
        }
    }
}

/// A credit note of `amount`, `covered` of which is refunded or credited out of band: first
/// it lowers what remains, the rest is post-payment and must be exactly `covered`.
pub fn credit(
    status: Status,
    amounts: Amounts,
    amount: i64,
    covered: i64,
) -> Result<(Amounts, Status, Credit), Refusal> {
    if matches!(status, Status::Draft | Status::Void) {
        return Err(refusal(
            "invoice_unexpected_state",
            format!(
                "You can only issue a credit note for an open, paid or uncollectible invoice; this invoice is {}.",
                status.as_str()
            ),
        ));
    }
    if amount <= 0 {
        return Err(refusal(
            "amount_too_small",
            "A credit note must be at least 1.",
        ));
    }
    if amount > amounts.creditable() {
        return Err(refusal(
            "amount_too_large",
            format!(
                "The credit note's amount ({amount}) is greater than what the invoice can still be credited ({}).",
                amounts.creditable()
            ),
        ));
    }
    let pre = if status.collectible() {
        amount.min(amounts.remaining())
    } else {
        0
    };
    let post = amount - pre;
    if covered != post {
        return Err(refusal(
            "credit_note_amounts_mismatch",
            format!(
                "The post-payment part of this credit note ({post}) must equal refund_amount + out_of_band_amount ({covered})."
            ),
        ));
    }
    let after = Amounts {
        pre_payment_credit: amounts.pre_payment_credit + pre,
        post_payment_credit: amounts.post_payment_credit + post,
        ..amounts
    };
    let settled = status.collectible() && after.remaining() == 0;
    let next = if settled { Status::Paid } else { status };
    Ok((
        after,
        next,
        Credit {
            pre_payment: pre,
            post_payment: post,
            settled,
        },
    ))
}

/// Voiding a credit note gives back its parts. Its pre-payment part makes the amount owed
/// again, which only an invoice still collecting can take (a paid invoice would owe money
/// after being settled, a void one owes nothing).
pub fn void_credit(
    status: Status,
    amounts: Amounts,
    pre_payment: i64,
    post_payment: i64,
) -> Result<Amounts, Refusal> {
    if pre_payment > 0 && !status.collectible() {
        return Err(refusal(
            "credit_note_unexpected_state",
            format!(
                "This credit note lowered what was due and its invoice is now {}: voiding it would make a settled invoice owe money again.",
                status.as_str()
            ),
        ));
    }
    let after = Amounts {
        pre_payment_credit: amounts.pre_payment_credit - pre_payment,
        post_payment_credit: amounts.post_payment_credit - post_payment,
        ..amounts
    };
    if !after.consistent() {
        return Err(refusal(
            "credit_note_unexpected_state",
            "This credit note does not match its invoice's credited amounts.",
        ));
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OPEN: Status = Status::Open;

    #[test]
    fn only_a_draft_is_edited_finalized_or_deleted() {
        assert_eq!(transition(Status::Draft, Action::Update), Ok(Status::Draft));
        assert_eq!(
            transition(Status::Draft, Action::Finalize),
            Ok(Status::Open)
        );
        assert_eq!(transition(Status::Draft, Action::Delete), Ok(Status::Draft));
        for s in [OPEN, Status::Paid, Status::Void, Status::Uncollectible] {
            assert_eq!(
                transition(s, Action::Update).unwrap_err().code,
                "invoice_not_editable"
            );
            assert_eq!(
                transition(s, Action::Delete).unwrap_err().code,
                "invoice_not_editable"
            );
            assert!(transition(s, Action::Finalize).is_err());
        }
    }

    #[test]
    fn void_and_uncollectible_follow_stripe() {
        assert_eq!(transition(OPEN, Action::Void), Ok(Status::Void));
        assert_eq!(
            transition(Status::Uncollectible, Action::Void),
            Ok(Status::Void)
        );
        assert_eq!(
            transition(OPEN, Action::MarkUncollectible),
            Ok(Status::Uncollectible)
        );
        for s in [Status::Draft, Status::Paid, Status::Void] {
            assert!(transition(s, Action::Void).is_err());
            assert!(transition(s, Action::Send).is_err());
        }
        for s in [
            Status::Draft,
            Status::Paid,
            Status::Void,
            Status::Uncollectible,
        ] {
            assert!(transition(s, Action::MarkUncollectible).is_err());
        }
    }

    #[test]
    fn partial_payments_lower_what_remains_and_the_last_settles() {
        let a = Amounts::new(4250);
        let (a, s, p) = pay(OPEN, a, 1000, PayMode::Exact).unwrap();
        assert_eq!((a.remaining(), s, p.settled), (3250, OPEN, false));
        let (a, s, p) = pay(s, a, 3250, PayMode::Exact).unwrap();
        assert_eq!(
            (a.remaining(), a.paid, s, p.settled),
            (0, 4250, Status::Paid, true)
        );
    }

    #[test]
    fn a_manual_payment_above_what_remains_is_refused_money_received_is_overpaid() {
        let a = Amounts::new(1000);
        assert_eq!(
            pay(OPEN, a, 1001, PayMode::Exact).unwrap_err().code,
            "amount_too_large"
        );
        let (a, s, p) = pay(OPEN, a, 1500, PayMode::Received).unwrap();
        assert_eq!(
            (a.paid, a.overpaid, s, p.overpaid),
            (1000, 500, Status::Paid, 500)
        );
        // A transfer after a card payment: all of it is overpaid, the status stays paid.
        let (a, s, p) = pay(s, a, 1000, PayMode::Received).unwrap();
        assert_eq!(
            (a.paid, a.overpaid, s, p.applied, p.settled),
            (1000, 1500, Status::Paid, 0, false)
        );
    }

    #[test]
    fn void_draft_and_paid_refuse_an_api_payment() {
        let a = Amounts::new(1000);
        assert_eq!(
            pay(Status::Paid, a, 10, PayMode::Exact).unwrap_err().code,
            "invoice_already_paid"
        );
        for mode in [PayMode::Exact, PayMode::Received] {
            assert!(pay(Status::Void, a, 10, mode).is_err());
            assert!(pay(Status::Draft, a, 10, mode).is_err());
            assert!(pay(OPEN, a, 0, mode).is_err());
            assert!(pay(OPEN, a, -5, mode).is_err());
        }
    }

    #[test]
    fn an_uncollectible_invoice_can_still_be_paid() {
        let (_, s, p) = pay(
            Status::Uncollectible,
            Amounts::new(900),
            900,
            PayMode::Exact,
        )
        .unwrap();
        assert_eq!((s, p.settled), (Status::Paid, true));
    }

    #[test]
    fn a_credit_note_lowers_what_is_due_and_to_zero_settles() {
        let a = Amounts::new(3000);
        let (a, s, c) = credit(OPEN, a, 1000, 0).unwrap();
        assert_eq!(
            (a.due(), a.remaining(), s, c.kind()),
            (2000, 2000, OPEN, "pre_payment")
        );
        let (a, s, c) = credit(s, a, 2000, 0).unwrap();
        assert_eq!((a.due(), s, c.settled), (0, Status::Paid, true));
        assert_eq!(credit(s, a, 1, 1).unwrap_err().code, "amount_too_large");
    }

    #[test]
    fn a_credit_beyond_what_remains_must_be_covered() {
        let (a, s, _) = pay(OPEN, Amounts::new(3000), 2500, PayMode::Exact).unwrap();
        assert_eq!(
            credit(s, a, 1000, 0).unwrap_err().code,
            "credit_note_amounts_mismatch"
        );
        let (a, s, c) = credit(s, a, 1000, 500).unwrap();
        assert_eq!(
            (c.pre_payment, c.post_payment, c.kind()),
            (500, 500, "mixed")
        );
        assert_eq!((a.due(), a.remaining(), s), (2500, 0, Status::Paid));
        // After payment everything is post-payment.
        let (_, _, c) = credit(s, a, 200, 200).unwrap();
        assert_eq!(c.kind(), "post_payment");
    }

    #[test]
    fn credit_notes_need_a_finalized_live_invoice() {
        for s in [Status::Draft, Status::Void] {
            assert!(credit(s, Amounts::new(100), 10, 0).is_err());
        }
    }

    #[test]
    fn voiding_a_credit_note_gives_back_what_it_took_while_the_invoice_collects() {
        let (a, s, c) = credit(OPEN, Amounts::new(3000), 1000, 0).unwrap();
        let back = void_credit(s, a, c.pre_payment, c.post_payment).unwrap();
        assert_eq!(back, Amounts::new(3000));
        let (a, s, c) = credit(OPEN, Amounts::new(1000), 1000, 0).unwrap();
        assert_eq!(s, Status::Paid);
        assert!(void_credit(s, a, c.pre_payment, c.post_payment).is_err());
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop_oneof![
            Just(Status::Draft),
            Just(Status::Open),
            Just(Status::Paid),
            Just(Status::Void),
            Just(Status::Uncollectible)
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Pay(i64, bool),
        Credit(i64, i64),
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (-10i64..5_000, any::<bool>()).prop_map(|(a, exact)| Op::Pay(a, exact)),
            (-10i64..5_000, 0i64..5_000).prop_map(|(a, c)| Op::Credit(a, c)),
        ]
    }

    proptest! {
        /// Whatever sequence of payments and credits is tried, a refused one changes nothing,
        /// the invariants hold after each step, no money is lost (every unit received is paid
        /// or overpaid) and paid is reached exactly when nothing remains.
        #[test]
        fn amounts_stay_consistent(total in 0i64..10_000, ops in proptest::collection::vec(any_op(), 0..30)) {
            let mut a = Amounts::new(total);
            let mut s = Status::Open;
            let mut received = 0i64;
            for op in ops {
                let result = match op {
                    Op::Pay(x, exact) => pay(s, a, x, if exact { PayMode::Exact } else { PayMode::Received })
                        .map(|(na, ns, _)| { received += x; (na, ns) }),
                    Op::Credit(x, c) => credit(s, a, x, c).map(|(na, ns, _)| (na, ns)),
                };
                if let Ok((na, ns)) = result {
                    a = na;
                    s = ns;
                }
                prop_assert!(a.consistent(), "{a:?}");
                prop_assert_eq!(a.paid + a.overpaid, received);
                prop_assert_eq!(a.remaining() == 0, s == Status::Paid || (total == 0 && s == Status::Open));
            }
        }

        /// The transition table only ever moves forward: nothing goes back to draft, and void
        /// and paid are never left by a transition.
        #[test]
        fn transitions_never_leave_a_final_state(s in any_status()) {
            for action in [Action::Update, Action::Delete, Action::Finalize, Action::Send, Action::Void, Action::MarkUncollectible] {
                if let Ok(next) = transition(s, action) {
                    if matches!(s, Status::Paid | Status::Void) {
                        prop_assert_eq!(next, s);
                    }
                    if next == Status::Draft {
                        prop_assert_eq!(s, Status::Draft);
                    }
                }
            }
        }
    }
}
