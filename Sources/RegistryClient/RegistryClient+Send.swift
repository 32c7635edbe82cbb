import Foundation
import HTTPTransport

extension RegistryClient {
    /// One registry request, retried by `retryPolicy` when `retries` allows it (never for a streamed body: the
    /// upload restarts on a fresh session instead). The registry's login goes only to the registry's own origin
    /// (scheme, host and port); an upload `Location` elsewhere gets no `Authorization`. A 401 from the registry
    /// gets one fresh login and one more try, when the client knows how to get one. Once a request has spent its
    /// retries on a registry that never answered, the others fail at once (`RegistryReachability`).
    func send(
        _ method: String, _ url: String, headers: [String: String] = [:], body: HTTPBody = .empty,
        operation: String, retries: Bool = true, timeout: TimeInterval? = nil
    ) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        let replayable = body.isReplayable
        let atRegistry = isRegistryOrigin(url)
        var attempt = 0
        var refreshed = false
        var tokenFetched = false
        while true {
            attempt += 1
            if atRegistry, let detail = reachability.unreachable {
                let detail = "\(registryName) has not answered at all, so ecrpush gave up on it: \(detail)"
                throw RegistryError.transport(operation: operation, detail: detail)
            }
            let (credentials, generation) = login.current
            var reason: String
            var retryAfter: Double?
            do {
                let response = try await sendOnce(
                    method, url, headers: headers, body: body, credentials: credentials, authorize: atRegistry,
                    operation: operation, timeout: timeout)
                if atRegistry { reachability.answered() }
                if response.status == 401, atRegistry, replayable, !tokenFetched,
                    let challenge = BearerChallenge(header: response.headers["WWW-Authenticate"])
                {
                    // A registry with a token service: the login (or nothing, for anonymous pulls) buys a token.
                    tokenFetched = true
                    try await fetchToken(challenge, credentials: credentials, repository: BearerTokens.repository(in: url))
                    continue
                }
                if response.status == 401, atRegistry, replayable, !refreshed,
                    try await freshLogin(after: generation, for: Self.describe(method, url), attempt: attempt)
                {
                    refreshed = true
                    continue
                }
                if response.status == 401, !atRegistry {
                    throw RegistryError.credentialsAskedElsewhere(operation: operation, origin: Self.origin(of: url), registry: registryName)
                }
                guard retries, replayable, Self.isRetryable(response) else { return response }
                reason = "HTTP \(response.status)" + (RegistryErrorBody.parse(response.body).first.map { " \($0.code)" } ?? "")
                retryAfter = RegistryRetryPolicy.retryAfter(response.headers["Retry-After"])
                guard let delay = retryPolicy.delay(afterAttempt: attempt, retryAfter: retryAfter, elapsed: started.secondsSince)
                else { return response }
                try await wait(delay, attempt: attempt, method: method, url: url, reason: reason)
            } catch let error as RegistryError where retries && replayable && error.isTransportFailure {
                reason = error.transportDetail
                guard let delay = retryPolicy.delay(afterAttempt: attempt, retryAfter: nil, elapsed: started.secondsSince)
                else {
                    if atRegistry { reachability.gaveUp(reason) }
                    throw error
                }
                try await wait(delay, attempt: attempt, method: method, url: url, reason: reason)
            }
        }
    }

    /// One attempt. A cancelled task surfaces as `CancellationError`, never as a registry failure.
    /// `authorize`: the URL is on the registry's origin, so its login (or a token bought with it) may go along.
    func sendOnce(
        _ method: String, _ url: String, headers: [String: String], body: HTTPBody, credentials: RegistryCredentials?,
        authorize: Bool, operation: String, timeout: TimeInterval? = nil
    ) async throws -> HTTPResponse {
        var request = HTTPRequest(method: method, url: url, body: body)
        for (name, value) in headers { request.headers[name] = value }
        if authorize, let authorization = authorization(for: url, credentials: credentials) {
            request.headers["Authorization"] = authorization
        }
        request.timeout = timeout
        do {
            return try await http.send(request)
        } catch HTTPError.cancelled {
            throw CancellationError()
        } catch let error as HTTPError {
            if Task.isCancelled { throw CancellationError() }
            throw RegistryError.transport(operation: operation, detail: error.description)
        }
    }

    /// Asks for the push's one fresh login after a 401, and says so; false when none is to be had.
    func freshLogin(after generation: Int, for operation: String, attempt: Int) async throws -> Bool {
        switch try await login.refresh(after: generation) {
        case .started:
            onRetry?(RegistryRetryNotice(operation: operation, delay: 0, reason: "HTTP 401, got a fresh login", attempt: attempt))
            return true
        case .shared: return true
        case .unavailable: return false
        }
    }

    private func wait(_ delay: Double, attempt: Int, method: String, url: String, reason: String) async throws {
        onRetry?(RegistryRetryNotice(operation: Self.describe(method, url), delay: delay, reason: reason, attempt: attempt))
        try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
    }

    static func isRetryable(_ response: HTTPResponse) -> Bool {
        if RegistryRetryPolicy.retryableStatuses.contains(response.status) { return true }
        guard response.status >= 400 else { return false }
        return RegistryErrorBody.parse(response.body).contains { RegistryRetryPolicy.retryableCodes.contains($0.code) }
    }

    /// True when `url` is on the registry's own origin: the only place its login may go.
    func isRegistryOrigin(_ url: String) -> Bool {
        Self.origin(of: url) == Self.origin(of: baseURL)
    }

    /// `scheme://host:port`, lowercased, with the scheme's default port made explicit.
    package static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased()
        else { return url }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }

    /// "PUT /v2/team/app/manifests/v1" (no query: upload URLs carry session state).
    static func describe(_ method: String, _ url: String) -> String {
        let path = URLComponents(string: url)?.path ?? url
        return "\(method) \(path.isEmpty ? url : path)"
    }
}

extension HTTPBody {
    /// Whether the same request can be sent again: a stream is consumed by the first attempt.
    var isReplayable: Bool {
        if case .stream = self { return false }
        return true
    }
}

extension ContinuousClock.Instant {
    var secondsSince: Double {
        (ContinuousClock.now - self).inSeconds
    }
}
