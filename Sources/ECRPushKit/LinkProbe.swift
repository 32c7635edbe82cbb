import Foundation
import HTTPTransport
import RegistryClient
import Synchronization

/// How fast the link to the registry is, for `--transport auto` when the user did not say (`--upload-rate`) and the
/// choice depends on it: ecrpush's push waits for the Engine to write the whole image out before its first byte,
/// which a fast link repays (parallel compression) and a slow one does not (both pushes then wait on the link).
/// The probe reads the start of a blob the registry already holds, for a moment, and takes that download rate for
/// the upload rate: a CI runner's link to its registry is symmetric as a rule. On a link whose upload is slower
/// (a home line) it errs toward ecrpush's push, as `auto` did without it. Nothing is sent to the registry but the
/// request; a few MiB are downloaded.
package struct LinkProbe: Sendable {
    /// Bytes read at most (a `Range` request): a fast link reads them within the window and shows its rate.
    package var maximumBytes: Int64 = 16 << 20
    /// How long the read goes on after its first byte, at most: what the probe costs a slow link.
    package var window: Double = 0.2
    /// A blob smaller than this says too little about the link: no probe.
    package var minimumBlobSize: Int64 = 1 << 20

    package init() {}

    package struct Measurement: Sendable, Equatable {
        /// Read from the blob, to time the link.
        package var bytes: Int64
        package var bytesPerSecond: Double

        package init(bytes: Int64, bytesPerSecond: Double) {
            self.bytes = bytes
            self.bytesPerSecond = bytesPerSecond
        }
    }

    /// What the probe saw: seconds since the first byte arrived, and bytes received after that first chunk.
    package struct Sample: Sendable, Equatable {
        package var seconds: Double
        package var bytes: Int64

        package init(seconds: Double, bytes: Int64) {
            self.seconds = seconds
            self.bytes = bytes
        }
    }

    /// The rate over the later half of the read (the first half carries the request's and TCP's start), or over
    /// the whole when the later half has a single sample. nil when too little was read to time. The later half
    /// starts at the last read at or before the middle: a reader stalled across the middle (a busy machine) reads
    /// what the socket held meanwhile in a burst after it, and those bytes arrived before the middle.
    package static func rate(_ samples: [Sample]) -> Double? {
        guard let last = samples.last, last.seconds > 0, last.bytes > 0 else { return nil }
        let middle = samples.last { $0.seconds <= last.seconds / 2 } ?? samples[0]
        if middle.seconds < last.seconds, last.bytes > middle.bytes {
            return Double(last.bytes - middle.bytes) / (last.seconds - middle.seconds)
        }
        return Double(last.bytes) / last.seconds
    }

    /// Reads the start of `blob` from `repository`; nil when the registry would not serve it (a role that may push
    /// but not pull, a blob gone) or too little arrived to time: the link then counts as unknown.
    package func measure(client: RegistryClient, repository: String, blob: KnownLayer) async throws -> Measurement? {
        guard blob.size >= minimumBlobSize else { return nil }
        let limit = min(maximumBytes, blob.size)
        let reading = Mutex(Reading())
        let window = self.window
        do {
            try await client.readBlob(repository: repository, digest: blob.digest, firstBytes: limit) { chunk in
                try reading.withLock { state in
                    let now = ContinuousClock.now
                    state.read += Int64(chunk.count)
                    guard let first = state.first else {
                        state.first = now
                        state.firstChunk = state.read
                        state.samples.append(Sample(seconds: 0, bytes: 0))
                        return
                    }
                    let seconds = first.duration(to: now).inSeconds
                    state.samples.append(Sample(seconds: seconds, bytes: state.read - state.firstChunk))
                    // A registry that ignored the range sends on: stopped here. One that took it ends the read itself.
                    if seconds >= window || state.read > limit { throw Enough() }
                }
            }
        } catch is Enough {
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return nil
        }
        let (samples, read) = reading.withLock { ($0.samples, $0.read) }
        return Self.rate(samples).map { Measurement(bytes: read, bytesPerSecond: $0) }
    }

    private struct Reading: Sendable {
        var first: ContinuousClock.Instant?
        var firstChunk: Int64 = 0
        var read: Int64 = 0
        var samples: [Sample] = []
    }

    /// Stops the read: the probe has what it needs.
    private struct Enough: Error {}
}
