import Foundation
import RegistryClient
import Testing

/// The backoff arithmetic, without any network: full jitter under a capped exponential, Retry-After first, and a
/// per-request budget that no wait may cross.
@Suite struct RegistryRetryPolicyTests {
    @Test func fullJitterUnderACappedExponential() {
        let top = RegistryRetryPolicy(maxAttempts: 10, baseDelay: 0.5, maxDelay: 4, budget: 1000, random: { 0.999 })
        #expect(abs(top.delay(afterAttempt: 1, retryAfter: nil, elapsed: 0)! - 0.4995) < 0.001)
        #expect(abs(top.delay(afterAttempt: 3, retryAfter: nil, elapsed: 0)! - 1.998) < 0.001)
        #expect(abs(top.delay(afterAttempt: 8, retryAfter: nil, elapsed: 0)! - 3.996) < 0.001, "capped at maxDelay")
        let bottom = RegistryRetryPolicy(maxAttempts: 10, random: { 0 })
        #expect(bottom.delay(afterAttempt: 5, retryAfter: nil, elapsed: 0) == 0, "full jitter reaches zero")
    }

    @Test func retryAfterWinsAndIsCapped() {
        let policy = RegistryRetryPolicy(maxRetryAfter: 30, budget: 1000, random: { 0.5 })
        #expect(policy.delay(afterAttempt: 1, retryAfter: 2, elapsed: 0) == 2)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 600, elapsed: 0) == 30)
    }

    @Test func attemptsAndBudgetEndTheRetries() {
        let policy = RegistryRetryPolicy(maxAttempts: 3, budget: 10, random: { 0.5 })
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, elapsed: 0) == nil, "no fourth attempt")
        #expect(policy.delay(afterAttempt: 1, retryAfter: 5, elapsed: 6) == nil, "the wait would cross the budget")
        #expect(policy.delay(afterAttempt: 1, retryAfter: 4, elapsed: 6) == 4)
        #expect(RegistryRetryPolicy.never.delay(afterAttempt: 1, retryAfter: 0, elapsed: 0) == nil)
    }

    @Test func retryAfterInSecondsOrAsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT
        #expect(RegistryRetryPolicy.retryAfter("2", now: now) == 2)
        #expect(RegistryRetryPolicy.retryAfter(" 0 ", now: now) == 0)
        #expect(RegistryRetryPolicy.retryAfter("Tue, 14 Nov 2023 22:13:25 GMT", now: now) == 5)
        #expect(RegistryRetryPolicy.retryAfter("Tue, 14 Nov 2023 22:13:00 GMT", now: now) == 0, "a date in the past: now")
        #expect(RegistryRetryPolicy.retryAfter("soon", now: now) == nil)
        #expect(RegistryRetryPolicy.retryAfter(nil, now: now) == nil)
    }

    @Test func noticeSaysWhatWhenAndWhy() {
        let notice = RegistryRetryNotice(operation: "PUT /v2/team/app/manifests/v1", delay: 1.84, reason: "HTTP 429", attempt: 1)
        #expect(notice.description == "retrying PUT /v2/team/app/manifests/v1 in 1.8 s: HTTP 429")
    }
}
