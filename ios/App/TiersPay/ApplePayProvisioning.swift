#if canImport(PassKit)
import PassKit
import SwiftUI
import TiersPayKit
import UIKit

/// Apple's add-payment-pass sheet as the shell's `PaymentPassAdding` (what `AddToWalletModel`
/// drives; FakePassKit plays it in tests). Wiring only: the delegate forwards PassKit's
/// certificates, nonce and nonce signature to the core and builds `PKAddPaymentPassRequest`
/// from its answer. No card number passes through here (the pass data is encrypted for the
/// wallet). In-app provisioning needs Apple's `com.apple.developer.payment-pass-provisioning`
/// entitlement on the app id.
@MainActor
final class PassKitWallet: PaymentPassAdding {
    /// The sheet's delegate while it is up (PassKit holds it weakly).
    private var current: AddPaymentPassDelegate?

    /// Whether this iPhone can add payment cards at all.
    static var isAvailable: Bool { PKAddPaymentPassViewController.canAddPaymentPass() }

    func addPaymentPass(card: CardInfo, cardholderName: String, provisioning: any PaymentPassProvisioning) async throws(TiersPayError) -> PaymentPassAddOutcome {
        guard current == nil else { throw TiersPayError(kind: .platform, message: "Apple Wallet is already open.") }
        guard Self.isAvailable, let configuration = PKAddPaymentPassRequestConfiguration(encryptionScheme: .ECC_V2) else {
            throw TiersPayError(kind: .platform, message: "This iPhone cannot add cards to Apple Wallet.")
        }
        configuration.cardholderName = cardholderName
        configuration.primaryAccountSuffix = card.last4
        configuration.localizedDescription = "TiersPay"
        configuration.style = .payment
        switch card.brand {
        case "visa": configuration.paymentNetwork = .visa
        case "mastercard": configuration.paymentNetwork = .masterCard
        default: break
        }

        let delegate = AddPaymentPassDelegate(provisioning: provisioning)
        guard let controller = PKAddPaymentPassViewController(requestConfiguration: configuration, delegate: delegate),
            let presenter = Self.topViewController()
        else {
            throw TiersPayError(kind: .platform, message: "Apple Wallet could not be opened.")
        }
        current = delegate
        defer { current = nil }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<PaymentPassAddOutcome, TiersPayError>, Never>) in
            delegate.finished = { continuation.resume(returning: $0) }
            presenter.present(controller, animated: true)
        }
        return try result.get()
    }

    private static func topViewController() -> UIViewController? {
        let scenes = UIApplication.shared.connectedScenes.compactMap { $0 as? UIWindowScene }
        let scene = scenes.first { $0.activationState == .foregroundActive } ?? scenes.first
        var top = scene?.keyWindow?.rootViewController
        while let presented = top?.presentedViewController { top = presented }
        return top
    }
}

/// `PKAddPaymentPassViewControllerDelegate`: forwards the exchange to the core, nothing else.
@MainActor
final class AddPaymentPassDelegate: NSObject {
    private let provisioning: any PaymentPassProvisioning
    /// Called once, when the sheet closes.
    var finished: ((Result<PaymentPassAddOutcome, TiersPayError>) -> Void)?
    /// The core's refusal (frozen card, untrusted chain…), reported when the sheet closes.
    private var exchangeError: TiersPayError?

    init(provisioning: any PaymentPassProvisioning) {
        self.provisioning = provisioning
    }
}

extension AddPaymentPassDelegate: @preconcurrency PKAddPaymentPassViewControllerDelegate {
    func addPaymentPassViewController(
        _ controller: PKAddPaymentPassViewController,
        generateRequestWithCertificateChain certificates: [Data],
        nonce: Data,
        nonceSignature: Data,
        completionHandler handler: @escaping (PKAddPaymentPassRequest) -> Void
    ) {
        let provisioning = provisioning
        Task {
            let request = PKAddPaymentPassRequest()
            do {
                let data = try await provisioning.applePayPassData(certificates: certificates, nonce: nonce, nonceSignature: nonceSignature)
                request.encryptedPassData = data.encryptedPassData
                request.activationData = data.activationData
                request.ephemeralPublicKey = data.ephemeralPublicKey
            } catch {
                // An empty request: PassKit shows its failure and closes with an error.
                exchangeError = error
            }
            handler(request)
        }
    }

    func addPaymentPassViewController(_ controller: PKAddPaymentPassViewController, didFinishAdding pass: PKPaymentPass?, error: (any Error)?) {
        controller.dismiss(animated: true)
        let result: Result<PaymentPassAddOutcome, TiersPayError>
        if pass != nil {
            result = .success(.added)
        } else if let exchangeError {
            result = .failure(exchangeError)
        } else {
            // Closed without a pass and without a refusal from us: the member cancelled, or
            // the wallet stopped on its own (it says why on its sheet).
            result = .success(.cancelled)
        }
        finished?(result)
        finished = nil
    }
}

/// Apple's "Add to Apple Wallet" button (the only one the guidelines allow).
struct AddToAppleWalletButton: UIViewRepresentable {
    let action: () -> Void

    func makeUIView(context: Context) -> PKAddPassButton {
        let button = PKAddPassButton(addPassButtonStyle: .black)
        button.addTarget(context.coordinator, action: #selector(Coordinator.tapped), for: .touchUpInside)
        return button
    }

    func updateUIView(_ button: PKAddPassButton, context: Context) {
        context.coordinator.action = action
    }

    func makeCoordinator() -> Coordinator { Coordinator(action: action) }

    @MainActor
    final class Coordinator: NSObject {
        var action: () -> Void
        init(action: @escaping () -> Void) { self.action = action }
        @objc func tapped() { action() }
    }
}
#endif
