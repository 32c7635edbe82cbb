import Foundation

extension SigV4Signer {
    /// Signs `request` for the `Authorization` header at `date`.
    ///
    /// Any `Authorization`, `X-Amz-Date` (and, when the signer supplies them, `X-Amz-Security-Token` and
    /// `x-amz-content-sha256`) already in `request.headers` is ignored; use `HeaderSignature.applied(to:)`
    /// to build the headers to send.
    package func signHeaders(_ request: SigningRequest, payload: PayloadHash, date: Date) -> HeaderSignature {
        signHeaders(request, payload: payload, date: date, signingKey: nil)
    }

    /// As `signHeaders(_:payload:date:)`, reusing `signingKey` when its scope matches `date`.
    package func signHeaders(_ request: SigningRequest, payload: PayloadHash, date: Date, signingKey: SigningKey?) -> HeaderSignature {
        let amzDate = SigV4.amzDate(date)
        let key = key(signingKey, dateStamp: SigV4.dateStamp(date))
        let payloadHash = payload.hexValue

        var ownHeaders: Set<String> = []
        if credentials.sessionToken != nil { ownHeaders.insert("x-amz-security-token") }
        if options.addContentSHA256Header { ownHeaders.insert("x-amz-content-sha256") }

        var signed = signableHeaders(request.headers, dropping: ownHeaders)
        signed.append(SigningHeader(name: "X-Amz-Date", value: amzDate))
        if signsSessionToken, let token = credentials.sessionToken {
            signed.append(SigningHeader(name: "X-Amz-Security-Token", value: token))
        }
        if options.addContentSHA256Header {
            signed.append(SigningHeader(name: "x-amz-content-sha256", value: payloadHash))
        }

        let headers = Canonical.headers(signed)
        let canonicalRequest = Canonical.request(
            method: request.method, uri: canonicalURI(request), query: Canonical.query(request.query),
            headers: headers, payloadHash: payloadHash)
        let stringToSign = stringToSign(amzDate: amzDate, scope: key.scope, canonicalRequest: canonicalRequest)
        let signature = key.sign(stringToSign)

        var added: [SigningHeader] = []
        if let token = credentials.sessionToken {
            added.append(SigningHeader(name: "X-Amz-Security-Token", value: token))
        }
        added.append(SigningHeader(name: "X-Amz-Date", value: amzDate))
        if options.addContentSHA256Header {
            added.append(SigningHeader(name: "x-amz-content-sha256", value: payloadHash))
        }
        let authorization =
            "\(SigV4.algorithm) Credential=\(credentials.accessKeyId)/\(key.scope), "
            + "SignedHeaders=\(headers.signedHeaders), Signature=\(signature)"
        added.append(SigningHeader(name: "Authorization", value: authorization))

        return HeaderSignature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, addedHeaders: added)
    }
}
