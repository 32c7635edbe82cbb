extension Duration {
    /// The duration in seconds, for timeouts, rates and elapsed times.
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
