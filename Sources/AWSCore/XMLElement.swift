/// A small XML tree, enough for the AWS Query protocol's responses and error documents.
/// (Avoids FoundationXML and its libxml2 dependency for a few short documents.)
package struct XMLNode: Sendable, Equatable {
    package var name: String
    package var text: String
    package var children: [XMLNode]

    package init(name: String, text: String = "", children: [XMLNode] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    package func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// Follows a path of child names: `node["AssumeRoleResult", "Credentials"]`.
    package subscript(_ path: String...) -> XMLNode? {
        var node: XMLNode? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// Depth-first search for the first element with this name.
    package func first(named name: String) -> XMLNode? {
        if self.name == name { return self }
        for child in children { if let found = child.first(named: name) { return found } }
        return nil
    }

    package static func parse(_ text: String) throws(XMLParseError) -> XMLNode {
        var parser = MiniXMLParser(Array(text.utf8))
        return try parser.parseDocument()
    }
}

package struct XMLParseError: Error, Sendable, CustomStringConvertible {
    package let offset: Int
    package let detail: String
    package var description: String { "XML error at byte \(offset): \(detail)" }
}

private struct MiniXMLParser {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(XMLParseError) -> XMLNode {
        skipMisc()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else { throw error("no root element") }
        return try parseElement()
    }

    mutating func skipMisc() {
        while true {
            skipWhitespace()
            if starts(with: "<?") {
                skip(past: "?>")
            } else if starts(with: "<!--") {
                skip(past: "-->")
            } else if starts(with: "<!") {
                skip(past: ">")
            } else {
                return
            }
        }
    }

    mutating func parseElement() throws(XMLParseError) -> XMLNode {
        index += 1  // '<'
        let name = readName()
        guard !name.isEmpty else { throw error("element without a name") }
        // Attributes are not used by AWS responses we read; skip them (quoted values may hold '>').
        while index < bytes.count, bytes[index] != UInt8(ascii: ">"), !starts(with: "/>") {
            if bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                let quote = bytes[index]
                index += 1
                while index < bytes.count, bytes[index] != quote { index += 1 }
            }
            index += 1
        }
        if starts(with: "/>") { index += 2; return XMLNode(name: name) }
        guard index < bytes.count else { throw error("unterminated start tag <\(name)>") }
        index += 1
        var node = XMLNode(name: name)
        var text: [UInt8] = []
        while index < bytes.count {
            if starts(with: "</") {
                index += 2
                let closing = readName()
                guard closing == name else { throw error("</\(closing)> closes <\(name)>") }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw error("bad end tag") }
                index += 1
                node.text = decodeEntities(text)
                return node
            } else if starts(with: "<![CDATA[") {
                index += 9
                while index < bytes.count, !starts(with: "]]>") { text.append(bytes[index]); index += 1 }
                index += 3
            } else if starts(with: "<!--") {
                skip(past: "-->")
            } else if bytes[index] == UInt8(ascii: "<") {
                node.children.append(try parseElement())
            } else {
                text.append(bytes[index])
                index += 1
            }
        }
        throw error("unterminated element <\(name)>")
    }

    mutating func readName() -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: " ")
                || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            {
                break
            }
            index += 1
        }
        let raw = String(decoding: bytes[start..<index], as: UTF8.self)
        // Namespaced names (`ns:Name`) are read by their local part.
        if let colon = raw.lastIndex(of: ":") { return String(raw[raw.index(after: colon)...]) }
        return raw
    }

    mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[index]) { index += 1 }
    }

    func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { Array($0) == Array(bytes[index..<index + count]) }
    }

    mutating func skip(past literal: StaticString) {
        while index < bytes.count, !starts(with: literal) { index += 1 }
        index = min(bytes.count, index + literal.utf8CodeUnitCount)
    }

    func decodeEntities(_ raw: [UInt8]) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { out += rest[amp...]; return out }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                if entity.hasPrefix("#x"), let value = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(value) {
                    out.unicodeScalars.append(scalar)
                } else if entity.hasPrefix("#"), let value = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(value) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += "&\(entity);"
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    func error(_ detail: String) -> XMLParseError { XMLParseError(offset: index, detail: detail) }
}
