import Foundation

/// Registry credentials for a push, sent only in the `X-Registry-Auth` header (never to disk or argv).
package struct RegistryAuth: Sendable, Equatable, CustomStringConvertible {
    package var username: String
    package var password: String
    /// The registry host, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`.
    package var serverAddress: String

    package init(username: String, password: String, serverAddress: String) {
        self.username = username
        self.password = password
        self.serverAddress = serverAddress
    }

    /// The header value: base64url (URL-safe alphabet) of `{"username","password","serveraddress"}`, padded
    /// with `=` as the docker CLI sends it.
    package var headerValue: String {
        struct Body: Encodable { let username: String; let password: String; let serveraddress: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding three strings cannot fail.
        let json = (try? encoder.encode(Body(username: username, password: password, serveraddress: serverAddress))) ?? Data()
        return json.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    /// Never shows the password.
    package var description: String { "RegistryAuth(username: \(username), password: <redacted>, serverAddress: \(serverAddress))" }
}

/// One line of push progress.
package struct PushEvent: Sendable, Equatable {
    /// The layer (short digest) this line is about, if any.
    package var id: String?
    /// e.g. `.pushing`, `.alreadyExists`, `.mounted(from:)`, `.other("latest: digest: sha256:... size: 528")`.
    package var status: PushStatus?
    package var progress: ProgressDetail?
    /// Set on the final `aux` line.
    package var result: PushResult?
    /// The daemon's failure message; the push then throws `DockerError.pushFailed`.
    package var errorMessage: String?

    package init(
        id: String? = nil, status: PushStatus? = nil, progress: ProgressDetail? = nil,
        result: PushResult? = nil, errorMessage: String? = nil
    ) {
        self.id = id
        self.status = status
        self.progress = progress
        self.result = result
        self.errorMessage = errorMessage
    }

    init(_ message: JSONMessage) {
        id = message.id
        status = message.status.map(PushStatus.init)
        if let detail = message.progressDetail, detail.current != nil || detail.total != nil {
            progress = ProgressDetail(current: detail.current, total: detail.total)
        }
        if let aux = message.aux, let digest = aux.digest {
            result = PushResult(tag: aux.tag ?? "", digest: digest, size: aux.size ?? 0)
        }
        errorMessage = message.failureMessage
    }
}

package struct PushResult: Sendable, Equatable {
    package var tag: String
    /// The manifest digest the registry now holds, `sha256:<hex>`.
    package var digest: String
    /// The manifest's size in bytes.
    package var size: Int64

    package init(tag: String, digest: String, size: Int64) {
        self.tag = tag
        self.digest = digest
        self.size = size
    }
}
