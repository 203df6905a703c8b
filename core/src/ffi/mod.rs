//! The uniffi facade: what Kotlin, Swift and the terminal shell call. Thin by design: each
//! method converts arguments, runs the app service on the core's runtime and converts back.

mod arrears;
mod card;
mod coverage;
mod enrollment;
mod enrollment_flow;
mod error;
#[cfg(feature = "testing")]
mod link_signer;
mod navigation;
mod outbox;
mod payments;
mod push;
mod records;
mod runtime;
#[cfg(feature = "testing")]
mod simulators;
mod subscription;
mod thread;
mod tierspay;
mod values;
mod visit;
mod wallet_flow;

pub use crate::app::flows::enrollment::{EnrollmentField, EnrollmentStep};
pub use crate::app::flows::visit::{FailureKind, VisitField, VisitStep};
pub use crate::app::flows::wallet::{
    Availability, InWalletStatus, WalletKind, WalletOutcome, WalletResult, WalletStep,
};
pub use crate::app::payment_text::PaymentProgress;
pub use crate::app::LinkRefusal;
pub use crate::wire::ErrorCode;
pub use arrears::{
    Arrears, ArrearsFlow, ArrearsFlowError, ArrearsFlowState, ArrearsListener, Day, Invoice,
    InvoiceHistoryLine, InvoiceList, InvoiceStatus, LinkChannel, LinkResult, RefusedLink,
    VerifiedLink,
};
pub use card::{
    ApplePayPassData, Card, CardDetails, CardInfo, CardToken, GooglePayAction, PushTokenizeData,
    TapAndPayToken,
};
pub use coverage::{
    quote_document, Act, Coverage, CoveragePreview, CoveredBeneficiary, CurrencyCode, Deduction,
    Explanation, Language, Money, PreviewCheck, PreviewRequest, Provider, ProviderSearch,
    SyncSummary,
};
pub use enrollment::Enrollment;
pub use enrollment_flow::{
    EnrollmentFlow, EnrollmentFlowError, EnrollmentFlowState, EnrollmentListener,
};
pub use error::{error_code_text, CoreError};
#[cfg(feature = "testing")]
pub use link_signer::PaymentLinkSigner;
pub use navigation::{core_version, route_for_link, route_for_push, Route};
pub use outbox::{LinkedInvoice, OutboxEntry, OutboxSendReport, PayButton, PayOutcome};
pub use payments::{
    AuthorizeResult, MemberCard, PaymentMethodStatus, Payments, StaleFigures, Visit, VisitReceipt,
    VisitStatus,
};
pub use push::PushService;
pub use records::*;
#[cfg(feature = "testing")]
pub use simulators::{PassKitSimulator, SimulatedPass};
pub use subscription::{SessionListener, Subscription};
pub use thread::{
    MessageState, ThreadFlow, ThreadFlowError, ThreadFlowState, ThreadListener, ThreadMessage,
};
pub use tierspay::TiersPay;
pub use values::{
    Amount, CardStatus, CareCategory, ContractStatus, DeductionKind, Relationship, TokenStatus,
    Wallet,
};
pub use visit::{
    VisitCheck, VisitFlow, VisitFlowError, VisitFlowState, VisitListener, VisitPayment,
};
pub use wallet_flow::{
    WalletFlow, WalletFlowError, WalletFlowState, WalletListener, WalletRequest,
};
