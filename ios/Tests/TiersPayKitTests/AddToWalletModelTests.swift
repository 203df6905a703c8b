import Foundation
import TiersPayKit
import XCTest

/// AddToWalletModel with fakes: what shows for each card, cancel and failure.
final class AddToWalletModelTests: XCTestCase {
    static func card(frozen: Bool = false, eligible: Bool = true, tokens: [CardToken] = []) -> CardInfo {
        CardInfo(
            id: "ic_1", last4: "4242", expiry: "04/29", brand: "visa", status: frozen ? .inactive : .active, frozen: frozen,
            applePayEligible: eligible, googlePayEligible: true, controls: [Explanation(fr: "Santé", en: "Health")], tokens: tokens
        )
    }

    func testPhaseFollowsTheCard() {
        XCTAssertEqual(AddToWalletViewState().phase, .noCard)
        XCTAssertEqual(AddToWalletViewState(card: Self.card()).phase, .ready)
        XCTAssertEqual(AddToWalletViewState(card: Self.card(frozen: true)).phase, .frozen)
        XCTAssertEqual(AddToWalletViewState(card: Self.card(eligible: false)).phase, .notEligible)
        let google = CardToken(id: "t0", wallet: .googlePay, deviceId: nil, last4: "1111", status: .active)
        XCTAssertEqual(AddToWalletViewState(card: Self.card(tokens: [google])).phase, .ready, "Google Pay is another wallet")
        let deleted = CardToken(id: "t1", wallet: .applePay, deviceId: nil, last4: "1234", status: .deleted)
        XCTAssertEqual(AddToWalletViewState(card: Self.card(tokens: [deleted])).phase, .ready)
        let requested = CardToken(id: "t2", wallet: .applePay, deviceId: nil, last4: "1234", status: .requested)
        XCTAssertEqual(AddToWalletViewState(card: Self.card(tokens: [requested])).phase, .inWallet(.requested))
    }

    @MainActor
    func testCancelShowsTheButtonAgainAndFailureKeepsTheError() async {
        let service = FakeCardService(card: Self.card())
        let wallet = FakeWallet(outcome: .cancelled)
        let model = AddToWalletModel(service: service, wallet: wallet, cardholderName: "Camille Martin")
        model.load()
        await model.add()
        XCTAssertEqual(model.state.phase, .ready)
        XCTAssertEqual(wallet.calls, 1)

        let error = TiersPayError(kind: .rejected(code: "card_inactive"), message: "The card is frozen.")
        wallet.error = error
        await model.add()
        XCTAssertEqual(model.state.phase, .failed(error))
        XCTAssertTrue(model.state.canAdd)
        XCTAssertEqual(wallet.calls, 2)
    }

    func testRedactedDetails() {
        let details = CardDetails(number: "4242424242424242", expiry: "04/29", cvc: "123")
        XCTAssertEqual("\(details)", "CardDetails(redacted)")
        XCTAssertFalse(String(reflecting: details).contains("4242"))
        XCTAssertEqual(details.groupedNumber, "4242 4242 4242 4242")
    }
}

final class FakeCardService: CardService, @unchecked Sendable {
    var current: CardInfo?
    init(card: CardInfo?) { current = card }
    func card() throws(TiersPayError) -> CardInfo? { current }
    func refreshCard() async throws(TiersPayError) -> CardInfo { current! }
    func freezeCard() async throws(TiersPayError) -> CardInfo { current! }
    func unfreezeCard() async throws(TiersPayError) -> CardInfo { current! }
    func revealCard() async throws(TiersPayError) -> CardDetails { CardDetails(number: "4242424242424242", expiry: "04/29", cvc: "123") }
    func applePayPassData(certificates: [Data], nonce: Data, nonceSignature: Data) async throws(TiersPayError) -> PaymentPassRequestData {
        PaymentPassRequestData(encryptedPassData: Data([1]), activationData: Data([2]), ephemeralPublicKey: Data(count: 65))
    }
}

final class FakeWallet: PaymentPassAdding, @unchecked Sendable {
    var outcome: PaymentPassAddOutcome
    var error: TiersPayError?
    var calls = 0
    init(outcome: PaymentPassAddOutcome) { self.outcome = outcome }
    func addPaymentPass(card: CardInfo, cardholderName: String, provisioning: any PaymentPassProvisioning) async throws(TiersPayError) -> PaymentPassAddOutcome {
        calls += 1
        if let error { throw error }
        return outcome
    }
}
