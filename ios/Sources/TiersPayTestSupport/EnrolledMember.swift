import Foundation
import TiersPayKit

extension MockServer {
    /// The demo holder enrolled through the real core in `dataDirectory`, as the app does it;
    /// with `cardNumber`, that test card saved as the card the app pays with.
    public func enrolledMember(dataDirectory: URL, cardNumber: String? = nil) async throws -> TiersPayClient {
        let store = InMemorySecureStore()
        let client = try TiersPayClient(
            configuration: TiersPayConfiguration(
                serverURL: url, dataDirectory: dataDirectory, serverPublicKey: publicKey, deviceName: "XCTest"
            ),
            secureStore: store,
            deviceKey: SoftwareDeviceKey(store: store)
        )
        let challenge = try await client.startEnrollment(contractNumber: "TP1000001", birthDate: "1985-04-12")
        let code = try await lastCode(length: challenge.codeLength)
        _ = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)
        if let cardNumber {
            _ = try await client.saveMemberCard(number: cardNumber, expiry: "12/34", cvc: "123")
        }
        return client
    }
}
