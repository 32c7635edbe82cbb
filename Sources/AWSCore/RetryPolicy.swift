import HTTPTransport

/// The AWS SDKs' "standard" retry mode: a few attempts with capped exponential backoff and full jitter,
/// on throttling, transient service errors, 5xx and connection failures.
package struct RetryPolicy: Sendable {
    package var maxAttempts: Int
    package var baseDelay: Double
    package var maxDelay: Double

    package init(maxAttempts: Int = 3, baseDelay: Double = 1.0, maxDelay: Double = 20) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait before attempt `attempt + 1` (attempt counts from 1).
    package func delay(afterAttempt attempt: Int) -> Double {
        let exponential = baseDelay * Double(1 << min(attempt - 1, 10))
        return Double.random(in: 0...1) * min(exponential, maxDelay)
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError",
        "InternalFailure", "ServiceUnavailable", "IDPCommunicationError"
    ]

    package func isRetryable(_ error: ServiceErrorDetails) -> Bool {
        if Self.throttlingCodes.contains(error.code) || Self.transientCodes.contains(error.code) { return true }
        return [500, 502, 503, 504].contains(error.httpStatus)
    }

    package func isRetryable(_ error: HTTPError) -> Bool {
        switch error {
        case .couldNotConnect, .timedOut: return true
        case .transport: return true
        default: return false
        }
    }
}
