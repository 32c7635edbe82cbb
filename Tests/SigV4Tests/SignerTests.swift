import Foundation
import Testing

@testable import SigV4

private let exampleCredentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
/// 2015-08-30T12:36:00Z, the instant used throughout AWS's documentation.
private let exampleDate = Date(timeIntervalSince1970: 1_440_938_160)

/// The worked example from AWS's "Create a signed AWS API request" documentation: IAM ListUsers.
@Suite struct AWSDocumentationExampleTests {
    let request = SigningRequest(
        method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08",
        headers: [
            SigningHeader(name: "Host", value: "iam.amazonaws.com"),
            SigningHeader(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8"),
            SigningHeader(name: "X-Amz-Date", value: "20150830T123600Z")
        ])
    let signer = SigV4Signer(credentials: exampleCredentials, region: "us-east-1", service: "iam")

    @Test func everyStepMatchesTheDocumentation() {
        let result = signer.signHeaders(request, payload: .empty, date: exampleDate)
        #expect(
            result.canonicalRequest == """
                GET
                /
                Action=ListUsers&Version=2010-05-08
                content-type:application/x-www-form-urlencoded; charset=utf-8
                host:iam.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(
            result.stringToSign == """
                AWS4-HMAC-SHA256
                20150830T123600Z
                20150830/us-east-1/iam/aws4_request
                f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59
                """)
        #expect(result.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        #expect(
            result.addedHeaders == [
                SigningHeader(name: "X-Amz-Date", value: "20150830T123600Z"),
                SigningHeader(
                    name: "Authorization",
                    value:
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                        + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                )
            ])
    }

    @Test func derivedSigningKeyMatchesTheDocumentation() {
        let key = SigningKey(secretAccessKey: exampleCredentials.secretAccessKey, date: exampleDate, region: "us-east-1", service: "iam")
        #expect(key.bytes.map { String(format: "%02x", $0) }.joined() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        #expect(key.scope == "20150830/us-east-1/iam/aws4_request")
        #expect(signer.signingKey(for: exampleDate) == key)
    }

    @Test func aCachedKeyGivesTheSameSignatureAndAStaleOneIsNotUsed() {
        let fresh = signer.signHeaders(request, payload: .empty, date: exampleDate)
        let cached = signer.signHeaders(request, payload: .empty, date: exampleDate, signingKey: signer.signingKey(for: exampleDate))
        #expect(cached.signature == fresh.signature)

        let yesterday = signer.signingKey(for: exampleDate.addingTimeInterval(-86_400))
        let otherRegion = SigningKey(secretAccessKey: exampleCredentials.secretAccessKey, date: exampleDate, region: "eu-west-1", service: "iam")
        #expect(signer.signHeaders(request, payload: .empty, date: exampleDate, signingKey: yesterday).signature == fresh.signature)
        #expect(signer.signHeaders(request, payload: .empty, date: exampleDate, signingKey: otherRegion).signature == fresh.signature)
    }
}

@Suite struct DateFormattingTests {
    @Test(arguments: [
        (1_440_938_160.0, "20150830T123600Z", "20150830"),
        (0.0, "19700101T000000Z", "19700101"),
        (-1.0, "19691231T235959Z", "19691231"),
        (1_440_938_160.999, "20150830T123600Z", "20150830"),
        (1_709_251_199.0, "20240229T235959Z", "20240229"),  // leap day
        (1_709_251_200.0, "20240301T000000Z", "20240301"),
        (951_782_400.0, "20000229T000000Z", "20000229"),  // divisible by 400: leap
        (4_107_542_400.0, "21000301T000000Z", "21000301"),  // 2100 is not a leap year
        (253_402_300_799.0, "99991231T235959Z", "99991231")
    ])
    func formatsInUTC(_ seconds: Double, _ amzDate: String, _ dateStamp: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(SigV4.amzDate(date) == amzDate)
        #expect(SigV4.dateStamp(date) == dateStamp)
    }
}

@Suite struct SecretRedactionTests {
    let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "SECRETSECRET", sessionToken: "TOKENTOKEN", expiration: exampleDate)

    @Test func credentialsNeverShowTheSecretOrToken() {
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials), dumped] {
            #expect(text.contains("AKIDEXAMPLE"))
            #expect(!text.contains("SECRETSECRET"))
            #expect(!text.contains("TOKENTOKEN"))
        }
        #expect(credentials.description.contains("20150830T123600Z"))
    }

    @Test func signingResultsDoNotPrintTheAuthorizationOrToken() {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "ecr")
        let request = SigningRequest(method: "POST", path: "/", headers: [SigningHeader(name: "Host", value: "api.ecr.us-east-1.amazonaws.com")])
        let headers = signer.signHeaders(request, payload: .empty, date: exampleDate)
        let query = signer.presign(request, expiresIn: 60, date: exampleDate)
        for text in ["\(headers)", "\(query)", "\(signer.signingKey(for: exampleDate))"] {
            #expect(!text.contains("TOKENTOKEN"))
            #expect(!text.contains(headers.signature))
            #expect(!text.contains(query.signature))
        }
    }
}

@Suite struct SigningRequestURLTests {
    @Test func splitsPathQueryAndDropsFragment() throws {
        let request = try #require(SigningRequest(url: "https://example.amazonaws.com/a%20b/c?x=1&y=2#frag", method: "GET", headers: []))
        #expect(request.method == "GET")
        #expect(request.path == "/a%20b/c")
        #expect(request.query == "x=1&y=2")
        #expect(request.headers == [SigningHeader(name: "Host", value: "example.amazonaws.com")])
    }

    @Test(
        arguments: [
            ("https://example.com", "example.com", "/", nil),
            ("https://example.com?a=b", "example.com", "/", "a=b"),
            ("https://example.com:443/x", "example.com", "/x", nil),
            ("https://example.com:8443/x", "example.com:8443", "/x", nil),
            ("http://127.0.0.1:80/", "127.0.0.1", "/", nil),
            ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000", "/v2/", nil),
            ("HTTP://LOCALHOST/", "LOCALHOST", "/", nil),
            ("http://[::1]:8080/p", "[::1]:8080", "/p", nil),
            ("https://[::1]/p", "[::1]", "/p", nil)
        ] as [(String, String, String, String?)])
    func addsHostWithNonDefaultPort(_ url: String, _ host: String, _ path: String, _ query: String?) throws {
        let request = try #require(SigningRequest(url: url, method: "GET", headers: []))
        #expect(request.headers.first == SigningHeader(name: "Host", value: host))
        #expect(request.path == path)
        #expect(request.query == query)
    }

    @Test func keepsAnExistingHostHeader() throws {
        let request = try #require(
            SigningRequest(url: "http://127.0.0.1:5000/", method: "GET", headers: [SigningHeader(name: "host", value: "sts.amazonaws.com")]))
        #expect(request.headers == [SigningHeader(name: "host", value: "sts.amazonaws.com")])
    }

    @Test(arguments: ["example.com/path", "://example.com/", "https:///path", "https://user:pw@example.com/"])
    func rejectsURLsWithoutSchemeOrHost(_ url: String) {
        #expect(SigningRequest(url: url, method: "GET", headers: []) == nil)
    }
}

@Suite struct SignerBehaviourTests {
    let host = SigningHeader(name: "Host", value: "example.amazonaws.com")

    @Test func callerSuppliedSignerHeadersAreReplacedAndVolatileOnesNotSigned() {
        let signer = SigV4Signer(credentials: exampleCredentials, region: "us-east-1", service: "service")
        let request = SigningRequest(
            method: "GET", path: "/",
            headers: [
                host,
                SigningHeader(name: "User-Agent", value: "ecrpush/1.0"),
                SigningHeader(name: "Authorization", value: "stale"),
                SigningHeader(name: "X-Amz-Date", value: "19990101T000000Z"),
                SigningHeader(name: "Transfer-Encoding", value: "chunked")
            ])
        let result = signer.signHeaders(request, payload: .empty, date: exampleDate)
        let plain = signer.signHeaders(SigningRequest(method: "GET", path: "/", headers: [host]), payload: .empty, date: exampleDate)
        #expect(result.canonicalRequest == plain.canonicalRequest)
        #expect(result.signature == plain.signature)

        let sent = result.applied(to: request.headers)
        #expect(sent.filter { $0.name.lowercased() == "authorization" }.count == 1)
        #expect(sent.filter { $0.name.lowercased() == "x-amz-date" } == [SigningHeader(name: "X-Amz-Date", value: "20150830T123600Z")])
        #expect(sent.contains(SigningHeader(name: "User-Agent", value: "ecrpush/1.0")))
    }

    @Test func sessionTokenIsSentAndSignedUnlessOmitted() {
        let credentials = Credentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "tok en")
        let request = SigningRequest(method: "GET", path: "/", headers: [host])
        let signed = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s").signHeaders(request, payload: .empty, date: exampleDate)
        let omitted = SigV4Signer(
            credentials: credentials, region: "us-east-1", service: "s", options: SigningOptions(omitSessionTokenFromSignature: true)
        )
        .signHeaders(request, payload: .empty, date: exampleDate)

        #expect(signed.addedHeaders.map(\.name) == ["X-Amz-Security-Token", "X-Amz-Date", "Authorization"])
        #expect(omitted.addedHeaders.map(\.name) == ["X-Amz-Security-Token", "X-Amz-Date", "Authorization"])
        #expect(signed.canonicalRequest.contains("x-amz-security-token:tok en\n"))
        #expect(!omitted.canonicalRequest.contains("x-amz-security-token"))
        #expect(signed.addedHeaders.last!.value.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
        #expect(omitted.addedHeaders.last!.value.contains("SignedHeaders=host;x-amz-date,"))

        let presigned = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s").presign(request, expiresIn: 60, date: exampleDate)
        #expect(presigned.query.contains("&X-Amz-Security-Token=tok%20en&X-Amz-Signature="))
    }

    @Test func contentSHA256HeaderCarriesThePayloadHash() {
        let signer = SigV4Signer(credentials: exampleCredentials, region: "us-east-1", service: "s3", options: .s3)
        let request = SigningRequest(method: "PUT", path: "/bucket/a%20key", headers: [host])
        let unsigned = signer.signHeaders(request, payload: .unsigned, date: exampleDate)
        #expect(unsigned.addedHeaders.contains(SigningHeader(name: "x-amz-content-sha256", value: "UNSIGNED-PAYLOAD")))
        #expect(unsigned.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(unsigned.canonicalRequest.hasPrefix("PUT\n/bucket/a%20key\n"))

        let streamed = signer.signHeaders(
            request, payload: .precomputed("9095672BBD1F56DFC5B65F3E153ADC8731A4A654192329106275F4C7B24D0B6E"), date: exampleDate)
        let bytes = signer.signHeaders(request, payload: .bytes(Array("Param1=value1".utf8)), date: exampleDate)
        #expect(streamed.signature == bytes.signature)
        #expect(
            bytes.addedHeaders.contains(
                SigningHeader(name: "x-amz-content-sha256", value: "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")))
    }

    @Test func emptyPayloadIsTheHashOfNothing() {
        #expect(PayloadHash.empty.hexValue == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(PayloadHash.bytes([]).hexValue == PayloadHash.empty.hexValue)
    }

    @Test func presignDefaultsToUnsignedPayloadAndReplacesAnOldSignature() {
        let signer = SigV4Signer(credentials: exampleCredentials, region: "us-east-1", service: "service")
        let fresh = signer.presign(SigningRequest(method: "GET", path: "/", query: "a=1", headers: [host]), expiresIn: 900, date: exampleDate)
        #expect(fresh.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(
            fresh.query.hasPrefix(
                "a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&"
                    + "X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=900&X-Amz-Signature="
            ))
        #expect(fresh.query.hasSuffix("X-Amz-Signature=\(fresh.signature)"))

        // Presigning an already presigned URL again must not carry the old parameters along.
        let again = signer.presign(SigningRequest(method: "GET", path: "/", query: fresh.query, headers: [host]), expiresIn: 900, date: exampleDate)
        #expect(again.query == fresh.query)
        #expect(again.canonicalRequest == fresh.canonicalRequest)
    }
}
