import AWSCore
import Foundation
import SigV4

/// AWS Security Token Service over the Query protocol.
package struct STSClient: Sendable {
    static let apiVersion = "2011-06-15"
    let service: AWSServiceClient

    package init(context: AWSContext) {
        service = AWSServiceClient(service: .sts, context: context)
    }

    package var endpoint: String { service.endpoint }

    package struct AssumeRoleRequest: Sendable {
        package var roleArn: String
        package var roleSessionName: String
        package var externalId: String?
        package var durationSeconds: Int?
        /// MFA device serial and the current code, for roles that require MFA.
        package var serialNumber: String?
        package var tokenCode: String?

        package init(
            roleArn: String, roleSessionName: String = "AssumeRoleSession1", externalId: String? = nil,
            durationSeconds: Int? = nil, serialNumber: String? = nil, tokenCode: String? = nil
        ) {
            self.roleArn = roleArn
            self.roleSessionName = roleSessionName
            self.externalId = externalId
            self.durationSeconds = durationSeconds
            self.serialNumber = serialNumber
            self.tokenCode = tokenCode
        }
    }

    package struct WebIdentityRequest: Sendable {
        package var roleArn: String
        package var roleSessionName: String
        package var webIdentityToken: String
        package var durationSeconds: Int?

        package init(roleArn: String, roleSessionName: String, webIdentityToken: String, durationSeconds: Int? = nil) {
            self.roleArn = roleArn
            self.roleSessionName = roleSessionName
            self.webIdentityToken = webIdentityToken
            self.durationSeconds = durationSeconds
        }
    }

    package struct AssumedRole: Sendable {
        package var credentials: Credentials
        package var assumedRoleArn: String
        package var assumedRoleId: String
    }

    package struct CallerIdentity: Sendable, Equatable, Codable {
        package var account: String
        package var arn: String
        package var userId: String
    }

    package func assumeRole(_ request: AssumeRoleRequest) async throws -> AssumedRole {
        try STSValidation.validate(
            roleArn: request.roleArn, sessionName: request.roleSessionName,
            durationSeconds: request.durationSeconds)
        var parameters = [("RoleArn", request.roleArn), ("RoleSessionName", request.roleSessionName)]
        if let externalId = request.externalId { parameters.append(("ExternalId", externalId)) }
        if let duration = request.durationSeconds { parameters.append(("DurationSeconds", String(duration))) }
        if let serial = request.serialNumber { parameters.append(("SerialNumber", serial)) }
        if let code = request.tokenCode { parameters.append(("TokenCode", code)) }
        let document = try await service.query(action: "AssumeRole", version: Self.apiVersion, parameters: parameters)
        return try Self.assumedRole(from: document, action: "AssumeRole", resultElement: "AssumeRoleResult")
    }

    /// Anonymous: the web identity token (an OIDC JWT, e.g. from GitHub Actions) is the proof.
    package func assumeRoleWithWebIdentity(_ request: WebIdentityRequest) async throws -> AssumedRole {
        try STSValidation.validate(
            roleArn: request.roleArn, sessionName: request.roleSessionName,
            durationSeconds: request.durationSeconds)
        var parameters = [
            ("RoleArn", request.roleArn), ("RoleSessionName", request.roleSessionName),
            ("WebIdentityToken", request.webIdentityToken)
        ]
        if let duration = request.durationSeconds { parameters.append(("DurationSeconds", String(duration))) }
        let document = try await service.query(
            action: "AssumeRoleWithWebIdentity", version: Self.apiVersion,
            parameters: parameters, signing: .anonymous)
        return try Self.assumedRole(
            from: document, action: "AssumeRoleWithWebIdentity",
            resultElement: "AssumeRoleWithWebIdentityResult")
    }

    package func getCallerIdentity() async throws -> CallerIdentity {
        let document = try await service.query(action: "GetCallerIdentity", version: Self.apiVersion, parameters: [])
        guard let result = document.first(named: "GetCallerIdentityResult") else {
            throw STSError.missingField(action: "GetCallerIdentity", field: "GetCallerIdentityResult")
        }
        return CallerIdentity(
            account: result.child("Account")?.text ?? "", arn: result.child("Arn")?.text ?? "",
            userId: result.child("UserId")?.text ?? "")
    }

    static func assumedRole(from document: XMLNode, action: String, resultElement: String) throws -> AssumedRole {
        guard let result = document.first(named: resultElement), let credentials = result.child("Credentials") else {
            throw STSError.missingField(action: action, field: "Credentials")
        }
        guard let keyId = credentials.child("AccessKeyId")?.text, !keyId.isEmpty,
            let secret = credentials.child("SecretAccessKey")?.text, !secret.isEmpty
        else {
            throw STSError.missingField(action: action, field: "AccessKeyId/SecretAccessKey")
        }
        let expiration = credentials.child("Expiration").flatMap { Timestamps.parseISO8601($0.text) }
        return AssumedRole(
            credentials: Credentials(
                accessKeyId: keyId, secretAccessKey: secret,
                sessionToken: credentials.child("SessionToken")?.text, expiration: expiration),
            assumedRoleArn: result["AssumedRoleUser", "Arn"]?.text ?? "",
            assumedRoleId: result["AssumedRoleUser", "AssumedRoleId"]?.text ?? "")
    }
}
