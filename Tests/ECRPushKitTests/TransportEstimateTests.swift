import DockerEngine
import ECRPushKit
import Testing

/// `--transport auto`'s choice, as pure arithmetic over what is known before a push.
@Suite struct TransportEstimateTests {
    static let mib: Int64 = 1 << 20

    static func image(size: Int64, layers: Int) -> ImageInspect {
        ImageInspect(
            id: "sha256:" + String(repeating: "a", count: 64), repoTags: [], repoDigests: [], size: size,
            rootFS: .init(type: "layers", layers: (0..<layers).map { "sha256:" + String(repeating: String($0 % 10), count: 64) }))
    }

    static func ancestor(registry: String, size: Int64, layers: Int) -> RegistryAncestor {
        RegistryAncestor(
            imageID: "sha256:base", reference: "\(registry)/base@sha256:" + String(repeating: "b", count: 64), layerCount: layers, size: size)!
    }

    @Test func aSmallLayerOnABaseFromTheDestinationGoesThroughTheEngine() {
        let estimate = TransportEstimate.choose(
            image: Self.image(size: 129 * Self.mib, layers: 4),
            ancestor: Self.ancestor(registry: "reg.example:5000", size: 128 * Self.mib, layers: 3),
            destinationRegistry: "reg.example:5000", remembered: false, zstd: false)
        #expect(estimate.path == .daemon)
        #expect(estimate.daemonSeconds < estimate.registrySeconds)
        #expect(estimate.description.contains("1.0 MiB to send") && estimate.description.contains("in this registry"))
    }

    @Test func mostlyNewBytesGoThroughEcrpush() {
        let estimate = TransportEstimate.choose(
            image: Self.image(size: 385 * Self.mib, layers: 4),
            ancestor: Self.ancestor(registry: "reg.example:5000", size: 128 * Self.mib, layers: 3),
            destinationRegistry: "reg.example:5000", remembered: false, zstd: false)
        #expect(estimate.path == .registry)
        let cold = TransportEstimate.choose(
            image: Self.image(size: 196 * Self.mib, layers: 5), ancestor: nil, destinationRegistry: "reg.example:5000",
            remembered: false, zstd: false)
        #expect(cold.path == .registry && cold.reason.contains("no layer came from a registry"))
    }

    @Test func aBaseFromAnotherRegistryCountsForNothing() {
        let estimate = TransportEstimate.choose(
            image: Self.image(size: 129 * Self.mib, layers: 4),
            ancestor: Self.ancestor(registry: "docker.io", size: 128 * Self.mib, layers: 3),
            destinationRegistry: "reg.example:5000", remembered: false, zstd: false)
        #expect(estimate.path == .registry)
        #expect(estimate.reason.contains("another registry"))
    }

    /// A base from another registry copied into the destination first counts as held: the Engine then skips it.
    @Test func aBaseCopiedFromAnotherRegistryCountsAsHeld() {
        let image = Self.image(size: 129 * Self.mib, layers: 4)
        let ancestor = Self.ancestor(registry: "docker.io", size: 128 * Self.mib, layers: 3)
        let layer = KnownLayer(digest: "sha256:" + String(repeating: "c", count: 64), size: 1, mediaType: "gzip")
        let all = Dictionary(uniqueKeysWithValues: image.rootFS.layers.prefix(3).map { ($0, layer) })
        let copied = TransportEstimate.choose(
            image: image, ancestor: ancestor, destinationRegistry: "reg.example:5000", knownLayers: all, remembered: false, zstd: false)
        #expect(copied.path == .daemon && copied.reason.contains("now in this repository too"), "\(copied)")
        let partly = TransportEstimate.choose(
            image: image, ancestor: ancestor, destinationRegistry: "reg.example:5000", knownLayers: [image.rootFS.layers[0]: layer],
            remembered: false, zstd: false)
        #expect(partly.path == .registry, "a base only partly copied is sent again by the Engine")
    }

    /// Through ecrpush, layers the destination holds are only read from the export, not compressed: a large new
    /// layer on a held base costs its own compression plus the base's export.
    @Test func heldLayersCostOnlyTheirExport() {
        let rates = TransportEstimate.Rates()
        let estimate = TransportEstimate.choose(
            image: Self.image(size: 384 * Self.mib, layers: 4),
            ancestor: Self.ancestor(registry: "r:1", size: 128 * Self.mib, layers: 3), destinationRegistry: "r:1", remembered: false,
            zstd: false, rates: rates)
        let expected =
            rates.registrySecondsPerPush + Double(256 * Self.mib) / rates.registryBytesPerSecond + Double(128 * Self.mib)
            / rates.exportBytesPerSecond
        #expect(abs(estimate.registrySeconds - expected) < 0.001)
        #expect(estimate.path == .registry)
    }

    @Test func theBlobCacheAndZstdDecideForEcrpush() {
        let image = Self.image(size: 129 * Self.mib, layers: 4)
        let ancestor = Self.ancestor(registry: "r:1", size: 128 * Self.mib, layers: 3)
        let remembered = TransportEstimate.choose(image: image, ancestor: ancestor, destinationRegistry: "r:1", remembered: true, zstd: false)
        #expect(remembered.path == .registry && remembered.registrySeconds == 0)
        let zstd = TransportEstimate.choose(image: image, ancestor: ancestor, destinationRegistry: "r:1", remembered: false, zstd: true)
        #expect(zstd.path == .registry)
    }

    /// A known upload rate: where the link bounds both pushes, ecrpush's still waits for the Engine's export before
    /// its first byte, so the Engine's push costs less; on a link faster than the Engine's gzip, nothing changes.
    @Test func aSlowLinkMakesTheEnginesPushCheaperForLargeNewLayers() {
        let image = Self.image(size: 384 * Self.mib, layers: 4)
        let ancestor = Self.ancestor(registry: "r:1", size: 128 * Self.mib, layers: 3)
        func choose(_ rate: String?, remembered: Bool = false, zstd: Bool = false, ancestor: RegistryAncestor?) -> TransportEstimate {
            var rates = TransportEstimate.Rates()
            rates.uploadBytesPerSecond = rate.flatMap { UploadRate(parsing: $0)?.bytesPerSecond }
            return TransportEstimate.choose(
                image: image, ancestor: ancestor, destinationRegistry: "r:1", remembered: remembered, zstd: zstd, rates: rates)
        }
        #expect(choose(nil, ancestor: ancestor).path == .registry)
        #expect(choose("10gbit", ancestor: ancestor).path == .registry)
        let slow = choose("200mbit", ancestor: ancestor)
        #expect(slow.path == .daemon, "\(slow)")
        #expect(slow.reason.contains("an upload rate of 200 Mbit/s"), "\(slow)")
        // 256 MiB at 25 MB/s: both pushes take the link's 10.7 s; ecrpush's waits 2.6 s for the export first.
        let link = Double(256 * Self.mib) / 25e6
        #expect(abs(slow.daemonSeconds - (link + 0.04)) < 0.001, "\(slow)")
        #expect(abs(slow.registrySeconds - (0.05 + Double(384 * Self.mib) / TransportEstimate.Rates().exportWriteBytesPerSecond + link)) < 0.001)
        // A cold push on a slow link too; the blob cache and zstd still decide for ecrpush.
        #expect(choose("20mbit", ancestor: nil).path == .daemon)
        #expect(choose("20mbit", remembered: true, ancestor: ancestor).path == .registry)
        #expect(choose("20mbit", zstd: true, ancestor: ancestor).path == .registry)
    }

    @Test func uploadRatesReadTheirUnits() {
        let cases: [(String, Double)] = [
            ("200mbit", 25e6), ("1Gbit", 125e6), ("500kbit", 62_500), ("25MB/s", 25e6), ("1.5 GB/s", 1.5e9), ("800kb/s", 800e3),
            ("20MiB/s", 20 * 1_048_576), (" 2gib/s ", 2 * 1_073_741_824), ("64KiB/s", 65_536)
        ]
        for (text, bytes) in cases {
            #expect(UploadRate(parsing: text)?.bytesPerSecond == bytes, "\(text)")
        }
        for text in ["", "fast", "200", "200 mbps", "0mbit", "-5mbit", "infmbit", "nanmbit", "mbit", "0.001kbit"] {
            #expect(UploadRate(parsing: text) == nil, "\(text)")
        }
        #expect(UploadRate(parsing: "200mbit")?.description == "200 Mbit/s")
        #expect(UploadRate(parsing: "1.5gbit")?.description == "1.5 Gbit/s")
        #expect(UploadRate(parsing: "64kbit")?.description == "64 kbit/s")
    }

    @Test func registryHostOfARepoDigest() {
        #expect(DockerClient.registryHost(ofReference: "127.0.0.1:5000/team/app@sha256:abc") == "127.0.0.1:5000")
        #expect(
            DockerClient.registryHost(ofReference: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:abc")
                == "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        #expect(DockerClient.registryHost(ofReference: "localhost/app@sha256:abc") == "localhost")
        #expect(DockerClient.registryHost(ofReference: "busybox@sha256:abc") == "docker.io")
        #expect(DockerClient.registryHost(ofReference: "library/busybox@sha256:abc") == "docker.io")
        #expect(DockerClient.canonicalReference("busybox@sha256:abc") == "docker.io/library/busybox@sha256:abc")
        #expect(DockerClient.canonicalReference("team/app@sha256:abc") == "docker.io/team/app@sha256:abc")
        #expect(DockerClient.canonicalReference("127.0.0.1:5000/app@sha256:abc") == "127.0.0.1:5000/app@sha256:abc")
        let location = RepositoryLocation(pinned: "docker.io/library/busybox@sha256:abc")
        #expect(location?.registry == "docker.io" && location?.repository == "library/busybox")
        #expect(RepositoryLocation(pinned: "busybox:1") == nil)
    }

    /// A base still being copied from another registry: the Engine's push would wait for the copy, ecrpush's reads the
    /// image beside it. Beside wins when the copy has longer to go than ecrpush's push would take; a copy that has not
    /// moved a byte yet counts as long.
    @Test func aLongCopyIsOverlappedByEcrpushsPushAndAShortOneIsWaitedFor() {
        let image = Self.image(size: 129 * Self.mib, layers: 4)
        let ancestor = Self.ancestor(registry: "docker.io", size: 128 * Self.mib, layers: 3)
        let rates = TransportEstimate.Rates()
        let beside = TransportEstimate.besideCopy(image: image, ancestor: ancestor, copyRemaining: 2.9, rates: rates)
        #expect(beside?.path == .registry && beside?.reason.contains("still being copied") == true, "\(String(describing: beside))")
        #expect(beside.map { $0.registrySeconds < $0.daemonSeconds } == true)
        #expect(TransportEstimate.besideCopy(image: image, ancestor: ancestor, copyRemaining: 0.1, rates: rates) == nil)
        #expect(TransportEstimate.besideCopy(image: image, ancestor: ancestor, copyRemaining: nil, rates: rates)?.path == .registry)
        // The export's cost is the whole image's: a bigger image needs a longer copy to be worth reading beside it.
        let big = Self.image(size: 1025 * Self.mib, layers: 4)
        let bigBase = Self.ancestor(registry: "docker.io", size: 1024 * Self.mib, layers: 3)
        #expect(TransportEstimate.besideCopy(image: big, ancestor: bigBase, copyRemaining: 2.9, rates: rates) == nil)
    }

    /// A fan-out's Engine path (push to the first destination, copy its image into the others) pays for the new
    /// layers twice, so it is taken only where little is new and the base is in every destination; the registry
    /// path's export writes the whole image out first (150 MiB/s).
    @Test func aFanOutGoesThroughTheEngineForASmallLayerOnABaseEveryDestinationHolds() throws {
        let image = Self.image(size: 129 * Self.mib, layers: 4)
        let ancestor = Self.ancestor(registry: "a.example", size: 128 * Self.mib, layers: 3)
        let layer = KnownLayer(digest: "sha256:" + String(repeating: "c", count: 64), size: 1, mediaType: "gzip")
        let everywhere = Dictionary(uniqueKeysWithValues: image.rootFS.layers.prefix(3).map { ($0, layer) })
        let small = TransportEstimate.fanOut(image: image, ancestor: ancestor, knownEverywhere: everywhere, destinations: 2)
        #expect(small.path == .daemon && small.destinations == 2, "\(small)")
        // 1 MiB at 52 MiB/s, 4 checks of 10 ms, then 0.05 s and 1 MiB at 90 MiB/s for the copies; against 0.05 s,
        // 1 MiB at 90 MiB/s and 128 MiB written out at 150 MiB/s.
        #expect(abs(small.daemonSeconds - (1.0 / 52 + 0.04 + 0.05 + 1.0 / 90)) < 1e-9)
        #expect(abs(small.registrySeconds - (0.05 + 1.0 / 90 + 128.0 / 150)) < 1e-9)
        #expect(small.description.contains("the Engine's push to the first destination") && small.reason.contains("held by every destination"))

        // A layer of the base some destination lacks: the Engine would send the base again.
        let partly = TransportEstimate.fanOut(
            image: image, ancestor: ancestor, knownEverywhere: everywhere.filter { $0.key != image.rootFS.layers[0] }, destinations: 2)
        #expect(partly.path == .registry && partly.reason.contains("not in every destination"), "\(partly)")
        // The base still being got into the destinations after the probe time: ecrpush's push, beside it.
        let copying = TransportEstimate.fanOut(image: image, ancestor: ancestor, knownEverywhere: nil, destinations: 2)
        #expect(copying.path == .registry && copying.daemonSeconds == .infinity && copying.reason.contains("still being got"), "\(copying)")
        #expect(copying.description.contains("once for all destinations"))
        // A base in every destination's registry is mounted, by the Engine's push as by the copies: held, its own
        // mounts done or not.
        let mounting = TransportEstimate.fanOut(image: image, ancestor: ancestor, knownEverywhere: nil, destinations: 2, inAncestorsRegistry: true)
        #expect(mounting.path == .daemon && mounting.daemonSeconds == small.daemonSeconds, "\(mounting)")
        #expect(mounting.reason.contains("in every destination's registry"), "\(mounting)")
        // Mostly new bytes, or no base at all: ecrpush's one read.
        let big = TransportEstimate.fanOut(
            image: Self.image(size: 384 * Self.mib, layers: 4), ancestor: ancestor, knownEverywhere: everywhere, destinations: 2)
        #expect(big.path == .registry, "\(big)")
        let cold = TransportEstimate.fanOut(image: Self.image(size: 20 * Self.mib, layers: 2), ancestor: nil, knownEverywhere: [:], destinations: 3)
        #expect(cold.path == .registry && cold.reason.contains("no layer came from a registry"), "\(cold)")
    }

    /// The copy's rate so far gives its time to go; nothing moved yet gives none.
    @Test func theCopyMeterProjectsTheRateSoFar() async throws {
        let meter = CopyMeter()
        #expect(meter.remainingSeconds() == nil && meter.transfersBegan == nil)
        meter.expect(100)
        let began = try #require(meter.transfersBegan)
        #expect(meter.remainingSeconds(now: began + .seconds(1)) == nil, "nothing moved yet")
        meter.progress("sha256:a", 10)
        meter.progress("sha256:b", 15)
        meter.progress("sha256:a", 25)
        let remaining = try #require(meter.remainingSeconds(now: began + .seconds(1)))
        #expect(abs(remaining - 1.5) < 0.001, "40 of 100 bytes in 1 s: 60 more take 1.5 s")
        meter.finish()
        #expect(meter.isFinished && meter.remainingSeconds() == 0)
    }

    /// A push that took a copy on its word waits for the copy's plan (the destination asked what it lacks), not for
    /// its end; a copy that ends before it has a plan gives none, and a plan known already is given at once.
    @Test func theCopysPlanIsAwaitedUntilTheDestinationWasAsked() async throws {
        let layer = KnownLayer(digest: "sha256:b", size: 4, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip")
        let meter = CopyMeter()
        let waiting = Task { await meter.planned() }
        try await Task.sleep(for: .milliseconds(50))
        meter.expect(4, plan: ["sha256:d": layer])
        #expect(await waiting.value == ["sha256:d": layer])
        #expect(await meter.planned() == ["sha256:d": layer], "known already")
        meter.finish()
        #expect(await meter.planned() == ["sha256:d": layer], "still the plan once the copy is over")

        let failed = CopyMeter()
        let left = Task { await failed.planned() }
        try await Task.sleep(for: .milliseconds(50))
        failed.finish()
        #expect(await left.value == nil, "the copy ended before it asked the destination")
    }
}
