import Hashing

/// Which of the image's layers a legacy `docker save` directory holds, known before its `layer.tar` arrives.
///
/// The Engine names each layer's directory by a "v1 ID": the SHA-256 of the layer's v1 JSON (the `json` file
/// beside `layer.tar`, which comes first in the stream) without its `id`, `parent` and, below the top layer,
/// `os`, with `layer_id` (the layer's chain ID) and `parent` (`sha256:` + the parent's v1 ID) added, keys sorted,
/// values as they are (moby `image/v1.CreateID`, as `docker save` uses it since Docker 1.10). Directories are
/// archived in name order, not layer order; this recovers the order, so a layer the destination already holds
/// need not be compressed. A prediction is checked against the layer's bytes (their digest must be the predicted
/// diffID), never trusted alone.
enum LegacyLayerID {
    /// The index in `diffIDs` of the layer whose directory is `directoryName` with v1 JSON `json`; nil when no index
    /// gives that name (another Engine's format: every layer is then compressed).
    static func layerIndex(directoryName: String, json: [UInt8], diffIDs: [String]) -> Int? {
        guard directoryName.count == 64, let fields = topLevelFields(json) else { return nil }
        let parent = fields.first { $0.key == "\"parent\"" }.map { String(decoding: $0.value, as: UTF8.self) }
        var kept = fields.filter { !["\"id\"", "\"parent\""].contains($0.key) }
        let withoutOS = kept.filter { $0.key != "\"os\"" }
        if let parent {
            // "parent":"<hex>" becomes "parent":"sha256:<hex>".
            guard parent.hasPrefix("\""), parent.count == 66 else { return nil }
            kept.append((key: "\"parent\"", value: Array(("\"sha256:" + parent.dropFirst()).utf8)))
        }
        let chainIDs = chainIDs(of: diffIDs)
        for (index, chainID) in chainIDs.enumerated() {
            let layerID = (key: "\"layer_id\"", value: Array("\"\(chainID)\"".utf8))
            // Below the top layer the v1 JSON had no `os` when its ID was made; the top layer's had.
            let variants = index == diffIDs.count - 1 ? [kept] : [withoutOS + kept.filter { $0.key == "\"parent\"" }]
            for fieldsOfID in variants {
                if SHA256.hash(serialize(fieldsOfID + [layerID])).hex == directoryName { return index }
            }
        }
        return nil
    }

    /// `chainID(0) = diffID(0)`, `chainID(n) = sha256(chainID(n-1) + " " + diffID(n))`.
    static func chainIDs(of diffIDs: [String]) -> [String] {
        var chain: [String] = []
        for diffID in diffIDs {
            chain.append(chain.last.map { SHA256.hash("\($0) \(diffID)").ociDigest } ?? diffID)
        }
        return chain
    }

    /// `{"a":…,"b":…}` with the keys in byte order, as Go marshals a map of raw messages.
    static func serialize(_ fields: [(key: String, value: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (number, field) in fields.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }).enumerated() {
            if number > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(field.key.utf8)
            out.append(UInt8(ascii: ":"))
            out += field.value
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The top-level members of a compact JSON object: each key as its quoted literal and its value's bytes as they
    /// are. nil for anything that is not a plain object (a prediction then simply fails).
    static func topLevelFields(_ json: [UInt8]) -> [(key: String, value: [UInt8])]? {
        var index = 0
        func skipSpace() { while index < json.count, [0x20, 0x0a, 0x0d, 0x09].contains(json[index]) { index += 1 } }
        /// The end (exclusive) of the string literal starting at `start`.
        func stringEnd(_ start: Int) -> Int? {
            var at = start + 1
            while at < json.count {
                if json[at] == UInt8(ascii: "\\") {
                    at += 2
                } else if json[at] == UInt8(ascii: "\"") {
                    return at + 1
                } else {
                    at += 1
                }
            }
            return nil
        }
        skipSpace()
        guard index < json.count, json[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var fields: [(key: String, value: [UInt8])] = []
        while true {
            skipSpace()
            guard index < json.count else { return nil }
            if json[index] == UInt8(ascii: "}") { return fields }
            if json[index] == UInt8(ascii: ",") {
                index += 1
                skipSpace()
            }
            guard index < json.count, json[index] == UInt8(ascii: "\""), let keyEnd = stringEnd(index) else { return nil }
            let key = String(decoding: json[index..<keyEnd], as: UTF8.self)
            index = keyEnd
            skipSpace()
            guard index < json.count, json[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace()
            let valueStart = index
            var depth = 0
            while index < json.count {
                let byte = json[index]
                if byte == UInt8(ascii: "\"") {
                    guard let end = stringEnd(index) else { return nil }
                    index = end
                    continue
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    if depth == 0 { break }
                    depth -= 1
                }
                if byte == UInt8(ascii: ","), depth == 0 { break }
                index += 1
            }
            var valueEnd = index
            while valueEnd > valueStart, [0x20, 0x0a, 0x0d, 0x09].contains(json[valueEnd - 1]) { valueEnd -= 1 }
            guard valueEnd > valueStart else { return nil }
            fields.append((key: key, value: Array(json[valueStart..<valueEnd])))
        }
    }
}
