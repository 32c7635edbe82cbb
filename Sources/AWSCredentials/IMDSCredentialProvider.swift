import AWSCore
import Foundation
import HTTPTransport
import SigV4
import Synchronization

/// The EC2 instance metadata service, IMDSv2 only: a session token from `PUT /latest/api/token`, then GETs with
/// `X-aws-ec2-metadata-token`. Short timeouts (1 s to connect, ~1 s per request, one retry) so that a machine
/// without IMDS finds out quickly. A refused token request is an error: there is no silent IMDSv1 fallback.
struct IMDSClient: Sendable {
    enum Failure: Error, Sendable {
        /// Nothing answered: not on EC2 (or IMDS is firewalled off).
        case unreachable(String)
        /// The token PUT was refused (401/403: IMDS disabled or the hop limit too low for a container).
        case tokenRefused(status: Int)
        case status(path: String, status: Int)
    }

    static let defaultEndpoint = "http://169.254.169.254"
    static let defaultIPv6Endpoint = "http://[fd00:ec2::254]"

    let endpoint: String
    private let http: HTTPClient
    private let debug: DebugLog?

    init(endpoint: String, http: HTTPClient, debug: DebugLog?) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.http = MetadataHTTP.client(like: http, connectTimeout: 1)
        self.debug = debug
    }

    /// nil when `AWS_EC2_METADATA_DISABLED=true`.
    static func fromEnvironment(_ environment: [String: String], http: HTTPClient, debug: DebugLog?) -> IMDSClient? {
        let env = EnvironmentReader(environment)
        if env.isTrue("AWS_EC2_METADATA_DISABLED") { return nil }
        return IMDSClient(endpoint: endpoint(environment), http: http, debug: debug)
    }

    static func endpoint(_ environment: [String: String]) -> String {
        let env = EnvironmentReader(environment)
        if let explicit = env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] { return explicit }
        if env["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6" { return defaultIPv6Endpoint }
        return defaultEndpoint
    }

    func fetchToken() async throws(Failure) -> String {
        let response = try await send(
            method: "PUT", path: "/latest/api/token",
            headers: ["X-aws-ec2-metadata-token-ttl-seconds": "21600"])
        let token = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard response.status == 200, !token.isEmpty else { throw .tokenRefused(status: response.status) }
        return token
    }

    /// A metadata document's text; a non-200 status throws `.status`.
    func get(_ path: String, token: String) async throws(Failure) -> String {
        let response = try await send(method: "GET", path: path, headers: ["X-aws-ec2-metadata-token": token])
        guard response.status == 200 else { throw .status(path: path, status: response.status) }
        return response.bodyText
    }

    private func send(method: String, path: String, headers: HTTPHeaders) async throws(Failure) -> HTTPResponse {
        var request = HTTPRequest(method: method, url: endpoint + path, headers: headers, timeout: 1.5)
        request.bypassesProxy = true  // as the SDKs do: metadata never goes through a proxy
        var lastError = "no answer"
        for attempt in 1...2 {
            do {
                let response = try await http.send(request)
                debug?("IMDS: \(method) \(endpoint)\(path) -> HTTP \(response.status)")
                if (500..<600).contains(response.status), attempt < 2 { continue }
                return response
            } catch let error as HTTPError {
                debug?("IMDS: \(method) \(endpoint)\(path) failed: \(error)")
                lastError = "\(error)"
                if !MetadataHTTP.isUnreachable(error) { break }
            } catch {
                lastError = "\(error)"
                break
            }
        }
        throw .unreachable(lastError)
    }
}

/// Credentials of the EC2 instance's IAM role through IMDSv2. The role name is learnt on the first fetch, and
/// `source` then names it: "EC2 instance role 'name' (IMDSv2)".
package final class IMDSCredentialProvider: CredentialProvider {
    let client: IMDSClient
    /// When IMDS is the chain's last resort, "unreachable" means "no credentials anywhere": these are the places
    /// looked at before, for `AWSError.missingCredentials`. nil when IMDS was asked for explicitly
    /// (`credential_source = Ec2InstanceMetadata`), where unreachable is a plain failure.
    let searchedBefore: [String]?
    private let roleName = Mutex<String?>(nil)

    init(client: IMDSClient, searchedBefore: [String]?) {
        self.client = client
        self.searchedBefore = searchedBefore
    }

    package var source: String {
        if let name = roleName.withLock({ $0 }) { return "EC2 instance role '\(name)' (IMDSv2)" }
        return "EC2 instance metadata (IMDSv2) at \(client.endpoint)"
    }

    static let credentialsPath = "/latest/meta-data/iam/security-credentials/"

    package func credentials() async throws -> Credentials {
        do {
            let token = try await client.fetchToken()
            let listing = try await client.get(Self.credentialsPath, token: token)
            guard let name = listing.split(whereSeparator: \.isNewline).first.map({ String($0).trimmingCharacters(in: .whitespaces) }),
                !name.isEmpty
            else {
                throw noRole()
            }
            roleName.withLock { $0 = name }
            let document = try await client.get(Self.credentialsPath + name, token: token)
            let (credentials, object) = try CredentialsDocument.parse(Array(document.utf8), tokenKey: "Token", source: source)
            if let code = object["Code"] as? String, code != "Success" {
                throw AWSError.credentialProviderFailed(source: source, detail: "IMDS reports Code '\(code)' for the role's credentials")
            }
            return credentials
        } catch let failure as IMDSClient.Failure {
            throw error(for: failure)
        }
    }

    private func noRole() -> AWSError {
        let detail = "EC2 instance metadata at \(client.endpoint) (no IAM role attached to the instance)"
        if let searchedBefore { return .missingCredentials(searched: searchedBefore + [detail]) }
        return .credentialProviderFailed(source: source, detail: "the instance has no IAM role attached")
    }

    private func error(for failure: IMDSClient.Failure) -> AWSError {
        switch failure {
        case .unreachable(let detail):
            if let searchedBefore {
                return .missingCredentials(searched: searchedBefore + ["EC2 instance metadata at \(client.endpoint) (not reachable: \(detail))"])
            }
            return .credentialProviderFailed(source: source, detail: "the instance metadata service could not be reached: \(detail)")
        case .tokenRefused(let status):
            // Off EC2, another cloud's metadata service may answer at the same address (GCP's refuses a request
            // without its own header with 403, Azure's with 400): as the chain's last resort, that is no credentials.
            if let searchedBefore {
                return .missingCredentials(
                    searched: searchedBefore + [
                        "EC2 instance metadata at \(client.endpoint) (its IMDSv2 token request answered HTTP \(status): another cloud's "
                            + "metadata service, or an EC2 instance whose IMDSv2 is off or whose hop limit is too low for a container; "
                            + "IMDSv1 is not used)"
                    ])
            }
            return .credentialProviderFailed(
                source: source,
                detail:
                    "IMDSv2 token request (PUT /latest/api/token) answered HTTP \(status); IMDSv1 is not used. Check that the instance allows "
                    + "IMDSv2 and, inside a container, that the metadata hop limit is at least 2"
            )
        case .status(let path, let status):
            if status == 404, path == Self.credentialsPath { return noRole() }
            return .credentialProviderFailed(source: source, detail: "GET \(path) answered HTTP \(status)")
        }
    }
}

/// Where the region came from when IMDS was asked.
enum IMDSRegionProbe: Sendable {
    case found(String)
    /// `unreachable`: nothing answered at all (not on EC2).
    case unavailable(String, unreachable: Bool)
}

extension IMDSClient {
    func region() async -> IMDSRegionProbe {
        do {
            let token = try await fetchToken()
            let region = try await get("/latest/meta-data/placement/region", token: token)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return region.isEmpty ? .unavailable("empty answer", unreachable: false) : .found(region)
        } catch {
            switch error {
            case .unreachable(let detail): return .unavailable("not reachable: \(detail)", unreachable: true)
            case .tokenRefused(let status): return .unavailable("token request answered HTTP \(status)", unreachable: false)
            case .status(_, let status): return .unavailable("answered HTTP \(status)", unreachable: false)
            }
        }
    }
}
