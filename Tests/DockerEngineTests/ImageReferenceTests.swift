import Testing

@testable import DockerEngine

@Suite struct ImageReferenceTests {
    @Test(
        arguments: [
            ("busybox", "busybox", nil, nil),
            ("busybox:local", "busybox", "local", nil),
            ("library/ubuntu:22.04", "library/ubuntu", "22.04", nil),
            ("localhost/app", "localhost/app", nil, nil),
            ("localhost:5000/team/app:v1.2-rc_3", "localhost:5000/team/app", "v1.2-rc_3", nil),
            ("127.0.0.1:5000/a__b/c.d/e-f---g:latest", "127.0.0.1:5000/a__b/c.d/e-f---g", "latest", nil),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:_underscore", "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app",
                "_underscore", nil
            ),
            ("Registry.Example.com/app", "Registry.Example.com/app", nil, nil),  // the host part may have capitals
            ("[::1]:5000/app:1", "[::1]:5000/app", "1", nil),
            ("app@sha256:" + String(repeating: "a", count: 64), "app", nil, "sha256:" + String(repeating: "a", count: 64))
        ] as [(String, String, String?, String?)])
    func acceptsDockersGrammar(_ text: String, _ repository: String, _ tag: String?, _ digest: String?) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
        #expect(reference.digest == digest)
        #expect(reference.description == text)
    }

    @Test(arguments: [
        "", "UPPER/app", "App", "app:", ":tag", "app:-tag", "app:.tag", "app:" + String(repeating: "t", count: 129),
        "app:tag with space", "a//b", "app/", "/app", "-app", "app-", "a..b", "a___b", "registry:port/app",
        "reg_istry.com/app", "app@sha256:short", "app@:abc", String(repeating: "a", count: 256),
        String(repeating: "f", count: 64)
    ])
    func rejectsWhatDockerRejects(_ text: String) {
        #expect(throws: DockerError.self, "\(text)") { try ImageReference(parsing: text) }
    }

    @Test func tagsAreCheckedOnTheirOwn() throws {
        try ImageReference.validateTag("latest")
        try ImageReference.validateTag("A_1.b-2")
        try ImageReference.validateTag(String(repeating: "x", count: 128))
        #expect(throws: DockerError.self) { try ImageReference.validateTag("") }
        #expect(throws: DockerError.self) { try ImageReference.validateTag("a/b") }
        #expect(throws: DockerError.self) { try ImageReference.validateTag("a:b") }
    }

    @Test func reasonsAreSpecific() {
        do {
            try ImageReference.validateRepository("MyApp")
            Issue.record("expected a failure")
        } catch {
            #expect("\(error)".contains("lowercase"))
        }
    }
}
