import DockerEngine
import Testing

@testable import ECRPushKit

/// When the Engine's push through the relay is counted on before the push chooses: few new bytes, or more on a base
/// far bigger than them (ecrpush's push would read the whole image out of the Engine first).
@Suite struct EngineRelaySuitsTests {
    static let mib: Int64 = 1 << 20

    static func suits(newMiB: Int64, baseMiB: Int64?) -> Bool {
        let base = baseMiB.map { TransportEstimateTests.ancestor(registry: "reg.example:5000", size: $0 * mib, layers: 3) }
        return EngineRelayPush.suits(TransportEstimateTests.image(size: (newMiB + (baseMiB ?? 0)) * mib, layers: 4), ancestor: base)
    }

    @Test func fewNewBytesSuitTheRelay() {
        #expect(Self.suits(newMiB: 1, baseMiB: 128))
        #expect(Self.suits(newMiB: 16, baseMiB: nil))
    }

    @Test func moreNewBytesSuitItOnlyOnABaseFarBiggerThanThem() {
        #expect(Self.suits(newMiB: 32, baseMiB: 2048), "the export would read 2 GiB for 32 MiB")
        #expect(Self.suits(newMiB: 17, baseMiB: 64))
        #expect(!Self.suits(newMiB: 32, baseMiB: 64))
        #expect(!Self.suits(newMiB: 32, baseMiB: nil))
        // Scenario 3 of tools/bench_everyday.py: 256 MiB new on 128 MiB, quicker through the export.
        #expect(!Self.suits(newMiB: 256, baseMiB: 128))
    }
}
