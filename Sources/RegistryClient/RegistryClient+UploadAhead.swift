import Foundation
import Synchronization

/// Upload sessions opened before their blob is whole, by repository: ecrpush's relay opens one when the Engine
/// starts an upload, so that sending the blob on once the Engine has finished takes one `PUT` instead of a `POST`
/// and a `PUT` (a round trip per blob, which a link to ECR makes tens of milliseconds). Shared by copies of a client.
final class UploadSessionsAhead: Sendable {
    private let sessions = Mutex<[String: [Task<String?, Never>]]>([:])

    func add(_ session: Task<String?, Never>, repository: String) {
        sessions.withLock { $0[repository, default: []].append(session) }
    }

    /// The location of a session opened ahead in `repository` (waiting for it to open), or nil when none opened.
    func take(repository: String) async -> String? {
        while let session = sessions.withLock({ $0[repository]?.isEmpty == false ? $0[repository]?.removeFirst() : nil }) {
            if let location = await session.value { return location }
        }
        return nil
    }

    /// Every session not taken, for closing.
    func takeAll() -> [Task<String?, Never>] {
        sessions.withLock { sessions in
            defer { sessions = [:] }
            return sessions.values.flatMap { $0 }
        }
    }
}

extension RegistryClient {
    /// Opens an upload session in `repository` now, in the background, for the next upload there to use. A
    /// session that fails to open is simply not used; `closeUploadSessionsAhead` closes those left.
    package func openUploadSessionAhead(repository: String) {
        let client = self
        let session = Task<String?, Never> {
            let url = "\(client.baseURL)/v2/\(repository)/blobs/uploads/"
            guard let response = try? await client.send("POST", url, headers: ["Content-Length": "0"], operation: "opening an upload session"),
                response.status == 202
            else { return nil }
            return try? Self.location(of: response, requestURL: url, operation: "opening an upload session")
        }
        uploadSessionsAhead.add(session, repository: repository)
    }

    /// Closes (`DELETE`, best effort) the sessions opened ahead that no upload took, so a push leaves none open.
    package func closeUploadSessionsAhead() async {
        for session in uploadSessionsAhead.takeAll() {
            if let location = await session.value { await cancelSession(location) }
        }
    }
}
