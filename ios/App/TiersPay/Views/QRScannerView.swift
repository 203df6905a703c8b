@preconcurrency import AVFoundation
import SwiftUI
import UIKit
#if canImport(VisionKit)
import VisionKit
#endif

/// Reads the QR code on a provider's desk and hands its text, as it is, to `onScan`: the
/// app does not parse it; the core decides whether it is a TiersPay provider code
/// (`https://app.tierspay.fr/p/CODE`) and says so under the scan button when it is not.
///
/// VisionKit's DataScannerViewController where the device supports it (A12 and later);
/// AVFoundation's metadata output otherwise.
struct QRScannerSheet: View {
    let onScan: (String) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var access = AVCaptureDevice.authorizationStatus(for: .video)

    var body: some View {
        NavigationStack {
            content
                .navigationTitle("Scan the desk's QR code")
                .navigationBarTitleDisplayMode(.inline)
                .toolbar {
                    ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
                }
        }
        .task {
            if access == .notDetermined {
                _ = await AVCaptureDevice.requestAccess(for: .video)
                access = AVCaptureDevice.authorizationStatus(for: .video)
            }
        }
    }

    @ViewBuilder private var content: some View {
        switch access {
        case .authorized:
            scanner.ignoresSafeArea(edges: .bottom)
        case .notDetermined:
            ProgressView()
        default:
            VStack(spacing: 12) {
                Image(systemName: "camera.fill").font(.largeTitle)
                Text("TiersPay cannot use the camera. Allow it in Settings, or search for the provider by name.")
                    .multilineTextAlignment(.center)
            }
            .padding()
        }
    }

    @ViewBuilder private var scanner: some View {
        #if canImport(VisionKit)
        if DataScannerViewController.isSupported && DataScannerViewController.isAvailable {
            DataScannerView(onScan: deliver)
        } else {
            CaptureScannerView(onScan: deliver)
        }
        #else
        CaptureScannerView(onScan: deliver)
        #endif
    }

    private func deliver(_ text: String) {
        onScan(text)
        dismiss()
    }
}

#if canImport(VisionKit)
/// VisionKit's scanner, QR codes only; the first one read ends it.
struct DataScannerView: UIViewControllerRepresentable {
    let onScan: (String) -> Void

    func makeCoordinator() -> Coordinator { Coordinator(onScan: onScan) }

    func makeUIViewController(context: Context) -> DataScannerViewController {
        let scanner = DataScannerViewController(
            recognizedDataTypes: [.barcode(symbologies: [.qr])],
            qualityLevel: .balanced,
            recognizesMultipleItems: false,
            isHighFrameRateTrackingEnabled: false,
            isHighlightingEnabled: true
        )
        scanner.delegate = context.coordinator
        return scanner
    }

    func updateUIViewController(_ scanner: DataScannerViewController, context: Context) {
        if !scanner.isScanning && !context.coordinator.delivered {
            try? scanner.startScanning()
        }
    }

    static func dismantleUIViewController(_ scanner: DataScannerViewController, coordinator: Coordinator) {
        scanner.stopScanning()
    }

    @MainActor
    final class Coordinator: NSObject, DataScannerViewControllerDelegate {
        let onScan: (String) -> Void
        private(set) var delivered = false

        init(onScan: @escaping (String) -> Void) {
            self.onScan = onScan
        }

        func dataScanner(_ dataScanner: DataScannerViewController, didAdd addedItems: [RecognizedItem], allItems: [RecognizedItem]) {
            guard !delivered else { return }
            for item in addedItems {
                if case let .barcode(barcode) = item, let text = barcode.payloadStringValue {
                    delivered = true
                    dataScanner.stopScanning()
                    onScan(text)
                    return
                }
            }
        }
    }
}
#endif

/// AVFoundation's scanner, for devices VisionKit's does not support.
struct CaptureScannerView: UIViewControllerRepresentable {
    let onScan: (String) -> Void

    func makeUIViewController(context: Context) -> CaptureScannerController {
        let controller = CaptureScannerController()
        controller.onScan = onScan
        return controller
    }

    func updateUIViewController(_ controller: CaptureScannerController, context: Context) {}
}

final class CaptureScannerController: UIViewController, AVCaptureMetadataOutputObjectsDelegate {
    var onScan: ((String) -> Void)?
    private let session = AVCaptureSession()
    /// startRunning / stopRunning block: never on the main thread.
    private let sessionQueue = DispatchQueue(label: "fr.tierspay.qr-scanner")
    private var previewLayer: AVCaptureVideoPreviewLayer?
    private var delivered = false

    override func viewDidLoad() {
        super.viewDidLoad()
        view.backgroundColor = .black
        guard let camera = AVCaptureDevice.default(for: .video),
            let input = try? AVCaptureDeviceInput(device: camera),
            session.canAddInput(input)
        else { return }
        session.addInput(input)
        let output = AVCaptureMetadataOutput()
        guard session.canAddOutput(output) else { return }
        session.addOutput(output)
        output.setMetadataObjectsDelegate(self, queue: .main)
        output.metadataObjectTypes = [.qr]
        let layer = AVCaptureVideoPreviewLayer(session: session)
        layer.videoGravity = .resizeAspectFill
        view.layer.addSublayer(layer)
        previewLayer = layer
    }

    override func viewDidLayoutSubviews() {
        super.viewDidLayoutSubviews()
        previewLayer?.frame = view.bounds
    }

    override func viewWillAppear(_ animated: Bool) {
        super.viewWillAppear(animated)
        let session = session
        sessionQueue.async { if !session.isRunning { session.startRunning() } }
    }

    override func viewWillDisappear(_ animated: Bool) {
        super.viewWillDisappear(animated)
        let session = session
        sessionQueue.async { if session.isRunning { session.stopRunning() } }
    }

    /// Called on the main queue (see setMetadataObjectsDelegate above).
    nonisolated func metadataOutput(_ output: AVCaptureMetadataOutput, didOutput metadataObjects: [AVMetadataObject], from connection: AVCaptureConnection) {
        guard let text = metadataObjects.lazy.compactMap({ ($0 as? AVMetadataMachineReadableCodeObject)?.stringValue }).first else { return }
        MainActor.assumeIsolated { self.deliver(text) }
    }

    private func deliver(_ text: String) {
        guard !delivered else { return }
        delivered = true
        let session = session
        sessionQueue.async { session.stopRunning() }
        onScan?(text)
    }
}
