import DockerEngine
import ImageExport

/// When a push to several destinations asks for `push`'s export before the logins end (`EngineExportAhead`): when
/// ecrpush's push will read the image whatever the destinations hold. That is `registry`, or `auto` where even the
/// Engine's best case (the base held by every destination) loses to ecrpush's push (mostly new layers, or zstd).
/// Never for a build (the image does not exist yet), several platforms (each is built first), `--skip-existing`
/// (which may push nothing), or an image the blob cache may answer without an export.
enum FanOutExportAhead {
    static func start(
        image: ImageInspect?, name: String?, docker: DockerClient?, platforms: [ImagePlatform], skipExisting: Bool,
        transport: ImagePush.Transport, settings: ExportSettings, preferredRegistry: String?
    ) async -> EngineExportAhead? {
        guard let image, let name, let docker, platforms.isEmpty, !skipExisting, transport == .registry || transport == .auto,
            settings.blobCache?.mayRemember(imageID: image.id) != true
        else { return nil }
        if transport == .auto, settings.compression == .gzip {
            // An Engine that cannot be asked now is asked again later, where its error is reported.
            var ancestor: RegistryAncestor?
            if settings.reuseBaseLayers {
                ancestor = (try? await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: preferredRegistry)) ?? nil
            }
            var rates = TransportEstimate.Rates()
            rates.uploadBytesPerSecond = settings.uploadRate?.bytesPerSecond
            guard TransportEstimate.fanOutReadsTheImageInAnyCase(image: image, ancestor: ancestor, rates: rates) else { return nil }
        }
        return EngineExportAhead.start(image: name, docker: docker)
    }
}
