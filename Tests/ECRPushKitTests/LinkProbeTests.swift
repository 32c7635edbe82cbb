import DockerEngine
import ECRPushKit
import Testing

/// The link probe's arithmetic: the rate it takes from what it read, and how `auto` says it.
@Suite struct LinkProbeTests {
    typealias Sample = LinkProbe.Sample

    @Test func theRateIsTakenOverTheLaterHalfOfTheRead() {
        // A slow start (the request, TCP's window), then 20 MB/s.
        let samples = [
            Sample(seconds: 0, bytes: 0), Sample(seconds: 0.05, bytes: 100_000), Sample(seconds: 0.1, bytes: 1_000_000),
            Sample(seconds: 0.15, bytes: 2_000_000), Sample(seconds: 0.2, bytes: 3_000_000)
        ]
        #expect(LinkProbe.rate(samples) == 20_000_000)
    }

    /// A busy machine stalls the reader across the read's middle (here from 40 to 130 ms of a 2 MB/s link); what the
    /// socket held meanwhile is then read at once, in many chunks. Those bytes came before the middle: the later half
    /// is timed from the last read before it, so they do not count as a burst of link rate.
    @Test func aReaderStalledAcrossTheMiddleDoesNotOverstateTheRate() throws {
        var samples = [Sample(seconds: 0, bytes: 0), Sample(seconds: 0.02, bytes: 40_000), Sample(seconds: 0.04, bytes: 80_000)]
        samples += (0..<10).map { Sample(seconds: 0.13 + Double($0) * 0.0001, bytes: 100_000 + Int64($0) * 18_000) }
        samples += [Sample(seconds: 0.15, bytes: 300_000), Sample(seconds: 0.2, bytes: 400_000)]
        let rate = try #require(LinkProbe.rate(samples))
        #expect(abs(rate - 2_000_000) < 1, "\(rate) B/s")
    }

    @Test func aReadWhoseLaterHalfIsOneSampleIsTimedWhole() {
        let samples = [Sample(seconds: 0, bytes: 0), Sample(seconds: 0.01, bytes: 4_000_000)]
        #expect(LinkProbe.rate(samples) == 400_000_000)
    }

    @Test func tooLittleToTimeGivesNoRate() {
        #expect(LinkProbe.rate([]) == nil)
        #expect(LinkProbe.rate([Sample(seconds: 0, bytes: 0)]) == nil, "everything came in the first chunk")
        #expect(LinkProbe.rate([Sample(seconds: 0, bytes: 0), Sample(seconds: 0.1, bytes: 0)]) == nil)
    }

    @Test func aMeasuredRateIsSaidRounded() {
        #expect(UploadRate(bytesPerSecond: 185_234_567 / 8).rounded.description == "185 Mbit/s")
        #expect(UploadRate(bytesPerSecond: 14_123_456_789 / 8).rounded.description == "14.1 Gbit/s")
        #expect(UploadRate(bytesPerSecond: 999_700_000 / 8).rounded.description == "1 Gbit/s")
        #expect(UploadRate(bytesPerSecond: 51_234 / 8).rounded.description == "51.2 kbit/s")
    }

    /// The scenario of issue 10's shaped link: 256 MiB of new layers on a base in the destination registry. On a
    /// fast link ecrpush's push wins; at the 200 Mbit/s the probe measured, the Engine's, and the message says why.
    @Test func aMeasuredSlowLinkTurnsTheChoiceToTheEngine() {
        let image = TransportEstimateTests.image(size: 386 * TransportEstimateTests.mib, layers: 4)
        let ancestor = TransportEstimateTests.ancestor(registry: "reg.example:5000", size: 130 * TransportEstimateTests.mib, layers: 3)
        var rates = TransportEstimate.Rates()
        let fast = TransportEstimate.choose(image: image, ancestor: ancestor, destinationRegistry: "reg.example:5000", remembered: false, zstd: false)
        #expect(fast.path == .registry)
        rates.uploadBytesPerSecond = 185e6 / 8
        rates.measuredLink = LinkProbe.Measurement(bytes: 4_613_734, bytesPerSecond: 185e6 / 8)
        let slow = TransportEstimate.choose(
            image: image, ancestor: ancestor, destinationRegistry: "reg.example:5000", remembered: false, zstd: false, rates: rates)
        #expect(slow.path == .daemon)
        #expect(
            slow.reason.contains("the registry's link reads at 185 Mbit/s (4.4 MiB of a blob it holds, taken for the upload rate)"),
            "\(slow.reason)")
        rates.uploadBytesPerSecond = 10e9 / 8
        rates.measuredLink = LinkProbe.Measurement(bytes: 16 << 20, bytesPerSecond: 10e9 / 8)
        let loopback = TransportEstimate.choose(
            image: image, ancestor: ancestor, destinationRegistry: "reg.example:5000", remembered: false, zstd: false, rates: rates)
        #expect(loopback.path == .registry)
    }
}
