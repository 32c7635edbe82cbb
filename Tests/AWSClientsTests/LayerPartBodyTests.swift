import Foundation
import Hashing
import Testing

@testable import ECR

/// The streamed UploadLayerPart body equals the JSON a plain encoder would send, piece size whatever.
@Suite struct LayerPartBodyTests {
    struct Source: LayerPartSource {
        let bytes: [UInt8]
        func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard offset < Int64(bytes.count) else { return 0 }
            // Short reads on purpose: callers must loop.
            let count = min(buffer.count, bytes.count - Int(offset), 7001)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + Int(offset), byteCount: count) }
            return count
        }
    }

    @Test(arguments: [0, 1, 2, 3, 4, 47, 49_151, 49_152, 49_153, 200_001])
    func base64MatchesFoundation(count: Int) {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let ours = bytes.withUnsafeBytes { Base64.encode($0) }
        #expect(String(decoding: ours, as: UTF8.self) == Data(bytes).base64EncodedString())
    }

    @Test(arguments: [(0, 0), (0, 99_999), (12_345, 150_000), (199_999, 199_999)] as [(Int64, Int64)])
    func streamedBodyIsTheExpectedJSON(first: Int64, last: Int64) throws {
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
        let body = LayerPartBody(
            prefix: Array(#"{"uploadId":"u","layerPartBlob":""#.utf8), source: Source(bytes: bytes),
            range: first...last)
        let expected = #"{"uploadId":"u","layerPartBlob":""# + Data(bytes[Int(first)...Int(last)]).base64EncodedString() + #""}"#
        for pieceSize in [1, 3, 4096, 65_536, 1 << 20] {
            let produce = body.makeProducer()
            var output = [UInt8]()
            var piece = [UInt8](repeating: 0, count: pieceSize)
            while true {
                let count = try piece.withUnsafeMutableBytes { try produce($0) }
                if count == 0 { break }
                output += piece[0..<count]
            }
            #expect(String(decoding: output, as: UTF8.self) == expected, "piece size \(pieceSize)")
        }
        #expect(body.length == Int64(expected.utf8.count))
        #expect(try body.sha256() == SHA256.hash(expected).hex)
    }

    @Test func aShortSourceIsAnError() {
        let body = LayerPartBody(prefix: [], source: Source(bytes: [1, 2, 3]), range: 0...9)
        #expect(throws: LayerPartSourceError.self) { _ = try body.sha256() }
    }
}
