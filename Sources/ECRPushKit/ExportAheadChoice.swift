import DockerEngine
import ImageExport

/// Whether `push` asks the Engine for the image's export before its logins end (`EngineExportAhead`): only when
/// ecrpush's own push will read the image whatever the destinations hold. That is `registry`; `ecr-api` unless the
/// Engine's push through the relay may suit it (few new bytes past the base, `EngineRelayPush.suits`); or `auto`
/// where even the Engine's best case (the base held by every destination) loses to ecrpush's push (mostly new
/// layers, or zstd). Never for a build (the image does not exist yet), several platforms (each is built first),
/// `--skip-existing` (which may push nothing), or an image the blob cache may answer without an export.
enum ExportAheadChoice {
    /// How soon a registry near this machine answers a version check on a new connection (`ConnectionsAhead`): on
    /// loopback, or in the same region, a few milliseconds (under load up to about 25 here, at times more while the
    /// whole test suite runs); past a 20 ms round trip (another region, another network) at least 40 and more.
    package static let nearRegistryAnswer = Duration.milliseconds(40)

    /// Starts the export of `name` (`push`'s image, as the Engine described it: `image`) when the push (`fanOut`: to
    /// several destinations, one platform) will read it; nil otherwise. `ancestor`: the image's ancestor from a
    /// registry, asked only for `auto`. `registryIsNear`: asked only for `auto`, where the push would read the image
    /// at the link's best; a far registry's link is the likelier to be slow, and there the export is not asked
    /// ahead: where `auto` then takes the Engine's push (its link probe finds it slow), an export asked for already
    /// goes on all the same (the Engine writes the whole image out, whoever reads it) beside the Engine's push, and
    /// slows it.
    static func start(
        image: ImageInspect?, name: String?, docker: DockerClient, fanOut: Bool, skipExisting: Bool, transport: ImagePush.Transport,
        settings: ExportSettings, ancestor: () async -> RegistryAncestor?, registryIsNear: () async -> Bool = { true }
    ) async -> EngineExportAhead? {
        // A push to several destinations is ecrpush's push or the Engine's, never ECR's API.
        let readers: Set<ImagePush.Transport> = fanOut ? [.registry, .auto] : [.registry, .ecrAPI, .auto]
        guard let image, let name, !skipExisting, readers.contains(transport), settings.blobCache?.mayRemember(imageID: image.id) != true
        else { return nil }
        // `ecr-api` reads the image unless the Engine's push through the relay suits it (few new bytes past the base).
        if transport == .ecrAPI, !fanOut, settings.engineRelay, settings.compression == .gzip, EngineRelayPush.applies(to: image, docker: docker) {
            let ancestor = settings.reuseBaseLayers ? await ancestor() : nil
            if EngineRelayPush.suits(image, ancestor: ancestor) { return nil }
        }
        if transport == .auto, settings.compression == .gzip {
            let ancestor = settings.reuseBaseLayers ? await ancestor() : nil
            var rates = TransportEstimate.Rates()
            rates.uploadBytesPerSecond = settings.uploadRate?.bytesPerSecond
            let readsInAnyCase =
                fanOut
                ? TransportEstimate.fanOutReadsTheImageInAnyCase(image: image, ancestor: ancestor, rates: rates)
                // The best case for the Engine's push: the base in the destination's registry.
                : TransportEstimate.choose(
                    image: image, ancestor: ancestor, destinationRegistry: ancestor?.registry ?? "", remembered: false, zstd: false, rates: rates
                ).path == .registry
            guard readsInAnyCase else { return nil }
            // Where the link's rate is neither given nor to be measured, `auto` counts it fast in any case.
            if rates.uploadBytesPerSecond == nil, settings.linkProbe != nil {
                guard await registryIsNear() else { return nil }
            }
        }
        return EngineExportAhead.start(image: name, docker: docker)
    }
}
