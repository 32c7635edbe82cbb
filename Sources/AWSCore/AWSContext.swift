import HTTPTransport

/// What every AWS client shares: region, endpoints, credentials, transport, retries, clock and debug output.
public struct AWSContext: Sendable {
    public var region: String
    public var endpoints: EndpointConfiguration
    public var credentialProvider: any CredentialProvider
    public var http: HTTPClient
    public var retry: RetryPolicy
    public var clock: ClockSkew
    public var debug: DebugLog?

    public init(region: String, endpoints: EndpointConfiguration = EndpointConfiguration(),
                credentialProvider: any CredentialProvider, http: HTTPClient = HTTPClient(),
                retry: RetryPolicy = RetryPolicy(), clock: ClockSkew = ClockSkew(), debug: DebugLog? = nil) {
        self.region = region
        self.endpoints = endpoints
        self.credentialProvider = credentialProvider
        self.http = http
        self.retry = retry
        self.clock = clock
        self.debug = debug
    }

    /// The same context with other credentials (e.g. after assuming a role) or another region.
    public func with(credentialProvider: any CredentialProvider) -> AWSContext {
        var copy = self
        copy.credentialProvider = credentialProvider
        return copy
    }

    public func with(region: String) -> AWSContext {
        var copy = self
        copy.region = region
        return copy
    }
}
