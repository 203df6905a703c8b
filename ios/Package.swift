// swift-tools-version:6.0
// The Swift shell's package: the generated bindings, the hand-written adapter the UI and its
// tests use, test support (a real tierspay-mock) and the FFI benchmark. It builds and tests on
// Linux against target/debug/libtierspay_core.so (see README.md); the iOS app (App/) compiles
// the same sources against the XCFramework instead.
import Foundation
import PackageDescription

let packageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
// Where libtierspay_core lives: target/debug of the repo unless TIERSPAY_CORE_LIB_DIR says
// otherwise. An absolute path, so the linker finds it whatever its working directory.
let coreLibDir =
    ProcessInfo.processInfo.environment["TIERSPAY_CORE_LIB_DIR"].flatMap { $0.isEmpty ? nil : $0 }
    ?? packageDir.appendingPathComponent("../target/debug").standardizedFileURL.path

let package = Package(
    name: "TiersPay",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "TiersPayKit", targets: ["TiersPayKit"])
    ],
    targets: [
        // The C side of the FFI: TiersPayFFI.h and module.modulemap, copied by `make bindings`.
        .systemLibrary(name: "TiersPayFFI", path: "Sources/TiersPayFFI"),
        // The generated Swift (TiersPayCore.swift), in its own target and in language mode 5.
        .target(
            name: "TiersPayCore",
            dependencies: ["TiersPayFFI"],
            path: "Sources/TiersPayCore",
            swiftSettings: [.swiftLanguageMode(.v5)],
            linkerSettings: [
                .linkedLibrary("tierspay_core"),
                .unsafeFlags(["-L\(coreLibDir)", "-Xlinker", "-rpath", "-Xlinker", coreLibDir]),
            ]
        ),
        // The adapter: models, errors, the client, event streams, platform services, view state.
        // It imports TiersPayCore `internal`ly, so no generated type can leak to the UI.
        .target(name: "TiersPayKit", dependencies: ["TiersPayCore"]),
        // Starts a real tierspay-mock and reads its SMS outbox; FakePassKit plays Apple's wallet
        // over the core's PassKitSimulator. For tests and the benchmark.
        .target(name: "TiersPayTestSupport", dependencies: ["TiersPayCore", "TiersPayKit"]),
        // Language mode 5: XCTest on Linux calls main-actor test methods through thunks that
        // strict checking flags (noise, not races: XCTest runs them on the main thread).
        .testTarget(
            name: "TiersPayKitTests",
            dependencies: ["TiersPayKit", "TiersPayTestSupport"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The FFI cost benchmark: `scripts/swift-env.sh bench`.
        .executableTarget(
            name: "TiersPayBench",
            dependencies: ["TiersPayCore", "TiersPayKit", "TiersPayTestSupport"]
        ),
    ]
)
