import Foundation

/// The link's upload rate to the registry, as the user knows it (`--upload-rate`, `ECRPUSH_UPLOAD_RATE`): a number
/// and a unit, in bits (`200mbit`, `1gbit`, `500kbit`) or bytes per second (`25MB/s`, `1.5GB/s`, `800KB/s`,
/// `20MiB/s`). Units are decimal (k = 1000) except the binary KiB/MiB/GiB; case does not matter.
package struct UploadRate: Sendable, Equatable, CustomStringConvertible {
    package let bytesPerSecond: Double

    private static let units: [(suffix: String, bytes: Double)] = [
        ("kbit", 1e3 / 8), ("mbit", 1e6 / 8), ("gbit", 1e9 / 8),
        ("kib/s", 1024), ("mib/s", 1_048_576), ("gib/s", 1_073_741_824),
        ("kb/s", 1e3), ("mb/s", 1e6), ("gb/s", 1e9)
    ]

    package init(bytesPerSecond: Double) {
        self.bytesPerSecond = bytesPerSecond
    }

    /// nil unless `text` is a positive number followed by one of the units.
    package init?(parsing text: String) {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = Self.units.first(where: { lowered.hasSuffix($0.suffix) }),
            let number = Double(lowered.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)),
            number.isFinite, number > 0, number * unit.bytes >= 1
        else { return nil }
        bytesPerSecond = number * unit.bytes
    }

    /// What a message says when a value is not a rate.
    package static let expected = "a number and a unit, in bits (200mbit, 1gbit, 500kbit) or bytes per second (25MB/s, 20MiB/s)"

    /// To three significant figures (in bits), for a measured rate.
    package var rounded: UploadRate {
        let bits = bytesPerSecond * 8
        guard bits > 0, bits.isFinite else { return self }
        let step = pow(10, floor(log10(bits)) - 2)
        return UploadRate(bytesPerSecond: (bits / step).rounded() * step / 8)
    }

    package var description: String {
        let bits = bytesPerSecond * 8
        let (scale, unit) = bits >= 1e9 ? (1e9, "Gbit/s") : bits >= 1e6 ? (1e6, "Mbit/s") : (1e3, "kbit/s")
        return String(format: "%g \(unit)", bits / scale)
    }
}
