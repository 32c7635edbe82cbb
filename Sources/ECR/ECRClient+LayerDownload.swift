import AWSCore
import Foundation
import HTTPTransport

/// Reading a layer through ECR's API, for a copy into another repository where the registry's mount is out of reach
/// (`ecr-api` has no registry password): GetDownloadUrlForLayer, then `Range` reads of that URL.
extension ECRClient {
    private struct DownloadInput: Encodable { var registryId: String?; var repositoryName: String; var layerDigest: String }
    private struct DownloadOutput: Decodable { var downloadUrl: String }

    /// Where the layer's bytes can be read for a while without signing (a presigned S3 URL in AWS). It grants that
    /// read to whoever holds it: it is never logged nor named in an error.
    package func downloadURL(forLayer digest: String, repository: String, registryId: String? = nil) async throws -> String {
        try ECRValidation.validateRepositoryName(repository)
        let output = try await call(
            "GetDownloadUrlForLayer", DownloadInput(registryId: registryId, repositoryName: repository, layerDigest: digest),
            as: DownloadOutput.self)
        return output.downloadUrl
    }

    /// Bytes `range` of the layer at its download URL: a `Range` GET with no credentials (the URL carries its own),
    /// answered 206; a 200 with the whole layer does for a range at its start (the rest is not read).
    package func readLayerPart(at url: String, digest: String, range: ClosedRange<Int64>) async throws -> [UInt8] {
        let part = RangeBody(range: range)
        var request = HTTPRequest(method: "GET", url: url)
        request.headers["Range"] = "bytes=\(range.lowerBound)-\(range.upperBound)"
        let accepted: Set<Int> = range.lowerBound == 0 ? [200, 206] : [206]
        // Errors name the URL without its query (the presigned signature).
        let redacted = Self.withoutQuery(url)
        let failure: @Sendable (Int?, String) -> ECRError = { status, detail in
            ECRError.layerReadFailed(digest: digest, range: range, url: redacted, status: status, detail: detail)
        }
        do {
            try await service.context.http.send(
                request,
                onHead: { head in
                    guard accepted.contains(head.status) else { throw failure(head.status, "the download URL did not serve the range") }
                }, onBody: part.append)
        } catch HTTPError.bodyCallbackFailed(_, let underlying) where underlying is RangeBody.Enough {
        } catch HTTPError.bodyCallbackFailed(_, let underlying) {
            throw underlying
        } catch HTTPError.cancelled {
            throw CancellationError()
        } catch let error as HTTPError {
            throw failure(nil, error.description.replacingOccurrences(of: url, with: redacted))
        }
        let bytes = part.collected
        guard bytes.count == part.wanted else { throw failure(206, "\(bytes.count) bytes came, not \(part.wanted)") }
        return bytes
    }

    static func withoutQuery(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.query != nil else { return url }
        components.query = nil
        return (components.string ?? "the layer's download URL") + "?…"
    }
}
