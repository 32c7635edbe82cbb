import AWSCore
import AWSCredentials
import DockerEngine
import ECR
import Foundation
import HTTPTransport
import RegistryClient
import STS

/// One line of `ecrpush doctor`: what was checked, how it went, and what to do when it failed.
package struct DoctorCheck: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Codable {
        case ok
        case fail = "FAIL"
        /// Not run: an earlier check it needs failed, or nothing asked for it.
        case skip
    }

    package var name: String
    package var status: Status
    package var detail: String
    package var fix: String?

    package init(name: String, status: Status, detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

package struct DoctorReport: Sendable, Equatable, Codable {
    package var checks: [DoctorCheck]
    /// No check failed (skipped ones don't count against it).
    package var healthy: Bool { !checks.contains { $0.status == .fail } }

    package init(checks: [DoctorCheck]) { self.checks = checks }

    enum CodingKeys: String, CodingKey { case checks, healthy }

    package init(from decoder: Decoder) throws {
        checks = try decoder.container(keyedBy: CodingKeys.self).decode([DoctorCheck].self, forKey: .checks)
    }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checks, forKey: .checks)
        try container.encode(healthy, forKey: .healthy)
    }
}

/// `ecrpush doctor`: the Docker daemon, the credentials and identity, the region, the registry, and (for a
/// named repository) the push permissions, each checked on its own so one failure doesn't hide the others.
/// Nothing is created or uploaded: the push check reads (DescribeRepositories, BatchCheckLayerAvailability).
package struct Doctor: Sendable {
    /// The Docker client, or why there is none (a malformed DOCKER_HOST).
    package var docker: Result<DockerClient, any Error>
    /// Finds credentials and region (`AWSResolver.resolve` with the command's options).
    package var resolveAWS: @Sendable () async throws -> ResolvedAWS
    package var repository: String?
    package var registryId: String?
    /// The registry's host[:port] when it is not the token's proxyEndpoint (a config section's registry_endpoint).
    package var registryEndpoint: String?
    package var http: HTTPClient

    package init(
        docker: Result<DockerClient, any Error>, resolveAWS: @escaping @Sendable () async throws -> ResolvedAWS,
        repository: String?, registryId: String?, registryEndpoint: String? = nil, http: HTTPClient
    ) {
        self.docker = docker
        self.resolveAWS = resolveAWS
        self.repository = repository
        self.registryId = registryId
        self.registryEndpoint = registryEndpoint
        self.http = http
    }

    /// A layer digest no image has: asking ECR about it reads nothing and proves the permission.
    static let probeDigest = "sha256:" + String(repeating: "0", count: 63) + "1"

    package func run() async -> DoctorReport {
        var checks = [await checkDocker()]
        let aws: ResolvedAWS?
        do {
            let resolved = try await resolveAWS()
            aws = resolved
            checks.append(
                DoctorCheck(
                    name: "region", status: .ok,
                    detail: "\(resolved.context.region) (from \(resolved.regionSource))"))
        } catch {
            aws = nil
            let missingRegion: Bool
            if case AWSError.missingRegion = error { missingRegion = true } else { missingRegion = false }
            if missingRegion {
                checks.append(
                    DoctorCheck(
                        name: "region", status: .fail, detail: describe(error),
                        fix: "pass --region or set AWS_REGION (or a region in the profile)"))
                checks.append(DoctorCheck(name: "credentials", status: .skip, detail: "needs a region"))
            } else {
                checks.append(DoctorCheck(name: "region", status: .skip, detail: "found only with the credentials"))
                checks.append(
                    DoctorCheck(
                        name: "credentials", status: .fail, detail: describe(error),
                        fix:
                            "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_IAM_USER_* with AWS_IAM_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE with "
                            + "AWS_ROLE_ARN, or --profile"
                    ))
            }
        }
        guard let aws else {
            checks.append(DoctorCheck(name: "registry", status: .skip, detail: "needs credentials and a region"))
            checks.append(DoctorCheck(name: "push", status: .skip, detail: "needs credentials and a region"))
            return DoctorReport(checks: checks)
        }
        checks.append(await checkIdentity(aws))
        let identityFailed = checks.last?.status == .fail
        let ecr = ECRClient(context: aws.context)
        checks.append(
            identityFailed
                ? DoctorCheck(name: "registry", status: .skip, detail: "needs working credentials")
                : await checkRegistry(ecr))
        checks.append(
            identityFailed
                ? DoctorCheck(name: "push", status: .skip, detail: "needs working credentials")
                : await checkPush(ecr))
        return DoctorReport(checks: checks)
    }

    func checkDocker() async -> DoctorCheck {
        let client: DockerClient
        switch docker {
        case .failure(let error):
            return DoctorCheck(
                name: "docker", status: .fail, detail: describe(error), fix: "set DOCKER_HOST to unix:///path/to/docker.sock or tcp://host:2375")
        case .success(let docker):
            client = docker
        }
        do {
            let ping = try await client.ping()
            var detail = "\(client.host) answers, API \(ping.negotiatedVersion)"
            if let version = try? await client.version() {
                detail = "\(client.host): Docker \(version.version) (API \(version.apiVersion), using \(ping.negotiatedVersion))"
            }
            return DoctorCheck(name: "docker", status: .ok, detail: detail)
        } catch {
            return DoctorCheck(
                name: "docker", status: .fail, detail: describe(error),
                fix: "start the Docker daemon (systemctl start docker) or point DOCKER_HOST at its socket; your user needs access to the socket")
        }
    }

    func checkIdentity(_ aws: ResolvedAWS) async -> DoctorCheck {
        do {
            let identity = try await STSClient(context: aws.context).getCallerIdentity()
            return DoctorCheck(
                name: "credentials", status: .ok, detail: "\(identity.arn) (account \(identity.account); from \(aws.credentialSource))")
        } catch {
            return DoctorCheck(
                name: "credentials", status: .fail, detail: "\(aws.credentialSource): \(describe(error))",
                fix:
                    "check the keys, the role's trust policy, and that the token or session has not expired (ecrpush whoami --debug shows every "
                    + "request)"
            )
        }
    }

    /// GetAuthorizationToken, then `GET /v2/` on the registry: 401 without the login and 200 with it.
    func checkRegistry(_ ecr: ECRClient) async -> DoctorCheck {
        let authorization: RegistryAuthorization
        do {
            guard let first = try await ecr.getAuthorizationToken(registryIds: registryId.map { [$0] } ?? []).first else {
                return DoctorCheck(
                    name: "registry", status: .fail, detail: "GetAuthorizationToken returned no registry",
                    fix: "check --registry-id")
            }
            authorization = first
        } catch {
            return DoctorCheck(
                name: "registry", status: .fail, detail: "GetAuthorizationToken: \(describe(error))",
                fix: "allow ecr:GetAuthorizationToken (Resource \"*\") for this principal; see examples/iam/login-policy.json")
        }
        let base = registryEndpoint.map { RegistryURL.base(for: $0) } ?? authorization.proxyEndpoint
        let url = base.hasSuffix("/") ? base + "v2/" : base + "/v2/"
        do {
            let anonymous = try await http.send(HTTPRequest(url: url, timeout: 20))
            guard anonymous.status == 401 || anonymous.status == 200 else {
                return DoctorCheck(
                    name: "registry", status: .fail, detail: "GET \(url) answered \(anonymous.status), not 401 or 200",
                    fix: "a proxy or firewall answers instead of the registry: check HTTPS_PROXY/NO_PROXY and the VPC endpoint")
            }
            let basic = Data("\(authorization.username):\(authorization.password)".utf8).base64EncodedString()
            let authenticated = try await http.send(HTTPRequest(url: url, headers: ["Authorization": "Basic " + basic], timeout: 20))
            guard authenticated.status == 200 else {
                return DoctorCheck(
                    name: "registry", status: .fail,
                    detail: "\(url) reachable, but the registry refused the login (\(authenticated.status))",
                    fix: "the token is for another registry: check --registry-id and the region")
            }
            return DoctorCheck(name: "registry", status: .ok, detail: "\(url) reachable; the login is accepted")
        } catch {
            return DoctorCheck(
                name: "registry", status: .fail, detail: "GET \(url): \(describe(error))",
                fix: "the registry host is not reachable from here: check DNS, HTTPS_PROXY/NO_PROXY and outbound HTTPS (443)")
        }
    }

    /// A read-only dry run: the repository exists and the principal may check layers in it.
    func checkPush(_ ecr: ECRClient) async -> DoctorCheck {
        guard let repository else {
            return DoctorCheck(name: "push", status: .skip, detail: "pass --repository NAME to check push permissions")
        }
        do {
            guard try await ecr.findRepository(repository, registryId: registryId) != nil else {
                return DoctorCheck(
                    name: "push", status: .fail, detail: "repository '\(repository)' does not exist",
                    fix: "create it (aws ecr create-repository --repository-name \(repository)) or push with --create-repository")
            }
        } catch {
            return DoctorCheck(
                name: "push", status: .fail, detail: "DescribeRepositories: \(describe(error))",
                fix: "allow ecr:DescribeRepositories on the repository; see examples/iam/push-policy.json")
        }
        do {
            _ = try await ecr.batchCheckLayerAvailability(repository: repository, digests: [Doctor.probeDigest], registryId: registryId)
            return DoctorCheck(
                name: "push", status: .ok,
                detail: "'\(repository)' exists; DescribeRepositories and BatchCheckLayerAvailability allowed (uploads not tried: nothing is pushed)")
        } catch {
            return DoctorCheck(
                name: "push", status: .fail, detail: "BatchCheckLayerAvailability: \(describe(error))",
                fix: "allow the push actions on the repository (examples/iam/push-policy.json) and check its repository policy for a Deny")
        }
    }

    /// Errors say what happened in their `description`; secrets never appear there.
    func describe(_ error: any Error) -> String { String(describing: error) }
}
