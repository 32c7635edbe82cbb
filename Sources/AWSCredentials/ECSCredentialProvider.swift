import AWSCore
import Foundation
import HTTPTransport
import SigV4

/// Credentials from the container credentials endpoint of ECS, Fargate, EKS Pod Identity or CodeBuild:
/// `GET` the URL from `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on http://169.254.170.2) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `Authorization` from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
/// (read on every refresh) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`; the answer is
/// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`.
package struct ECSCredentialProvider: CredentialProvider {
    package enum Authorization: Sendable, Equatable {
        case token(String)
        case tokenFile(String)
    }

    package let url: String
    package let authorization: Authorization?
    package let source: String
    private let http: HTTPClient
    private let debug: DebugLog?

    static let relativeHost = "http://169.254.170.2"
    /// Plain-HTTP full URIs may only point here (the SDKs' rule: anything else could leak the token).
    static let allowedHTTPHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost", "::1"]

    package init(url: String, authorization: Authorization?, http: HTTPClient, debug: DebugLog? = nil) {
        self.url = url
        self.authorization = authorization
        self.http = MetadataHTTP.client(like: http, connectTimeout: 2)
        self.debug = debug
        self.source = "ECS container credentials (\(url))"
    }

    /// The provider the environment asks for, nil when neither URI variable is set.
    package static func fromEnvironment(
        _ environment: [String: String], http: HTTPClient,
        debug: DebugLog? = nil
    ) throws(AWSError) -> ECSCredentialProvider? {
        let env = EnvironmentReader(environment)
        let url: String
        if let relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = relativeHost + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            try validate(fullURI: full)
            url = full
        } else {
            return nil
        }
        var authorization: Authorization?
        if let file = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            authorization = .tokenFile(file)
        } else if let token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] {
            try checkHeaderSafe(token, origin: "AWS_CONTAINER_AUTHORIZATION_TOKEN")
            authorization = .token(token)
        }
        return ECSCredentialProvider(url: url, authorization: authorization, http: http, debug: debug)
    }

    static func validate(fullURI: String) throws(AWSError) {
        guard let components = URLComponents(string: fullURI), let scheme = components.scheme?.lowercased(),
            var host = components.host, !host.isEmpty
        else {
            throw AWSError.invalidParameter(
                name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: fullURI,
                expected: "an absolute http:// or https:// URL")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        switch scheme {
        case "https":
            return
        case "http":
            if allowedHTTPHosts.contains(host.lowercased()) || isIPv4Loopback(host) { return }
            throw AWSError.invalidParameter(
                name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: fullURI,
                expected: "https://, or http:// only to a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23")
        default:
            throw AWSError.invalidParameter(
                name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: fullURI,
                expected: "an http:// or https:// URL")
        }
    }

    static func isIPv4Loopback(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    static func checkHeaderSafe(_ token: String, origin: String) throws(AWSError) {
        // A newline would smuggle extra headers into the request.
        if token.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) {  // bytes: "\r\n" is one Character
            throw AWSError.invalidConfiguration("\(origin) contains a line break: it must be a single-line token")
        }
    }

    package func credentials() async throws -> Credentials {
        var headers: HTTPHeaders = ["Accept": "application/json"]
        if let value = try authorizationValue() { headers["Authorization"] = value }
        var request = HTTPRequest(method: "GET", url: url, headers: headers, timeout: 5)
        request.bypassesProxy = true  // as the SDKs do: metadata never goes through a proxy

        var lastError: HTTPError?
        for attempt in 1...3 {
            let response: HTTPResponse
            do {
                response = try await http.send(request)
            } catch let error as HTTPError {
                debug?("credentials: GET \(url) failed: \(error)")
                lastError = error
                if attempt < 3 { try await Task.sleep(nanoseconds: 200_000_000) }
                continue
            }
            debug?("credentials: GET \(url) -> HTTP \(response.status)")
            if (500..<600).contains(response.status), attempt < 3 { continue }
            guard response.status == 200 else {
                throw AWSError.credentialProviderFailed(source: source, detail: Self.describeFailure(response))
            }
            return try CredentialsDocument.parse(response.body, tokenKey: "Token", source: source).0
        }
        throw AWSError.credentialProviderFailed(
            source: source, detail: "the endpoint could not be reached: \(lastError.map { "\($0)" } ?? "no answer")")
    }

    func authorizationValue() throws -> String? {
        switch authorization {
        case nil:
            return nil
        case .token(let token):
            return token
        case .tokenFile(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AWSError.credentialProviderFailed(
                    source: source, detail: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path) does not exist or cannot be read")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw AWSError.credentialProviderFailed(source: source, detail: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path) is empty")
            }
            try Self.checkHeaderSafe(token, origin: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path)")
            return token
        }
    }

    /// The endpoint's error document is `{"code", "message"}`; only those are shown, never the raw body.
    static func describeFailure(_ response: HTTPResponse) -> String {
        var text = "the endpoint answered HTTP \(response.status)"
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
            let code = (object["code"] as? String) ?? (object["Code"] as? String)
            let message = (object["message"] as? String) ?? (object["Message"] as? String)
            if let code { text += " \(code)" }
            if let message { text += ": \(message)" }
        }
        if response.status == 401 || response.status == 403 {
            text += ". Check AWS_CONTAINER_AUTHORIZATION_TOKEN / AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
        }
        return text
    }
}
