import Foundation
internal import TiersPayCore

/// One invoice of the member, as synced to the phone; every text (status, amounts, due day,
/// grouped reference) is the core's.
public struct ArrearsInvoice: Equatable, Hashable, Sendable, Identifiable {
    public enum Status: Equatable, Hashable, Sendable { case open, paid, void, uncollectible }

    public var id: String
    public var number: String?
    public var status: Status
    public var statusFr: String
    public var statusEn: String
    /// Something is owed and can be paid: the pay button shows.
    public var payable: Bool
    public var description: String?
    public var contractRef: String
    public var amountDue: Amount
    public var amountPaid: Amount
    public var amountRemaining: Amount
    /// The due day (Paris): `2026-12-31`, with its French and English text.
    public var dueDate: PaymentLinkDay?
    /// For a transfer, electronic form (`RF18539007547034`) and as printed (`RF18 5390 0754 7034`).
    public var rfReference: String?
    public var rfReferenceDisplay: String?
    /// Once paid: when, and how (`app`, `email_link`…, the core's code).
    public var paidAt: PaymentLinkDay?
    public var paidVia: String?
    /// What happened to it on every channel, oldest first.
    public var history: [InvoiceHistoryLine]
    /// This phone's latest payment of it: queued, sent, paid, or why not.
    public var payment: OutboxPayment?
    /// The pay button as the core says it is.
    public var payButton: PayButton?
}

/// A calendar day written by the core for both readers.
public struct PaymentLinkDay: Equatable, Hashable, Sendable {
    public var iso: String
    public var displayFr: String
    public var displayEn: String
}

/// What a verified payment link says: every field signed by the server with the pinned key.
public struct VerifiedPaymentLink: Equatable, Hashable, Sendable {
    public enum Channel: Equatable, Hashable, Sendable { case push, email, sms, app }

    public var invoiceNumber: UInt32
    public var amount: Amount
    public var expiresAt: Date
    public var expires: PaymentLinkDay
    public var channel: Channel
    public var keyId: UInt8
    /// The hosted payment page of this link (`https://app.tierspay.fr/l/…`).
    public var pageURL: String
}

/// Why the core refused a link, with what to tell the member.
public struct RefusedPaymentLink: Equatable, Hashable, Sendable {
    public enum Reason: Equatable, Hashable, Sendable {
        case notOurs, malformed, truncated, badSignature, expired, otherMember, unsupportedVersion, unknownShortLink
    }

    public var reason: Reason
    public var messageFr: String
    public var messageEn: String
}

/// A link as opened: verified, or refused before anything of it was shown.
public enum PaymentLinkResult: Equatable, Hashable, Sendable {
    case verified(VerifiedPaymentLink)
    case refused(RefusedPaymentLink)
}

/// The arrears screens' state as the core's `ArrearsFlow` sends it
/// (`core/src/app/flows/arrears.rs`).
public struct ArrearsSnapshot: Equatable, Sendable {
    /// Grows with every change; the model keeps the newest.
    public var revision: UInt64
    /// Open ones first.
    public var invoices: [ArrearsInvoice]
    /// When they were synced; nil if never (offer a sync).
    public var syncedAt: Date?
    public var selected: ArrearsInvoice?
    /// The link last opened; nil while none is open.
    public var link: PaymentLinkResult?
    public var isSyncing: Bool
    public var isOpeningLink: Bool
    public var error: ArrearsError?
    /// Invoices whose "pay" is being written now (their button shows busy).
    public var paying: [String]
    /// The last "pay" found this invoice's payment already queued: say so.
    public var alreadyQueued: String?
    /// Payments still to reach the server.
    public var pendingPayments: UInt32
    /// Before the first sync: what verified links said.
    public var fromLinks: [LinkedInvoice]
}

/// A sync or a link that failed (offline, the server refused): what to show.
public struct ArrearsError: Equatable, Sendable {
    public var kind: FlowFailureKind
    public var message: String
}

extension PaymentLinkDay {
    init(_ d: TiersPayCore.Day) { self.init(iso: d.iso, displayFr: d.displayFr, displayEn: d.displayEn) }
}

extension ArrearsInvoice {
    init(_ i: TiersPayCore.Invoice) {
        let status: Status
        switch i.status {
        case .open: status = .open
        case .paid: status = .paid
        case .void: status = .void
        case .uncollectible: status = .uncollectible
        }
        self.init(
            id: i.id, number: i.number, status: status, statusFr: i.statusFr, statusEn: i.statusEn, payable: i.payable,
            description: i.description, contractRef: i.contractRef, amountDue: Amount(i.amountDue),
            amountPaid: Amount(i.amountPaid), amountRemaining: Amount(i.amountRemaining),
            dueDate: i.dueDate.map(PaymentLinkDay.init), rfReference: i.rfReference, rfReferenceDisplay: i.rfReferenceDisplay,
            paidAt: i.paidAt.map(PaymentLinkDay.init), paidVia: i.paidVia, history: i.history.map(InvoiceHistoryLine.init),
            payment: i.payment.map(OutboxPayment.init), payButton: i.payButton.map(PayButton.init)
        )
    }
}

extension PaymentLinkResult {
    init(_ r: TiersPayCore.LinkResult) {
        switch r {
        case let .verified(l):
            let channel: VerifiedPaymentLink.Channel
            switch l.channel {
            case .push: channel = .push
            case .email: channel = .email
            case .sms: channel = .sms
            case .app: channel = .app
            }
            self = .verified(
                VerifiedPaymentLink(
                    invoiceNumber: l.invoiceNumber, amount: Amount(l.amount),
                    expiresAt: Date(timeIntervalSince1970: TimeInterval(l.expiresAt)), expires: PaymentLinkDay(l.expires),
                    channel: channel, keyId: l.keyId, pageURL: l.pageUrl
                ))
        case let .refused(r):
            let reason: RefusedPaymentLink.Reason
            switch r.reason {
            case .notOurs: reason = .notOurs
            case .malformed: reason = .malformed
            case .truncated: reason = .truncated
            case .badSignature: reason = .badSignature
            case .expired: reason = .expired
            case .otherMember: reason = .otherMember
            case .unsupportedVersion: reason = .unsupportedVersion
            case .unknownShortLink: reason = .unknownShortLink
            }
            self = .refused(RefusedPaymentLink(reason: reason, messageFr: r.messageFr, messageEn: r.messageEn))
        }
    }
}

extension ArrearsSnapshot {
    init(_ s: TiersPayCore.ArrearsFlowState) {
        self.init(
            revision: s.revision, invoices: s.invoices.map(ArrearsInvoice.init),
            syncedAt: s.syncedAt.map { Date(timeIntervalSince1970: TimeInterval($0)) },
            selected: s.selected.map(ArrearsInvoice.init), link: s.link.map(PaymentLinkResult.init),
            isSyncing: s.syncing, isOpeningLink: s.openingLink,
            error: s.error.map { ArrearsError(kind: FlowFailureKind($0.kind), message: $0.message) },
            paying: s.paying, alreadyQueued: s.alreadyQueued, pendingPayments: s.pendingPayments,
            fromLinks: s.fromLinks.map(LinkedInvoice.init)
        )
    }
}

/// The arrears screens over the core's `ArrearsFlow`: the invoices shown offline then
/// refreshed, a detail, and a payment link the app was opened with (`onOpenURL`, a universal
/// link, `tierspay://`, a tapped push), verified by the core before anything of it is in a
/// state. Paying goes through the core's outbox: the pay button, a second tap, a payment queued
/// offline and why a queued one was not taken are all in a state. Forwards intents, publishes
/// states as an `AsyncStream`; decides nothing.
public final class ArrearsFlowModel: @unchecked Sendable {
    private let flow: TiersPayCore.ArrearsFlow
    private let listener: ArrearsFlowListener

    /// Every new state, newest revision only.
    public let states: AsyncStream<ArrearsSnapshot>

    init(core: TiersPayCore.TiersPay) {
        let (stream, continuation) = AsyncStream.makeStream(of: ArrearsSnapshot.self, bufferingPolicy: .bufferingNewest(64))
        states = stream
        listener = ArrearsFlowListener(continuation)
        flow = core.arrearsFlow(listener: listener)
    }

    deinit { listener.finish() }

    /// The newest state, nil before the first.
    public var state: ArrearsSnapshot? { listener.latest }

    /// Shows the invoices the phone has and refreshes them.
    public func start() { flow.start() }
    /// Pull to refresh.
    public func refresh() { flow.refresh() }
    /// A link the app was opened with; the core verifies it.
    public func open(link url: URL) { flow.openLink(url: url.absoluteString) }
    /// The same, as text (a push's `link`).
    public func open(link url: String) { flow.openLink(url: url) }
    /// Opens an invoice's detail.
    public func select(invoiceId: String) { flow.select(invoiceId: invoiceId) }
    /// Back: closes the opened link, then the detail.
    public func back() { flow.back() }
    /// The pay button: the core writes the payment to its outbox, then sends it if it can.
    public func pay(invoiceId: String) { flow.pay(invoiceId: invoiceId) }
    /// The platform says the network is back (`NWPathMonitor` satisfied).
    public func networkAvailable() { flow.networkAvailable() }
    /// Sends the outbox, then refreshes the list.
    public func sync() { flow.sync() }
    /// The outbox, newest first: every payment from this phone and where it stands (a store read).
    public func outbox() throws(TiersPayError) -> [OutboxPayment] { try mapErrors { try flow.outbox().map(OutboxPayment.init) } }
}

private final class ArrearsFlowListener: ArrearsListener, @unchecked Sendable {
    private let lock = NSLock()
    private var newest: ArrearsSnapshot?
    private let continuation: AsyncStream<ArrearsSnapshot>.Continuation

    init(_ continuation: AsyncStream<ArrearsSnapshot>.Continuation) { self.continuation = continuation }

    var latest: ArrearsSnapshot? { lock.withLock { newest } }

    func finish() { continuation.finish() }

    func onState(state: TiersPayCore.ArrearsFlowState) {
        let snapshot = ArrearsSnapshot(state)
        let fresh: Bool = lock.withLock {
            guard newest.map({ snapshot.revision > $0.revision }) ?? true else { return false }
            newest = snapshot
            return true
        }
        if fresh { continuation.yield(snapshot) }
    }
}
