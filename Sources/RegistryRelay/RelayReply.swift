/// An answer to the Engine, in the distribution API's terms (errors as its JSON error list, with codes the Engine
/// acts on: it does not retry DENIED, and uploads a layer whose check says 404).
struct RelayReply: Sendable, Equatable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// For a blob check (HEAD): the blob's size, sent as Content-Length without a body.
    var contentLength: Int64?

    static func == (lhs: RelayReply, rhs: RelayReply) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.contentLength == rhs.contentLength
            && lhs.headers.map { "\($0.0): \($0.1)" } == rhs.headers.map { "\($0.0): \($0.1)" }
    }

    static func error(_ status: Int, code: String, message: String) -> RelayReply {
        let text = "{\"errors\":[{\"code\":\(jsonString(code)),\"message\":\(jsonString(message))}]}"
        return RelayReply(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }

    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
