/// How a value the user gave is shown in an error message. A short value is quoted as it is (control characters
/// escaped, so a stray escape sequence cannot repaint the terminal); an overlong one is named by its length and
/// a short prefix, because a 120,000-character variable echoed whole buries the message it belongs to.
package enum InputEcho {
    /// Longer values are summarised. Every well-formed value ecrpush takes (a region, a host[:port], a role ARN
    /// of ordinary length) fits.
    package static let maximumQuotedLength = 120
    /// Enough of an overlong value to recognise which one it is (`arn:aws:iam::1234…`).
    package static let prefixLength = 17

    /// `'us-east-1'`, or `(120000 characters, starting "arn:aws:iam::1234…")`.
    package static func quoted(_ value: String) -> String {
        let scalars = value.unicodeScalars
        guard scalars.count > maximumQuotedLength else { return "'\(escaped(scalars))'" }
        let prefix = escaped(scalars.prefix(prefixLength))
        return "(\(scalars.count) characters, starting \"\(prefix)…\")"
    }

    private static func escaped(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var text = ""
        for scalar in scalars {
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                text += scalar.escaped(asASCII: true)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}
