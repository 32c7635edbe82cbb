/// Where `--debug` output goes. The sink receives text that has already been redacted.
/// Only the executable decides where it ends up (stderr).
public struct DebugLog: Sendable {
    private let sink: @Sendable (String) -> Void

    public init(_ sink: @escaping @Sendable (String) -> Void) { self.sink = sink }

    public func callAsFunction(_ message: @autoclosure () -> String) { sink(message()) }
}
