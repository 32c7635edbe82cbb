import Foundation
import SigV4

/// One case of AWS's SigV4 conformance suite (Apache-2.0, see its LICENSE and NOTICE), read at run time from the
/// project's own copy in `Tests/SigV4Tests/Resources/sigv4-test-suite`.
struct SuiteCase {
    /// Found from this file, so it works from any working directory. Read in place (excluded from the target
    /// rather than copied as a resource): the files are byte-exact and a bundle copy would add nothing.
    static let suiteDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SigV4Tests
        .appendingPathComponent("Resources/sigv4-test-suite")
        .standardizedFileURL

    /// How many cases the published suite has; fewer means the copy is damaged or was not found.
    static let expectedCaseCount = 38

    /// Names of every folder holding a `request.txt`, sorted; empty when the suite is missing.
    static let allNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: suiteDirectory.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: suiteDirectory.appendingPathComponent($0).appendingPathComponent("request.txt").path)
        }
        .sorted()
    }()

    /// Cases that publish expectations for the given variant (`header` or `query`).
    static func names(withVariant variant: String) -> [String] {
        allNames.filter {
            FileManager.default.fileExists(
                atPath: suiteDirectory.appendingPathComponent($0).appendingPathComponent("\(variant)-canonical-request.txt").path)
        }
    }

    struct Context: Decodable {
        struct Keys: Decodable {
            let accessKeyId: String
            let secretAccessKey: String
            let token: String?
            enum CodingKeys: String, CodingKey {
                case accessKeyId = "access_key_id", secretAccessKey = "secret_access_key", token
            }
        }
        let credentials: Keys
        let expirationInSeconds: Int
        let normalize: Bool
        let region: String
        let service: String
        let signBody: Bool
        let timestamp: String
        let omitSessionToken: Bool?

        enum CodingKeys: String, CodingKey {
            case credentials, normalize, region, service, timestamp
            case expirationInSeconds = "expiration_in_seconds", signBody = "sign_body", omitSessionToken = "omit_session_token"
        }

        /// Every key the decoder above understands; a suite update adding a field must fail, not be ignored.
        static let knownKeys: Set<String> = Set(CodingKeys.allKeys)
        static let knownCredentialKeys: Set<String> = ["access_key_id", "secret_access_key", "token"]
    }

    struct SuiteError: Error, CustomStringConvertible {
        let description: String
    }

    let name: String
    let directory: URL
    let contextJSON: Data
    let context: Context
    let request: RawRequest
    let date: Date

    init(_ name: String) throws {
        self.name = name
        directory = Self.suiteDirectory.appendingPathComponent(name)
        contextJSON = try Data(contentsOf: directory.appendingPathComponent("context.json"))
        context = try JSONDecoder().decode(Context.self, from: contextJSON)
        request = try RawRequest(parsing: try String(contentsOf: directory.appendingPathComponent("request.txt"), encoding: .utf8))
        guard let date = ISO8601DateFormatter().date(from: context.timestamp) else {
            throw SuiteError(description: "\(name): unreadable timestamp \(context.timestamp)")
        }
        self.date = date
    }

    /// The expected contents of `file`, byte for byte.
    func expected(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    var signer: SigV4Signer {
        SigV4Signer(
            credentials: Credentials(
                accessKeyId: context.credentials.accessKeyId,
                secretAccessKey: context.credentials.secretAccessKey,
                sessionToken: context.credentials.token),
            region: context.region,
            service: context.service,
            options: SigningOptions(
                normalizePath: context.normalize,
                addContentSHA256Header: context.signBody,
                omitSessionTokenFromSignature: context.omitSessionToken ?? false))
    }
}

private extension SuiteCase.Context.CodingKeys {
    static var allKeys: [String] {
        [Self.credentials, .normalize, .region, .service, .timestamp, .expirationInSeconds, .signBody, .omitSessionToken].map(\.rawValue)
    }
}
