import DockerEngine
import ECR
import ECRLogin
import Foundation
import HTTPTransport
import ImageExport
import RegistryClient

/// What `run` looks at and starts while the login is made, from what the Engine says of `push`'s image alone: the
/// image and its ancestor's candidates, its tags for the Engine's push, the Engine's push through the relay, its
/// export, the manifest of a base in another registry.
extension ImagePush {
    /// Tags for the Engine's push, started ahead (`EngineTagsAhead`): only for `push`'s existing image, on a
    /// transport that may push through the Engine, and where the Engine would push to the registry itself (a push
    /// through ecrpush's relay names the image for the relay only).
    func startTagsAhead(_ destination: PushDestination, registry: String, inspected: ImageInspect?) -> EngineTagsAhead? {
        guard existingLocalImage != nil, let inspected, transport == .auto || transport == .daemon else { return nil }
        guard !settings.engineRelay || !EngineRelayPush.applies(to: inspected, docker: workflow.docker) else { return nil }
        return EngineTagsAhead.start(
            docker: workflow.docker, image: inspected, location: RepositoryLocation(registry: registry, repository: destination.repository),
            tags: destination.tags)
    }

    /// `push`'s Engine push through the relay, started while the login is made (`EngineRelayAhead`), where the
    /// Engine's push may be chosen (gzip layers) and will push (not `--skip-existing`, which may push nothing). Before
    /// the Engine has described the image (`inspected` nil), for an image named by its tag, which it keeps when the
    /// relay's name goes (`EngineRelayAhead.isTaggedName`); after, by the image's ID, where it has a name of its own
    /// (`EngineRelayPush.applies`; removing the relay's would otherwise remove the image). The Engine is asked to push
    /// once `confirmRelayAhead` finds that the relay suits the image.
    func startRelayAhead(
        _ destination: PushDestination, inspected: ImageInspect?, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> EngineRelayAhead? {
        guard let name = existingLocalImage, !skipExisting, transport == .auto || transport == .daemon, settings.compression == .gzip
        else { return nil }
        let source: String
        if let inspected {
            guard EngineRelayPush.applies(to: inspected, docker: workflow.docker) else { return nil }
            source = inspected.id
        } else {
            guard EngineRelayAhead.isTaggedName(name) else { return nil }
            source = name
        }
        return EngineRelayAhead.start(
            docker: workflow.docker, settings: settings, source: source, repository: destination.repository, tags: destination.tags,
            onEvent: onEvent)
    }

    /// The relay started ahead, confirmed where it suits the push: the image has a name of its own beside the relay's
    /// (`EngineRelayPush.applies`), the blob cache cannot answer for it, no export was asked ahead (ecrpush's push
    /// reads the image whatever happens), and the Engine's push is the one asked for (`--transport daemon`) or few new
    /// bytes are past the image's ancestor from a registry (`EngineRelayPush.suits`: `auto` likely chooses it).
    /// Otherwise given up (its name for the image removed) and nil.
    func confirmRelayAhead(
        _ ahead: EngineRelayAhead?, _ destination: PushDestination, inspected: ImageInspect?, exportAhead: EngineExportAhead?,
        candidates: RegistryAncestor.Candidates?
    ) async -> EngineRelayAhead? {
        guard let ahead else { return nil }
        if exportAhead == nil, let inspected, EngineRelayPush.applies(to: inspected, docker: workflow.docker),
            settings.blobCache?.mayRemember(imageID: inspected.id) != true
        {
            let ancestor = candidates.flatMap { RegistryAncestor.choose(for: inspected, among: $0, preferredRegistry: destination.registryOverride) }
            if transport == .daemon || EngineRelayPush.suits(inspected, ancestor: ancestor) {
                ahead.confirm()
                return ahead
            }
        }
        await ahead.abandon()
        return nil
    }

    /// `push`'s export, requested now when ecrpush's push will read the image whatever the login and the registry say
    /// (`ExportAheadChoice`); nil otherwise.
    /// `connections`: those opened to the registry ahead (`--registry`), whose first answer says how far it is; else
    /// ECR's, opened while the credentials were fetched.
    func startExportAhead(
        _ destination: PushDestination, inspected: ImageInspect?, candidates: RegistryAncestor.Candidates?, connections: ConnectionsAhead? = nil
    ) async -> EngineExportAhead? {
        await ExportAheadChoice.start(
            image: inspected, name: existingLocalImage, docker: workflow.docker, fanOut: false, skipExisting: skipExisting, transport: transport,
            settings: settings,
            ancestor: {
                guard let image = inspected, let candidates else { return nil }
                return RegistryAncestor.choose(for: image, among: candidates, preferredRegistry: destination.registryOverride)
            },
            registryIsNear: { await connections?.answered(within: settings.nearRegistryAnswer) ?? true })
    }

    /// `image`'s ancestor from a registry, looked up in the background for whoever needs it first; nil without an
    /// image, or when the Engine cannot be asked now (it is asked again later, where its error is reported).
    static func ancestorLookup(
        of image: ImageInspect?, docker: DockerClient, preferredRegistry: String?
    ) -> Task<RegistryAncestor?, Never> {
        Task {
            guard let image else { return nil }
            let found: RegistryAncestor?? = try? await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: preferredRegistry)
            return found ?? nil
        }
    }

    /// The manifest of a base in another registry, read while the login is made (`SourceBaseAhead`): only for a
    /// transport that reads base layers, and an ancestor whose registry cannot be the destination's, as the push
    /// chooses it before the login names the registry.
    func startSourceBaseAhead(
        _ destination: PushDestination, inspected: ImageInspect?, candidates: RegistryAncestor.Candidates?,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> SourceBaseAhead? {
        guard transport != .daemon, settings.reuseBaseLayers, let sources, let inspected, let candidates else { return nil }
        return SourceBaseAhead.start(destinationRegistries: [destination.registryOverride], sources: sources, onEvent: onEvent) {
            RegistryAncestor.choose(for: inspected, among: candidates, preferredRegistry: destination.registryOverride)
        }
    }

    /// The ancestor's candidates, from the Engine alone, when the image exists before the push (`push`, not a build
    /// that may pull a base meanwhile) and the transport looks for an ancestor. nil otherwise, or when the Engine
    /// failed: the look-up is then made later, where its error is reported.
    func gatherAncestorCandidates() async -> RegistryAncestor.Candidates? {
        guard existingLocalImage != nil, settings.reuseBaseLayers, transport != .daemon else { return nil }
        return try? await RegistryAncestor.gather(docker: workflow.docker, for: existingLocalImage)
    }

    /// `push`'s image as the Engine has it, looked at while the login is made; nil for a build, or when the Engine
    /// failed (the look-up is then made again later, where its error is reported). Throws `imageNotFound`.
    func inspectExistingImage() async throws -> ImageInspect? {
        guard let name = existingLocalImage else { return nil }
        let image: ImageInspect?
        do { image = try await workflow.docker.inspectImage(name) } catch { return nil }
        guard let image else { throw DockerError.imageNotFound(name) }
        return image
    }
}
