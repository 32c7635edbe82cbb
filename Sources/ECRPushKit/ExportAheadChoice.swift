import DockerEngine
import ImageExport

/// Whether `push` asks the Engine for the image's export before its logins end (`EngineExportAhead`): only when
/// ecrpush's own push will read the image whatever the destinations hold. That is `registry`; `ecr-api` unless the
/// Engine's push through the relay may suit it (few new bytes past the base, `EngineRelayPush.suits`); or `auto`
/// where even the Engine's best case (the base held by every destination) loses to ecrpush's push (mostly new
/// layers, or zstd). Never for a build (the image does not exist yet), several platforms (each is built first),
/// `--skip-existing` (which may push nothing), or an image the blob cache may answer without an export.
enum ExportAheadChoice {
    /// Starts the export of `name` (`push`'s image, as the Engine described it: `image`) when the push (`fanOut`: to
    /// several destinations, one platform) will read it; nil otherwise. `ancestor`: the image's ancestor from a
    /// registry, asked only for `auto`.
    static func start(
        image: ImageInspect?, name: String?, docker: DockerClient, fanOut: Bool, skipExisting: Bool, transport: ImagePush.Transport,
        settings: ExportSettings, ancestor: () async -> RegistryAncestor?
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
        }
        return EngineExportAhead.start(image: name, docker: docker)
    }
}
