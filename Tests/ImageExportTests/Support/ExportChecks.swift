import Foundation
import ImageExport
import Testing

/// Reads a whole archive through an ImageExportReader, in chunks.
func exportImage(
    _ archive: [UInt8], chunking: Chunking = .random(seed: 1),
    options: ImageExportReader.Options
) throws -> ExportedImage {
    let reader = try ImageExportReader(options: options)
    try feedInChunks(archive, chunking) { try reader.feed($0) }
    return try reader.finish()
}

/// Checks a layer file with the real tools: `gzip -dc | sha256sum` is the diffID, `sha256sum` the digest.
func checkLayerFileWithRealTools(_ layer: ExportedLayer) async throws {
    let output = try await shell(
        "gzip -t '\(layer.path)' && gzip -dc '\(layer.path)' | sha256sum && sha256sum < '\(layer.path)' && gzip -dc '\(layer.path)' | wc -c && stat "
            + "-c %s '\(layer.path)'"
    )
    let lines = output.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
    #expect(lines.count == 4)
    guard lines.count == 4 else { return }
    #expect("sha256:" + lines[0] == layer.diffID, "\(layer.path)")
    #expect("sha256:" + lines[1] == layer.digest, "\(layer.path)")
    #expect(Int64(lines[2]) == layer.uncompressedSize, "\(layer.path)")
    #expect(Int64(lines[3]) == layer.size, "\(layer.path)")
    #expect(layer.mediaType == "application/vnd.docker.image.rootfs.diff.tar.gzip")
}

/// Files directly inside `directory` (empty if it does not exist).
func filesIn(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}
