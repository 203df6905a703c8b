import Foundation
internal import TiersPayCore

/// One message of an invoice's thread. The text is plain: draw it as text, never as markup.
public struct ThreadMessageItem: Equatable, Hashable, Sendable, Identifiable {
    public enum State: Equatable, Hashable, Sendable {
        /// On the phone, waiting to reach the server.
        case pending
        /// The server has it.
        case sent
        /// The server refused it for good.
        case failed
    }

    public var id: String
    public var fromSupport: Bool
    public var authorName: String?
    public var text: String
    public var attachmentType: String?
    public var day: PaymentLinkDay
    public var created: Date
    public var state: State
}

/// A failure on the thread screen; a refused text names `text` in `field`.
public struct ThreadError: Equatable, Sendable {
    public var kind: FlowFailureKind
    public var field: String?
    public var message: String
}

/// The thread screen's state as the core's `ThreadFlow` sends it
/// (`core/src/app/flows/thread.rs`).
public struct ThreadSnapshot: Equatable, Sendable {
    /// Grows with every change; the model keeps the newest.
    public var revision: UInt64
    public var invoiceId: String
    /// Oldest first.
    public var messages: [ThreadMessageItem]
    public var isSyncing: Bool
    /// Messages being written now: the send button shows busy while it is not 0.
    public var writing: UInt32
    /// The member's messages not yet on the server.
    public var pending: UInt32
    public var error: ThreadError?
}

extension ThreadSnapshot {
    init(_ s: TiersPayCore.ThreadFlowState) {
        self.init(
            revision: s.revision, invoiceId: s.invoiceId,
            messages: s.messages.map { m in
                let state: ThreadMessageItem.State
                switch m.state {
                case .pending: state = .pending
                case .sent: state = .sent
                case .failed: state = .failed
                }
                return ThreadMessageItem(
                    id: m.id, fromSupport: m.fromSupport, authorName: m.authorName, text: m.text,
                    attachmentType: m.attachmentType,
                    day: PaymentLinkDay(iso: m.day.iso, displayFr: m.day.displayFr, displayEn: m.day.displayEn),
                    created: Date(timeIntervalSince1970: TimeInterval(m.created)), state: state)
            },
            isSyncing: s.syncing, writing: s.writing, pending: s.pending,
            error: s.error.map { ThreadError(kind: FlowFailureKind($0.kind), field: $0.field, message: $0.message) }
        )
    }
}

/// One invoice's message thread over the core's `ThreadFlow`: the messages the phone has shown
/// at once, then read from the server; the member's message checked by the core and sent
/// exactly once through its outbox, now or when the network is back. Forwards intents,
/// publishes states as an `AsyncStream`; decides nothing.
public final class ThreadFlowModel: @unchecked Sendable {
    private let flow: TiersPayCore.ThreadFlow
    private let listener: ThreadFlowListener

    /// Every new state, newest revision only.
    public let states: AsyncStream<ThreadSnapshot>

    init(core: TiersPayCore.TiersPay, invoiceId: String) {
        let (stream, continuation) = AsyncStream.makeStream(of: ThreadSnapshot.self, bufferingPolicy: .bufferingNewest(64))
        states = stream
        listener = ThreadFlowListener(continuation)
        flow = core.threadFlow(invoiceId: invoiceId, listener: listener)
    }

    deinit { listener.finish() }

    /// The newest state, nil before the first.
    public var state: ThreadSnapshot? { listener.latest }

    /// Shows the thread the phone has, sends waiting messages and reads the server.
    public func start() { flow.start() }
    /// Pull to refresh, the network back, or a push saying support answered.
    public func refresh() { flow.refresh() }
    /// The send button.
    public func send(_ text: String) { flow.send(text: text) }
}

private final class ThreadFlowListener: ThreadListener, @unchecked Sendable {
    private let lock = NSLock()
    private var newest: ThreadSnapshot?
    private let continuation: AsyncStream<ThreadSnapshot>.Continuation

    init(_ continuation: AsyncStream<ThreadSnapshot>.Continuation) { self.continuation = continuation }

    var latest: ThreadSnapshot? { lock.withLock { newest } }

    func finish() { continuation.finish() }

    func onState(state: TiersPayCore.ThreadFlowState) {
        let snapshot = ThreadSnapshot(state)
        let fresh: Bool = lock.withLock {
            guard newest.map({ snapshot.revision > $0.revision }) ?? true else { return false }
            newest = snapshot
            return true
        }
        if fresh { continuation.yield(snapshot) }
    }
}
