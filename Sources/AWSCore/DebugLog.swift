/// Where `--debug` output goes. The sink receives text that has already been redacted.
/// Only the executable decides where it ends up (stderr).
package struct DebugLog: Sendable {
    private let sink: @Sendable (String) -> Void

    package init(_ sink: @escaping @Sendable (String) -> Void) { self.sink = sink }

    package func callAsFunction(_ message: @autoclosure () -> String) { sink(message()) }
}
