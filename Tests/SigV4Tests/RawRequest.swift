import SigV4

/// A raw HTTP/1.1 request as the suite writes it: request line, header lines (a line starting with
/// a space or tab continues the previous header's value), a blank line, then the body.
struct RawRequest {
    let method: String
    let path: String
    let query: String?
    let version: String
    /// Header lines exactly as in the file, continuation lines included, for re-rendering.
    let headerLines: [String]
    /// Parsed headers; a continued value keeps its line breaks (`value1\n  value2`).
    let headers: [SigningHeader]
    let body: String

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    init(parsing text: String) throws {
        let head: Substring
        if let separator = text.range(of: "\n\n") {
            head = text[..<separator.lowerBound]
            body = String(text[separator.upperBound...])
        } else {
            head = text.hasSuffix("\n") ? text.dropLast() : Substring(text)
            body = ""
        }
        let lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let requestLine = lines.first,
            let firstSpace = requestLine.firstIndex(of: " "),
            let lastSpace = requestLine.lastIndex(of: " "), firstSpace < lastSpace
        else {
            throw ParseError(description: "no request line in: \(text.prefix(80))")
        }
        method = String(requestLine[..<firstSpace])
        version = String(requestLine[requestLine.index(after: lastSpace)...])
        // The target may itself contain spaces (get-space-*), so it is everything between the two ends.
        let target = requestLine[requestLine.index(after: firstSpace)..<lastSpace]
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = String(target)
            query = nil
        }

        headerLines = Array(lines.dropFirst())
        var headers: [SigningHeader] = []
        for line in headerLines {
            if line.first == " " || line.first == "\t" {
                guard !headers.isEmpty else { throw ParseError(description: "continuation line before any header: \(line)") }
                headers[headers.count - 1].value += "\n" + line
            } else {
                guard let colon = line.firstIndex(of: ":") else { throw ParseError(description: "header line without a colon: \(line)") }
                headers.append(SigningHeader(name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
            }
        }
        self.headers = headers
    }

    var signingRequest: SigningRequest {
        SigningRequest(method: method, path: path, query: query, headers: headers)
    }

    /// The request re-rendered with a different target and extra headers appended, in the suite's layout.
    func rendered(target: String, addingHeaders extra: [SigningHeader] = []) -> String {
        let lines = ["\(method) \(target) \(version)"] + headerLines + extra.map { "\($0.name):\($0.value)" }
        return lines.joined(separator: "\n") + "\n\n" + body
    }

    var target: String { query.map { "\(path)?\($0)" } ?? path }
}
