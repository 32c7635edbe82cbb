import Foundation

/// How registry requests are retried, as containerd, crane and the AWS SDKs do: exponential backoff with full
/// jitter, the registry's `Retry-After` honoured (capped), and a total time budget per request, so that a
/// registry restart or a throttled PutImage costs seconds instead of a failed CI job.
package struct RegistryRetryPolicy: Sendable {
    /// Attempts of one request, the first included.
    package var maxAttempts: Int
    /// The first backoff's upper bound; each further one doubles, up to `maxDelay`.
    package var baseDelay: Double
    package var maxDelay: Double
    /// A `Retry-After` longer than this is cut to it (a registry may ask for minutes).
    package var maxRetryAfter: Double
    /// Seconds from a request's first attempt after which no retry starts (`--retry-timeout`).
    package var budget: Double
    /// In [0, 1): the jitter (a parameter so tests can fix it).
    package var random: @Sendable () -> Double

    package init(
        maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 16, maxRetryAfter: Double = 30,
        budget: Double = 120, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.budget = budget
        self.random = random
    }

    /// No retries at all.
    package static let never = RegistryRetryPolicy(maxAttempts: 1)

    /// The wait before attempt `attempt + 1` (attempts count from 1): the registry's `Retry-After` when it gave
    /// one (capped), else full jitter over the capped exponential. nil when the attempts or the budget
    /// (`elapsed` seconds spent so far) would run out.
    package func delay(afterAttempt attempt: Int, retryAfter: Double?, elapsed: Double) -> Double? {
        guard attempt < maxAttempts else { return nil }
        let wait: Double
        if let retryAfter {
            wait = min(max(0, retryAfter), maxRetryAfter)
        } else {
            let exponential = baseDelay * Double(1 << min(attempt - 1, 16))
            wait = random() * min(exponential, maxDelay)
        }
        return elapsed + wait <= budget ? wait : nil
    }

    /// Statuses worth another attempt: timeouts, throttling and the server-side failures a restart or a load
    /// balancer gives. Other 4xx mean "no" and are never retried.
    package static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
    /// Error codes of the distribution API (and ECR's registry) that mean "try again".
    package static let retryableCodes: Set<String> = ["TOOMANYREQUESTS", "UNAVAILABLE", "ThrottlingException"]

    /// `Retry-After` in seconds: delta-seconds or an HTTP date (RFC 9110), relative to `now`.
    package static func retryAfter(_ value: String?, now: Date = Date()) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds.isFinite { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }
}

/// A retry about to happen, for stderr and `--debug`: "retrying PUT manifest team/app:v1 in 1.8 s: HTTP 429".
package struct RegistryRetryNotice: Sendable, CustomStringConvertible {
    package var operation: String
    package var delay: Double
    package var reason: String
    /// The attempt that failed (from 1).
    package var attempt: Int

    package init(operation: String, delay: Double, reason: String, attempt: Int) {
        (self.operation, self.delay, self.reason, self.attempt) = (operation, delay, reason, attempt)
    }

    package var description: String {
        "retrying \(operation) in \(String(format: "%.1f", delay)) s: \(reason)"
    }
}
