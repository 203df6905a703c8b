import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real tierspay-mock on a free loopback port, with its own database in a fresh folder.
/// The binary comes from TIERSPAY_MOCK_BIN (scripts/swift-env.sh sets it), else
/// ../target/debug/tierspay-mock next to this package. Test helpers are started with
/// `--test-helpers` where the mock has the flag, and every call to them carries the test secret key.
public final class MockServer: @unchecked Sendable {
    // @unchecked: immutable after init; stop() is idempotent behind a lock.
    public enum Failure: Error, CustomStringConvertible {
        case binaryMissing(String)
        case didNotStart(String)
        case http(String)

        public var description: String {
            switch self {
            case let .binaryMissing(path): return "tierspay-mock not found at \(path): cargo build -p tierspay-server-mock"
            case let .didNotStart(log): return "tierspay-mock did not start: \(log)"
            case let .http(detail): return "tierspay-mock: \(detail)"
            }
        }
    }

    public let url: URL
    public let publicKey: String
    /// A fresh folder of this server's; also handy for the core's data.
    public let directory: URL
    private let process: Process
    private let lock = NSLock()
    private var stopped = false

    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["TIERSPAY_MOCK_BIN"], !path.isEmpty { return path }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().appendingPathComponent("../../../target/debug/tierspay-mock")
            .standardizedFileURL.path
    }

    /// The test-mode secret key every test-helper call carries (`/v1/test_helpers/…`).
    public static let testSecretKey = "sk_test_tierspay"

    /// Whether this build of the mock serves test helpers only on request (`serve
    /// --test-helpers`): newer ones do, older ones would refuse the unknown flag.
    private static func hasTestHelpersFlag(_ binary: String) -> Bool {
        let help = Process()
        help.executableURL = URL(fileURLWithPath: binary)
        help.arguments = ["serve", "--help"]
        let out = Pipe()
        help.standardOutput = out
        help.standardError = out
        help.standardInput = FileHandle.nullDevice
        guard (try? help.run()) != nil else { return false }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        help.waitUntilExit()
        return text.contains("--test-helpers")
    }

    /// Starts the server with the demo seed and waits until it says where it listens.
    public init(seed: String = "demo") throws {
        let binary = Self.binaryPath
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw Failure.binaryMissing(binary) }
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tierspay-swift-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logURL = directory.appendingPathComponent("mock.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            [
                "serve", "--addr", "127.0.0.1:0",
                "--db", directory.appendingPathComponent("mock.db").path,
                "--seed", seed,
            ] + (Self.hasTestHelpersFlag(binary) ? ["--test-helpers"] : [])
        let stdout = Pipe()
        process.standardOutput = stdout
        // Logs go to a file, never to a pipe nobody drains (a full pipe would block the server).
        process.standardError = try FileHandle(forWritingTo: logURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process

        // The first two lines: `tierspay-mock listening on http://…` and `server public key: …`.
        // Reading stops at end of file too, so a server that dies cannot hang us.
        var url: URL?
        var key: String?
        var buffer = Data()
        let handle = stdout.fileHandleForReading
        while url == nil || key == nil {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
                if let r = line.range(of: "listening on ") { url = URL(string: String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)) }
                if let r = line.range(of: "server public key: ") { key = String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces) }
            }
        }
        guard let url, let key else {
            process.terminate()
            process.waitUntilExit()
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: directory)
            throw Failure.didNotStart(String(log.suffix(2000)))
        }
        self.url = url
        self.publicKey = key
    }

    /// Stops the server and removes its folder. Safe to call twice.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    /// The server's log so far (stderr), for failure messages.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("mock.log"), encoding: .utf8)) ?? ""
    }

    // MARK: Test helpers

    /// The text of the latest SMS the server sent.
    public func lastSMS() async throws -> String {
        var components = URLComponents(url: url.appendingPathComponent("v1/test_helpers/outbox"), resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "channel", value: "sms"), URLQueryItem(name: "limit", value: "1")]
        let data = try await get(components.url!)
        struct Outbox: Decodable {
            struct Message: Decodable { let body: String }
            let data: [Message]
        }
        guard let body = try JSONDecoder().decode(Outbox.self, from: data).data.first?.body else {
            throw Failure.http("the SMS outbox is empty")
        }
        return body
    }

    /// The one-time code in the latest SMS: its first run of `length` digits.
    public func lastCode(length: Int = 6) async throws -> String {
        let body = try await lastSMS()
        let runs = body.split(whereSeparator: { !$0.isASCII || !$0.isNumber })
        guard let code = runs.first(where: { $0.count == length }) else {
            throw Failure.http("no \(length)-digit code in the SMS")
        }
        return String(code)
    }

    /// A push the platform sent: the token it went to, its title and its data payload (what
    /// the app hands to `Router.route(forPush:)`).
    public struct SentPush: Sendable, Equatable {
        public let recipient: String
        public let title: String?
        public let data: [String: String]
    }

    /// The pushes sent to `token`, newest first
    /// (`GET /v1/test_helpers/outbox?channel=push&recipient=…`).
    public func pushes(to token: String) async throws -> [SentPush] {
        var components = URLComponents(url: url.appendingPathComponent("v1/test_helpers/outbox"), resolvingAgainstBaseURL: false)!
        components.queryItems = [
            URLQueryItem(name: "channel", value: "push"),
            URLQueryItem(name: "recipient", value: token),
            URLQueryItem(name: "limit", value: "100"),
        ]
        struct Outbox: Decodable {
            struct Message: Decodable {
                let recipient: String
                let subject: String?
                let data: [String: String]?
            }
            let data: [Message]
        }
        return try JSONDecoder().decode(Outbox.self, from: try await get(components.url!)).data.map {
            SentPush(recipient: $0.recipient, title: $0.subject, data: $0.data ?? [:])
        }
    }

    /// Records what a beneficiary's visits elsewhere consumed this `year`
    /// (`POST /v1/test_helpers/usage`): here, `consumed` euros of the yearly ceiling of
    /// `category` (`optical`, …). The phone does not know until it syncs.
    public func recordCeilingUsage(beneficiaryId: String, year: Int, category: String, consumed: String) async throws {
        let body: [String: Any] = [
            "beneficiary_id": beneficiaryId,
            "year": year,
            "ceiling": ["category": category, "consumed": consumed],
        ]
        _ = try await post("v1/test_helpers/usage", json: try JSONSerialization.data(withJSONObject: body))
    }

    /// POSTs a JSON body to a test helper; the answer's body.
    public func post(_ path: String, json body: Data) async throws -> Data {
        var request = URLRequest(url: url.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(Self.testSecretKey)", forHTTPHeaderField: "Authorization")
        request.httpBody = body
        return try await send(request)
    }

    /// POSTs a form-encoded body to a test helper with the mock's test secret key (the
    /// issuing helpers, `v1/test_helpers/issuing/…`); the answer's body.
    public func postForm(_ path: String, fields: [String: String]) async throws -> Data {
        var request = URLRequest(url: url.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(Self.testSecretKey)", forHTTPHeaderField: "Authorization")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        request.httpBody = Data(fields.sorted { $0.key < $1.key }.map { "\(encode($0.key))=\(encode($0.value))" }.joined(separator: "&").utf8)
        return try await send(request)
    }

    /// Installs `certificate` (DER) as the issuer's trusted Apple root
    /// (`POST /v1/test_helpers/issuing/apple_root`).
    public func setAppleRoot(_ certificate: Data) async throws {
        _ = try await postForm("v1/test_helpers/issuing/apple_root", fields: ["certificate": certificate.base64EncodedString()])
    }

    /// The issuer activates a requested wallet token with the pass's activation data
    /// (`POST /v1/test_helpers/issuing/tokens/{id}/activate`).
    public func activateToken(_ id: String, activationData: Data) async throws {
        _ = try await postForm("v1/test_helpers/issuing/tokens/\(id)/activate", fields: ["activation_data": activationData.base64EncodedString()])
    }

    /// A test helper's GET, with the test secret key.
    private func get(_ url: URL) async throws -> Data {
        var request = URLRequest(url: url)
        request.setValue("Bearer \(Self.testSecretKey)", forHTTPHeaderField: "Authorization")
        return try await send(request)
    }

    private func send(_ request: URLRequest) async throws -> Data {
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let method = request.httpMethod ?? "GET"
        let path = request.url?.path ?? "?"
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, Error>) in
            session.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                    let answer = String(decoding: data ?? Data(), as: UTF8.self)
                    continuation.resume(throwing: Failure.http("\(method) \(path) answered \(http.statusCode): \(answer.prefix(500))"))
                } else {
                    continuation.resume(returning: data ?? Data())
                }
            }.resume()
        }
    }
}
