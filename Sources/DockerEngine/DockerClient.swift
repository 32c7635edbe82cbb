import Foundation
import HTTPTransport

/// A client of the Docker Engine API over its unix socket (or plain TCP). Safe to share between tasks.
/// The API version is negotiated once, on first use, unless `DOCKER_API_VERSION` pinned one.
package final class DockerClient: Sendable {
    /// The newest API version this client is written against; a newer daemon is spoken to at this version.
    package static let maxAPIVersion = "1.43"
    /// Docker's own fallback when a daemon's `/_ping` does not name a version.
    static let fallbackAPIVersion = "1.24"
    /// Quick calls (ping, inspect, tag) give up after this; builds, pushes and exports have no limit.
    static let shortCallTimeout: TimeInterval = 120

    package let host: DockerHost
    let http: HTTPClient
    private let negotiatedVersion = Locked<String?>(nil)

    /// `http` defaults to a client without a low-speed abort: a build step may print nothing for many minutes.
    package init(host: DockerHost, http: HTTPClient? = nil) {
        self.host = host
        self.http = http ?? HTTPClient(configuration: DockerClient.defaultHTTPConfiguration)
    }

    /// From `DOCKER_HOST` / `DOCKER_API_VERSION`.
    package convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.init(host: try DockerHost.fromEnvironment(environment))
    }

    package convenience init(socketPath: String, apiVersion: String? = nil) {
        self.init(host: .unixSocket(socketPath, apiVersion: apiVersion))
    }

    static var defaultHTTPConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        // 0 turns curl's low-speed abort off; long silent RUN steps and slow exports must not be cut.
        configuration.lowSpeedLimit = 0
        configuration.followRedirects = false
        configuration.userAgent = "ecrpush-docker"
        return configuration
    }

    // MARK: - Version negotiation

    /// The API version requests use: the pinned one, or min(ours, the daemon's) from `/_ping`.
    package func apiVersion() async throws -> String {
        if let pinned = host.apiVersion { return pinned }
        if let known = negotiatedVersion.current { return known }
        return try await ping().negotiatedVersion
    }

    /// `GET /_ping` (unversioned); records the negotiated version.
    @discardableResult
    package func ping() async throws -> DockerPing {
        let request = makeRequest(method: "GET", url: host.baseURL + "/_ping", timeout: DockerClient.shortCallTimeout)
        let response = try await perform(request)
        guard (200..<300).contains(response.status) else {
            throw DockerError.apiError(status: response.status, message: DockerClient.errorMessage(from: response.body, status: response.status))
        }
        let daemonVersion = response.headers["API-Version"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        let negotiated = host.apiVersion ?? DockerClient.negotiate(daemonVersion: daemonVersion)
        negotiatedVersion.withValue { $0 = negotiated }
        return DockerPing(
            apiVersion: daemonVersion, osType: response.headers["OSType"]?.trimmingCharacters(in: .whitespacesAndNewlines),
            negotiatedVersion: negotiated, isPodman: response.headers["Libpod-API-Version"] != nil)
    }

    /// The lower of the daemon's version and ours; Docker's 1.24 when the daemon does not say.
    static func negotiate(daemonVersion: String?) -> String {
        guard let daemonText = daemonVersion?.trimmingCharacters(in: .whitespaces), let daemon = APIVersion(daemonText) else {
            return fallbackAPIVersion
        }
        let ours = APIVersion(maxAPIVersion)!
        return min(daemon, ours).description
    }

    /// `GET /version`.
    package func version() async throws -> DockerVersion {
        let response = try await call("GET", "/version")
        try DockerClient.requireSuccess(response)
        return try DockerClient.decode(DockerVersion.self, from: response.body, what: "/version")
    }

    // MARK: - Requests

    /// A versioned URL: `<base>/v<version><path>?<query>`.
    func url(_ path: String, query: [(String, String)] = []) async throws -> String {
        let version = try await apiVersion()
        var text = host.baseURL + "/v" + version + path
        if !query.isEmpty {
            text += "?" + query.map { URLEncoding.queryComponent($0.0) + "=" + URLEncoding.queryComponent($0.1) }.joined(separator: "&")
        }
        return text
    }

    func makeRequest(
        method: String, url: String, headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .empty,
        timeout: TimeInterval? = nil
    ) -> HTTPRequest {
        HTTPRequest(method: method, url: url, headers: headers, body: body, unixSocketPath: host.socketPath, timeout: timeout)
    }

    /// A buffered call to a versioned path.
    func call(
        _ method: String, _ path: String, query: [(String, String)] = [],
        timeout: TimeInterval? = DockerClient.shortCallTimeout
    ) async throws -> HTTPResponse {
        let request = makeRequest(method: method, url: try await url(path, query: query), timeout: timeout)
        return try await perform(request)
    }

    /// A read the command's early work made already is answered from there (`EngineReadsAhead`).
    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            let http = self.http
            return try await EngineReadsAhead.current.answer(for: request) { try await http.send(request) }
        } catch {
            throw translate(error)
        }
    }

    /// Streams the response: a 2xx body goes to `onBody` as it arrives; any other status is collected and
    /// thrown as `DockerError.apiError` with the daemon's message.
    @discardableResult
    func performStreaming(
        _ request: HTTPRequest,
        onBody: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> HTTPResponseHead {
        let failure = Locked<(status: Int, body: [UInt8])?>(nil)
        let head: HTTPResponseHead
        do {
            head = try await http.send(
                request,
                onHead: { head in
                    if !(200..<300).contains(head.status) { failure.withValue { $0 = (head.status, []) } }
                },
                onBody: { chunk in
                    let isFailure = failure.withValue { state -> Bool in
                        guard state != nil else { return false }
                        // Error bodies are small JSON; keep at most 1 MiB of one.
                        if state!.body.count < 1 << 20 { state!.body.append(contentsOf: chunk) }
                        return true
                    }
                    if !isFailure { try onBody(chunk) }
                })
        } catch {
            throw translate(error)
        }
        if let (status, body) = failure.current {
            throw DockerError.apiError(status: status, message: DockerClient.errorMessage(from: body, status: status))
        }
        return head
    }

    /// Transport failures in Docker's terms: a missing or refused socket, EACCES on it, or a broken transfer.
    func translate(_ error: any Error) -> any Error {
        if error is DockerError || error is CancellationError { return error }
        guard let httpError = error as? HTTPError else { return error }
        switch httpError {
        case .couldNotConnect(_, let detail):
            if let socketPath = host.socketPath {
                return SocketProbe.diagnose(socketPath, transportDetail: detail)
                    ?? DockerError.daemonUnreachable(host: host.description, detail: detail)
            }
            return DockerError.daemonUnreachable(host: host.description, detail: detail)
        case .bodyCallbackFailed(_, let underlying):
            // Our own producer or sink failed (an unreadable context file, a failing export sink): report that.
            return translate(underlying)
        case .cancelled:
            return CancellationError()
        case .timedOut(_, let detail), .tls(_, let detail), .transport(_, _, let detail):
            return DockerError.transport(host: host.description, detail: detail)
        case .responseTooLarge, .invalidRequest:
            return DockerError.transport(host: host.description, detail: httpError.description)
        }
    }

    static func requireSuccess(_ response: HTTPResponse) throws {
        guard (200..<300).contains(response.status) else {
            throw DockerError.apiError(status: response.status, message: errorMessage(from: response.body, status: response.status))
        }
    }

    /// The daemon's `{"message": "..."}`, or the body's text, or the bare status.
    static func errorMessage(from body: [UInt8], status: Int) -> String {
        struct Message: Decodable { let message: String }
        if let decoded = try? JSONDecoder().decode(Message.self, from: Data(body)), !decoded.message.isEmpty {
            return decoded.message
        }
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "HTTP status \(status)" : String(text.prefix(2000))
    }

    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw DockerError.unexpectedResponse("could not read the answer to \(what): \(error)")
        }
    }
}

enum URLEncoding {
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
    /// Path characters kept as they are in an image name (`registry:5000/team/app@sha256:...`).
    private static let pathSafe = unreserved.union(":@/".utf8)

    static func queryComponent(_ text: String) -> String { encode(text, keeping: unreserved) }

    /// An image name or ID inside a URL path; `/` stays, as the daemon's routes expect `{name:.*}`.
    static func pathComponent(_ text: String) -> String { encode(text, keeping: pathSafe) }

    private static func encode(_ text: String, keeping allowed: Set<UInt8>) -> String {
        var out = ""
        for byte in text.utf8 {
            if allowed.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}
