import DockerEngine
import Foundation
import ImageExport
import RegistryRelay

/// The Engine's push, made to ecrpush's relay on 127.0.0.1 (`RegistryRelay`) instead of the registry: the Engine
/// reads and compresses only the layers the relay says the destination lacks (no export of the whole image), and
/// ecrpush sends them on with its own login, which the Engine never sees. It may start before the login is made:
/// the relay's answers wait for what they need. The image gets a name for the relay only for the push; that name
/// and the digest reference the push leaves are removed after it, whatever happens.
package struct EngineRelayPush: Sendable {
    let docker: DockerClient
    let settings: ExportSettings

    /// Whether the Engine can reach a relay on this machine's loopback: only an Engine on a local socket can (a
    /// remote one, or one behind `tcp://`, has a loopback of its own); and the image needs a name of its own, since
    /// removing the relay's last name would remove the image.
    static func applies(to image: ImageInspect, docker: DockerClient) -> Bool {
        docker.host.socketPath != nil && !image.repoTags.isEmpty
    }

    /// The most new bytes (uncompressed) for which the Engine's push through the relay is counted on before the push
    /// chooses (`auto`, `ecr-api`): the Engine compresses on one core, so past a few MiB ecrpush's own push, whose
    /// export is compressed on every core, is likely quicker (scenario 3 of tools/bench_everyday.py, 256 MiB new:
    /// 1.07x `docker push` through the Engine, 0.56x through the export). A push that goes through the Engine anyway
    /// goes through the relay whatever its size: the relay sends a big upload on as it arrives (that 256 MiB over a
    /// 200 Mbit/s link: 0.89-0.98x `docker push` through the relay, 0.97-1.00x with the Engine pushing itself).
    static let newBytesLimit: Int64 = 16 << 20

    /// Whether the Engine's push through the relay is likely the quicker for `image` whose first layers came from
    /// `ancestor` (the bytes past it are new): few new bytes (`newBytesLimit`), or more on a base so much bigger that
    /// ecrpush's push, which reads the whole image out of the Engine first, would cost more than the Engine compressing
    /// the new bytes on one core (`TransportEstimate.Rates`: 32 MiB on a 2 GiB base, 0.7 s against 5.5 s).
    static func suits(_ image: ImageInspect, ancestor: RegistryAncestor?, rates: TransportEstimate.Rates = TransportEstimate.Rates()) -> Bool {
        let known = ancestor?.size ?? 0
        let newBytes = max(0, image.size - known)
        if newBytes <= newBytesLimit { return true }
        return rates.daemonSeconds(newBytes: newBytes, layers: image.rootFS.layers.count) < rates.exportPushSeconds(newBytes: newBytes, known: known)
    }

    /// Binds the next relay's listener now (`RegistryRelay.listenAhead`), for a push that may go through the relay.
    package static func listenAhead() { RegistryRelay.listenAhead() }

    /// Names the image `source` for the relay whose listener is bound ahead, now, for a push to `repository` under
    /// `tag` (`RelayNameAhead`); the push takes the name, or the command removes it. Only for a tagged name, which the
    /// image keeps when the relay's name goes (false otherwise, and nothing is started).
    @discardableResult
    package static func nameAhead(docker: DockerClient, source: String, repository: String, tag: String) -> Bool {
        guard EngineRelayAhead.isTaggedName(source) else { return false }
        RelayNameAhead.current.start(docker: docker, source: source, repository: repository, tag: tag) { await RegistryRelay.portAhead }
        return true
    }

    /// Pushes the image `source` names (its ID, or a name of its own, which it keeps when the relay's name goes)
    /// under `tags` through a relay to `upstream`; nil when the Engine never reached the relay (the
    /// caller then pushes straight to the registry). Errors of the destination are the ones thrown, not the Engine's
    /// report of the relay's refusal. `proceed`: asked once the relay listens and the image has its name for it,
    /// before the Engine is asked to push; false gives the push up (the name goes, `CancellationError` is thrown).
    func push(
        source: String, repository: String, tags: [String], upstream: any RelayUpstream,
        proceed: @escaping @Sendable () async -> Bool = { true }, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> String? {
        // Named as an export's, so that a later run removes it when this process is killed before it could.
        let spool = try ScratchDirectory(parent: settings.temporaryDirectoryParent)
        defer { spool.remove() }
        let relay = try await RegistryRelay.start(upstream: upstream, spoolDirectory: spool.path)
        let name = RelayNames.relayRepository(host: relay.host, repository: repository)
        do {
            if await !RelayNameAhead.current.take(source: source, repository: name, tag: tags[0]) {
                try await RelayNames.shared.tag(source: source, repository: name, tag: tags[0], in: docker)
            }
            // For a forced exit, which cannot wait for `finish`: the Engine records the digest's name once it pushed.
            RelayNames.shared.made("\(name):\(tags[0])", in: docker) { relay.manifestDigest.map { ["\(name)@\($0)"] } ?? [] }
            guard await proceed() else { throw CancellationError() }
            let result = try await withTaskCancellationHandler {
                try await docker.push(
                    repository: name, tag: tags[0], auth: RegistryAuth(username: "", password: "", serverAddress: relay.host),
                    tlsVerify: false
                ) { event in
                    // "The push refers to repository [127.0.0.1:<port>/…]" names the relay, not where the image goes.
                    if case .other(let text)? = event.status, text.contains("[\(name)]") { return }
                    onEvent(.push(event))
                }
            } onCancel: {
                Task { await relay.stop() }
            }
            await finish(relay, name: name, tag: tags[0], digest: result.digest)
            return relay.manifestDigest ?? result.digest
        } catch {
            await finish(relay, name: name, tag: tags[0], digest: relay.manifestDigest)
            if let failure = relay.upstreamFailure { throw failure }
            if relay.requestCount == 0, !(error is CancellationError) {
                onEvent(
                    .info(
                        "The Engine could not reach ecrpush's relay on \(relay.host) (\(error)); it pushes to the registry itself. "
                            + "An Engine with a loopback of its own (rootless Docker) never can: --no-engine-relay skips the attempt"))
                return nil
            }
            throw error
        }
    }

    /// Stops the relay and removes the names the push gave the image (best effort: a name already gone is fine), all
    /// at once: the push ends when they are gone. Outside the push's task, whose cancellation would abort the
    /// Engine's calls.
    private func finish(_ relay: RegistryRelay, name: String, tag: String, digest: String?) async {
        let docker = self.docker
        await Task.detached {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await relay.stop() }
                group.addTask { try? await docker.removeImage("\(name):\(tag)") }
                if let digest { group.addTask { try? await docker.removeImage("\(name)@\(digest)") } }
            }
        }.value
        RelayNames.shared.removed("\(name):\(tag)")
    }
}
