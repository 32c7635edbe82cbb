import AWSCore
import Foundation
import STS
import SigV4

/// Temporary credentials from STS AssumeRoleWithWebIdentity (EKS IRSA, GitHub Actions OIDC): the OIDC token in
/// `tokenFile` is the proof, the request is unsigned. The file is read again on every refresh because its
/// issuer rotates it.
package struct WebIdentityCredentialProvider: CredentialProvider {
    package let tokenFile: String
    package let roleArn: String
    package let roleSessionName: String
    package let durationSeconds: Int?
    package let source: String
    private let sts: STSClient
    private let debug: DebugLog?

    package init(
        tokenFile: String, roleArn: String, roleSessionName: String, durationSeconds: Int? = nil,
        stsContext: AWSContext, source: String? = nil
    ) {
        self.tokenFile = tokenFile
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.durationSeconds = durationSeconds
        self.sts = STSClient(context: stsContext.with(credentialProvider: NoCredentialProvider()))
        self.debug = stsContext.debug
        self.source = source ?? "web identity token file \(tokenFile) (role \(roleArn))"
    }

    package func credentials() async throws -> Credentials {
        let token = try readToken()
        let assumed = try await sts.assumeRoleWithWebIdentity(
            STSClient.WebIdentityRequest(
                roleArn: roleArn, roleSessionName: roleSessionName,
                webIdentityToken: token, durationSeconds: durationSeconds))
        debug?("credentials: web identity assumed \(assumed.assumedRoleArn.isEmpty ? roleArn : assumed.assumedRoleArn)")
        return assumed.credentials
    }

    func readToken() throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: tokenFile, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw AWSError.credentialProviderFailed(
                source: source,
                detail: "the web identity token file \(tokenFile) does not exist (AWS_WEB_IDENTITY_TOKEN_FILE / web_identity_token_file)")
        }
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw AWSError.credentialProviderFailed(
                source: source, detail: "the web identity token file \(tokenFile) cannot be read (check its permissions)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw AWSError.credentialProviderFailed(
                source: source, detail: "the web identity token file \(tokenFile) is empty: the OIDC token should be written there")
        }
        return token
    }
}
