import Foundation
import TiersPayKit
import XCTest

// What "Add to Apple Wallet" shows for each card, after a cancel or a failure, is the core's
// (`core/src/app/flows/wallet.rs` and `core/src/ffi/wallet_flow.rs` tests); AddToWalletModel
// over the real core is tested in CardIntegrationTests.

final class AddToWalletModelTests: XCTestCase {
    func testRedactedDetails() {
        let details = CardDetails(number: "4242424242424242", expiry: "04/29", cvc: "123")
        XCTAssertEqual("\(details)", "CardDetails(redacted)")
        XCTAssertFalse(String(reflecting: details).contains("4242"))
        XCTAssertEqual(details.groupedNumber, "4242 4242 4242 4242")
    }
}
