import HTTPTransport

/// Everything that can go wrong talking to AWS, with what a user needs to act on it.
package enum AWSError: Error, Sendable, CustomStringConvertible {
    /// The service answered with an error document.
    case service(ServiceErrorDetails)
    /// The endpoint could not be reached (refused, DNS, TLS, timeout).
    case endpointUnreachable(endpoint: String, underlying: HTTPError)
    /// The service answered with something that is not what its protocol promises.
    case malformedResponse(service: String, action: String, detail: String)
    /// No credentials could be found; `searched` lists where the chain looked.
    case missingCredentials(searched: [String])
    /// Credentials were found but could not be loaded (a provider failed).
    case credentialProviderFailed(source: String, detail: String)
    case missingRegion(searched: [String])
    case invalidConfiguration(String)
    /// A config or credentials file that does not parse.
    case malformedConfigFile(path: String, line: Int, detail: String)
    case invalidParameter(name: String, value: String, expected: String)

    package var description: String {
        switch self {
        case .service(let details):
            return details.description
        case .endpointUnreachable(let endpoint, let underlying):
            return
                "could not reach AWS endpoint \(endpoint): \(Self.sentence(underlying.description)) Check --endpoint-url / AWS_ENDPOINT_URL*, the region, and your network or "
                + "proxy settings."
        case .malformedResponse(let service, let action, let detail):
            return "\(service) \(action) returned a response ecrpush could not read: \(detail)"
        case .missingCredentials(let searched):
            return
                "no AWS credentials found. Looked in: \(searched.joined(separator: "; ")). Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use "
                + "--profile, or configure a web identity or instance role."
        case .credentialProviderFailed(let source, let detail):
            return "could not load AWS credentials from \(source): \(detail)"
        case .missingRegion(let searched):
            return "no AWS region configured. Looked in: \(searched.joined(separator: ", ")). Pass --region or set AWS_REGION."
        case .invalidConfiguration(let detail):
            return detail
        case .malformedConfigFile(let path, let line, let detail):
            return "\(path):\(line): \(detail)"
        case .invalidParameter(let name, let value, let expected):
            return "invalid \(name) \(InputEcho.quoted(value)): expected \(expected)"
        }
    }

    /// Bad input (a flag, a variable, a config file), found before any request: the CLI's usage error (exit 64).
    package var isInvalidInput: Bool {
        switch self {
        case .invalidParameter, .invalidConfiguration, .malformedConfigFile: return true
        default: return false
        }
    }

    /// The AWS error code, when the service sent one.
    package var code: String? { serviceDetails?.code }

    package var serviceDetails: ServiceErrorDetails? {
        if case .service(let details) = self { return details }
        return nil
    }

    /// `text` ending with one full stop, for a message that goes on after it (the transport's own advice already
    /// ends with one).
    static func sentence(_ text: String) -> String {
        text.hasSuffix(".") ? text : text + "."
    }
}

package struct ServiceErrorDetails: Sendable, CustomStringConvertible {
    package var service: String
    package var action: String
    package var httpStatus: Int
    package var code: String
    package var message: String
    package var requestId: String?
    /// Other scalar fields of a JSON error (e.g. ECR's `lastValidByteReceived`), as text.
    package var fields: [String: String]

    package init(
        service: String, action: String, httpStatus: Int, code: String, message: String, requestId: String?,
        fields: [String: String] = [:]
    ) {
        self.service = service
        self.action = action
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.requestId = requestId
        self.fields = fields
    }

    package var description: String {
        var text = "\(service) \(action) failed: \(code) (HTTP \(httpStatus))"
        if !message.isEmpty { text += ": \(message)" }
        if let hint = hint { text += ". \(hint)" }
        if let requestId { text += " [request id \(requestId)]" }
        return text
    }

    /// What to do about the common codes.
    var hint: String? {
        switch code {
        case "SignatureDoesNotMatch", "InvalidSignatureException":
            return "The secret access key does not match the access key id: check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key)"
        case "InvalidClientTokenId", "UnrecognizedClientException":
            return "The access key id or session token is not valid: check the credentials, or refresh them if they were temporary"
        case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
            return "The session token has expired: get fresh temporary credentials"
        case "AccessDenied", "AccessDeniedException":
            return
                "The principal is not allowed to call \(signingActionName); grant it in an IAM policy (and check that no SCP or resource policy "
                + "denies it)"
        case "RequestTimeTooSkewed":
            return "The local clock is off; sync it (e.g. with NTP)"
        default:
            return nil
        }
    }

    var signingActionName: String {
        let prefix = service.lowercased() == "ecr" ? "ecr" : service.lowercased()
        return "\(prefix):\(action)"
    }
}
