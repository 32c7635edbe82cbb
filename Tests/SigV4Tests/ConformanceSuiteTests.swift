import Foundation
import SigV4
import Testing

/// Runs every case of AWS's published SigV4 suite and compares each intermediate step.
@Suite struct ConformanceSuiteTests {
    /// Parameterised tests over an empty list pass vacuously, so this one fails when the suite is gone.
    @Test func suiteIsPresentAndComplete() throws {
        let path = SuiteCase.suiteDirectory.path
        var isDirectory: ObjCBool = false
        try #require(
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue,
            "SigV4 conformance suite not found at \(path): restore Tests/SigV4Tests/Resources/sigv4-test-suite from git")
        #expect(
            SuiteCase.allNames.count >= SuiteCase.expectedCaseCount,
            "only \(SuiteCase.allNames.count) suite cases found in \(path), expected \(SuiteCase.expectedCaseCount)")
        #expect(SuiteCase.names(withVariant: "header").count >= SuiteCase.expectedCaseCount)
        #expect(SuiteCase.names(withVariant: "query").count >= SuiteCase.expectedCaseCount)
    }

    /// A new field in context.json would mean a new signing variation these tests do not apply.
    @Test(arguments: SuiteCase.allNames)
    func contextHasOnlyKnownFields(_ name: String) throws {
        let suiteCase = try SuiteCase(name)
        let object = try #require(try JSONSerialization.jsonObject(with: suiteCase.contextJSON) as? [String: Any])
        #expect(Set(object.keys).subtracting(SuiteCase.Context.knownKeys).isEmpty, "unknown context fields: \(object.keys.sorted())")
        let credentials = try #require(object["credentials"] as? [String: Any])
        #expect(
            Set(credentials.keys).subtracting(SuiteCase.Context.knownCredentialKeys).isEmpty,
            "unknown credential fields: \(credentials.keys.sorted())")
    }

    @Test(arguments: SuiteCase.names(withVariant: "header"))
    func headerSigning(_ name: String) throws {
        let suiteCase = try SuiteCase(name)
        let request = suiteCase.request
        let result = suiteCase.signer.signHeaders(request.signingRequest, payload: .bytes(Array(request.body.utf8)), date: suiteCase.date)

        #expect(result.canonicalRequest == (try suiteCase.expected("header-canonical-request.txt")))
        #expect(result.stringToSign == (try suiteCase.expected("header-string-to-sign.txt")))
        #expect(result.signature == (try suiteCase.expected("header-signature.txt")))
        #expect(
            request.rendered(target: request.target, addingHeaders: result.addedHeaders)
                == (try suiteCase.expected("header-signed-request.txt")))
    }

    @Test(arguments: SuiteCase.names(withVariant: "query"))
    func querySigning(_ name: String) throws {
        let suiteCase = try SuiteCase(name)
        let request = suiteCase.request
        let result = suiteCase.signer.presign(
            request.signingRequest, expiresIn: suiteCase.context.expirationInSeconds,
            payload: .bytes(Array(request.body.utf8)), date: suiteCase.date)

        #expect(result.canonicalRequest == (try suiteCase.expected("query-canonical-request.txt")))
        #expect(result.stringToSign == (try suiteCase.expected("query-string-to-sign.txt")))
        #expect(result.signature == (try suiteCase.expected("query-signature.txt")))
        #expect(request.rendered(target: "\(request.path)?\(result.query)") == (try suiteCase.expected("query-signed-request.txt")))
    }
}
