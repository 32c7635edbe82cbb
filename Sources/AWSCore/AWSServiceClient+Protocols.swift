import Foundation
import HTTPTransport

extension AWSServiceClient {
    /// The Query protocol (STS, IAM): form-encoded parameters in, XML out.
    package func query(
        action: String, version: String, parameters: [(String, String)],
        signing: Signing = .signed
    ) async throws -> XMLNode {
        let body = Array(FormEncoding.encode([("Action", action), ("Version", version)] + parameters).utf8)
        let headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"]
        let response = try await send(action: action, headers: headers, body: body, signing: signing)
        do {
            return try XMLNode.parse(response.bodyText)
        } catch {
            throw AWSError.malformedResponse(service: service.displayName, action: action, detail: "\(error)")
        }
    }

    /// JSON 1.1 (ECR): `X-Amz-Target: <targetPrefix>.<action>`, JSON in and out.
    package func json<Input: Encodable, Output: Decodable>(
        targetPrefix: String, action: String, input: Input,
        output: Output.Type
    ) async throws -> Output {
        try await rawJSON(targetPrefix: targetPrefix, action: action, body: Array(JSONEncoder().encode(input)), output: output)
    }

    /// JSON 1.1 with a body the caller already serialised.
    package func rawJSON<Output: Decodable>(
        targetPrefix: String, action: String, body: [UInt8],
        output: Output.Type
    ) async throws -> Output {
        try await rawJSON(targetPrefix: targetPrefix, action: action, payload: .bytes(body), output: output)
    }

    /// JSON 1.1 with a body the caller serialises, possibly as a stream (large bodies never held whole).
    package func rawJSON<Output: Decodable>(
        targetPrefix: String, action: String, payload: Payload,
        output: Output.Type
    ) async throws -> Output {
        let headers: HTTPHeaders = [
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "\(targetPrefix).\(action)"
        ]
        let response = try await send(action: action, headers: headers, payload: payload, signing: .signed)
        do {
            return try JSONDecoder().decode(Output.self, from: Data(response.body.isEmpty ? Array("{}".utf8) : response.body))
        } catch {
            throw AWSError.malformedResponse(service: service.displayName, action: action, detail: "\(error)")
        }
    }
}
