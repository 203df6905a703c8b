import Foundation
internal import TiersPayCore

/// This phone's payment of an invoice (a row of the core's outbox) and what to tell the member
/// about it; the sentences are the core's (`core/src/app/payment_text.rs`).
public struct OutboxPayment: Equatable, Hashable, Sendable {
    /// Where it stands.
    public enum Progress: Equatable, Hashable, Sendable {
        case queued, sending, paid, alreadyPaid, voided, declined, refused, quarantined
    }

    /// Its order on this phone: rows are sent in this order.
    public var seq: Int64
    public var invoiceId: String
    public var amount: Amount?
    public var progress: Progress
    /// Still to be sent (queued or sending).
    public var isPending: Bool
    public var attempts: UInt32
    public var messageFr: String
    public var messageEn: String
    /// When it was written, phone clock (shown only).
    public var createdAt: Date
}

/// What an invoice's pay button does, as the core says: drawn as told.
public struct PayButton: Equatable, Hashable, Sendable {
    public var shows: Bool
    public var isEnabled: Bool
    public var labelFr: String
    public var labelEn: String
}

/// One line of an invoice's history on every channel, with the core's codes
/// (`payment_succeeded`, `email_link`…).
public struct InvoiceHistoryLine: Equatable, Hashable, Sendable {
    public var kind: String
    public var channel: String?
    public var via: String?
    public var amount: Amount?
    public var day: PaymentLinkDay
    public var at: Date
}

/// An invoice as a verified link named it, shown before the first sync brings it.
public struct LinkedInvoice: Equatable, Hashable, Sendable {
    public var invoiceNumber: UInt32
    public var amount: Amount
    public var channel: String
    public var expiresAt: Date
    public var noteFr: String
    public var noteEn: String
}

private func date(_ unixSeconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(unixSeconds)) }

extension OutboxPayment {
    init(_ e: TiersPayCore.OutboxEntry) {
        let progress: Progress
        switch e.progress {
        case .queued: progress = .queued
        case .sending: progress = .sending
        case .paid: progress = .paid
        case .alreadyPaid: progress = .alreadyPaid
        case .voided: progress = .voided
        case .declined: progress = .declined
        case .refused: progress = .refused
        case .quarantined: progress = .quarantined
        }
        self.init(
            seq: e.seq, invoiceId: e.invoiceId, amount: e.amount.map(Amount.init), progress: progress, isPending: e.pending,
            attempts: e.attempts, messageFr: e.messageFr, messageEn: e.messageEn, createdAt: date(e.createdAt)
        )
    }
}

extension PayButton {
    init(_ b: TiersPayCore.PayButton) { self.init(shows: b.shows, isEnabled: b.enabled, labelFr: b.labelFr, labelEn: b.labelEn) }
}

extension InvoiceHistoryLine {
    init(_ h: TiersPayCore.InvoiceHistoryLine) {
        self.init(
            kind: h.kind, channel: h.channel, via: h.via, amount: h.amount.map(Amount.init), day: PaymentLinkDay(h.day), at: date(h.at)
        )
    }
}

extension LinkedInvoice {
    init(_ l: TiersPayCore.LinkedInvoice) {
        self.init(
            invoiceNumber: l.invoiceNumber, amount: Amount(l.amount), channel: l.channel, expiresAt: date(l.expiresAt),
            noteFr: l.noteFr, noteEn: l.noteEn
        )
    }
}
