import HTTPTransport

/// What every AWS client shares: region, endpoints, credentials, transport, retries, clock and debug output.
package struct AWSContext: Sendable {
    package var region: String
    package var endpoints: EndpointConfiguration
    package var credentialProvider: any CredentialProvider
    package var http: HTTPClient
    package var retry: RetryPolicy
    package var clock: ClockSkew
    package var debug: DebugLog?

    package init(
        region: String, endpoints: EndpointConfiguration = EndpointConfiguration(),
        credentialProvider: any CredentialProvider, http: HTTPClient = HTTPClient(),
        retry: RetryPolicy = RetryPolicy(), clock: ClockSkew = ClockSkew(), debug: DebugLog? = nil
    ) {
        self.region = region
        self.endpoints = endpoints
        self.credentialProvider = credentialProvider
        self.http = http
        self.retry = retry
        self.clock = clock
        self.debug = debug
    }

    /// The same context with other credentials (e.g. after assuming a role) or another region.
    package func with(credentialProvider: any CredentialProvider) -> AWSContext {
        var copy = self
        copy.credentialProvider = credentialProvider
        return copy
    }

    package func with(region: String) -> AWSContext {
        var copy = self
        copy.region = region
        return copy
    }
}
