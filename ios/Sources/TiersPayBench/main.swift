// The cost of one synchronous call across the FFI, from Swift: not a test, a measurement.
//   scripts/swift-env.sh bench      (release Swift, release core)
// Each call is timed on its own; the figures are the median, p10 and p90 of N warm calls,
// with the clock's own cost (an empty timed region) printed for reference.
import Foundation
import TiersPayCore
import TiersPayKit
import TiersPayTestSupport

let iterations = Int(ProcessInfo.processInfo.environment["TIERSPAY_BENCH_ITERATIONS"] ?? "") ?? 20_000
let warmup = 2_000

@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

func measure(_ name: String, _ body: () throws -> Void) rethrows {
    for _ in 0..<warmup { try body() }
    var samples = [UInt64](repeating: 0, count: iterations)
    for i in 0..<iterations {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples[i] = DispatchTime.now().uptimeNanoseconds - start
    }
    samples.sort()
    let pct = { (p: Double) in Double(samples[min(samples.count - 1, Int(Double(samples.count) * p))]) / 1000 }
    let label = name.padding(toLength: 40, withPad: " ", startingAt: 0)
    print("\(label) median \(fmt(pct(0.5))) µs   p10 \(fmt(pct(0.1))) µs   p90 \(fmt(pct(0.9))) µs")
}

func fmt(_ v: Double) -> String {
    let s = String(Int((v * 100).rounded()))
    let padded = String(repeating: "0", count: max(0, 3 - s.count)) + s
    return "\(padded.dropLast(2)).\(padded.suffix(2))"
}

/// The core library this process loaded (Linux), to show which build is measured.
func loadedCoreLibrary() -> String {
    // /proc files report size 0: read to the end rather than by size.
    guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return "?" }
    let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    return maps.split(separator: "\n").compactMap { line in
        line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
    }.first { $0.hasSuffix("libtierspay_core.so") || $0.hasSuffix("libtierspay_core.dylib") } ?? "?"
}

let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dataDir) }

print("TiersPay FFI benchmark: core \(coreVersion()), \(iterations) warm calls each (after \(warmup) warm-up)")
print("library: \(loadedCoreLibrary())")
measure("clock only (empty region)") {}
measure("coreVersion()") { blackHole(coreVersion()) }

// A core that is not enrolled: status() reads the local session and finds none. The server
// key is any valid P-256 point: the core pins it but does not contact the server here.
let storage = memorySecureStorage()
let someKey = try softwareDeviceKey(storage: memorySecureStorage()).publicKey()
let hexKey = someKey.map { String(format: "%02x", $0) }.joined()
let core = try TiersPay(
    config: CoreConfig(serverUrl: "http://127.0.0.1:9", dataDir: dataDir.appendingPathComponent("a").path, serverPublicKey: hexKey, deviceName: nil),
    secureStorage: storage,
    deviceKey: softwareDeviceKey(storage: storage)
)
try measure("TiersPay.status(), not enrolled") { blackHole(try core.status()) }

// Enrolled with the demo member (needs tierspay-mock): status() returns the profile, with
// its member, contract and four beneficiaries read from SQLite and lifted across the FFI.
do {
    let server = try MockServer()
    defer { server.stop() }

    // The raw generated API.
    let rawStorage = memorySecureStorage()
    let raw = try TiersPay(
        config: CoreConfig(
            serverUrl: server.url.absoluteString, dataDir: dataDir.appendingPathComponent("b").path, serverPublicKey: server.publicKey, deviceName: nil),
        secureStorage: rawStorage,
        deviceKey: softwareDeviceKey(storage: rawStorage)
    )
    let rawChallenge = try await raw.enrollment().start(contractNumber: "TP1000001", birthDate: "1985-04-12")
    _ = try await raw.enrollment().confirm(enrollmentId: rawChallenge.enrollmentId, code: try await server.lastCode(length: Int(rawChallenge.codeLength)))
    try measure("TiersPay.status(), enrolled") { blackHole(try raw.status()) }

    // A visit priced on the phone: Camille at a sector-1 GP, G at 30 € (enrolling synced the
    // contract data; selecting the provider put it in the core's memory). Offline work: the
    // rules, the preview id, the record across the FFI.
    let coverage = raw.coverage()
    let camille = try coverage.beneficiaries().first { $0.relationship == .holder }!
    let gps = try await coverage.searchProviders(query: "", specialty: "Médecin généraliste", city: "Paris", limit: 50)
    let gp = try await coverage.selectProvider(idCodeOrScan: gps.providers.first { $0.sector == 1 }!.id)
    let request = PreviewRequest(beneficiaryId: camille.id, providerId: gp.id, actCode: "G", price: "30", date: "2026-03-02", language: .fr)
    let sample = try coverage.preview(request: request)
    precondition(sample.amo.minorUnits == 1900 && sample.amc.minorUnits == 900 && sample.member.minorUnits == 200, "unexpected figures: \(sample)")
    try measure("Coverage.preview(), G at a GP") { blackHole(try coverage.preview(request: request)) }
    // The sentences, asked apart from the figures, in one language.
    try measure("Coverage.explain(), one language") { blackHole(try coverage.explain(previewId: sample.id, language: .fr)) }

    // The adapter on top (bridged storage, model conversion).
    let store = InMemorySecureStore()
    let client = try TiersPayClient(
        configuration: TiersPayConfiguration(serverURL: server.url, dataDirectory: dataDir.appendingPathComponent("c"), serverPublicKey: server.publicKey),
        secureStore: store, deviceKey: SoftwareDeviceKey(store: store)
    )
    let challenge = try await client.startEnrollment(contractNumber: "TP1000001", birthDate: "1985-04-12")
    _ = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: try await server.lastCode(length: challenge.codeLength))
    try measure("TiersPayClient.sessionState(), enrolled") { blackHole(try client.sessionState()) }

    // The same preview through the adapter: the core call plus the conversion to the shell's
    // models (the amounts with their display strings copied). `previewNow` is what `preview` runs off the
    // main actor, without the hop.
    _ = try await client.selectProvider(gp.id)
    try measure("TiersPayClient.previewNow(), G at a GP") {
        blackHole(try client.previewNow(beneficiaryId: camille.id, providerId: gp.id, actCode: "G", price: "30", date: "2026-03-02", language: .fr))
    }
} catch {
    print("(enrolled figures skipped: \(error))")
}
