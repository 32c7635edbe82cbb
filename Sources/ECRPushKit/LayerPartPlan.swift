/// How a blob is cut into UploadLayerPart calls: consecutive inclusive byte ranges of `partSize`, which ECR
/// bounds to 5 MiB (every part but the last) and 20 MiB.
package struct LayerPartPlan: Sendable, Equatable {
    package static let minimumPartSize: Int64 = 5 << 20
    package static let maximumPartSize: Int64 = 20 << 20

    package let blobSize: Int64
    package let partSize: Int64

    /// `suggested` is what InitiateLayerUpload returned; it is kept within ECR's limits.
    package init(blobSize: Int64, suggested: Int64) {
        self.blobSize = blobSize
        self.partSize = min(max(suggested, Self.minimumPartSize), Self.maximumPartSize)
    }

    /// The parts from `offset` on: `(first, last)` inclusive. A 0-byte blob has none.
    package func parts(from offset: Int64 = 0) -> [ClosedRange<Int64>] {
        var parts: [ClosedRange<Int64>] = []
        var first = offset
        while first < blobSize {
            let last = min(first + partSize, blobSize) - 1
            parts.append(first...last)
            first = last + 1
        }
        return parts
    }
}
