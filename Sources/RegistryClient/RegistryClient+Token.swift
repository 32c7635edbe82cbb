import Foundation
import HTTPTransport

extension RegistryClient {
    /// The Authorization header for a request on the registry's origin: a token its token service issued for the
    /// request's repository, else the login as Basic auth, else nothing (anonymous).
    func authorization(for url: String, credentials: RegistryCredentials?) -> String? {
        if let token = bearerTokens.token(for: BearerTokens.repository(in: url)) { return "Bearer " + token }
        return credentials?.headerValue
    }

    /// Asks the challenge's token service for a token (with the login as Basic auth when there is one, anonymously
    /// otherwise), as docker does, and keeps it for `repository`. The token service is the registry's own choice of
    /// authority, named in its challenge; the login goes there only over HTTPS (or to a loopback service).
    func fetchToken(_ challenge: BearerChallenge, credentials: RegistryCredentials?, repository: String) async throws {
        let operation = "getting a token from \(Self.origin(of: challenge.realm)) for \(registryName)"
        var request = HTTPRequest(method: "GET", url: challenge.tokenURL)
        let realmBase = RegistryURL.base(for: Self.hostPort(of: challenge.realm))
        let secure = challenge.realm.hasPrefix("https://") || realmBase.hasPrefix("http://")
        if let credentials, secure { request.headers["Authorization"] = credentials.headerValue }
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch HTTPError.cancelled {
            throw CancellationError()
        } catch let error as HTTPError {
            throw RegistryError.transport(operation: operation, detail: error.description)
        }
        guard response.status == 200 else {
            if response.status == 401 || response.status == 403 {
                if credentials == nil { throw RegistryError.loginMissing(registry: registryName) }
                throw RegistryError.unauthorized(
                    registry: registryName,
                    message: "its token service refused the login (HTTP \(response.status))")
            }
            throw RegistryError.unexpectedStatus(operation: operation, status: response.status, body: "")
        }
        struct Answer: Decodable {
            var token: String?
            var access_token: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)),
            let token = answer.token ?? answer.access_token, !token.isEmpty
        else {
            throw RegistryError.invalidResponse(operation: operation, detail: "no token in the answer")
        }
        bearerTokens.set(token, for: repository)
    }

    /// `host[:port]` of a URL.
    static func hostPort(of url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return url }
        return components.port.map { "\(host):\($0)" } ?? host
    }
}
