import Foundation

/// An answer to the Engine, in the distribution API's terms (errors as its JSON error list, with codes the Engine
/// acts on: it does not retry DENIED, and uploads a layer whose check says 404).
struct RelayReply: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// For a blob check (HEAD): the blob's size, sent as Content-Length without a body.
    var contentLength: Int64?

    static func error(_ status: Int, code: String, message: String) -> RelayReply {
        let document = ["errors": [["code": code, "message": message]]]
        let body = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return RelayReply(status: status, headers: [("Content-Type", "application/json")], body: [UInt8](body))
    }
}
