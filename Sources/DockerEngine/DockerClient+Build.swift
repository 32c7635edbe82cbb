import Foundation
import HTTPTransport

extension DockerClient {
    /// `POST /build` with the context streamed as a tar generated while it is sent. `onEvent` gets every line of
    /// output as it arrives (on the transfer's thread). A failing step throws `DockerError.buildFailed` with the
    /// daemon's own message.
    package func build(
        context: BuildContext, options: BuildOptions = BuildOptions(),
        onEvent: @escaping @Sendable (BuildEvent) -> Void = { _ in }
    ) async throws -> BuildResult {
        for tag in options.tags {
            let reference = try ImageReference(parsing: tag)
            if reference.digest != nil {
                throw DockerError.invalidReference(tag, reason: "a build result is tagged by name and tag, not by digest")
            }
        }
        // Reach the daemon before walking a possibly large context, so a stopped daemon is reported at once.
        _ = try await apiVersion()
        let now = Int64(Date().timeIntervalSince1970)
        let archive = try await runOnOwnThread { try BuildContextArchive.plan(for: context, currentTime: now) }
        let tar = TarStream(entries: archive.entries)

        let outcome = Locked(BuildOutcome())
        let messages = JSONMessageStream { message, raw in
            let event = outcome.withValue { $0.absorb(message, raw: raw) }
            if let event { onEvent(event) }
        }
        var headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-tar"
        let request = makeRequest(
            method: "POST",
            url: try await url("/build", query: try DockerClient.buildQuery(options, dockerfile: archive.dockerfileName)),
            headers: headers,
            body: .stream(length: archive.contentLength, producer: { buffer in try tar.read(into: buffer) }))
        do {
            try await performStreaming(request) { chunk in try messages.feed(chunk) }
        } catch DockerError.apiError(_, let message) {
            // The daemon refused the build before it started (bad Dockerfile name, unknown base, bad option).
            throw DockerError.buildFailed(message: message)
        }
        messages.finish()

        let result = outcome.current
        if let failure = result.failureMessage { throw DockerError.buildFailed(message: failure) }
        if let imageID = result.imageID { return BuildResult(imageID: imageID, tags: options.tags) }
        // Old daemons only print "Successfully built <short id>": ask for the full ID.
        if let shortID = result.shortImageID, let image = try await inspectImage(shortID) {
            return BuildResult(imageID: image.id, tags: options.tags)
        }
        throw DockerError.unexpectedResponse("the build ended without reporting an image ID")
    }

    static func buildQuery(_ options: BuildOptions, dockerfile: String) throws -> [(String, String)] {
        var query: [(String, String)] = [("dockerfile", dockerfile)]
        for tag in options.tags { query.append(("t", tag)) }
        if !options.buildArgs.isEmpty { query.append(("buildargs", try jsonObject(options.buildArgs))) }
        if !options.labels.isEmpty { query.append(("labels", try jsonObject(options.labels))) }
        if let target = options.target, !target.isEmpty { query.append(("target", target)) }
        if let platform = options.platform, !platform.isEmpty { query.append(("platform", platform)) }
        if let network = options.networkMode, !network.isEmpty { query.append(("networkmode", network)) }
        if options.noCache { query.append(("nocache", "1")) }
        if options.pull { query.append(("pull", "1")) }
        if options.buildKit {
            query.append(("version", "2"))
            if let session = options.sessionID { query.append(("session", session)) }
        }
        if !options.cacheFrom.isEmpty { query.append(("cachefrom", try jsonArray(options.cacheFrom))) }
        query.append(("rm", options.removeIntermediateContainers ? "1" : "0"))
        query.append(("forcerm", options.forceRemoveIntermediateContainers ? "1" : "0"))
        return query
    }

    static func jsonArray(_ items: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(items), as: UTF8.self)
    }

    static func jsonObject(_ dictionary: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(dictionary), as: UTF8.self)
    }
}

/// What the build stream has said so far.
struct BuildOutcome: Sendable {
    var imageID: String?
    var shortImageID: String?
    var failureMessage: String?

    /// Records what matters in a line and returns the event to report for it.
    mutating func absorb(_ message: JSONMessage?, raw: [UInt8]) -> BuildEvent? {
        guard let message else {
            // Not JSON: pass the text through rather than lose it.
            return .output(String(decoding: raw, as: UTF8.self) + "\n")
        }
        if let failure = message.failureMessage {
            if failureMessage == nil { failureMessage = failure }
            return .error(message: failure)
        }
        if message.id == "moby.buildkit.trace" {
            // `aux` is a string here, which JSONMessage does not keep: read it again for its payload.
            struct Trace: Decodable { let aux: String }
            guard let trace = try? JSONDecoder().decode(Trace.self, from: Data(raw)) else { return nil }
            return .trace(trace.aux)
        }
        if let id = message.aux?.id {
            imageID = id
            return .imageID(id)
        }
        if let stream = message.stream {
            if stream.hasPrefix("Successfully built ") {
                shortImageID = stream.dropFirst("Successfully built ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return .output(stream)
        }
        if let status = message.status {
            var progress: ProgressDetail?
            if let detail = message.progressDetail, detail.current != nil || detail.total != nil {
                progress = ProgressDetail(current: detail.current, total: detail.total)
            }
            return .status(id: message.id, status: status, progress: progress)
        }
        return nil
    }
}

extension DockerClient {
    /// Whether the Engine has a network of this name (`GET /networks/{name}`).
    package func networkExists(_ name: String) async throws -> Bool {
        let response = try await call("GET", "/networks/" + URLEncoding.pathComponent(name))
        if response.status == 404 { return false }
        try DockerClient.requireSuccess(response)
        return true
    }
}
