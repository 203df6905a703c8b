//! "Add to Apple Wallet" / "Add to Google Pay", pure: whether the button shows (eligibility, the
//! card's status, a token already in Apple Pay), the steps of one attempt, retry after an error,
//! the member backing out, and answers the member overtook (dropped by their request token).
//!
//! The wallet's own screens stay in the shells: the machine asks for them as platform
//! [`Effect`]s (present PassKit's sheet, hand it the pass, read TapAndPay, push or resume a
//! token) and the shell reports what the platform said. The issuer's part (PassKit's pass data,
//! the Google Pay decision, the card read again) are effects the facade runs on the core.
//!
//! Apple: `add` → the sheet ([`Effect::PresentPassSheet`]) → PassKit's certificates and nonce
//! ([`WalletMachine::pass_requested`]) → the issuer ([`Effect::ApplePassData`]) → the pass to
//! PassKit ([`Effect::HandPassToWallet`], or [`Effect::CloseWallet`] when the issuer refused) →
//! added or cancelled → the card read again (its new token waits for activation:
//! [`Availability::InWallet`] with [`InWalletStatus::Requested`]). The card is read again after
//! every result the wallet reports, a cancel or no answer included: the issuer may have
//! requested a token before the member backed out. That token alone does not take the button
//! away (the next attempt reuses it); only an attempt that ended "added" shows it as activating.
//!
//! Google: `add` → wallet id, hardware id and tokens ([`Effect::ReadGoogleWallet`]) → the core's
//! decision ([`Effect::GooglePayDecision`]) → push ([`Effect::PushTokenize`]), resume
//! ([`Effect::ResumeToken`]) or nothing to do → the card read again.

pub use super::{Failure, FailureKind};
use crate::wire::ErrorCode;

/// Which wallet this phone has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WalletKind {
    /// Apple Pay (PassKit).
    ApplePay,
    /// Google Pay (TapAndPay).
    GooglePay,
}

/// A wallet token's status as far as the screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InWalletStatus {
    /// Added; the issuer has not activated it yet.
    Requested,
    /// Ready to pay.
    Active,
    /// Suspended while the card is frozen.
    Suspended,
    /// A status this version does not know.
    Unknown,
}

/// What the machine needs to know of the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFacts {
    /// Active (not frozen, not canceled).
    pub active: bool,
    /// Apple Pay may add it.
    pub apple_pay_eligible: bool,
    /// Google Pay may add it.
    pub google_pay_eligible: bool,
    /// The status of its Apple Pay token that is not deleted, if any.
    pub apple_pay_token: Option<InWalletStatus>,
}

/// The records the machine holds and passes along.
pub trait WalletTypes {
    /// The card's public facts.
    type Card: Clone + PartialEq + std::fmt::Debug;
    /// What the issuer answers for PassKit.
    type PassData: Clone + PartialEq + std::fmt::Debug;
    /// What `pushTokenize` needs.
    type PushData: Clone + PartialEq + std::fmt::Debug;
    /// A token TapAndPay's `listTokens()` returned.
    type WalletToken: Clone + PartialEq + std::fmt::Debug;
    /// What the decisions read of the card.
    fn facts(card: &Self::Card) -> CardFacts;
}

/// Whether the add button shows, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Availability {
    /// No card synced yet.
    NoCard,
    /// The issuer does not allow this wallet for this card.
    NotEligible,
    /// Frozen or canceled: unfreeze first (the issuer would refuse with `card_inactive`).
    Inactive,
    /// Already in this wallet (Apple Pay: on some device), with its token's status.
    InWallet {
        /// Requested until the issuer activates it.
        status: InWalletStatus,
    },
    /// The add button shows.
    Ready,
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WalletStep {
    /// Nothing under way.
    Idle,
    /// Apple: the sheet is up, waiting for PassKit's certificates and nonce.
    PresentingSheet,
    /// Google: reading the wallet id, the hardware id and the tokens.
    ReadingWallet,
    /// The issuer is asked (PassKit's pass data, or what to do for Google Pay).
    CallingIssuer,
    /// The wallet has the payload (or the token to resume) and shows its own screens.
    HandingToWallet,
    /// The wallet finished: the card and its tokens are read again.
    Refreshing,
}

/// How the last attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WalletOutcome {
    /// The wallet took the card (pushed, resumed, or PassKit's pass added).
    Added,
    /// Google: already in Google Pay on this device; nothing done.
    AlreadyAdded,
    /// Google: the token service is still working on it.
    InProgress,
    /// Google: the wallet's token is suspended: unfreeze the card.
    Suspended,
    /// The member backed out of the wallet's screens.
    Canceled,
}

/// What the Google Pay decision said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoogleDecision<P> {
    /// Push with this data.
    Push(P),
    /// Resume this token (identity verification pending).
    Resume(String),
    /// Already there.
    AlreadyAdded,
    /// Under way.
    InProgress,
    /// Suspended.
    Suspended,
}

/// What the wallet said at the end of its screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WalletResult {
    /// Added.
    Added,
    /// The member backed out.
    Canceled,
    /// No answer will come (the process that asked died and none was kept).
    Gone,
}

/// The error shown above the button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletError {
    /// What it says.
    pub message: String,
    /// What kind of failure.
    pub kind: FailureKind,
    /// The server's code, for a refusal (`card_inactive`, `certificate_chain_invalid`, …).
    pub code: Option<ErrorCode>,
    /// The platform (PassKit, TapAndPay) failed, not the core.
    pub platform: bool,
}

/// I/O the driver runs, then reports back with `request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect<T: WalletTypes> {
    /// Core: the card as last synced (offline).
    LoadCard {
        /// The request's token.
        request: u64,
    },
    /// Core: fetch the card and its tokens.
    RefreshCard {
        /// The request's token.
        request: u64,
    },
    /// Core: freeze or unfreeze.
    SetFrozen {
        /// The request's token.
        request: u64,
        /// Freeze (`true`) or unfreeze.
        frozen: bool,
    },
    /// Shell (Apple): present PassKit's add-payment-pass sheet for this card; report its
    /// certificates and nonce with `pass_requested`.
    PresentPassSheet {
        /// The request's token.
        request: u64,
        /// The card.
        card: T::Card,
    },
    /// Core (Apple): the issuer's pass data for PassKit's certificates and nonce.
    ApplePassData {
        /// The request's token.
        request: u64,
        /// DER certificates, leaf first.
        certificates: Vec<Vec<u8>>,
        /// PassKit's nonce.
        nonce: Vec<u8>,
        /// PassKit's nonce signature.
        nonce_signature: Vec<u8>,
    },
    /// Shell (Apple): give the pass to PassKit's completion handler.
    HandPassToWallet {
        /// The request's token.
        request: u64,
        /// The issuer's answer.
        data: T::PassData,
    },
    /// Shell (Apple): the issuer refused; complete PassKit's request empty so its sheet closes.
    CloseWallet {
        /// The request's token.
        request: u64,
    },
    /// Shell (Google): read `getActiveWalletId()`, `getStableHardwareId()`, `listTokens()`.
    ReadGoogleWallet {
        /// The request's token.
        request: u64,
    },
    /// Core (Google): what to do, given what TapAndPay holds.
    GooglePayDecision {
        /// The request's token.
        request: u64,
        /// The wallet account.
        wallet_account_id: String,
        /// The device.
        stable_hardware_id: String,
        /// The wallet's tokens.
        tokens: Vec<T::WalletToken>,
    },
    /// Shell (Google): `pushTokenize` with this data.
    PushTokenize {
        /// The request's token.
        request: u64,
        /// The issuer's data.
        data: T::PushData,
    },
    /// Shell (Google): `tokenize(tokenId)`.
    ResumeToken {
        /// The request's token.
        request: u64,
        /// The token.
        token_id: String,
    },
    /// Shell (Google): a push of the previous process is still open; report its result (or
    /// [`WalletResult::Gone`]) with `wallet_finished`.
    AwaitRestored {
        /// The request's token.
        request: u64,
    },
}

/// What the card screen's wallet area shows.
#[derive(Debug, Clone, PartialEq)]
pub struct WalletState<T: WalletTypes> {
    /// Which wallet.
    pub wallet: WalletKind,
    /// The card is read from the phone the first time.
    pub loading: bool,
    /// The card, once read.
    pub card: Option<T::Card>,
    /// The card is being fetched.
    pub refreshing: bool,
    /// A freeze or unfreeze is under way.
    pub freezing: bool,
    /// Where the attempt stands.
    pub step: WalletStep,
    /// How the last attempt ended (cleared by a new one, an error, a freeze).
    pub outcome: Option<WalletOutcome>,
    /// The error shown.
    pub error: Option<WalletError>,
}

/// The machine: the state and the requests in flight.
#[derive(Debug, Clone)]
pub struct WalletMachine<T: WalletTypes> {
    state: WalletState<T>,
    requests: u64,
    /// The attempt's request.
    attempt: Option<u64>,
    /// The card read or refresh in flight (one at a time).
    reading: Option<u64>,
    /// The freeze in flight.
    freeze: Option<u64>,
    /// The request of the card last applied: an older answer is older data.
    card_seen: u64,
    /// The outcome an attempt's refresh will show.
    finishing: Option<WalletOutcome>,
}

impl<T: WalletTypes> WalletMachine<T> {
    /// Nothing read yet.
    pub fn new(wallet: WalletKind) -> Self {
        Self {
            state: WalletState {
                wallet,
                loading: true,
                card: None,
                refreshing: false,
                freezing: false,
                step: WalletStep::Idle,
                outcome: None,
                error: None,
            },
            requests: 0,
            attempt: None,
            reading: None,
            freeze: None,
            card_seen: 0,
            finishing: None,
        }
    }

    /// The state as it stands.
    pub fn state(&self) -> &WalletState<T> {
        &self.state
    }

    fn next(&mut self) -> u64 {
        self.requests += 1;
        self.requests
    }

    /// Whether this wallet may add the card, and why not.
    pub fn availability(&self) -> Availability {
        let Some(card) = &self.state.card else {
            return Availability::NoCard;
        };
        let f = T::facts(card);
        let (eligible, token) = match self.state.wallet {
            // A requested token is only "activating" once this attempt's pass was added: the
            // issuer keeps one when the member cancels the sheet (and reuses it on the next
            // attempt), so by itself it must not take the button away.
            WalletKind::ApplePay => match f.apple_pay_token {
                Some(InWalletStatus::Requested)
                    if self.state.outcome != Some(WalletOutcome::Added) =>
                {
                    (f.apple_pay_eligible, None)
                }
                token => (f.apple_pay_eligible, token),
            },
            // Which of the card's Google Pay tokens is this device's, only TapAndPay knows:
            // the decision after `add` says "already added".
            WalletKind::GooglePay => (f.google_pay_eligible, None),
        };
        if let Some(status) = token {
            Availability::InWallet { status }
        } else if !eligible {
            Availability::NotEligible
        } else if !f.active {
            Availability::Inactive
        } else {
            Availability::Ready
        }
    }

    /// An attempt is under way (the wallet's screens may be up).
    pub fn busy(&self) -> bool {
        self.state.step != WalletStep::Idle
    }

    /// The add button shows at all: only for a card this wallet may add now. Hidden for no
    /// card, a card the issuer does not allow in this wallet, a frozen or canceled card, one
    /// already in Apple Pay. While an attempt is under way it still shows ([`Self::can_add`]
    /// says whether it is enabled).
    pub fn shows_add(&self) -> bool {
        self.availability() == Availability::Ready
    }

    /// The add button is enabled (again after an error or a cancel).
    pub fn can_add(&self) -> bool {
        !self.busy() && !self.state.freezing && self.availability() == Availability::Ready
    }

    /// Reads the card (offline), then fetches it.
    pub fn start(&mut self) -> Vec<Effect<T>> {
        let load = self.next();
        self.reading = Some(load);
        let mut effects = vec![Effect::LoadCard { request: load }];
        effects.extend(self.refresh_effect());
        effects
    }

    fn refresh_effect(&mut self) -> Option<Effect<T>> {
        if self.state.refreshing {
            return None;
        }
        let request = self.next();
        self.reading = Some(request);
        self.state.refreshing = true;
        Some(Effect::RefreshCard { request })
    }

    /// Fetches the card again (pull to refresh); the cached card stays meanwhile.
    pub fn refresh(&mut self) -> Vec<Effect<T>> {
        self.refresh_effect().into_iter().collect()
    }

    /// The card changed on the phone (a `CardUpdated` event): read it again, offline.
    pub fn reload(&mut self) -> Vec<Effect<T>> {
        let request = self.next();
        vec![Effect::LoadCard { request }]
    }

    /// The frozen switch.
    pub fn set_frozen(&mut self, frozen: bool) -> Vec<Effect<T>> {
        let Some(card) = &self.state.card else {
            return Vec::new();
        };
        if self.state.freezing || T::facts(card).active != frozen {
            return Vec::new();
        }
        let request = self.next();
        self.freeze = Some(request);
        self.state.freezing = true;
        self.state.error = None;
        vec![Effect::SetFrozen { request, frozen }]
    }

    /// The add button: the first step of the wallet's attempt.
    pub fn add(&mut self) -> Vec<Effect<T>> {
        if !self.can_add() {
            return Vec::new();
        }
        let Some(card) = self.state.card.clone() else {
            return Vec::new();
        };
        let request = self.next();
        self.attempt = Some(request);
        self.finishing = None;
        self.state.error = None;
        self.state.outcome = None;
        match self.state.wallet {
            WalletKind::ApplePay => {
                self.state.step = WalletStep::PresentingSheet;
                vec![Effect::PresentPassSheet { request, card }]
            }
            WalletKind::GooglePay => {
                self.state.step = WalletStep::ReadingWallet;
                vec![Effect::ReadGoogleWallet { request }]
            }
        }
    }

    /// Google: a push the previous process started is still open in Google Pay. Nothing else
    /// starts until its result (or its absence) is reported.
    pub fn await_restored(&mut self) -> Vec<Effect<T>> {
        if self.state.wallet != WalletKind::GooglePay || self.busy() {
            return Vec::new();
        }
        let request = self.next();
        self.attempt = Some(request);
        self.state.step = WalletStep::HandingToWallet;
        self.state.outcome = None;
        vec![Effect::AwaitRestored { request }]
    }

    /// The screen goes away or the member gives up: the attempt is forgotten and its
    /// answers dropped.
    pub fn cancel(&mut self) {
        if self.attempt.take().is_some() {
            self.finishing = None;
            self.state.step = WalletStep::Idle;
        }
    }

    /// Hides the error.
    pub fn dismiss_error(&mut self) {
        self.state.error = None;
    }

    fn is_attempt(&self, request: u64, step: WalletStep) -> bool {
        self.attempt == Some(request) && self.state.step == step
    }

    /// Apple: PassKit's delegate received the certificates and nonce.
    pub fn pass_requested(
        &mut self,
        request: u64,
        certificates: Vec<Vec<u8>>,
        nonce: Vec<u8>,
        nonce_signature: Vec<u8>,
    ) -> Vec<Effect<T>> {
        if !self.is_attempt(request, WalletStep::PresentingSheet) {
            return Vec::new();
        }
        self.state.step = WalletStep::CallingIssuer;
        vec![Effect::ApplePassData {
            request,
            certificates,
            nonce,
            nonce_signature,
        }]
    }

    /// Apple: the issuer's pass data; to PassKit.
    pub fn pass_data_received(&mut self, request: u64, data: T::PassData) -> Vec<Effect<T>> {
        if !self.is_attempt(request, WalletStep::CallingIssuer)
            || self.state.wallet != WalletKind::ApplePay
        {
            return Vec::new();
        }
        self.state.step = WalletStep::HandingToWallet;
        vec![Effect::HandPassToWallet { request, data }]
    }

    /// Google: what TapAndPay holds.
    pub fn google_wallet_read(
        &mut self,
        request: u64,
        wallet_account_id: String,
        stable_hardware_id: String,
        tokens: Vec<T::WalletToken>,
    ) -> Vec<Effect<T>> {
        if !self.is_attempt(request, WalletStep::ReadingWallet) {
            return Vec::new();
        }
        self.state.step = WalletStep::CallingIssuer;
        vec![Effect::GooglePayDecision {
            request,
            wallet_account_id,
            stable_hardware_id,
            tokens,
        }]
    }

    /// Google: the core's decision, carried out.
    pub fn google_decision(
        &mut self,
        request: u64,
        decision: GoogleDecision<T::PushData>,
    ) -> Vec<Effect<T>> {
        if !self.is_attempt(request, WalletStep::CallingIssuer)
            || self.state.wallet != WalletKind::GooglePay
        {
            return Vec::new();
        }
        match decision {
            GoogleDecision::Push(data) => {
                self.state.step = WalletStep::HandingToWallet;
                vec![Effect::PushTokenize { request, data }]
            }
            GoogleDecision::Resume(token_id) => {
                self.state.step = WalletStep::HandingToWallet;
                vec![Effect::ResumeToken { request, token_id }]
            }
            GoogleDecision::AlreadyAdded => self.finish(Some(WalletOutcome::AlreadyAdded)),
            GoogleDecision::InProgress => self.finish(Some(WalletOutcome::InProgress)),
            GoogleDecision::Suspended => self.finish(Some(WalletOutcome::Suspended)),
        }
    }

    /// The wallet's screens ended.
    pub fn wallet_finished(&mut self, request: u64, result: WalletResult) -> Vec<Effect<T>> {
        if !self.is_attempt(request, WalletStep::HandingToWallet) {
            return Vec::new();
        }
        // Whatever the result, the card is read again: a cancelled attempt may have left a
        // requested token at the issuer, and a result that never came may have added the card.
        match result {
            WalletResult::Added => self.finish(Some(WalletOutcome::Added)),
            WalletResult::Canceled => self.finish(Some(WalletOutcome::Canceled)),
            WalletResult::Gone => self.finish(None),
        }
    }

    /// The wallet changed (or may have): read the card (its tokens) again, then show `outcome`.
    fn finish(&mut self, outcome: Option<WalletOutcome>) -> Vec<Effect<T>> {
        if self.attempt.is_none() {
            return Vec::new();
        }
        // A request of its own: the card read now is newer than any read asked before.
        let request = self.next();
        self.attempt = Some(request);
        self.finishing = outcome;
        self.state.step = WalletStep::Refreshing;
        vec![Effect::RefreshCard { request }]
    }

    /// A step of the attempt failed (the core, or the platform when `platform`). Apple's
    /// sheet waiting for the pass is told to close.
    pub fn attempt_failed(
        &mut self,
        request: u64,
        failure: Failure,
        platform: bool,
    ) -> Vec<Effect<T>> {
        if self.attempt != Some(request) {
            return Vec::new();
        }
        if self.state.step == WalletStep::Refreshing {
            // The wallet has the card; offline, the cached card stands.
            return self.card_failed(request, failure);
        }
        let close = self.state.wallet == WalletKind::ApplePay
            && self.state.step == WalletStep::CallingIssuer
            && !platform;
        self.attempt = None;
        self.finishing = None;
        self.state.step = WalletStep::Idle;
        self.state.error = Some(WalletError {
            message: failure.message,
            kind: failure.kind,
            code: failure.code,
            platform,
        });
        if close {
            vec![Effect::CloseWallet { request }]
        } else {
            Vec::new()
        }
    }

    fn apply_card(&mut self, request: u64, card: Option<T::Card>) {
        if request >= self.card_seen {
            self.card_seen = request;
            self.state.card = card;
        }
    }

    /// The card read (offline) or fetched, for a load, a refresh or an attempt's end.
    pub fn card_received(&mut self, request: u64, card: Option<T::Card>) {
        if self.attempt == Some(request) && self.state.step == WalletStep::Refreshing {
            self.apply_card(request, card);
            self.attempt = None;
            self.state.step = WalletStep::Idle;
            self.state.outcome = self.finishing.take();
            return;
        }
        if self.reading == Some(request) {
            self.reading = None;
            self.state.refreshing = false;
        }
        if request <= self.card_seen {
            return;
        }
        self.state.loading = false;
        self.apply_card(request, card);
    }

    /// Reading or fetching the card failed: the cached card stands.
    pub fn card_failed(&mut self, request: u64, failure: Failure) -> Vec<Effect<T>> {
        if self.attempt == Some(request) && self.state.step == WalletStep::Refreshing {
            self.attempt = None;
            self.state.step = WalletStep::Idle;
            self.state.outcome = self.finishing.take();
            return Vec::new();
        }
        let refresh = self.reading == Some(request);
        if refresh {
            self.reading = None;
            self.state.refreshing = false;
        }
        if refresh || self.state.loading {
            self.state.loading = false;
            self.state.error = Some(WalletError {
                message: failure.message,
                kind: failure.kind,
                code: failure.code,
                platform: false,
            });
        }
        Vec::new()
    }

    /// The freeze answered: the card as it now is; the last attempt's outcome no longer holds.
    pub fn frozen_set(&mut self, request: u64, card: T::Card) {
        if self.freeze == Some(request) {
            self.freeze = None;
            self.state.freezing = false;
            self.state.outcome = None;
            self.apply_card(request, Some(card));
        }
    }

    /// The freeze failed.
    pub fn freeze_failed(&mut self, request: u64, failure: Failure) {
        if self.freeze == Some(request) {
            self.freeze = None;
            self.state.freezing = false;
            self.state.error = Some(WalletError {
                message: failure.message,
                kind: failure.kind,
                code: failure.code,
                platform: false,
            });
        }
    }

    /// The member signed out: nothing read, every answer under way dropped.
    pub fn reset(&mut self) {
        let requests = self.requests;
        *self = Self::new(self.state.wallet);
        self.requests = requests;
        self.card_seen = requests;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Plain;

    /// (last4, facts)
    type Card = (&'static str, CardFacts);

    impl WalletTypes for Plain {
        type Card = Card;
        type PassData = &'static str;
        type PushData = &'static str;
        type WalletToken = (&'static str, i32);
        fn facts(card: &Card) -> CardFacts {
            card.1.clone()
        }
    }

    type M = WalletMachine<Plain>;
    type E = Effect<Plain>;

    fn card() -> Card {
        (
            "4242",
            CardFacts {
                active: true,
                apple_pay_eligible: true,
                google_pay_eligible: true,
                apple_pay_token: None,
            },
        )
    }

    fn with(f: impl FnOnce(&mut CardFacts)) -> Card {
        let mut c = card();
        f(&mut c.1);
        c
    }

    fn refused(code: ErrorCode) -> Failure {
        Failure {
            kind: FailureKind::Rejected,
            field: None,
            message: code.to_string(),
            code: Some(code),
        }
    }

    fn platform(message: &str) -> Failure {
        Failure {
            kind: FailureKind::Other,
            field: None,
            message: message.into(),
            code: None,
        }
    }

    fn request(effects: &[E]) -> u64 {
        match effects.first().expect("an effect") {
            E::LoadCard { request }
            | E::RefreshCard { request }
            | E::SetFrozen { request, .. }
            | E::PresentPassSheet { request, .. }
            | E::ApplePassData { request, .. }
            | E::HandPassToWallet { request, .. }
            | E::CloseWallet { request }
            | E::ReadGoogleWallet { request }
            | E::GooglePayDecision { request, .. }
            | E::PushTokenize { request, .. }
            | E::ResumeToken { request, .. }
            | E::AwaitRestored { request } => *request,
        }
    }

    /// Started, the card read and fetched.
    fn loaded(wallet: WalletKind, c: Card) -> M {
        let mut m = M::new(wallet);
        let effects = m.start();
        assert_eq!(
            effects,
            vec![E::LoadCard { request: 1 }, E::RefreshCard { request: 2 }]
        );
        m.card_received(1, Some(c.clone()));
        m.card_received(2, Some(c));
        assert!(!m.state().loading && !m.state().refreshing);
        m
    }

    #[test]
    fn the_button_shows_only_for_an_eligible_active_card_not_in_apple_pay() {
        let m = M::new(WalletKind::ApplePay);
        assert_eq!(m.availability(), Availability::NoCard);
        assert!(m.state().loading && !m.can_add());
        assert!(loaded(WalletKind::ApplePay, card()).can_add());
        let not = with(|f| f.apple_pay_eligible = false);
        assert_eq!(
            loaded(WalletKind::ApplePay, not.clone()).availability(),
            Availability::NotEligible
        );
        assert!(
            loaded(WalletKind::GooglePay, not).can_add(),
            "each wallet its own flag"
        );
        let frozen = with(|f| f.active = false);
        for wallet in [WalletKind::ApplePay, WalletKind::GooglePay] {
            let m = loaded(wallet, frozen.clone());
            assert_eq!(m.availability(), Availability::Inactive);
            assert!(
                !m.shows_add(),
                "no button for a frozen card, in either wallet"
            );
        }
        let requested = with(|f| f.apple_pay_token = Some(InWalletStatus::Requested));
        assert_eq!(
            loaded(WalletKind::ApplePay, requested.clone()).availability(),
            Availability::Ready,
            "a requested token alone may be one the member backed out of: retry reuses it"
        );
        assert!(
            loaded(WalletKind::GooglePay, requested).can_add(),
            "an Apple token says nothing of Google Pay on this device"
        );
    }

    #[test]
    fn the_button_shows_when_ready_and_stays_during_an_attempt() {
        assert!(!M::new(WalletKind::GooglePay).shows_add(), "no card yet");
        let mut m = loaded(WalletKind::GooglePay, card());
        assert!(m.shows_add() && m.can_add());
        m.add();
        assert!(m.shows_add() && !m.can_add(), "shown, disabled while busy");
        let not = with(|f| f.google_pay_eligible = false);
        assert!(!loaded(WalletKind::GooglePay, not).shows_add());
        let inside = with(|f| f.apple_pay_token = Some(InWalletStatus::Active));
        assert!(!loaded(WalletKind::ApplePay, inside.clone()).shows_add());
        assert!(loaded(WalletKind::GooglePay, inside).shows_add());
        // Freezing hides it once the issuer answered.
        let mut m = loaded(WalletKind::GooglePay, card());
        let f = request(&m.set_frozen(true));
        m.frozen_set(f, with(|f| f.active = false));
        assert!(!m.shows_add());
    }

    #[test]
    fn apple_sheet_issuer_pass_then_refresh_waits_for_activation() {
        let mut m = loaded(WalletKind::ApplePay, card());
        let r = request(&m.add());
        assert_eq!(m.state().step, WalletStep::PresentingSheet);
        assert!(m.add().is_empty(), "one attempt at a time");
        assert_eq!(
            m.pass_requested(r, vec![vec![1]], vec![2], vec![3]),
            vec![E::ApplePassData {
                request: r,
                certificates: vec![vec![1]],
                nonce: vec![2],
                nonce_signature: vec![3]
            }]
        );
        assert_eq!(m.state().step, WalletStep::CallingIssuer);
        assert_eq!(
            m.pass_data_received(r, "pass"),
            vec![E::HandPassToWallet {
                request: r,
                data: "pass"
            }]
        );
        let f = request(&m.wallet_finished(r, WalletResult::Added));
        assert_eq!(m.state().step, WalletStep::Refreshing);
        assert!(
            m.pass_data_received(r, "pass").is_empty(),
            "an earlier step's answer"
        );
        m.card_received(
            f,
            Some(with(|f| {
                f.apple_pay_token = Some(InWalletStatus::Requested)
            })),
        );
        assert_eq!(
            (m.state().step, m.state().outcome, m.availability()),
            (
                WalletStep::Idle,
                Some(WalletOutcome::Added),
                Availability::InWallet {
                    status: InWalletStatus::Requested
                }
            )
        );
        assert!(!m.can_add());
    }

    #[test]
    fn apple_issuer_refusal_closes_the_sheet_and_the_button_comes_back() {
        let mut m = loaded(WalletKind::ApplePay, card());
        let r = request(&m.add());
        m.pass_requested(r, vec![], vec![], vec![]);
        assert_eq!(
            m.attempt_failed(r, refused(ErrorCode::CertificateChainInvalid), false),
            vec![E::CloseWallet { request: r }]
        );
        let e = m.state().error.clone().expect("an error");
        assert_eq!(
            (e.code, e.platform),
            (Some(ErrorCode::CertificateChainInvalid), false)
        );
        assert!(m.can_add(), "retry");
        let r2 = request(&m.add());
        assert_eq!(m.state().error, None, "a new attempt clears it");
        assert!(r2 > r);
        // The sheet's own failure: nothing to close.
        assert!(m.attempt_failed(r2, platform("PassKit"), true).is_empty());
        assert!(m.state().error.as_ref().is_some_and(|e| e.platform));
        m.dismiss_error();
        assert_eq!(m.state().error, None);
    }

    #[test]
    fn the_member_backs_out() {
        let mut m = loaded(WalletKind::ApplePay, card());
        let r = request(&m.add());
        m.pass_requested(r, vec![], vec![], vec![]);
        m.pass_data_received(r, "pass");
        // Backing out is a result like the others: the card is read again first.
        let f = request(&m.wallet_finished(r, WalletResult::Canceled));
        assert_eq!(
            (m.state().step, m.state().outcome),
            (WalletStep::Refreshing, None)
        );
        assert!(f > r, "a read newer than any asked before");
        // The issuer created a requested token for the pass the member did not add.
        m.card_received(
            f,
            Some(with(|f| {
                f.apple_pay_token = Some(InWalletStatus::Requested)
            })),
        );
        assert_eq!(
            (m.state().step, m.state().outcome, m.availability()),
            (
                WalletStep::Idle,
                Some(WalletOutcome::Canceled),
                Availability::Ready
            )
        );
        assert!(m.can_add(), "the member may try again");
        let r = request(&m.add());
        assert_eq!(m.state().outcome, None);
        m.cancel();
        assert!(
            m.pass_requested(r, vec![], vec![], vec![]).is_empty(),
            "a cancelled attempt's answers are dropped"
        );
        assert_eq!(m.state().step, WalletStep::Idle);
    }

    #[test]
    fn google_push_resume_and_nothing_to_do() {
        let mut m = loaded(WalletKind::GooglePay, card());
        let r = request(&m.add());
        assert_eq!(m.state().step, WalletStep::ReadingWallet);
        assert_eq!(
            m.google_wallet_read(r, "w".into(), "hw".into(), vec![("4242", 1)]),
            vec![E::GooglePayDecision {
                request: r,
                wallet_account_id: "w".into(),
                stable_hardware_id: "hw".into(),
                tokens: vec![("4242", 1)]
            }]
        );
        assert_eq!(
            m.google_decision(r, GoogleDecision::Push("opc")),
            vec![E::PushTokenize {
                request: r,
                data: "opc"
            }]
        );
        let f = request(&m.wallet_finished(r, WalletResult::Added));
        m.card_received(f, Some(card()));
        assert_eq!(m.state().outcome, Some(WalletOutcome::Added));
        assert!(m.can_add(), "Google's per-device check is made on the tap");

        let r = request(&m.add());
        m.google_wallet_read(r, "w".into(), "hw".into(), vec![]);
        assert_eq!(
            m.google_decision(r, GoogleDecision::Resume("tok_1".into())),
            vec![E::ResumeToken {
                request: r,
                token_id: "tok_1".into()
            }]
        );

        for (decision, outcome) in [
            (GoogleDecision::AlreadyAdded, WalletOutcome::AlreadyAdded),
            (GoogleDecision::InProgress, WalletOutcome::InProgress),
            (GoogleDecision::Suspended, WalletOutcome::Suspended),
        ] {
            let mut m = loaded(WalletKind::GooglePay, card());
            let r = request(&m.add());
            m.google_wallet_read(r, "w".into(), "hw".into(), vec![]);
            let effects = m.google_decision(r, decision);
            assert!(matches!(effects[..], [E::RefreshCard { .. }]));
            // Offline: the cached card stands, the outcome shows.
            m.card_failed(request(&effects), platform("offline"));
            assert_eq!(
                (m.state().step, m.state().outcome, m.state().error.clone()),
                (WalletStep::Idle, Some(outcome), None)
            );
        }
    }

    #[test]
    fn google_errors_from_the_core_or_tapandpay_then_retry() {
        let mut m = loaded(WalletKind::GooglePay, card());
        let r = request(&m.add());
        assert!(m.attempt_failed(r, platform("no wallet"), true).is_empty());
        assert_eq!(m.state().step, WalletStep::Idle);
        let r = request(&m.add());
        m.google_wallet_read(r, "w".into(), "hw".into(), vec![]);
        assert!(
            m.attempt_failed(r, refused(ErrorCode::CardInactive), false)
                .is_empty(),
            "no sheet to close on Android"
        );
        assert_eq!(
            m.state().error.as_ref().and_then(|e| e.code),
            Some(ErrorCode::CardInactive)
        );
        assert_eq!(m.state().outcome, None);
        let r = request(&m.add());
        m.google_wallet_read(r, "w".into(), "hw".into(), vec![]);
        m.google_decision(r, GoogleDecision::Push("opc"));
        assert!(m
            .attempt_failed(r, platform("Play services"), true)
            .is_empty());
        assert!(m.can_add());
    }

    #[test]
    fn stale_answers_are_dropped() {
        let mut m = loaded(WalletKind::GooglePay, card());
        let r = request(&m.add());
        assert!(m
            .google_wallet_read(r + 7, "w".into(), "hw".into(), vec![])
            .is_empty());
        assert!(
            m.google_decision(r, GoogleDecision::AlreadyAdded)
                .is_empty(),
            "not at that step"
        );
        assert!(
            m.pass_data_received(r, "pass").is_empty(),
            "not this wallet's"
        );
        m.google_wallet_read(r, "w".into(), "hw".into(), vec![]);
        assert!(
            m.google_wallet_read(r, "w".into(), "hw".into(), vec![])
                .is_empty(),
            "twice"
        );
        m.cancel();
        assert!(m.google_decision(r, GoogleDecision::Push("opc")).is_empty());
        assert!(m.attempt_failed(r, platform("late"), true).is_empty());
        assert_eq!(m.state().error, None);

        // An older read answering after a newer one does not bring older data back.
        let mut m = loaded(WalletKind::ApplePay, card());
        let old = request(&m.refresh());
        let newer = request(&m.set_frozen(true));
        m.frozen_set(newer, with(|f| f.active = false));
        m.card_received(old, Some(card()));
        assert_eq!(m.availability(), Availability::Inactive);
        assert!(!m.state().refreshing);
    }

    #[test]
    fn freeze_clears_the_outcome_and_hides_the_button() {
        let mut m = loaded(WalletKind::GooglePay, card());
        let r = request(&m.add());
        m.google_wallet_read(r, "w".into(), "hw".into(), vec![]);
        let f = request(&m.google_decision(r, GoogleDecision::Suspended));
        m.card_received(f, Some(card()));
        assert_eq!(m.state().outcome, Some(WalletOutcome::Suspended));
        assert!(m.set_frozen(false).is_empty(), "already unfrozen");
        let f = request(&m.set_frozen(true));
        assert!(m.state().freezing && !m.can_add());
        assert!(m.set_frozen(true).is_empty(), "one at a time");
        m.frozen_set(f, with(|f| f.active = false));
        assert_eq!(
            (m.state().freezing, m.state().outcome, m.availability()),
            (false, None, Availability::Inactive)
        );
        let f = request(&m.set_frozen(false));
        m.freeze_failed(f, refused(ErrorCode::CardCanceled));
        assert_eq!(
            (m.state().freezing, m.state().error.as_ref().map(|e| e.kind)),
            (false, Some(FailureKind::Rejected))
        );
    }

    #[test]
    fn a_result_left_by_the_previous_process_and_sign_out() {
        let mut m = M::new(WalletKind::GooglePay);
        let r = request(&m.await_restored());
        assert!(m.busy() && !m.can_add(), "Google Pay is still open");
        let l = request(&m.start());
        m.card_received(l, Some(card()));
        assert!(m.add().is_empty());
        let f = request(&m.wallet_finished(r, WalletResult::Added));
        m.card_received(f, Some(card()));
        assert_eq!(m.state().outcome, Some(WalletOutcome::Added));

        let mut m = M::new(WalletKind::GooglePay);
        let r = request(&m.await_restored());
        assert!(m.await_restored().is_empty(), "once");
        // No answer will come: the card is read again all the same (it may have been added).
        let f = request(&m.wallet_finished(r, WalletResult::Gone));
        assert!(m.wallet_finished(r, WalletResult::Gone).is_empty(), "once");
        assert_eq!(m.state().step, WalletStep::Refreshing);
        m.card_failed(f, platform("offline"));
        assert_eq!(
            (m.state().step, m.state().outcome, m.state().error.clone()),
            (WalletStep::Idle, None, None)
        );
        assert!(M::new(WalletKind::ApplePay).await_restored().is_empty());

        // Sign-out while an attempt and a refresh are under way: nothing lands afterwards.
        let mut m = loaded(WalletKind::GooglePay, card());
        let a = request(&m.add());
        let f = request(&m.refresh());
        m.reset();
        m.google_wallet_read(a, "w".into(), "hw".into(), vec![]);
        m.card_received(f, Some(card()));
        assert_eq!(
            (m.state().card.clone(), m.state().step, m.state().loading),
            (None, WalletStep::Idle, true)
        );
        let l = request(&m.start());
        assert!(l > f);
        m.card_received(l, Some(with(|f| f.google_pay_eligible = false)));
        assert_eq!(m.availability(), Availability::NotEligible);
    }
}
