/// Cuts a byte stream into length-prefixed messages: the SSH agent protocol's (a 4-byte big-endian length, then
/// the message) and gRPC's (a compressed flag, the 4-byte length, the message). Bytes arrive in pieces of any
/// size; a message comes out only when it is whole.
struct LengthPrefixedReader {
    /// Bytes in front of the length: 0 for the agent protocol, 1 (the compressed flag) for gRPC.
    let flagLength: Int
    /// A longer message is an error, not something to buffer.
    let maxLength: Int
    private var buffer: [UInt8] = []
    private var start = 0

    init(flagLength: Int, maxLength: Int) {
        self.flagLength = flagLength
        self.maxLength = maxLength
    }

    static func agent() -> LengthPrefixedReader { LengthPrefixedReader(flagLength: 0, maxLength: SSHAgentProtocol.maxMessageLength) }
    static func grpc() -> LengthPrefixedReader { LengthPrefixedReader(flagLength: 1, maxLength: GRPCStreamHandler.maxRequestLength) }

    enum Failure: Error, Equatable {
        case tooLong(Int)
        case compressed
    }

    mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// Whether bytes of an unfinished message are waiting.
    var isEmpty: Bool { start == buffer.count }

    /// The next whole message without its prefix (for the agent protocol: the type byte and what follows).
    mutating func next() throws(Failure) -> [UInt8]? {
        let header = flagLength + 4
        guard buffer.count - start >= header else { return nil }
        if flagLength == 1 && buffer[start] != 0 { throw .compressed }
        let lengthAt = start + flagLength
        let length = Int(buffer[lengthAt]) << 24 | Int(buffer[lengthAt + 1]) << 16 | Int(buffer[lengthAt + 2]) << 8 | Int(buffer[lengthAt + 3])
        guard length <= maxLength else { throw .tooLong(length) }
        guard buffer.count - start >= header + length else { return nil }
        let message = Array(buffer[(start + header)..<(start + header + length)])
        start += header + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 1 << 16 {
            buffer.removeFirst(start)
            start = 0
        }
        return message
    }
}

/// What ecrpush lets a build step ask of a forwarded SSH agent (draft-miller-ssh-agent). A build may list the keys
/// and have the agent sign with them, as docker does; it may not add, remove or lock keys, nor use extensions:
/// those requests are answered with SSH_AGENT_FAILURE by ecrpush and never reach the agent.
enum SSHAgentProtocol {
    /// OpenSSH's own limit on an agent message.
    static let maxMessageLength = 256 * 1024

    static let requestIdentities: UInt8 = 11
    static let signRequest: UInt8 = 13
    static let failure: UInt8 = 5

    /// Whether a request (its type byte first) may go to the agent.
    static func isAllowed(_ request: [UInt8]) -> Bool {
        guard let type = request.first else { return false }
        return type == requestIdentities || type == signRequest
    }

    /// SSH_AGENT_FAILURE with its length prefix: the answer to a refused request.
    static let failureReply: [UInt8] = [0, 0, 0, 1, failure]

    /// A message with its 4-byte length prefix, as it travels.
    static func framed(_ message: [UInt8]) -> [UInt8] {
        let count = UInt32(message.count)
        return [UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + message
    }
}
