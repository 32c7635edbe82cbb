import Testing

@testable import ECRPushKit

/// The part logic against ECR's limits: 5 MiB minimum (but the last), 20 MiB maximum, consecutive inclusive ranges.
@Suite struct LayerPartPlanTests {
    let mib: Int64 = 1 << 20

    @Test func edgeSizes() {
        let partSize = 10 * mib
        #expect(LayerPartPlan(blobSize: 0, suggested: partSize).parts().isEmpty)
        #expect(LayerPartPlan(blobSize: 1, suggested: partSize).parts() == [0...0])
        #expect(LayerPartPlan(blobSize: partSize, suggested: partSize).parts() == [0...(partSize - 1)])
        #expect(LayerPartPlan(blobSize: partSize + 1, suggested: partSize).parts() == [0...(partSize - 1), partSize...partSize])
    }

    @Test func suggestedSizesAreKeptWithinECRLimits() {
        #expect(LayerPartPlan(blobSize: 100 * mib, suggested: 1024).partSize == 5 * mib)
        #expect(LayerPartPlan(blobSize: 100 * mib, suggested: 64 * mib).partSize == 20 * mib)
    }

    @Test(arguments: [0, 1, 5 << 20, (5 << 20) + 1, 23 << 20, 47_000_001] as [Int64])
    func partsCoverTheBlobConsecutively(size: Int64) {
        let plan = LayerPartPlan(blobSize: size, suggested: 10 * mib)
        let parts = plan.parts()
        var next: Int64 = 0
        for (index, part) in parts.enumerated() {
            #expect(part.lowerBound == next)
            if index < parts.count - 1 { #expect(Int64(part.count) >= LayerPartPlan.minimumPartSize) }
            #expect(Int64(part.count) <= LayerPartPlan.maximumPartSize)
            next = part.upperBound + 1
        }
        #expect(next == size)
    }

    @Test func resumingFromAnOffsetContinuesThere() {
        let plan = LayerPartPlan(blobSize: 24 * mib, suggested: 10 * mib)
        #expect(plan.parts(from: 5 * mib) == [(5 * mib)...(15 * mib - 1), (15 * mib)...(24 * mib - 1)])
    }
}
