import DockerEngine
import Foundation

/// `--transport auto`: the cheaper of the Engine's own push and ecrpush's registry push, decided per push from
/// what is known before anything is sent. Through the Engine API the only way to read layers is the full export,
/// which writes the whole image to a temporary directory before its first byte; the Engine's push instead skips
/// or mounts the layers it knows the destination has (recorded when it pulled or pushed them) and compresses
/// the rest on one core. So the Engine wins when most of the image came from the destination registry, and
/// ecrpush wins when most of it is new (parallel compression, uploads overlapping the export) or when its blob
/// cache already knows the whole image.
package struct TransportEstimate: Sendable, CustomStringConvertible {
    package enum Path: String, Sendable { case daemon, registry }

    package var path: Path
    package var reason: String
    package var daemonSeconds: Double
    package var registrySeconds: Double
    /// The ancestor the estimate was made from, so the push that follows need not look it up again.
    package var ancestor: RegistryAncestor?
    /// The ancestor's layers the destination repository holds, when the estimate had to make sure of them (a base
    /// from another registry is copied before choosing); nil when not looked at.
    package var knownLayers: [String: KnownLayer]?
    /// The copy of a base from another registry, still running when ecrpush's push was chosen to read the image
    /// beside it (`besideCopy`): that push takes the base's layers from it.
    package var pendingCopy: PendingCopy?
    /// Destinations of the push: more than one for a fan-out (`fanOut`), whose Engine path pushes to the first and
    /// copies that image into the others.
    package var destinations = 1

    package struct PendingCopy: Sendable {
        /// Ends with the base's layers the destination holds.
        package var task: Task<[String: KnownLayer], any Error>
        /// Says what the destination holds once every copy succeeds (what it had, what is being copied), which the
        /// export may skip on the copy's word: the plan, once the copy has asked the destination what it lacks.
        package var meter: CopyMeter
    }

    /// Throughputs measured with tools/bench_push.py on the 2-core loopback world (README, Benchmarks): a cold
    /// 196 MiB push took 2.4 s through ecrpush's registry push (about 90 MiB/s of image, export included) and
    /// 3.8 s through the Engine's (about 52 MiB/s of new layers); each layer the Engine checks costs a round trip.
    package struct Rates: Sendable {
        package var registryBytesPerSecond: Double = 90 * 1_048_576
        package var daemonBytesPerSecond: Double = 52 * 1_048_576
        package var daemonSecondsPerLayer: Double = 0.01
        /// The export alone, for layers the destination holds (recognised in the stream, not compressed).
        package var exportBytesPerSecond: Double = 400 * 1_048_576
        /// What any export costs before its first byte (the Engine writes the image out first), and the config.
        package var registrySecondsPerPush: Double = 0.05
        /// The Engine writing the whole image out before the export's first byte (the legacy `docker save`): 384 MiB
        /// in 2.2 s and 130 MiB in 0.8-0.9 s on the everyday benchmark's fresh runners, 2-2.5 s for bench:1 just
        /// after a restart.
        package var exportWriteBytesPerSecond: Double = 150 * 1_048_576
        /// How long a base's copy transfers before its rate decides whether ecrpush's push starts beside it. Long
        /// enough for a small base on a busy machine to be done; a copy worth overlapping has seconds left after it.
        package var copyProbeSeconds: Double = 1.0
        /// The link's upload rate to the registry, when the user gave it (`--upload-rate`) or the probe measured it;
        /// nil: the link is taken to be faster than either push, as on the loopback world the rates above were
        /// measured on.
        package var uploadBytesPerSecond: Double?
        /// How `uploadBytesPerSecond` was measured (`LinkProbe`), when it was not given.
        package var measuredLink: LinkProbe.Measurement?
        package init() {}

        /// The Engine's push of `newBytes`, checking each of `layers` in the destination. Its first bytes leave at
        /// once, so on a slower link it takes the link's time.
        func daemonSeconds(newBytes: Int64, layers: Int) -> Double {
            let checks = Double(layers) * daemonSecondsPerLayer
            return max(Double(newBytes) / daemonBytesPerSecond + checks, checks + linkSeconds(newBytes))
        }

        /// ecrpush's push on a fast link: the export (`known` bytes the destination holds, only read) and the new bytes
        /// compressed on every core.
        func exportPushSeconds(newBytes: Int64, known: Int64) -> Double {
            registrySecondsPerPush + Double(newBytes) / registryBytesPerSecond + Double(known) / exportBytesPerSecond
        }

        /// ecrpush's push, estimated at `seconds` on a fast link: its first byte waits for the Engine to write the
        /// whole image out, so on a slower link it takes that wait plus the link's time for `newBytes`.
        func registrySeconds(_ seconds: Double, imageSize: Int64, newBytes: Int64) -> Double {
            guard uploadBytesPerSecond != nil else { return seconds }
            return max(seconds, registrySecondsPerPush + Double(imageSize) / exportWriteBytesPerSecond + linkSeconds(newBytes))
        }

        /// `bytes` on the link, counted before compression (the compressed size is not known before the push): an
        /// upper bound, the same for both pushes. 0 when the rate is unknown.
        func linkSeconds(_ bytes: Int64) -> Double {
            uploadBytesPerSecond.map { Double(bytes) / $0 } ?? 0
        }
    }

    /// `destinationRegistry` is the registry's `host[:port]`; `knownLayers`, the ancestor's layers the destination
    /// repository was made sure to hold (a base from another registry, copied); `remembered`, whether the blob
    /// cache knows every blob of the image there (a re-push then reads nothing); `zstd`, whether layers must be
    /// zstd (the Engine only pushes gzip). The Engine skips a layer the destination holds under the digest it
    /// recorded when it pulled the base, and mounts what another repository of the same registry has.
    package static func choose(
        image: ImageInspect, ancestor: RegistryAncestor?, destinationRegistry: String, knownLayers: [String: KnownLayer]? = nil,
        remembered: Bool, zstd: Bool, rates: Rates = Rates()
    ) -> TransportEstimate {
        var baseHeld = false
        if let ancestor {
            let copied = knownLayers.map { $0.count >= ancestor.layerCountDistinct(in: image) } ?? false
            baseHeld = ancestor.registry == destinationRegistry || copied
        }
        let known = baseHeld ? ancestor?.size ?? 0 : 0
        let newBytes = max(0, image.size - known)
        let daemon = rates.daemonSeconds(newBytes: newBytes, layers: image.rootFS.layers.count)
        let registry =
            remembered
            ? 0
            : rates.registrySeconds(rates.exportPushSeconds(newBytes: newBytes, known: known), imageSize: image.size, newBytes: newBytes)
        func estimate(_ path: Path, _ reason: String) -> TransportEstimate {
            TransportEstimate(
                path: path, reason: reason, daemonSeconds: daemon, registrySeconds: registry, ancestor: ancestor, knownLayers: knownLayers)
        }
        if zstd { return estimate(.registry, "zstd layers are compressed by ecrpush") }
        if remembered { return estimate(.registry, "the blob cache knows every blob of the image there") }
        let source: String
        switch ancestor {
        case let ancestor? where ancestor.registry == destinationRegistry:
            source = "\(Self.mebibytes(known)) of layers came from \(ancestor.reference), in this registry"
        case let ancestor? where baseHeld:
            source = "\(Self.mebibytes(known)) of layers came from \(ancestor.reference), now in this repository too"
        case let ancestor?:
            source = "its base \(ancestor.reference) came from another registry and is not in this one, so the Engine would send it again"
        case nil:
            source = "no layer came from a registry"
        }
        var detail = "\(Self.mebibytes(newBytes)) to send; \(source)"
        if let rate = rates.uploadBytesPerSecond {
            detail += "; " + Self.describeLink(rate, measured: rates.measuredLink) + ", where ecrpush's push first waits for the Engine's export"
        }
        return daemon < registry ? estimate(.daemon, detail) : estimate(.registry, detail)
    }

    /// Whether `fanOut` could choose ecrpush's push even in the Engine's best case (the ancestor's layers held by every
    /// destination): then ecrpush's push reads the image whatever the destinations hold, and its export can be asked
    /// for before the logins end (`EngineExportAhead`).
    package static func fanOutReadsTheImageInAnyCase(image: ImageInspect, ancestor: RegistryAncestor?, rates: Rates = Rates()) -> Bool {
        let (daemon, registry, _) = fanOutSeconds(image: image, known: ancestor?.size ?? 0, baseSettled: true, rates: rates)
        return daemon >= registry
    }

    /// `fanOut`'s two estimates, with `known` bytes of the image held by every destination; `baseSettled`: false while
    /// the base is still being got into them (the Engine's push would send it again).
    private static func fanOutSeconds(
        image: ImageInspect, known: Int64, baseSettled: Bool, rates: Rates
    ) -> (daemon: Double, registry: Double, newBytes: Int64) {
        let newBytes = max(0, image.size - known)
        let copies = rates.registrySecondsPerPush + Double(newBytes) / rates.registryBytesPerSecond + rates.linkSeconds(newBytes)
        let daemon = baseSettled ? rates.daemonSeconds(newBytes: newBytes, layers: image.rootFS.layers.count) + copies : .infinity
        // The layers every destination holds cost the export's writing out (measured on fresh runners), which
        // comes before the first byte of any push.
        let registry = rates.registrySeconds(
            rates.registrySecondsPerPush + Double(newBytes) / rates.registryBytesPerSecond + Double(known) / rates.exportWriteBytesPerSecond,
            imageSize: image.size, newBytes: newBytes)
        return (daemon, registry, newBytes)
    }

    /// A push to several destinations (`destinations`): the Engine's push to the first, then its image (manifest
    /// and blobs, byte for byte: one digest) copied registry to registry into the others, against ecrpush's one read
    /// of the image uploaded to all. `knownEverywhere`: the base's layers every destination holds (mounted or copied
    /// there before choosing), nil while that is still under way (the Engine's push would send the base again).
    /// Both paths get the base into every destination alike; they differ in the new layers, which the Engine path
    /// compresses on one core and then copies once more (in parallel into each other registry).
    /// `inAncestorsRegistry`: every destination is in the ancestor's registry. The base is then as good as held
    /// whatever its mounts' state: the Engine's push mounts it into the first destination itself, and the copies
    /// from there are mounts too (as `choose` counts a base from the destination registry).
    package static func fanOut(
        image: ImageInspect, ancestor: RegistryAncestor?, knownEverywhere: [String: KnownLayer]?, destinations: Int,
        inAncestorsRegistry: Bool = false, rates: Rates = Rates()
    ) -> TransportEstimate {
        let mounted = ancestor != nil && inAncestorsRegistry
        let baseHeld = mounted || ancestor.map { (knownEverywhere?.count ?? 0) >= $0.layerCountDistinct(in: image) } ?? false
        let known = baseHeld ? ancestor?.size ?? 0 : 0
        let settled = mounted || knownEverywhere != nil
        let (daemon, registry, newBytes) = fanOutSeconds(image: image, known: known, baseSettled: settled, rates: rates)
        let source: String
        switch ancestor {
        case let ancestor? where mounted:
            source = "\(mebibytes(known)) of layers came from \(ancestor.reference), in every destination's registry"
        case let ancestor? where knownEverywhere == nil:
            source = "its base \(ancestor.reference) is still being got into every destination"
        case let ancestor? where baseHeld:
            source = "\(mebibytes(known)) of layers came from \(ancestor.reference), held by every destination"
        case let ancestor?:
            source = "its base \(ancestor.reference) is not in every destination, so the Engine would send it again"
        case nil:
            source = "no layer came from a registry"
        }
        var reason = "\(mebibytes(newBytes)) to send to \(destinations) destinations; \(source)"
        if let rate = rates.uploadBytesPerSecond { reason += "; an upload rate of \(UploadRate(bytesPerSecond: rate))" }
        var estimate = TransportEstimate(
            path: daemon < registry ? .daemon : .registry, reason: reason, daemonSeconds: daemon, registrySeconds: registry, ancestor: ancestor,
            knownLayers: knownEverywhere)
        estimate.destinations = destinations
        return estimate
    }

    /// While a base from another registry is still being copied into the destination (`copyRemaining` seconds to
    /// go at its rate so far; nil when nothing has moved yet): the Engine's push can only start once the copy is
    /// over (it would send the base again otherwise), while ecrpush's push reads the image from the Engine beside
    /// the copy and takes the base's layers from it at the end. ecrpush's push, when that costs less, else nil.
    package static func besideCopy(
        image: ImageInspect, ancestor: RegistryAncestor, copyRemaining: Double?, rates: Rates = Rates()
    ) -> TransportEstimate? {
        let newBytes = max(0, image.size - ancestor.size)
        let daemon = rates.daemonSeconds(newBytes: newBytes, layers: image.rootFS.layers.count)
        let registry = rates.registrySeconds(
            rates.registrySecondsPerPush + Double(image.size) / rates.exportWriteBytesPerSecond + Double(newBytes) / rates.registryBytesPerSecond,
            imageSize: image.size, newBytes: newBytes)
        let waitForCopy = copyRemaining ?? .infinity
        guard registry < waitForCopy + daemon else { return nil }
        let remaining = copyRemaining.map { "about \(seconds($0)) to go" } ?? "nothing copied yet"
        return TransportEstimate(
            path: .registry,
            reason: "\(mebibytes(newBytes)) to send; its base \(ancestor.reference), from another registry, is still being copied into "
                + "this repository (\(remaining)), "
                + "and ecrpush reads the image meanwhile where the Engine's push would wait for the copy",
            daemonSeconds: waitForCopy + daemon, registrySeconds: registry, ancestor: ancestor)
    }

    package var description: String {
        let name =
            switch (path, destinations > 1) {
            case (.daemon, false): "daemon (the Engine's push)"
            case (.daemon, true): "daemon (the Engine's push to the first destination, its image copied from there into the others)"
            case (.registry, false): "registry (ecrpush reads and compresses the image)"
            case (.registry, true): "registry (ecrpush reads and compresses the image once for all destinations)"
            }
        return "Transport auto: \(name): \(reason); estimated \(Self.seconds(daemonSeconds)) through the Engine's push, "
            + "\(Self.seconds(registrySeconds)) through ecrpush's"
    }

    /// The link's rate as the user gave it, or as the probe measured it (rounded: a measurement is no exact figure).
    static func describeLink(_ rate: Double, measured: LinkProbe.Measurement?) -> String {
        guard let measured else { return "an upload rate of \(UploadRate(bytesPerSecond: rate))" }
        return "the registry's link reads at \(UploadRate(bytesPerSecond: rate).rounded) (\(mebibytes(measured.bytes)) of a blob it holds, "
            + "taken for the upload rate)"
    }

    static func mebibytes(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
    static func seconds(_ value: Double) -> String { value.isFinite ? String(format: "%.1f s", value) : "the copy's time and more" }
}
