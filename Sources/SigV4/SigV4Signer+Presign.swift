import Foundation

extension SigV4Signer {
    /// The query parameters presigning owns; any already in the request's query are replaced.
    static let presignParameters: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"
    ]

    /// Presigns `request`: the signature goes into the query string, valid for `seconds` from `date`.
    /// Only the request's own headers (normally just `Host`) are signed; the caller must send them as is.
    package func presign(_ request: SigningRequest, expiresIn seconds: Int, payload: PayloadHash = .unsigned, date: Date) -> QuerySignature {
        presign(request, expiresIn: seconds, payload: payload, date: date, signingKey: nil)
    }

    /// As `presign(_:expiresIn:payload:date:)`, reusing `signingKey` when its scope matches `date`.
    package func presign(
        _ request: SigningRequest, expiresIn seconds: Int, payload: PayloadHash = .unsigned, date: Date, signingKey: SigningKey?
    ) -> QuerySignature {
        let amzDate = SigV4.amzDate(date)
        let key = key(signingKey, dateStamp: SigV4.dateStamp(date))

        let signedHeaders = signableHeaders(request.headers, dropping: ["x-amz-security-token"])
        let headers = Canonical.headers(signedHeaders)

        // Original pieces are kept byte for byte in the final query; only their canonical forms are signed.
        let originalPieces = (request.query ?? "").split(separator: "&", omittingEmptySubsequences: true).filter { piece in
            let name = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? piece
            return !Self.presignParameters.contains(String(decoding: Canonical.percentDecode(name), as: UTF8.self))
        }

        // In the order AWS's signer appends them to the query.
        var added: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", SigV4.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(key.scope)"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-SignedHeaders", headers.signedHeaders),
            ("X-Amz-Expires", String(seconds))
        ]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }

        var parameters = Canonical.queryParameters(originalPieces.joined(separator: "&"))
        for parameter in added where parameter.name != "X-Amz-Security-Token" || signsSessionToken {
            parameters.append(.init(key: SigV4.percentEncode(parameter.name), value: SigV4.percentEncode(parameter.value)))
        }

        let canonicalRequest = Canonical.request(
            method: request.method, uri: canonicalURI(request), query: Canonical.query(parameters),
            headers: headers, payloadHash: payload.hexValue)
        let stringToSign = stringToSign(amzDate: amzDate, scope: key.scope, canonicalRequest: canonicalRequest)
        let signature = key.sign(stringToSign)

        added.append(("X-Amz-Signature", signature))
        let query = (originalPieces.map(String.init) + added.map { "\(SigV4.percentEncode($0.name))=\(SigV4.percentEncode($0.value))" })
            .joined(separator: "&")
        return QuerySignature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, query: query)
    }
}
