import Foundation

// Paying at the doctor: the member's own card (public facts only), the visits the virtual card
// was armed for, and the visit screen's paying state. The shell's own types, like
// CardModels.swift; Conversions.swift maps the core's onto them. Statuses are the core's,
// sentences and amounts' text the core's: nothing here decides.

/// The member's own card, as the phone may know it: never its number or code.
public struct MemberCard: Equatable, Hashable, Sendable {
    public enum Status: Equatable, Hashable, Sendable {
        /// Saved: the member's shares are taken from it.
        case active
        /// The bank wants the member to authenticate: open `nextActionURL`, then refresh.
        case requiresAction
        /// The bank refused it: see `decline`; save another card.
        case failed
    }

    /// The PSP's `pm_…`.
    public var paymentMethod: String
    public var status: Status
    /// `visa`, `mastercard`…
    public var brand: String
    public var last4: String
    /// `MM/YY`.
    public var expiry: String
    /// The bank's challenge page when `status` is `.requiresAction` (the core checked it).
    public var nextActionURL: URL?
    /// Stripe's decline code when `.failed`.
    public var declineCode: String?
    /// What the decline means, when `.failed`.
    public var decline: Explanation?

    /// `•••• 4242`.
    public var maskedNumber: String { "•••• \(last4)" }
}

/// One visit the virtual card was armed for.
public struct Visit: Equatable, Hashable, Sendable, Identifiable {
    public enum Status: Equatable, Hashable, Sendable {
        /// The card pays this visit only, until `expiresAt`.
        case armed
        /// The terminal's tap was approved; not captured yet.
        case authorized
        /// Captured: the provider is paid (see `receipt`).
        case paid
        case canceled
        /// No tap before `expiresAt`.
        case expired
        /// The terminal reversed the tap.
        case reversed
    }

    /// `vis_…`
    public var id: String
    public var status: Status
    /// The card still pays it (armed, or tapped and not captured): show the countdown.
    public var isActive: Bool
    public var beneficiaryId: String
    public var providerId: String
    public var providerName: String
    public var actCode: String
    /// Care date, `YYYY-MM-DD`.
    public var date: String
    public var price: Amount
    public var amo: Amount
    public var amc: Amount
    /// The member's share (held on the member's card until capture).
    public var member: Amount
    public var previewId: String
    public var created: Date
    /// The countdown's end (server time); then the screen calls `refresh()`.
    public var expiresAt: Date
    /// Why the last tap was declined, if one was.
    public var lastDecline: String?
    /// "Paid €30.00 to Dr …: your insurers €28.00, you €2.00", once paid.
    public var summary: Explanation?
    /// The settlement figures, once paid.
    public var receipt: VisitReceipt?
}

/// What the settlement of a paid visit moved.
public struct VisitReceipt: Equatable, Hashable, Sendable {
    public var providerPaid: Amount
    public var amo: Amount
    public var amc: Amount
    /// Taken from the member's own card.
    public var memberCaptured: Amount
    /// What could not be taken and is owed (zero normally).
    public var arrears: Amount
    public var settledAt: Date
}

/// The server's figures when the phone's preview no longer held: `authorize()` again accepts them.
public struct StaleFigures: Equatable, Hashable, Sendable {
    public var previewId: String
    public var amo: Amount
    public var amc: Amount
    public var member: Amount
}

/// The visit screen's paying part, once the figures are shown (the core decides every flag).
public struct VisitPayment: Equatable, Sendable {
    /// "Pay with my card" can be tapped.
    public var canAuthorize: Bool
    public var isAuthorizing: Bool
    /// The choices cannot change: a visit is being authorized or has been.
    public var isLocked: Bool
    /// The visit: its status, `expiresAt` for the countdown, and once paid the sentence and receipt.
    public var visit: Visit?
    public var stale: StaleFigures?
    /// The cancel button applies: armed and not tapped yet.
    public var canCancel: Bool
    public var isCanceling: Bool
    public var isRefreshing: Bool
}
