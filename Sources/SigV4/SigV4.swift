import Foundation

/// Constants and small pure helpers of Signature Version 4.
package enum SigV4 {
    package static let algorithm = "AWS4-HMAC-SHA256"
    package static let terminator = "aws4_request"

    /// `20150830T123600Z`: the `X-Amz-Date` form, always UTC.
    package static func amzDate(_ date: Date) -> String {
        let t = UTCTime(date)
        return pad(t.year, 4) + pad(t.month, 2) + pad(t.day, 2) + "T" + pad(t.hour, 2) + pad(t.minute, 2) + pad(t.second, 2) + "Z"
    }

    /// `20150830`: the date part of the credential scope, always UTC.
    package static func dateStamp(_ date: Date) -> String {
        let t = UTCTime(date)
        return pad(t.year, 4) + pad(t.month, 2) + pad(t.day, 2)
    }

    /// `20150830/us-east-1/iam/aws4_request`.
    package static func credentialScope(dateStamp: String, region: String, service: String) -> String {
        "\(dateStamp)/\(region)/\(service)/\(terminator)"
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: every byte except `A-Z a-z 0-9 - _ . ~` becomes
    /// `%XX` (uppercase hex), so a space is `%20` and `/` is `%2F`. Useful for query and form values.
    package static func percentEncode(_ string: String) -> String {
        Canonical.percentEncode(Array(string.utf8), keeping: { _ in false })
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Calendar fields of a `Date` in UTC, computed arithmetically so no locale, calendar or time-zone
/// setting of the process (DateFormatter pitfalls) can change the result.
struct UTCTime {
    let year, month, day, hour, minute, second: Int

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        hour = Int(secondOfDay / 3600)
        minute = Int(secondOfDay % 3600 / 60)
        second = Int(secondOfDay % 60)

        // Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
    }
}
