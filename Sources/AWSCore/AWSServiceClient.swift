import Foundation
import HTTPTransport
import SigV4

/// Sends signed requests to one AWS service: signing, retries, clock-skew correction, error parsing and
/// redacted debug output. Protocol specifics live in `+Query` and `+JSON`.
package struct AWSServiceClient: Sendable {
    package enum Signing: Sendable {
        case signed
        /// For calls AWS accepts without credentials (AssumeRoleWithWebIdentity).
        case anonymous
    }

    package let service: ServiceID
    package let context: AWSContext
    /// Overrides the credential scope region (ECR Public is signed for us-east-1 wherever it is called from).
    package let signingRegion: String?

    package init(service: ServiceID, context: AWSContext, signingRegion: String? = nil) {
        self.service = service
        self.context = context
        self.signingRegion = signingRegion
    }

    package var endpoint: String {
        context.endpoints.url(for: service, region: signingRegion ?? context.region)
    }

    /// A request body: in memory, or produced on demand (again for each retry) with its SHA-256 known beforehand,
    /// so large bodies are signed and sent without ever being held whole.
    package enum Payload: Sendable {
        case bytes([UInt8])
        case stream(
            length: Int64, sha256Hex: String,
            makeProducer: @Sendable () throws -> @Sendable (UnsafeMutableRawBufferPointer) throws -> Int)

        var httpBody: HTTPBody {
            get throws {
                switch self {
                case .bytes(let bytes): return .bytes(bytes)
                case .stream(let length, _, let make): return .stream(length: length, producer: try make())
                }
            }
        }

        var payloadHash: PayloadHash {
            switch self {
            case .bytes(let bytes): return .bytes(bytes)
            case .stream(_, let hex, _): return .precomputed(hex)
            }
        }
    }

    func send(action: String, headers: HTTPHeaders, body: [UInt8], signing: Signing) async throws -> HTTPResponse {
        try await send(action: action, headers: headers, payload: .bytes(body), signing: signing)
    }

    /// Sends `payload` to the service root with `headers`, returning a 2xx response or throwing `AWSError`.
    /// A signed request with a body in memory may have been sent ahead already (`RequestsAhead`): its answer is
    /// taken then.
    func send(action: String, headers: HTTPHeaders, payload: Payload, signing: Signing) async throws -> HTTPResponse {
        guard case .bytes(let body) = payload, case .signed = signing, RequestsAhead.sending || RequestsAhead.current.holdsAny else {
            return try await sendNow(action: action, headers: headers, payload: payload, signing: signing)
        }
        let key = RequestsAhead.Key(
            url: endpoint, action: action, body: body, credentials: try await context.credentialProvider.credentials(),
            signingRegion: signingRegion ?? context.region)
        if RequestsAhead.sending {
            return try await RequestsAhead.current.send(key) {
                try await sendNow(action: action, headers: headers, payload: payload, signing: signing)
            }
        }
        switch await RequestsAhead.current.takeOutcome(key) {
        case .success(let response):
            context.debug?("<- \(service.displayName) \(action): the answer to the same request, sent while the command line was read")
            log(response: response, action: action)
            return response
        case .failure(AWSError.service(let details)) where !context.retry.isRetryable(details):
            // A definite answer (a missing repository, a denied action) is what the same request would get again.
            throw AWSError.service(details)
        case .failure, nil:
            // Nothing sent ahead, or a failure worth another try: the command's own request, retries and errors.
            return try await sendNow(action: action, headers: headers, payload: payload, signing: signing)
        }
    }

    private func sendNow(action: String, headers: HTTPHeaders, payload: Payload, signing: Signing) async throws -> HTTPResponse {
        let url = endpoint + "/"
        var attempt = 0
        var skewCorrected = false
        while true {
            attempt += 1
            var request = HTTPRequest(method: "POST", url: url, headers: headers, body: try payload.httpBody, timeout: 120)
            if case .signed = signing {
                let credentials = try await context.credentialProvider.credentials()
                request.headers = sign(request: request, payload: payload.payloadHash, credentials: credentials)
            }
            log(request: request, payload: payload, action: action)

            let response: HTTPResponse
            do {
                response = try await context.http.send(request)
            } catch let error as HTTPError {
                context.debug?("<- \(service.displayName) \(action): \(error)")
                if context.retry.isRetryable(error), attempt < context.retry.maxAttempts {
                    try await sleep(context.retry.delay(afterAttempt: attempt))
                    continue
                }
                throw AWSError.endpointUnreachable(endpoint: endpoint, underlying: error)
            }
            log(response: response, action: action)
            if (200..<300).contains(response.status) { return response }

            let details = ServiceErrorParser.parse(response, service: service.displayName, action: action)
            let serverDate = response.headers["Date"].flatMap(Timestamps.parseHTTPDate)
            if !skewCorrected, context.clock.correct(for: details, serverDate: serverDate) {
                skewCorrected = true
                context.debug?("clock skew corrected by \(Int(context.clock.currentOffset)) s; retrying")
                continue
            }
            if context.retry.isRetryable(details), attempt < context.retry.maxAttempts {
                try await sleep(context.retry.delay(afterAttempt: attempt))
                continue
            }
            throw AWSError.service(details)
        }
    }

    private func sign(request: HTTPRequest, payload: PayloadHash, credentials: Credentials) -> HTTPHeaders {
        var headers = request.headers
        let signingHeaders = headers.map { SigningHeader(name: $0.name, value: $0.value) }
        guard let signingRequest = SigningRequest(url: request.url, method: request.method, headers: signingHeaders) else {
            return headers
        }
        let signer = SigV4Signer(
            credentials: credentials, region: signingRegion ?? context.region,
            service: service.signingName)
        let signature = signer.signHeaders(signingRequest, payload: payload, date: context.clock.now())
        if headers["Host"] == nil, let host = signingRequest.headers.first(where: { $0.name.lowercased() == "host" }) {
            headers["Host"] = host.value
        }
        for header in signature.addedHeaders { headers[header.name] = header.value }
        return headers
    }

    private func sleep(_ seconds: Double) async throws {
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }

    private func log(request: HTTPRequest, payload: Payload, action: String) {
        guard let debug = context.debug else { return }
        var lines = ["-> \(service.displayName) \(action): \(request.method) \(request.url)"]
        lines += Redaction.headers(request.headers).map { "   \($0)" }
        guard case .bytes(let body) = payload else {
            if case .stream(let length, _, _) = payload { lines.append("   <streamed body of \(length) bytes>") }
            return debug(lines.joined(separator: "\n"))
        }
        if body.count > 16 << 10 {
            lines.append("   <body of \(body.count) bytes>")
        } else if !body.isEmpty {
            lines.append("   " + Redaction.body(String(decoding: body, as: UTF8.self)))
        }
        debug(lines.joined(separator: "\n"))
    }

    private func log(response: HTTPResponse, action: String) {
        guard let debug = context.debug else { return }
        var lines = ["<- \(service.displayName) \(action): HTTP \(response.status)"]
        lines += Redaction.headers(response.headers).map { "   \($0)" }
        if !response.body.isEmpty { lines.append("   " + Redaction.body(response.bodyText)) }
        debug(lines.joined(separator: "\n"))
    }
}
