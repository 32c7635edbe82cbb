import Testing

@testable import SigV4

@Suite struct PercentEncodingTests {
    @Test(arguments: [
        ("abcXYZ019-_.~", "abcXYZ019-_.~"),
        ("a b", "a%20b"),
        ("a/b", "a%2Fb"),
        ("a+b", "a%2Bb"),
        ("*", "%2A"),
        ("=&?", "%3D%26%3F"),
        ("ሴ", "%E1%88%B4"),
        ("%", "%25")
    ])
    func encodesEverythingButUnreserved(_ input: String, _ expected: String) {
        #expect(SigV4.percentEncode(input) == expected)
    }
}

@Suite struct CanonicalQueryTests {
    @Test(
        arguments: [
            (nil, ""),
            ("", ""),
            ("a=1", "a=1"),
            ("b=2&a=1", "a=1&b=2"),
            // Same key: ordered by value.
            ("a=2&a=1&a=10", "a=1&a=10&a=2"),
            // Sorted by key first: joined strings would put "Param-3=" before "Param=".
            ("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"),
            // Code-point order: uppercase before lowercase.
            ("b=1&B=2&a=3", "B=2&a=3&b=1"),
            // No '=' and empty value both become "key=".
            ("key", "key="),
            ("a=&b", "a=&b="),
            // Decoded then re-encoded: escapes are normalised, raw bytes escaped, '+' is a literal plus.
            ("q=hello%20world", "q=hello%20world"),
            ("q=hello world", "q=hello%20world"),
            ("q=hello+world", "q=hello%2Bworld"),
            ("%7e=%41%2f", "~=A%2F"),
            ("ሴ=bar", "%E1%88%B4=bar"),
            // A '%' that starts no valid escape is kept and encoded, never dropped.
            ("p=%zz&r=100%", "p=%25zz&r=100%25"),
            // Empty pieces are skipped; only the first '=' separates key from value.
            ("&&a=1&", "a=1"),
            ("a=b=c", "a=b%3Dc")
        ] as [(String?, String)])
    func canonicalisesRawQuery(_ raw: String?, _ expected: String) {
        #expect(Canonical.query(raw) == expected)
    }
}

@Suite struct CanonicalPathTests {
    @Test(arguments: [
        ("/", "/"),
        ("//", "/"),
        ("/./", "/"),
        ("/./example", "/example"),
        ("//example//", "/example/"),
        ("/example/..", "/"),
        ("/example1/example2/../..", "/"),
        ("/a/b/../c", "/a/c"),
        ("/a/b/..", "/a"),
        ("/a/./b/", "/a/b/"),
        // Never climbs above the root.
        ("/../../a", "/a"),
        ("/a/..b/.c", "/a/..b/.c")
    ])
    func normalisationRemovesDotSegmentsAndDuplicateSlashes(_ path: String, _ expected: String) {
        #expect(Canonical.normalizePath(path) == expected)
    }

    @Test func doubleEncodingEncodesTheWirePathAgain() {
        #expect(Canonical.uri(path: "/a%20b/c", normalize: true, doubleEncode: true) == "/a%2520b/c")
        #expect(Canonical.uri(path: "/example space/", normalize: true, doubleEncode: true) == "/example%20space/")
        #expect(Canonical.uri(path: "/ሴ", normalize: true, doubleEncode: true) == "/%E1%88%B4")
        #expect(Canonical.uri(path: "/a:b@c", normalize: true, doubleEncode: true) == "/a%3Ab%40c")
    }

    @Test func singleEncodingKeepsExistingEscapes() {
        #expect(Canonical.uri(path: "/a%20b//c/../d", normalize: false, doubleEncode: false) == "/a%20b//c/../d")
        #expect(Canonical.uri(path: "/a b", normalize: false, doubleEncode: false) == "/a%20b")
    }

    @Test func emptyOrRelativePathsGetALeadingSlash() {
        #expect(Canonical.uri(path: "", normalize: true, doubleEncode: true) == "/")
        #expect(Canonical.uri(path: "", normalize: false, doubleEncode: true) == "/")
        #expect(Canonical.uri(path: "a/b", normalize: false, doubleEncode: true) == "/a/b")
    }
}

@Suite struct CanonicalHeaderTests {
    @Test(arguments: [
        ("value1", "value1"),
        ("  value1  ", "value1"),
        ("\"a   b   c\"", "\"a b c\""),
        ("a\t \tb", "a b"),
        // An obsolete folded value: continuation lines become single spaces.
        ("value1\n  value2\n     value3", "value1 value2 value3"),
        ("value1\r\n\tvalue2", "value1 value2"),
        ("", ""),
        ("   ", ""),
        ("VALUE1", "VALUE1")
    ])
    func valuesAreTrimmedAndWhitespaceRunsFolded(_ value: String, _ expected: String) {
        #expect(Canonical.headerValue(value) == expected)
    }

    @Test func namesAreLowercasedSortedAndDuplicatesJoinedInOrder() {
        let headers = [
            SigningHeader(name: "My-Header1", value: "value2"),
            SigningHeader(name: "Host", value: "example.amazonaws.com"),
            SigningHeader(name: "my-header1", value: " value2 "),
            SigningHeader(name: "X-Amz-Date", value: "20150830T123600Z"),
            SigningHeader(name: "MY-HEADER1", value: "value1"),
            SigningHeader(name: "My-Header2", value: "a  b")
        ]
        let canonical = Canonical.headers(headers)
        #expect(
            canonical.block == """
                host:example.amazonaws.com
                my-header1:value2,value2,value1
                my-header2:a b
                x-amz-date:20150830T123600Z

                """)
        #expect(canonical.signedHeaders == "host;my-header1;my-header2;x-amz-date")
    }
}
