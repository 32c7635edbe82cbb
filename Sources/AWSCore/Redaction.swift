import HTTPTransport

/// Removes secrets from anything that may be shown: headers, Query bodies, XML and JSON documents.
package enum Redaction {
    package static let placeholder = "<redacted>"

    /// Header names whose values are secrets.
    static let secretHeaders: Set<String> = [
        "authorization", "x-amz-security-token", "x-registry-auth",
        "x-aws-ec2-metadata-token", "proxy-authorization", "cookie",
        "set-cookie"
    ]
    /// Field names (XML elements, JSON keys, form parameters) whose values are secrets, compared lowercased.
    static let secretFields: Set<String> = [
        "secretaccesskey", "sessiontoken", "token", "authorizationtoken",
        "password", "secret", "webidentitytoken", "tokencode",
        "x-amz-security-token", "x-amz-signature", "layerpartblob"
    ]

    package static func headers(_ headers: HTTPHeaders) -> [String] {
        headers.map { field in
            if field.name.lowercased() == "authorization" {
                // Keep the scheme and the credential scope: they help debugging and are not secret.
                let value = field.value
                if let signature = value.range(of: "Signature=") {
                    return "\(field.name): \(value[..<signature.upperBound])\(placeholder)"
                }
                return "\(field.name): \(placeholder)"
            }
            if secretHeaders.contains(field.name.lowercased()) { return "\(field.name): \(placeholder)" }
            return "\(field.name): \(field.value)"
        }
    }

    /// Redacts `key=value` pairs of a form or query string.
    package static func form(_ text: String) -> String {
        text.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let key = pair[..<equals]
            return secretFields.contains(key.lowercased()) ? "\(key)=\(placeholder)" : String(pair)
        }.joined(separator: "&")
    }

    /// Redacts the text of secret XML elements: `<SecretAccessKey>…</SecretAccessKey>`.
    package static func xml(_ text: String) -> String {
        var out = text
        for field in ["SecretAccessKey", "SessionToken", "Token", "WebIdentityToken"] {
            out = replacingElementText(in: out, element: field)
        }
        return out
    }

    private static func replacingElementText(in text: String, element: String) -> String {
        var out = ""
        var rest = Substring(text)
        let open = "<\(element)>", close = "</\(element)>"
        while let start = rest.range(of: open), let end = rest[start.upperBound...].range(of: close) {
            out += rest[..<start.upperBound] + placeholder + close
            rest = rest[end.upperBound...]
        }
        return out + rest
    }

    /// Redacts the string values of secret keys in a JSON document (without re-serialising it).
    package static func json(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let quote = rest.firstIndex(of: "\"") {
            out += rest[..<quote]
            rest = rest[quote...]
            guard let (key, afterKey) = readString(rest) else { break }
            out += rest[..<afterKey]
            rest = rest[afterKey...]
            let trimmed = rest.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
            guard trimmed.first == ":", secretFields.contains(key.lowercased()) else { continue }
            let afterColon = trimmed.dropFirst().drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
            guard afterColon.first == "\"", let (_, afterValue) = readString(afterColon) else { continue }
            out += rest[..<afterColon.startIndex] + "\"\(placeholder)\""
            rest = rest[afterValue...]
        }
        return out + rest
    }

    /// Reads a JSON string starting at its opening quote; returns its raw content and the index after it.
    private static func readString(_ text: Substring) -> (String, Substring.Index)? {
        var index = text.index(after: text.startIndex)
        var escaped = false
        while index < text.endIndex {
            let char = text[index]
            if escaped {
                escaped = false
            } else if char == "\\" {
                escaped = true
            } else if char == "\"" {
                return (String(text[text.index(after: text.startIndex)..<index]), text.index(after: index))
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// Redacts a body according to its apparent format.
    package static func body(_ text: String) -> String {
        let trimmed = text.drop { $0 == " " || $0 == "\n" }
        if trimmed.first == "<" { return xml(text) }
        if trimmed.first == "{" || trimmed.first == "[" { return json(text) }
        return form(text)
    }
}
