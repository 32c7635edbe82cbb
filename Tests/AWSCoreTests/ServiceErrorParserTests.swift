import HTTPTransport
import Testing

@testable import AWSCore

@Suite struct ServiceErrorParserTests {
    func response(_ status: Int, _ body: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        HTTPResponse(head: HTTPResponseHead(status: status, headers: headers, effectiveURL: "http://x/"), body: Array(body.utf8))
    }

    @Test func queryProtocolXML() {
        let body = """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>
                <Message>The request signature we calculated does not match the signature you provided.</Message>
              </Error>
              <RequestId>4c4f7b2e-0000</RequestId>
            </ErrorResponse>
            """
        let details = ServiceErrorParser.parse(response(403, body), service: "STS", action: "AssumeRole")
        #expect(details.code == "SignatureDoesNotMatch")
        #expect(details.message.hasPrefix("The request signature we calculated"))
        #expect(details.requestId == "4c4f7b2e-0000")
        #expect(details.httpStatus == 403)
        #expect(details.description.contains("secret access key does not match"))
    }

    @Test func jsonProtocolWithQualifiedType() {
        let body = #"{"__type":"com.amazonaws.ecr#RepositoryNotFoundException","message":"The repository with name 'x' does not exist"}"#
        let details = ServiceErrorParser.parse(
            response(400, body, headers: ["x-amzn-RequestId": "req-1"]),
            service: "ECR", action: "DescribeRepositories")
        #expect(details.code == "RepositoryNotFoundException")
        #expect(details.message.contains("does not exist"))
        #expect(details.requestId == "req-1")
    }

    @Test func jsonTypeWithURLSuffixAndCapitalMessage() {
        let body =
            #"{"__type":"AccessDeniedException:http://internal.amazon.com/coral/","Message":"not authorized to perform: ecr:GetAuthorizationToken"}"#
        let details = ServiceErrorParser.parse(response(400, body), service: "ECR", action: "GetAuthorizationToken")
        #expect(details.code == "AccessDeniedException")
        #expect(details.description.contains("ecr:GetAuthorizationToken"))
    }

    /// moto answers auth failures on JSON services with an XML document.
    @Test func motoXMLForJSONService() {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Response><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>\
            </Error></Errors>
            <RequestID>abc</RequestID></Response>
            """
        let details = ServiceErrorParser.parse(response(403, body), service: "ECR", action: "GetAuthorizationToken")
        #expect(details.code == "InvalidClientTokenId")
        #expect(details.requestId == "abc")
    }

    @Test func unknownBodyKeepsStatus() {
        let details = ServiceErrorParser.parse(response(502, "Bad Gateway"), service: "STS", action: "AssumeRole")
        #expect(details.code == "HTTP502")
        #expect(details.message == "Bad Gateway")
        #expect(RetryPolicy().isRetryable(details))
    }
}

@Suite struct XMLNodeTests {
    @Test func parsesNestedElementsAndEntities() throws {
        let document = try XMLNode.parse(
            """
            <?xml version="1.0"?>
            <A xmlns="x"><B attr="1 > 0">t &amp; u &lt;v&gt; &#65;&#x42;</B><C/><D><![CDATA[<raw>]]></D></A>
            """)
        #expect(document.name == "A")
        #expect(document["B"]?.text == "t & u <v> AB")
        #expect(document["C"] != nil)
        #expect(document["D"]?.text == "<raw>")
    }

    @Test func rejectsMismatchedTags() {
        #expect(throws: XMLParseError.self) { try XMLNode.parse("<a><b></a></b>") }
        #expect(throws: XMLParseError.self) { try XMLNode.parse("no xml") }
    }
}

@Suite struct RedactionTests {
    @Test func headersKeepScopeButNotSignatureOrToken() {
        let lines = Redaction.headers([
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=abcdef0123",
            "X-Amz-Security-Token": "SESSIONTOKENSECRET",
            "Content-Type": "application/json"
        ])
        let joined = lines.joined(separator: "\n")
        #expect(!joined.contains("abcdef0123"))
        #expect(!joined.contains("SESSIONTOKENSECRET"))
        #expect(joined.contains("Credential=AKIDEXAMPLE/20150830"))
        #expect(joined.contains("Content-Type: application/json"))
    }

    @Test func bodies() {
        let xml = Redaction.body(
            "<Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s3cr3t</SecretAccessKey><SessionToken>tok</SessionToken></Credentials>")
        #expect(!xml.contains("s3cr3t") && !xml.contains(">tok<") && xml.contains("ASIA1"))
        let json = Redaction.body(#"{"authorizationData":[{"authorizationToken": "QVdTOnB3", "proxyEndpoint":"https://x"}], "password":"p\"w"}"#)
        #expect(!json.contains("QVdTOnB3") && !json.contains("p\\\"w") && json.contains("https://x"))
        let form = Redaction.body("Action=AssumeRoleWithWebIdentity&WebIdentityToken=eyJhbGc&RoleArn=arn")
        #expect(!form.contains("eyJhbGc") && form.contains("RoleArn=arn"))
    }
}

@Suite struct EndpointTests {
    @Test func regionalAndPartitionEndpoints() {
        let config = EndpointConfiguration()
        #expect(config.url(for: .sts, region: "eu-west-1") == "https://sts.eu-west-1.amazonaws.com")
        #expect(config.url(for: .ecr, region: "cn-north-1") == "https://api.ecr.cn-north-1.amazonaws.com.cn")
        #expect(config.url(for: .ecr, region: "us-gov-west-1") == "https://api.ecr.us-gov-west-1.amazonaws.com")
    }

    @Test func fipsAndOverrides() {
        let env = ["AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:5000/"]
        let config = EndpointConfiguration.fromEnvironment(env)
        #expect(config.url(for: .ecr, region: "us-east-1") == "https://ecr-fips.us-east-1.amazonaws.com")
        #expect(config.url(for: .sts, region: "us-east-1") == "http://127.0.0.1:5000")
        let global = EndpointConfiguration.fromEnvironment(["AWS_ENDPOINT_URL": "http://localhost:1"])
        #expect(global.url(for: .ecr, region: "us-east-1") == "http://localhost:1")
    }

    @Test func regionNames() {
        #expect(Partition.isValidRegionName("us-east-1"))
        #expect(Partition.isValidRegionName("us-gov-west-1"))
        #expect(!Partition.isValidRegionName("US-EAST-1"))
        #expect(!Partition.isValidRegionName("useast"))
        #expect(Partition.of(region: "cn-northwest-1") == .awsCN)
    }
}

@Suite struct TimestampTests {
    @Test func iso8601Forms() {
        let base = Timestamps.parseISO8601("2026-11-23T10:00:00Z")
        #expect(base?.timeIntervalSince1970 == 1_795_428_000)
        #expect(Timestamps.parseISO8601("2026-11-23T10:00:00.500Z")?.timeIntervalSince1970 == 1_795_428_000.5)
        #expect(Timestamps.parseISO8601("2026-11-23T11:00:00+01:00") == base)
        #expect(Timestamps.parseISO8601("garbage") == nil)
        #expect(Timestamps.formatISO8601(base!) == "2026-11-23T10:00:00Z")
        #expect(Timestamps.parseHTTPDate("Mon, 23 Nov 2026 10:00:00 GMT") == base)
    }

    @Test func formEncodingIsRFC3986() {
        #expect(FormEncoding.encode([("RoleSessionName", "a b+c/~")]) == "RoleSessionName=a%20b%2Bc%2F~")
    }
}
