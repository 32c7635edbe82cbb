/// The gRPC status codes the session answers with (grpc/grpc doc/statuscodes.md).
enum GRPCStatus: Int, Sendable {
    case ok = 0
    case invalidArgument = 3
    case notFound = 5
    case permissionDenied = 7
    case failedPrecondition = 9
    case unimplemented = 12
    case internalError = 13
    case unavailable = 14
}

/// A unary call's outcome: the response message, or a status and message for the trailers.
enum GRPCOutcome: Sendable {
    case message([UInt8])
    case failure(GRPCStatus, String)
}

/// gRPC's framing of a message on an HTTP/2 stream: a compressed flag, a 4-byte big-endian length, the bytes.
enum GRPCFraming {
    static func frame(_ message: [UInt8]) -> [UInt8] {
        let count = UInt32(message.count)
        return [0, UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + message
    }

    /// The first message of a request body; nil when the body is not one whole uncompressed message.
    static func firstMessage(_ body: [UInt8]) -> [UInt8]? {
        var reader = LengthPrefixedReader.grpc()
        reader.append(body)
        return (try? reader.next()) ?? nil
    }

    /// `grpc-message` is percent-encoded (everything outside printable ASCII, and `%`).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7e && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
