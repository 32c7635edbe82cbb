/// The canonicalisation steps of SigV4, each a pure function on strings so they can be tested alone.
enum Canonical {
    // MARK: Percent-encoding

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// `%XX`-encodes every byte that is neither unreserved nor accepted by `keeping`.
    static func percentEncode(_ bytes: some Sequence<UInt8>, keeping: (UInt8) -> Bool) -> String {
        var out = [UInt8]()
        for byte in bytes {
            if isUnreserved(byte) || keeping(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Turns valid `%XX` escapes into bytes; anything else (including `+`, and a `%` not followed by
    /// two hex digits) is kept literally, so re-encoding never loses information.
    static func percentDecode(_ string: Substring) -> [UInt8] {
        let bytes = Array(string.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: URI

    /// Removes empty, `.` and `..` segments (never climbing above the root). Keeps the leading slash,
    /// and a trailing slash when the input had one and something is left (botocore's behaviour).
    static func normalizePath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return "/" + segments.joined(separator: "/") + trailing
    }

    /// The canonical URI. With `doubleEncode` the wire path (already encoded once) is encoded again,
    /// so `%20` becomes `%2520` and a raw space `%20`; without it existing escapes are left alone.
    static func uri(path: String, normalize: Bool, doubleEncode: Bool) -> String {
        var path = path.isEmpty ? "/" : path
        if normalize { path = normalizePath(path) }
        if !path.hasPrefix("/") { path = "/" + path }
        return percentEncode(path.utf8) { byte in
            byte == UInt8(ascii: "/") || (!doubleEncode && byte == UInt8(ascii: "%"))
        }
    }

    // MARK: Query

    /// One query parameter, both halves already in canonical (decoded, then RFC 3986-encoded) form.
    struct QueryParameter: Equatable {
        var key: String
        var value: String

        /// Code-point order on the encoded key, then on the encoded value.
        static func canonicalOrder(_ a: QueryParameter, _ b: QueryParameter) -> Bool {
            if a.key != b.key { return a.key.utf8.lexicographicallyPrecedes(b.key.utf8) }
            return a.value.utf8.lexicographicallyPrecedes(b.value.utf8)
        }
    }

    /// Splits a raw query on `&` (skipping empty pieces) and `=`; a piece without `=` has an empty value.
    static func queryParameters(_ rawQuery: String?) -> [QueryParameter] {
        guard let rawQuery, !rawQuery.isEmpty else { return [] }
        return rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { piece in
            let key: Substring
            let value: Substring
            if let equals = piece.firstIndex(of: "=") {
                key = piece[..<equals]
                value = piece[piece.index(after: equals)...]
            } else {
                key = piece
                value = ""
            }
            return QueryParameter(
                key: percentEncode(percentDecode(key), keeping: { _ in false }),
                value: percentEncode(percentDecode(value), keeping: { _ in false })
            )
        }
    }

    /// Sorted `key=value` pairs joined with `&`; an empty value still keeps its `=`.
    static func query(_ parameters: [QueryParameter]) -> String {
        parameters.sorted(by: QueryParameter.canonicalOrder).map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    static func query(_ rawQuery: String?) -> String {
        query(queryParameters(rawQuery))
    }

    // MARK: Headers

    /// Trims the value and folds every run of whitespace (spaces, tabs and the line breaks of an
    /// obsolete multi-line value) into a single space.
    static func headerValue(_ value: String) -> String {
        var out = [UInt8]()
        var pendingSpace = false
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), 0x0b, 0x0c:
                pendingSpace = !out.isEmpty
            default:
                if pendingSpace { out.append(UInt8(ascii: " ")); pendingSpace = false }
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func headerName(_ name: String) -> String {
        name.trimmingWhitespace().lowercased()
    }

    /// The canonical header block (each line `name:value\n`) and the `;`-joined signed header list.
    /// Names are lowercased and sorted; values of a repeated name are joined with `,` in original order.
    static func headers(_ headers: [SigningHeader]) -> (block: String, signedHeaders: String) {
        var valuesByName: [String: [String]] = [:]
        for header in headers {
            valuesByName[headerName(header.name), default: []].append(headerValue(header.value))
        }
        let names = valuesByName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(valuesByName[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// The full canonical request: method, URI, query, header block (which ends in a newline, hence the
    /// blank line), signed headers and payload hash, separated by single newlines.
    static func request(method: String, uri: String, query: String, headers: (block: String, signedHeaders: String), payloadHash: String) -> String {
        [method, uri, query, headers.block, headers.signedHeaders, payloadHash].joined(separator: "\n")
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
