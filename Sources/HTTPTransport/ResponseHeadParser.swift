/// Collects the header lines curl hands to HEADERFUNCTION. curl reports every response of a transfer there
/// (interim 1xx ones too), so each status line starts afresh: only the last response's head is kept.
struct ResponseHeadParser {
    private(set) var status: Int?
    private(set) var headers = HTTPHeaders()

    enum Event {
        case none
        /// A blank line ended the head of a final (non-1xx) response.
        case headComplete(status: Int, headers: HTTPHeaders)
    }

    mutating func consume(_ raw: UnsafeRawBufferPointer) -> Event {
        // Strip the line ending on bytes: as a String, "\r\n" is one Character and would not match "\r" or "\n".
        var end = raw.count
        while end > 0, raw[end - 1] == UInt8(ascii: "\n") || raw[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = Substring(String(decoding: UnsafeRawBufferPointer(rebasing: raw[..<end]), as: UTF8.self))

        if line.hasPrefix("HTTP/") {
            // "HTTP/1.1 200 OK", "HTTP/2 204"
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            status = parts.count >= 2 ? Int(parts[1]) : nil
            headers = HTTPHeaders()
            return .none
        }
        if line.isEmpty {
            guard let status else { return .none }
            if (100..<200).contains(status) && status != 101 {
                // Interim response (100 Continue, 103 Early Hints): the real one follows.
                self.status = nil
                headers = HTTPHeaders()
                return .none
            }
            return .headComplete(status: status, headers: headers)
        }
        if let first = line.first, first == " " || first == "\t", let previous = headers.fields.last {
            // Obsolete line folding: continues the previous field's value.
            var fields = headers.fields
            fields[fields.count - 1].value = previous.value + " " + line.trimmingHTTPWhitespace()
            headers = HTTPHeaders(fields.map { ($0.name, $0.value) })
            return .none
        }
        if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon]).trimmingHTTPWhitespace()
            let value = String(line[line.index(after: colon)...]).trimmingHTTPWhitespace()
            if !name.isEmpty { headers.add(name: name, value: value) }
        }
        return .none
    }
}

extension StringProtocol {
    func trimmingHTTPWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
