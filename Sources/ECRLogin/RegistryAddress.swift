import AWSCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A registry as docker names it, `host[:port]`: a DNS name, an IPv4 address or a bracketed IPv6 literal, and
/// a port from 1 to 65535. No scheme, path, user info or whitespace: such a value would otherwise be accepted,
/// sent through AWS calls and an image export, and fail only when the push itself starts.
package enum RegistryAddress {
    /// What is wrong with `text` as a host[:port], in words; nil when it is one.
    package static func problem(with text: String) -> String? {
        if text.isEmpty { return "it is empty" }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            return "it contains whitespace or a control character"
        }
        if text.contains("://") { return "it has a scheme: give the host[:port] alone, without https://" }
        if text.contains(where: { "/?#".contains($0) }) { return "it has a path: give the host[:port] alone" }
        if text.contains("@") { return "it has user info (user@): the login comes from ECR, not from the address" }

        let host: Substring
        let port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return "an IPv6 address must be closed with ]" }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":") else { return "only :port may follow the bracketed IPv6 address" }
            port = rest.isEmpty ? nil : rest.dropFirst()
            guard isIPv6(host) else { return "\(InputEcho.quoted("[\(host)]")) is not an IPv6 address" }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return "an IPv6 address must be written in brackets, such as [2001:db8::1]:5000" }
            host = parts[0]
            port = parts.count == 2 ? parts[1] : nil
            if let problem = hostProblem(host) { return problem }
        }
        if let port, !isPort(port) {
            return port.isEmpty ? "the port after ':' is empty" : "the port \(InputEcho.quoted(String(port))) is not a number from 1 to 65535"
        }
        return nil
    }

    /// A DNS name (labels of 1-63 letters, digits and hyphens, not starting or ending with a hyphen, 253
    /// characters in all) or an IPv4 address (a name whose last label is a number must be one).
    static func hostProblem(_ host: Substring) -> String? {
        if host.isEmpty { return "the host is empty" }
        if host.utf8.count > 253 { return "the host name is longer than 253 characters" }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if let last = labels.last, !last.isEmpty, last.utf8.allSatisfy(isDigit) {
            return isIPv4(host) ? nil : "'\(host)' is not an IPv4 address (four numbers from 0 to 255)"
        }
        for label in labels {
            if label.isEmpty { return "the host name '\(host)' has an empty label (two dots, or a dot at either end)" }
            if label.utf8.count > 63 { return "a label of the host name is longer than 63 characters" }
            guard label.utf8.allSatisfy({ isDigit($0) || isLetter($0) || $0 == 0x2d }) else {
                return "the host name '\(host)' may only contain letters, digits, hyphens and dots"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return "a label of the host name '\(host)' starts or ends with a hyphen"
            }
        }
        return nil
    }

    static func isPort(_ text: Substring) -> Bool {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy(isDigit), let number = Int(text) else { return false }
        return (1...65535).contains(number)
    }

    /// inet_pton's reading, as the resolver will read it (it refuses leading zeros and anything but 4 parts).
    static func isIPv4(_ text: Substring) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, String(text), &address) == 1
    }

    static func isIPv6(_ text: Substring) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, String(text), &address) == 1
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) }
}
