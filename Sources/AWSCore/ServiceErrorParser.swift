import Foundation
import HTTPTransport

/// Reads AWS error documents in every shape ecrpush meets: JSON 1.1 (`__type`, `message`), Query/XML
/// (`<ErrorResponse><Error><Code>`), and the XML that moto sends for some ECR and auth errors.
package enum ServiceErrorParser {
    package static func parse(_ response: HTTPResponse, service: String, action: String) -> ServiceErrorDetails {
        let requestId = response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
        let text = response.bodyText
        var code: String?
        var message: String?
        var bodyRequestId: String?
        var fields: [String: String] = [:]

        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] {
            code = (object["__type"] as? String) ?? (object["code"] as? String) ?? (object["Code"] as? String)
            message = (object["message"] as? String) ?? (object["Message"] as? String)
            for (key, value) in object where !["__type", "message", "Message", "code", "Code"].contains(key) {
                if let text = value as? String { fields[key] = text } else if let number = value as? NSNumber { fields[key] = number.stringValue }
            }
        } else if trimmed.hasPrefix("<"), let document = try? XMLNode.parse(trimmed) {
            code = document.first(named: "Code")?.text
            message = document.first(named: "Message")?.text
            bodyRequestId = document.first(named: "RequestId")?.text ?? document.first(named: "RequestID")?.text
        }
        if code == nil, let header = response.headers["x-amzn-ErrorType"] { code = header }

        return ServiceErrorDetails(
            service: service, action: action, httpStatus: response.status,
            code: code.map(normalise) ?? "HTTP\(response.status)",
            message: message ?? (code == nil ? String(trimmed.prefix(300)) : ""),
            requestId: requestId ?? bodyRequestId, fields: fields)
    }

    /// `com.amazon.coral.service#ExpiredTokenException` and `Name:http://…` both become the bare name.
    static func normalise(_ code: String) -> String {
        var name = Substring(code)
        if let hash = name.lastIndex(of: "#") { name = name[name.index(after: hash)...] }
        if let colon = name.firstIndex(of: ":") { name = name[..<colon] }
        return String(name)
    }
}
