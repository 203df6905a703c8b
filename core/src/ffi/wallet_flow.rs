//! `WalletFlow`: "Add to Apple Wallet" / "Add to Google Pay" ([`crate::app::flows::wallet`])
//! driven for a shell, like `VisitFlow`: intents change the state at once; the core's effects
//! (the card, the issuer's pass data, the Google Pay decision, freeze) run on the core's
//! runtime; the platform's (PassKit's sheet, TapAndPay) go to the listener as
//! [`WalletRequest`]s, and the shell reports what the platform said with the request's token.

use std::sync::{Arc, Mutex};

use super::card::{ApplePayPassData, Card, CardInfo, PushTokenizeData, TapAndPayToken};
use super::runtime::CoreRuntime;
use super::values::{CardStatus, TokenStatus, Wallet};
use super::{CoreError, GooglePayAction};
use crate::app::flows::wallet::{
    Availability, CardFacts, Effect, Failure, FailureKind, GoogleDecision, InWalletStatus,
    WalletKind, WalletMachine, WalletOutcome, WalletResult, WalletStep, WalletTypes,
};
use crate::app::Core;
use crate::wire::ErrorCode;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FfiWallet;

impl WalletTypes for FfiWallet {
    type Card = CardInfo;
    type PassData = ApplePayPassData;
    type PushData = PushTokenizeData;
    type WalletToken = TapAndPayToken;
    fn facts(c: &CardInfo) -> CardFacts {
        CardFacts {
            active: c.status == CardStatus::Active && !c.frozen,
            apple_pay_eligible: c.apple_pay_eligible,
            google_pay_eligible: c.google_pay_eligible,
            apple_pay_token: c
                .tokens
                .iter()
                .filter(|t| t.wallet == Wallet::ApplePay)
                .find_map(|t| match t.status {
                    TokenStatus::Deleted => None,
                    TokenStatus::Requested => Some(InWalletStatus::Requested),
                    TokenStatus::Active => Some(InWalletStatus::Active),
                    TokenStatus::Suspended => Some(InWalletStatus::Suspended),
                    TokenStatus::Unknown => Some(InWalletStatus::Unknown),
                }),
        }
    }
}

/// The error shown above the add button.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WalletFlowError {
    /// What it says.
    pub message: String,
    /// What kind of failure.
    pub kind: FailureKind,
    /// The server's code, for a refusal (`card_inactive`, `certificate_chain_invalid`, …).
    pub code: Option<ErrorCode>,
    /// PassKit or TapAndPay failed, not the core.
    pub platform: bool,
}

/// What the card screen's wallet area draws.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WalletFlowState {
    /// Grows with every change; a shell keeps the highest.
    pub revision: u64,
    /// Which wallet.
    pub wallet: WalletKind,
    /// The card is read from the phone the first time.
    pub loading: bool,
    /// The card, once read; `None` before one was issued.
    pub card: Option<CardInfo>,
    /// The card is being fetched.
    pub refreshing: bool,
    /// A freeze or unfreeze is under way.
    pub freezing: bool,
    /// Whether the wallet may add the card, and why not.
    pub availability: Availability,
    /// The add button shows (`availability` is `Ready`): hidden for a frozen, ineligible or
    /// already added card.
    pub shows_add: bool,
    /// The add button is enabled.
    pub can_add: bool,
    /// An attempt is under way (the wallet's screens may be up).
    pub busy: bool,
    /// Where the attempt stands.
    pub step: WalletStep,
    /// How the last attempt ended.
    pub outcome: Option<WalletOutcome>,
    /// The error shown.
    pub error: Option<WalletFlowError>,
}

/// A platform call the flow asks of the shell; answer with the same `request`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum WalletRequest {
    /// Apple: present `PKAddPaymentPassViewController` for this card; report the delegate's
    /// certificates and nonce with `pass_requested`, then the sheet's end with
    /// `wallet_finished` (or `wallet_failed`).
    PresentPassSheet {
        /// The request's token.
        request: u64,
        /// The card (last four digits, brand).
        card: CardInfo,
    },
    /// Apple: give this to the delegate's completion handler as a `PKAddPaymentPassRequest`.
    HandPassToWallet {
        /// The request's token.
        request: u64,
        /// `encryptedPassData`, `activationData`, `ephemeralPublicKey`.
        data: ApplePayPassData,
    },
    /// Apple: the issuer refused; complete the delegate's request empty so the sheet closes.
    CloseWallet {
        /// The request's token.
        request: u64,
    },
    /// Google: read `getActiveWalletId()`, `getStableHardwareId()` and `listTokens()`; report
    /// them with `google_wallet_read`.
    ReadGoogleWallet {
        /// The request's token.
        request: u64,
    },
    /// Google: `pushTokenize` with this data; report its result with `wallet_finished`.
    PushTokenize {
        /// The request's token.
        request: u64,
        /// The request's data.
        data: PushTokenizeData,
    },
    /// Google: `tokenize(tokenId)`; report its result with `wallet_finished`.
    ResumeToken {
        /// The request's token.
        request: u64,
        /// The token waiting for identity verification.
        token_id: String,
    },
    /// Google: the result kept from the previous process; report it with `wallet_finished`
    /// (`Gone` when none comes).
    AwaitRestored {
        /// The request's token.
        request: u64,
    },
}

/// Receives every new state of a wallet flow, and the platform calls it asks for.
#[uniffi::export(with_foreign)]
pub trait WalletListener: Send + Sync {
    /// Called on a core thread (or the caller's, for an intent) with the whole state.
    fn on_state(&self, state: WalletFlowState);
    /// A platform call to make (on the caller's thread or a core thread: hop to the main one).
    fn on_request(&self, request: WalletRequest);
}

fn snapshot(m: &WalletMachine<FfiWallet>, revision: u64) -> WalletFlowState {
    let s = m.state().clone();
    WalletFlowState {
        revision,
        wallet: s.wallet,
        loading: s.loading,
        card: s.card,
        refreshing: s.refreshing,
        freezing: s.freezing,
        availability: m.availability(),
        shows_add: m.shows_add(),
        can_add: m.can_add(),
        busy: m.busy(),
        step: s.step,
        outcome: s.outcome,
        error: s.error.map(|e| WalletFlowError {
            message: e.message,
            kind: e.kind,
            code: e.code,
            platform: e.platform,
        }),
    }
}

/// A facade error as a flow's failure (the facade's `Card` already converted it).
fn failure(e: CoreError) -> Failure {
    let (kind, code, message) = match e {
        CoreError::InvalidInput { detail, .. } => (FailureKind::InvalidInput, None, detail),
        CoreError::Rejected { code, detail } => (FailureKind::Rejected, Some(code), detail),
        CoreError::NotSynced { detail } => (FailureKind::NotSynced, None, detail),
        CoreError::Network { detail } => (
            FailureKind::Network,
            None,
            format!("The server could not be reached ({detail}); nothing was lost."),
        ),
        other => (FailureKind::Other, None, other.to_string()),
    };
    Failure {
        kind,
        field: None,
        message,
        code,
    }
}

enum Step {
    Core(Effect<FfiWallet>),
    Platform(WalletRequest),
}

fn route(effect: Effect<FfiWallet>) -> Step {
    use WalletRequest as R;
    Step::Platform(match effect {
        Effect::PresentPassSheet { request, card } => R::PresentPassSheet { request, card },
        Effect::HandPassToWallet { request, data } => R::HandPassToWallet { request, data },
        Effect::CloseWallet { request } => R::CloseWallet { request },
        Effect::ReadGoogleWallet { request } => R::ReadGoogleWallet { request },
        Effect::PushTokenize { request, data } => R::PushTokenize { request, data },
        Effect::ResumeToken { request, token_id } => R::ResumeToken { request, token_id },
        Effect::AwaitRestored { request } => R::AwaitRestored { request },
        core => return Step::Core(core),
    })
}

/// "Add to Apple Wallet" / "Add to Google Pay" with the card it is about: the card read and
/// fetched, freeze, and every decision of an attempt. The wallet's screens stay the shell's.
#[derive(uniffi::Object)]
pub struct WalletFlow {
    card: Card,
    runtime: Arc<CoreRuntime>,
    machine: Mutex<(WalletMachine<FfiWallet>, u64)>,
    listener: Arc<dyn WalletListener>,
}

impl WalletFlow {
    pub(crate) fn new(
        core: Arc<Core>,
        runtime: Arc<CoreRuntime>,
        wallet: WalletKind,
        listener: Arc<dyn WalletListener>,
    ) -> Arc<Self> {
        Arc::new(Self {
            card: Card {
                core,
                runtime: runtime.clone(),
            },
            runtime,
            machine: Mutex::new((WalletMachine::new(wallet), 0)),
            listener,
        })
    }

    fn apply(
        self: &Arc<Self>,
        change: impl FnOnce(&mut WalletMachine<FfiWallet>) -> Vec<Effect<FfiWallet>>,
    ) {
        let (effects, state) = {
            let Ok(mut guard) = self.machine.lock() else {
                return;
            };
            let (m, revision) = &mut *guard;
            let effects = change(m);
            *revision += 1;
            (effects, snapshot(m, *revision))
        };
        self.listener.on_state(state);
        for effect in effects {
            match route(effect) {
                Step::Platform(request) => self.listener.on_request(request),
                Step::Core(effect) => {
                    let flow = self.clone();
                    self.runtime.spawn(async move { flow.run(effect).await });
                }
            }
        }
    }

    async fn run(self: Arc<Self>, effect: Effect<FfiWallet>) {
        match effect {
            Effect::LoadCard { request } => {
                let answer = self.card.info();
                self.apply(move |m| match answer {
                    Ok(card) => {
                        m.card_received(request, card);
                        Vec::new()
                    }
                    Err(e) => m.card_failed(request, failure(e)),
                });
            }
            Effect::RefreshCard { request } => {
                let answer = self.card.refresh().await;
                self.apply(move |m| match answer {
                    Ok(card) => {
                        m.card_received(request, Some(card));
                        Vec::new()
                    }
                    Err(e) => m.card_failed(request, failure(e)),
                });
            }
            Effect::SetFrozen { request, frozen } => {
                let answer = if frozen {
                    self.card.freeze().await
                } else {
                    self.card.unfreeze().await
                };
                self.apply(move |m| {
                    match answer {
                        Ok(card) => m.frozen_set(request, card),
                        Err(e) => m.freeze_failed(request, failure(e)),
                    }
                    Vec::new()
                });
            }
            Effect::ApplePassData {
                request,
                certificates,
                nonce,
                nonce_signature,
            } => {
                let answer = self
                    .card
                    .apple_pay_pass_data(certificates, nonce, nonce_signature)
                    .await;
                self.apply(move |m| match answer {
                    Ok(data) => m.pass_data_received(request, data),
                    Err(e) => m.attempt_failed(request, failure(e), false),
                });
            }
            Effect::GooglePayDecision {
                request,
                wallet_account_id,
                stable_hardware_id,
                tokens,
            } => {
                let answer = self
                    .card
                    .google_pay_action(wallet_account_id, stable_hardware_id, tokens)
                    .await;
                self.apply(move |m| match answer {
                    Ok(action) => m.google_decision(
                        request,
                        match action {
                            GooglePayAction::Push { data } => GoogleDecision::Push(data),
                            GooglePayAction::Resume { token_id } => {
                                GoogleDecision::Resume(token_id)
                            }
                            GooglePayAction::AlreadyAdded => GoogleDecision::AlreadyAdded,
                            GooglePayAction::InProgress => GoogleDecision::InProgress,
                            GooglePayAction::Suspended => GoogleDecision::Suspended,
                        },
                    ),
                    Err(e) => m.attempt_failed(request, failure(e), false),
                });
            }
            // The platform's, routed to the listener.
            _ => {}
        }
    }

    fn change(self: Arc<Self>, f: impl FnOnce(&mut WalletMachine<FfiWallet>)) {
        self.apply(|m| {
            f(m);
            Vec::new()
        });
    }
}

#[uniffi::export]
impl WalletFlow {
    /// The state as it stands.
    pub fn state(&self) -> Option<WalletFlowState> {
        self.machine.lock().ok().map(|m| snapshot(&m.0, m.1))
    }

    /// Reads the card (offline), then fetches it.
    pub fn start(self: Arc<Self>) {
        self.apply(|m| m.start());
    }

    /// Fetches the card again; the cached card stays meanwhile.
    pub fn refresh(self: Arc<Self>) {
        self.apply(|m| m.refresh());
    }

    /// The card changed on the phone (`CardUpdated`): read it again, offline.
    pub fn reload(self: Arc<Self>) {
        self.apply(|m| m.reload());
    }

    /// The frozen switch.
    pub fn set_frozen(self: Arc<Self>, frozen: bool) {
        self.apply(|m| m.set_frozen(frozen));
    }

    /// The add button.
    pub fn add(self: Arc<Self>) {
        self.apply(|m| m.add());
    }

    /// Google: a push of the previous process is still open; its result is awaited.
    pub fn await_restored(self: Arc<Self>) {
        self.apply(|m| m.await_restored());
    }

    /// Apple: PassKit's delegate asked for the pass with these.
    pub fn pass_requested(
        self: Arc<Self>,
        request: u64,
        certificates: Vec<Vec<u8>>,
        nonce: Vec<u8>,
        nonce_signature: Vec<u8>,
    ) {
        self.apply(|m| m.pass_requested(request, certificates, nonce, nonce_signature));
    }

    /// Google: what TapAndPay holds.
    pub fn google_wallet_read(
        self: Arc<Self>,
        request: u64,
        wallet_account_id: String,
        stable_hardware_id: String,
        tokens: Vec<TapAndPayToken>,
    ) {
        self.apply(|m| {
            m.google_wallet_read(request, wallet_account_id, stable_hardware_id, tokens)
        });
    }

    /// The wallet's screens ended.
    pub fn wallet_finished(self: Arc<Self>, request: u64, result: WalletResult) {
        self.apply(|m| m.wallet_finished(request, result));
    }

    /// The platform call failed (PassKit, TapAndPay); `message` is shown as it is.
    pub fn wallet_failed(self: Arc<Self>, request: u64, message: String) {
        let failure = Failure {
            kind: FailureKind::Other,
            field: None,
            message,
            code: None,
        };
        self.apply(|m| m.attempt_failed(request, failure, true));
    }

    /// Forgets the attempt under way (the screen went away); its answers are dropped.
    pub fn cancel(self: Arc<Self>) {
        self.change(|m| m.cancel());
    }

    /// Hides the error.
    pub fn dismiss_error(self: Arc<Self>) {
        self.change(|m| m.dismiss_error());
    }

    /// The member signed out: nothing read, every answer under way dropped; call `start`.
    pub fn reset(self: Arc<Self>) {
        self.change(|m| m.reset());
    }
}

#[cfg(test)]
mod tests {
    use super::super::card::CardToken;
    use super::*;

    fn card(status: CardStatus, frozen: bool, tokens: Vec<(Wallet, TokenStatus)>) -> CardInfo {
        CardInfo {
            id: "ic_1".into(),
            last4: "4242".into(),
            expiry: "04/29".into(),
            brand: "visa".into(),
            status,
            frozen,
            apple_pay_eligible: true,
            google_pay_eligible: false,
            controls: Vec::new(),
            tokens: tokens
                .into_iter()
                .enumerate()
                .map(|(i, (wallet, status))| CardToken {
                    id: format!("t{i}"),
                    wallet,
                    device_id: None,
                    last4: "1234".into(),
                    status,
                })
                .collect(),
        }
    }

    /// What the shells showed from the card before the flow (the Swift phase test): only an
    /// Apple Pay token that is not deleted counts, a frozen or inactive card is not active.
    #[test]
    fn the_facts_read_of_the_card() {
        let facts = FfiWallet::facts(&card(CardStatus::Active, false, Vec::new()));
        assert_eq!(
            facts,
            CardFacts {
                active: true,
                apple_pay_eligible: true,
                google_pay_eligible: false,
                apple_pay_token: None,
            }
        );
        assert!(!FfiWallet::facts(&card(CardStatus::Active, true, Vec::new())).active);
        assert!(!FfiWallet::facts(&card(CardStatus::Inactive, false, Vec::new())).active);
        assert!(!FfiWallet::facts(&card(CardStatus::Canceled, false, Vec::new())).active);
        let token =
            |tokens| FfiWallet::facts(&card(CardStatus::Active, false, tokens)).apple_pay_token;
        assert_eq!(
            token(vec![(Wallet::GooglePay, TokenStatus::Active)]),
            None,
            "Google Pay is another wallet"
        );
        assert_eq!(token(vec![(Wallet::ApplePay, TokenStatus::Deleted)]), None);
        assert_eq!(
            token(vec![
                (Wallet::ApplePay, TokenStatus::Deleted),
                (Wallet::ApplePay, TokenStatus::Requested)
            ]),
            Some(InWalletStatus::Requested)
        );
        assert_eq!(
            token(vec![(Wallet::ApplePay, TokenStatus::Suspended)]),
            Some(InWalletStatus::Suspended)
        );
        assert_eq!(
            token(vec![(Wallet::ApplePay, TokenStatus::Unknown)]),
            Some(InWalletStatus::Unknown)
        );
    }

    /// The state record carries the machine's answers as they are.
    #[test]
    fn the_snapshot_says_whether_the_button_shows() {
        let mut m = WalletMachine::<FfiWallet>::new(WalletKind::GooglePay);
        let s = snapshot(&m, 3);
        assert_eq!(
            (s.revision, s.availability, s.shows_add, s.can_add, s.busy),
            (3, Availability::NoCard, false, false, false)
        );
        let effects = m.start();
        let Some(Effect::LoadCard { request }) = effects.first().cloned() else {
            panic!("{effects:?}")
        };
        let mut frozen = card(CardStatus::Inactive, true, Vec::new());
        frozen.google_pay_eligible = true;
        m.card_received(request, Some(frozen.clone()));
        let s = snapshot(&m, 4);
        assert_eq!(
            (s.availability, s.shows_add, s.can_add),
            (Availability::Inactive, false, false),
            "no Google Pay button for a frozen card"
        );
        frozen.frozen = false;
        frozen.status = CardStatus::Active;
        m.card_received(request + 1, Some(frozen));
        let s = snapshot(&m, 5);
        assert_eq!((s.shows_add, s.can_add), (true, true));
    }
}
