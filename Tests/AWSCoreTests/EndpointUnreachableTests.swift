import AWSCore
import HTTPTransport
import Testing

/// An endpoint that cannot be reached says the transport's failure and its own advice, one sentence after the other.
@Suite struct EndpointUnreachableTests {
    @Test func theTransportsAdviceAndTheEndpointsReadAsSentences() {
        let refused = HTTPError.couldNotConnect(url: "http://127.0.0.1:1/", detail: "Failed to connect to 127.0.0.1 port 1")
        let text = AWSError.endpointUnreachable(endpoint: "http://127.0.0.1:1", underlying: refused).description
        #expect(!text.contains(".."), "\(text)")
        #expect(text.contains("the service is running. Check --endpoint-url"), "\(text)")
        let timedOut = HTTPError.timedOut(url: "http://127.0.0.1:1/", detail: "Connection timed out after 5000 ms")
        let other = AWSError.endpointUnreachable(endpoint: "http://127.0.0.1:1", underlying: timedOut).description
        #expect(other.contains("after 5000 ms. Check --endpoint-url"), "\(other)")
    }
}
