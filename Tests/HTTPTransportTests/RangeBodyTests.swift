import HTTPTransport
import Testing

/// A `Range` answer gathered chunk by chunk: all of a 206 is kept, and a whole-resource 200 is cut at the range's end.
@Suite struct RangeBodyTests {
    @Test func aPartialAnswerIsKeptWhole() throws {
        let body = RangeBody(range: 100...109)
        try [UInt8](0..<4).withUnsafeBytes { try body.append($0) }
        try [UInt8](4..<10).withUnsafeBytes { try body.append($0) }
        #expect(body.collected == Array(0..<10))
        #expect(body.wanted == 10)
    }

    @Test func aWholeAnswerStopsAtTheRangesEnd() throws {
        let body = RangeBody(range: 0...5)
        try [UInt8](0..<4).withUnsafeBytes { try body.append($0) }
        #expect(throws: RangeBody.Enough.self) { try [UInt8](4..<9).withUnsafeBytes { try body.append($0) } }
        #expect(body.collected == Array(0..<6), "the range's bytes, nothing past them")
    }

    @Test func aShortAnswerShowsInTheCount() throws {
        let body = RangeBody(range: 0...9)
        try [UInt8](0..<3).withUnsafeBytes { try body.append($0) }
        #expect(body.collected.count == 3)
    }
}
